"""Every benchmark workload, defined once for asv (`benchmarks/`) and `mytensor bench`.

A workload builds its inputs for one row (a mytensor backend, "numpy" or "torch") and
one size, and returns the callable to time. The callable returns its result, so a test
can check that each row computes the same thing. Inputs come from a seeded numpy
generator and models from seeded mytensor modules copied into each row, so every row
starts from the same numbers.

>>> fn = WORKLOADS["mul_add"].prepare("numpy_ref", 3)
>>> fn().shape
(3,)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import mytensor as mt
from mytensor.training import lenet, mlp

from .rows import Row, get_row

__all__ = ["WORKLOADS", "Workload", "select"]

Builder = Callable[[Row, int], Callable[[], Any]]


@dataclass(frozen=True)
class Workload:
    """One benchmark: a name, the sizes it runs at, and how to build it for a row."""

    name: str
    group: str
    description: str
    sizes: tuple[int, ...]
    quick: tuple[int, ...]
    unit: str
    build_for: Builder

    def build(self, row: str | Row, size: int) -> Callable[[], Any]:
        """The callable to time (not yet run); `NotImplementedError` if the row can't."""
        row = get_row(row) if isinstance(row, str) else row
        return row.finish(self.build_for(row, size))

    def prepare(self, row: str | Row, size: int) -> Callable[[], Any]:
        """`build`, then one untimed call: JIT compilation and caches warm up here."""
        fn = self.build(row, size)
        fn()
        return fn

    def label(self, size: int) -> str:
        """How a size reads in a table: ``label(4096)`` of a matmul is ``4096x4096``."""
        return self.unit.format(n=size)


WORKLOADS: dict[str, Workload] = {}


def _workload(group: str, sizes: tuple[int, ...], quick: tuple[int, ...], unit: str = "{n:,}"):
    def register(build: Builder) -> Builder:
        summary = (build.__doc__ or "").strip().splitlines()[0]
        WORKLOADS[build.__name__] = Workload(
            build.__name__, group, summary, sizes, quick, unit, build
        )
        return build

    return register


def select(pattern: str | None = None) -> list[Workload]:
    """The workloads whose ``group.name`` contains the regular expression `pattern`.

    >>> [w.name for w in select("reduction")]
    ['sum_dim0', 'sum_dim1', 'sum_all']
    """
    return [w for w in WORKLOADS.values() if re.search(pattern or "", f"{w.group}.{w.name}")]


def _uniform(*shape: int, seed: int = 0) -> np.ndarray:
    # values in [0.5, 1.5): exp, products and sums of them stay well inside float32
    return np.random.default_rng(seed).random(shape, np.float32) + np.float32(0.5)


def _normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, np.float32)


def _classes(n: int, classes: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, classes, n)


def _reference(build: Callable[[], mt.nn.Module]) -> mt.nn.Module:
    """A module with the same weights whatever the row: seeded, on the reference backend."""
    with mt.use_backend("numpy_ref"):
        mt.manual_seed(0)
        return build()


# -- dispatch: the fixed cost of one op ---------------------------------------------------
_DISPATCH = {"sizes": (1, 100, 10_000), "quick": (1,), "unit": "{n} el"}


@_workload("dispatch", **_DISPATCH)
def add_tiny(row: Row, n: int) -> Callable[[], Any]:
    """`a + b` on a few elements, no gradient recorded: the cost of one op's dispatch."""
    a, b = row.array(_uniform(n)), row.array(_uniform(n, seed=1))
    return lambda: a + b


@_workload("dispatch", **_DISPATCH)
def add_tiny_grad(row: Row, n: int) -> Callable[[], Any]:
    """`a + b` on a few elements that require grad: dispatch plus recording the graph."""
    row.require_autograd()
    a, b = row.array(_uniform(n), grad=True), row.array(_uniform(n, seed=1), grad=True)
    return lambda: a + b


# -- elementwise ---------------------------------------------------------------------------
_ELEMENTWISE = {"sizes": (1_000, 100_000, 10_000_000), "quick": (1_000, 100_000, 10_000_000)}


@_workload("elementwise", **_ELEMENTWISE)
def add(row: Row, n: int) -> Callable[[], Any]:
    """`a + b`, float32."""
    a, b = row.array(_uniform(n)), row.array(_uniform(n, seed=1))
    return lambda: a + b


@_workload("elementwise", **_ELEMENTWISE)
def mul(row: Row, n: int) -> Callable[[], Any]:
    """`a * b`, float32."""
    a, b = row.array(_uniform(n)), row.array(_uniform(n, seed=1))
    return lambda: a * b


