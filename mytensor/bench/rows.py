"""The rows of a benchmark table: a mytensor backend, or a peer (plain numpy, PyTorch CPU).

A row adapts the few calls on which the frameworks differ (making an array, exp, sum,
softmax, conv2d, cross-entropy, modules, optimizers), so each workload is written once
for all of them. A row that cannot run something raises `NotImplementedError` with the
reason, which asv reports as a skipped benchmark and `mytensor bench` as a skipped cell.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np

import mytensor as mt
from mytensor.core.registry import get_backend

__all__ = ["PEERS", "MytensorRow", "NumpyRow", "Row", "TorchRow", "default_rows", "get_row"]

PEERS = ("numpy", "torch")
ROWS_ENV = "MYTENSOR_BENCH_ROWS"


class Row:
    """What a workload needs from a framework. The defaults are the tensor-method
    spellings mytensor and PyTorch share; what a framework lacks raises
    `NotImplementedError` with the reason."""

    name: str = "?"
    device: str = "cpu"

    def array(self, data: np.ndarray, *, grad: bool = False) -> Any:
        """`data` (a numpy array) in this framework, recording gradients if `grad`."""
        raise NotImplementedError(f"{self.name}: cannot make arrays")

    def labels(self, data: np.ndarray) -> Any:
        """Integer class labels (int64), never recording gradients."""
        return self.array(data)

    def to_numpy(self, value: Any) -> np.ndarray:
        """A workload's result as a numpy array (for checking it, never while timing)."""
        return np.asarray(value)

    def exp(self, x: Any) -> Any:
        """Elementwise e**x."""
        return x.exp()

    def sum(self, x: Any, dim: int | None = None) -> Any:
        """The sum over `dim`, or of all elements."""
        return x.sum() if dim is None else x.sum(dim=dim)

    def softmax(self, x: Any, dim: int) -> Any:
        """softmax along `dim`."""
        return x.softmax(dim=dim)

    def conv2d(self, x: Any, weight: Any, padding: int) -> Any:
        """2-d convolution (cross-correlation) of NCHW `x` by OIHW `weight`, no bias."""
        raise NotImplementedError(f"{self.name} has no conv2d")

    def cross_entropy(self, logits: Any, labels: Any) -> Any:
        """Mean cross-entropy of (N, C) `logits` against (N,) class `labels`."""
        raise NotImplementedError(f"{self.name} has no cross_entropy")

    def require_autograd(self) -> None:
        """Raise `NotImplementedError` unless this row records gradients."""
        raise NotImplementedError(f"{self.name} has no autograd")

    def model(self, reference: mt.nn.Module, build: Callable[[Any], Any] | None = None) -> Any:
        """This framework's copy of a mytensor module (same layers, same weights): made by
        `build(nn)` from this framework's ``nn`` namespace when given, else translated
        layer by layer."""
        raise NotImplementedError(f"{self.name} has no modules")

    def sgd(self, model: Any, lr: float) -> Any:
        """A plain SGD optimizer over the model's parameters."""
        raise NotImplementedError(f"{self.name} has no optimizers")

    def finish(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """`fn`, made to wait for the device when the row's work is asynchronous."""
        return fn

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class NumpyRow(Row):
    """Plain numpy: the baseline of every array workload; it has no autograd."""

    name = "numpy"

    def array(self, data: np.ndarray, *, grad: bool = False) -> np.ndarray:
        if grad:
            self.require_autograd()
        return np.array(data)

    def exp(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def sum(self, x: np.ndarray, dim: int | None = None) -> Any:
        return x.sum(axis=dim)

    def softmax(self, x: np.ndarray, dim: int) -> np.ndarray:
        shifted = np.exp(x - x.max(axis=dim, keepdims=True))
        return shifted / shifted.sum(axis=dim, keepdims=True)


class _AutogradRow(Row):
    """mytensor and PyTorch share the tensor-method API; they differ in a few names."""

    functional: Any
    optim: Any

    def require_autograd(self) -> None:
        return None

    def conv2d(self, x: Any, weight: Any, padding: int) -> Any:
        return self.functional.conv2d(x, weight, padding=padding)

    def cross_entropy(self, logits: Any, labels: Any) -> Any:
        return self.functional.cross_entropy(logits, labels)

    def sgd(self, model: Any, lr: float) -> Any:
        return self.optim.SGD(model.parameters(), lr=lr)


class MytensorRow(_AutogradRow):
    """One mytensor backend; `NotImplementedError` if it is unknown or fails to load."""

    def __init__(self, name: str) -> None:
        try:
            backend = get_backend(name)
        except mt.BackendError as exc:
            raise NotImplementedError(str(exc)) from None
        self.name = name
        self.device = backend.device
        self.nn = mt.nn
        self.functional = mt.nn.functional
        self.optim = mt.optim
        self.func = mt.func

    def array(self, data: np.ndarray, *, grad: bool = False) -> mt.Tensor:
        return mt.tensor(data, backend=self.name, requires_grad=grad)

    def to_numpy(self, value: Any) -> np.ndarray:
        return value.numpy() if isinstance(value, mt.Tensor) else np.asarray(value)

    def model(self, reference: mt.nn.Module, build: Callable[[Any], Any] | None = None) -> Any:
        return reference.to(self.name)

    def finish(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        if self.device == "cpu":
            return fn
        name = self.name

        def synchronized() -> Any:
            result = fn()
            mt.synchronize(name)
            return result

        return synchronized


class TorchRow(_AutogradRow):
    """PyTorch on the CPU, when it is installed (an optional peer, never a dependency)."""

    name = "torch"

    def __init__(self) -> None:
        try:
            import torch
        except ImportError:
            raise NotImplementedError("PyTorch is not installed") from None
        self.torch = torch
        self.nn = torch.nn
        self.functional = torch.nn.functional
        self.optim = torch.optim
        self.func = torch.func

    def array(self, data: np.ndarray, *, grad: bool = False) -> Any:
        return self.torch.tensor(data, requires_grad=grad)

    def to_numpy(self, value: Any) -> np.ndarray:
        if isinstance(value, self.torch.Tensor):
            return value.detach().numpy()
        return np.asarray(value)

    def model(self, reference: mt.nn.Module, build: Callable[[Any], Any] | None = None) -> Any:
        copy = build(self.torch.nn) if build else _torch_module(self.torch.nn, reference)
        state = {k: self.torch.tensor(v.numpy()) for k, v in reference.state_dict().items()}
        copy.load_state_dict(state)
        return copy


def _torch_module(tnn: Any, module: mt.nn.Module) -> Any:
    """The torch.nn layer that matches one mytensor layer (the layers the workloads use)."""
    kind = type(module).__name__
    if kind == "Sequential":
        return tnn.Sequential(*(_torch_module(tnn, child) for child in module.children()))
    if kind == "Linear":
        return tnn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
    if kind == "Conv2d":
        return tnn.Conv2d(
            module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
            padding=module.padding, dilation=module.dilation, groups=module.groups,
            bias=module.bias is not None,
        )  # fmt: skip
    if kind == "MaxPool2d":
        return tnn.MaxPool2d(module.kernel_size, stride=module.stride, padding=module.padding)
    if kind == "Flatten":
        return tnn.Flatten(module.start_dim, module.end_dim)
    if kind == "ReLU":
        return tnn.ReLU()
    raise NotImplementedError(f"torch: no translation of mytensor layer {kind}")


def get_row(name: str) -> Row:
    """The row called `name`: "numpy", "torch" or a mytensor backend.

    Raises `NotImplementedError` (the reason) when the row cannot run here.

    >>> numpy = get_row("numpy")
    >>> float(numpy.sum(numpy.array(np.ones(3))))
    3.0
    >>> get_row("no_such_backend")
    Traceback (most recent call last):
    NotImplementedError: unknown backend 'no_such_backend'...
    """
    if name == "numpy":
        return NumpyRow()
    if name == "torch":
        return TorchRow()
    return MytensorRow(name)


def _shipped_backends() -> list[str]:
    """The backends mytensor itself ships (its own entry points), installed or not."""
    try:
        points = metadata.distribution("mytensor").entry_points
    except metadata.PackageNotFoundError:  # running from a source tree
        return [info.name for info in mt.backends()]
    return [p.name for p in points if p.group == "mytensor.backends"]


def default_rows() -> list[str]:
    """The rows benchmarked when none are named: mytensor's own backends, then the peers.

    Every backend mytensor ships is listed even where it cannot load (a missing cuda
    backend is a skipped row, not a failure). Third-party backends, test plugins
    included, join only when named: with ``--backend`` or in ``MYTENSOR_BENCH_ROWS``
    (a comma-separated list of rows that replaces this default, for asv too).

    >>> rows = default_rows()
    >>> rows[0], rows[-2:]
    ('numpy_ref', ['numpy', 'torch'])
    """
    chosen = os.environ.get(ROWS_ENV, "").strip()
    if chosen:
        return [name.strip() for name in chosen.split(",") if name.strip()]
    shipped = sorted(_shipped_backends(), key=lambda n: (n != "numpy_ref", n))
    return [*dict.fromkeys(shipped), *PEERS]