@_workload("elementwise", **_ELEMENTWISE)
def exp(row: Row, n: int) -> Callable[[], Any]:
    """`exp(a)`, float32."""
    a = row.array(_uniform(n))
    return lambda: row.exp(a)


@_workload("elementwise", **_ELEMENTWISE)
def mul_add(row: Row, n: int) -> Callable[[], Any]:
    """`a * b + c`: a chain that looks fused (two ops and a temporary unless fused)."""
    a, b, c = (row.array(_uniform(n, seed=s)) for s in range(3))
    return lambda: a * b + c


_SQUARE = {"sizes": (128, 1024, 4096), "quick": (128, 1024), "unit": "{n}x{n}"}


@_workload("layout", **_SQUARE)
def add_broadcast(row: Row, n: int) -> Callable[[], Any]:
    """`a + b` with a of shape (n, n) and b of shape (n,): a stride-0 operand."""
    a, b = row.array(_uniform(n, n)), row.array(_uniform(n, seed=1))
    return lambda: a + b


@_workload("layout", **_SQUARE)
def add_transposed(row: Row, n: int) -> Callable[[], Any]:
    """`a + b.T` with both (n, n): one operand read across its strides."""
    a, b = row.array(_uniform(n, n)), row.array(_uniform(n, n, seed=1))
    return lambda: a + b.T


# -- reductions ----------------------------------------------------------------------------
def _sum_over(name: str, dim: int | None, doc: str) -> None:
    def build(row: Row, n: int) -> Callable[[], Any]:
        x = row.array(_uniform(n, n))
        return lambda: row.sum(x, dim)

    build.__name__, build.__doc__ = name, doc
    _workload("reduction", **_SQUARE)(build)


_sum_over("sum_dim0", 0, "sum over dim 0 of an (n, n) float32 matrix (down the columns)")
_sum_over("sum_dim1", 1, "sum over dim 1 of an (n, n) float32 matrix (along the rows)")
_sum_over("sum_all", None, "sum of all elements of an (n, n) float32 matrix")


# -- linear algebra, convolution, losses ---------------------------------------------------
@_workload("linalg", sizes=(128, 512, 1024, 2048), quick=(128, 512), unit="{n}x{n}")
def matmul(row: Row, n: int) -> Callable[[], Any]:
    """`a @ b`, both (n, n) float32."""
    a, b = row.array(_uniform(n, n)), row.array(_uniform(n, n, seed=1))
    return lambda: a @ b


@_workload("linalg", sizes=(4, 32, 128), quick=(32,), unit="{n}x128x128")
def matmul_batched(row: Row, n: int) -> Callable[[], Any]:
    """`a @ b`, both (n, 128, 128) float32: a batch of small products."""
    a, b = row.array(_uniform(n, 128, 128)), row.array(_uniform(n, 128, 128, seed=1))
    return lambda: a @ b


_CONV = {"sizes": (1, 8, 64), "quick": (8,), "unit": "{n}x16x28x28"}


@_workload("conv", **_CONV)
def conv2d(row: Row, n: int) -> Callable[[], Any]:
    """conv2d forward: (n, 16, 28, 28) input, 32 filters of 3x3, padding 1."""
    x, w = row.array(_normal(n, 16, 28, 28)), row.array(_normal(32, 16, 3, 3, seed=1))
    return lambda: row.conv2d(x, w, padding=1)


@_workload("conv", **_CONV)
def conv2d_backward(row: Row, n: int) -> Callable[[], Any]:
    """conv2d forward and backward (to input and weight) of the same shapes."""
    row.require_autograd()
    x = row.array(_normal(n, 16, 28, 28), grad=True)
    w = row.array(_normal(32, 16, 3, 3, seed=1), grad=True)

    def step() -> Any:
        x.grad = w.grad = None
        row.sum(row.conv2d(x, w, padding=1)).backward()
        return w.grad

    return step


_LOSS = {"sizes": (16, 256, 4096), "quick": (256,), "unit": "{n}x1000"}


@_workload("loss", **_LOSS)
def softmax(row: Row, n: int) -> Callable[[], Any]:
    """softmax over 1000 classes of an (n, 1000) float32 batch of logits."""
    x = row.array(_normal(n, 1000))
    return lambda: row.softmax(x, dim=-1)


@_workload("loss", **_LOSS)
def cross_entropy(row: Row, n: int) -> Callable[[], Any]:
    """cross-entropy of (n, 1000) logits, forward and backward."""
    row.require_autograd()
    logits, labels = row.array(_normal(n, 1000), grad=True), row.labels(_classes(n, 1000))

    def step() -> Any:
        logits.grad = None
        row.cross_entropy(logits, labels).backward()
        return logits.grad

    return step


# -- training and the autograd graph -------------------------------------------------------
def _sgd_step(row: Row, model: Any, x: Any, labels: Any) -> Callable[[], Any]:
    optimizer = row.sgd(model, lr=0.01)

    def step() -> Any:
        optimizer.zero_grad()
        loss = row.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step


@_workload("training", sizes=(16, 128, 512), quick=(128,), unit="batch {n}")
def mlp_step(row: Row, n: int) -> Callable[[], Any]:
    """One SGD step of an MLP 784-256-256-10 with cross-entropy."""
    row.require_autograd()
    model = row.model(_reference(lambda: mlp(784, 256, 10, depth=2)))
    return _sgd_step(row, model, row.array(_normal(n, 784)), row.labels(_classes(n, 10)))


@_workload("training", sizes=(8, 64, 256), quick=(64,), unit="batch {n}")
def lenet_step(row: Row, n: int) -> Callable[[], Any]:
    """One SGD step of the LeNet-style CNN on 1x28x28 images."""
    row.require_autograd()
    model = row.model(_reference(lambda: lenet(28)))
    x = row.array(_normal(n, 1, 28, 28))
    return _sgd_step(row, model, x, row.labels(_classes(n, 10)))


def _char_lstm(nn: Any) -> Any:
    # embedding 65 -> 32, LSTM 32 -> 128, linear 128 -> 65: a character language model
    return nn.ModuleList([nn.Embedding(65, 32), nn.LSTM(32, 128, batch_first=True),
                          nn.Linear(128, 65)])  # fmt: skip


@_workload("training", sizes=(16, 64), quick=(16,), unit="batch {n} x 32 chars")
def char_lstm_step(row: Row, n: int) -> Callable[[], Any]:
    """One SGD step of a character LSTM (embed 32, hidden 128, 65 symbols) on 32 steps."""
    row.require_autograd()
    model = row.model(_reference(lambda: _char_lstm(mt.nn)), _char_lstm)
    text = _classes(n * 33, 65).reshape(n, 33)
    x, y = row.labels(text[:, :-1]), row.labels(text[:, 1:].reshape(-1))
    optimizer = row.sgd(model, lr=0.1)
    embed, lstm, head = model

    def step() -> Any:
        optimizer.zero_grad()
        hidden, _ = lstm(embed(x))
        loss = row.cross_entropy(head(hidden).reshape(-1, 65), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _transformer_block(nn: Any) -> Any:
    layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=256, dropout=0.0,
                                       batch_first=True)  # fmt: skip
    return nn.ModuleList([layer, nn.Linear(64, 10)])


@_workload("training", sizes=(8, 32), quick=(8,), unit="batch {n} x 32 tokens")
def transformer_step(row: Row, n: int) -> Callable[[], Any]:
    """One SGD step of a causal transformer encoder block (d_model 64, 4 heads, FF 256)."""
    row.require_autograd()
    model = row.model(_reference(lambda: _transformer_block(mt.nn)), _transformer_block)
    x = row.array(_normal(n, 32, 64))
    y = row.labels(_classes(n * 32, 10))
    mask = row.nn.Transformer.generate_square_subsequent_mask(32)
    optimizer = row.sgd(model, lr=0.01)
    block, head = model

    def step() -> Any:
        optimizer.zero_grad()
        out = block(x, src_mask=mask, is_causal=True)
        loss = row.cross_entropy(head(out).reshape(-1, 10), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


@_workload("func", sizes=(16, 64), quick=(64,), unit="batch {n}")
def per_sample_grads(row: Row, n: int) -> Callable[[], Any]:
    """Per-sample gradients of an MLP 784-128-10 with `func.vmap(func.grad(loss))`."""
    row.require_autograd()
    model = row.model(_reference(lambda: mlp(784, 128, 10, depth=1)))
    params = {name: p.detach() for name, p in model.named_parameters()}
    x, y = row.array(_normal(n, 784)), row.labels(_classes(n, 10))
    func = row.func

    def loss(p: Any, xi: Any, yi: Any) -> Any:
        out = func.functional_call(model, p, (xi.unsqueeze(0),))
        return row.cross_entropy(out, yi.unsqueeze(0))

    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
    return lambda: per_sample(params, x, y)["0.weight"]


@_workload("graph", sizes=(100, 1_000, 10_000), quick=(1_000,), unit="{n} x2 ops")
def chain_backward(row: Row, n: int) -> Callable[[], Any]:
    """Build `y = y * 0.5 + x` n times on 16 elements, then backward: graph overhead."""
    row.require_autograd()
    x = row.array(_uniform(16), grad=True)

    def step() -> Any:
        x.grad = None
        y = x
        for _ in range(n):
            y = y * 0.5 + x
        row.sum(y).backward()
        return x.grad

    return step
