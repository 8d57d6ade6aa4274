"""The large tier: tensors of 2**21 elements and more, which reach a backend's parallel
and tiled kernels (the rest of the suite draws a few dozen elements), on contiguous,
transposed and broadcast layouts, against numpy.

It runs on backends that declare a ``parallel_threshold`` attribute, or on every
selected backend with ``--large`` (``--no-large`` turns it off).
"""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt
from mytensor.conformance.checks import assert_close, call_reference, tolerance
from mytensor.conformance.plugin import large_enabled

ROWS, COLS = 2048, 1024  # 2**21 elements
LAYOUTS = ("contiguous", "transposed", "broadcast")
NUMPY_NAMES = {"mul": np.multiply, "neg": np.negative,
               "relu": lambda x: np.maximum(x, np.float32(0))}  # fmt: skip


@pytest.fixture
def large(request: pytest.FixtureRequest, backend: str) -> str:
    if not large_enabled(request.config, backend):
        pytest.skip(f"the large tier is off for {backend!r} (run with --large)")
    return backend


def _values(seed: int, dtype: str = "float32") -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.uniform(-3.0, 3.0, (ROWS, COLS)).astype(dtype)
    values[rng.integers(0, ROWS, 64), rng.integers(0, COLS, 64)] = -0.0
    return values


def _laid_out(values: np.ndarray, layout: str, backend: str) -> tuple[mt.Tensor, np.ndarray]:
    """(tensor, the logical values it holds) in `layout`."""
    if layout == "transposed":
        return mt.tensor(np.ascontiguousarray(values.T), backend=backend).T, values
    if layout == "broadcast":
        row = values[:1]
        logical = np.broadcast_to(row, values.shape)
        return mt.tensor(row, backend=backend).expand(*values.shape), logical
    return mt.tensor(values, backend=backend), values


def _pair(layout: str, backend: str, dtype: str = "float32"):
    a, a_values = _laid_out(_values(1, dtype), layout, backend)
    b, b_values = _laid_out(_values(2, dtype), "contiguous" if layout == "broadcast" else layout,
                            backend)  # fmt: skip
    return (a, a_values), (b, b_values)


def _where(what: str, backend: str, layout: str) -> str:
    return f"large tier: {what} on backend {backend!r}, {layout} ({ROWS}, {COLS}) inputs"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", ["add", "mul", "maximum", "minimum", "remainder"])
def test_large_zip(op, layout, large):
    (a, av), (b, bv) = _pair(layout, large)
    got = getattr(mt, op)(a, b).numpy()
    expected = call_reference(NUMPY_NAMES.get(op, getattr(np, op, None)), av, bv)
    assert_close(got, expected, _where(op, large, layout), zero_signs=True, inputs=[av, bv])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", ["exp", "neg", "abs", "sign", "relu"])
def test_large_map(op, layout, large):
    a, av = _laid_out(_values(3), layout, large)
    got = getattr(mt, op)(a).numpy()
    reference = NUMPY_NAMES.get(op, getattr(np, op, None))
    expected = call_reference(reference, av)
    assert_close(got, expected, _where(op, large, layout), 1e-6, 1e-7, zero_signs=True,
                 inputs=[av])  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_large_where(layout, large):
    (a, av), (b, bv) = _pair(layout, large)
    got = mt.where(a > b, a, b).numpy()
    assert_close(got, np.where(av > bv, av, bv), _where("where", large, layout), zero_signs=True)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("op", "dim"), [("sum", 0), ("sum", 1), ("sum", None), ("amax", 1),
                                         ("amin", 0), ("argmax", 0), ("argmin", 1)])  # fmt: skip
def test_large_reduce(op, dim, layout, large):
    a, av = _laid_out(_values(4, "float64"), layout, large)
    got = (getattr(mt, op)(a) if dim is None else getattr(mt, op)(a, dim=dim)).numpy()
    reference = {"amax": np.max, "amin": np.min}.get(op, getattr(np, op))
    axis = {} if dim is None else {"axis": dim}
    expected = call_reference(reference, av, **axis)
    reduced = av.size // max(1, expected.size)
    rtol, atol = tolerance([np.dtype("float64")], reduced, 3.0)
    where = _where(f"{op}(dim={dim})", large, layout)
    assert_close(got, expected.astype(got.dtype), where, rtol, atol)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_large_matmul(layout, large):
    a, av = _laid_out(_values(5, "float64"), layout, large)
    b_values = np.random.default_rng(6).uniform(-1.0, 1.0, (COLS, 8))
    got = (a @ mt.tensor(b_values, backend=large)).numpy()
    rtol, atol = tolerance([np.dtype("float64")], COLS, 3.0)
    assert_close(got, av @ b_values, _where("matmul", large, layout), rtol, atol)


def _stack(values: np.ndarray, layout: str, backend: str) -> mt.Tensor:
    """A batch of matrices laid out as `layout` says, holding `values`."""
    if layout == "transposed":  # each matrix stored transposed (a gradient's a.mT)
        return mt.tensor(np.ascontiguousarray(values.swapaxes(-1, -2)), backend=backend).mT
    if layout == "broadcast":  # one matrix along the first batch dim
        return mt.tensor(values[:1], backend=backend).expand(*values.shape)
    if layout == "sliced":  # every other column of wider matrices
        wide = np.repeat(values, 2, axis=-1)
        return mt.tensor(wide, backend=backend)[..., ::2]
    return mt.tensor(values, backend=backend)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize(("a_layout", "b_layout"), [
    ("contiguous", "contiguous"), ("contiguous", "transposed"), ("transposed", "contiguous"),
    ("transposed", "transposed"), ("broadcast", "sliced"), ("sliced", "broadcast"),
])  # fmt: skip
def test_large_batched_matmul(a_layout, b_layout, dtype, large):
    """A batch of products with enough work for a backend to split it between threads
    (4 x 4 products of 48 x 64 x 40, 2 M multiply-adds), its operands laid out as a
    backward pass and broadcasting lay them out."""
    rng = np.random.default_rng(8)
    shapes = (4, 4, 48, 64), (4, 4, 64, 40)
    av, bv = (rng.uniform(-1.0, 1.0, s).astype(dtype) for s in shapes)
    if dtype.startswith("complex"):
        av, bv = (v + 1j * rng.uniform(-1.0, 1.0, v.shape).astype(dtype) for v in (av, bv))
    a, b = _stack(av, a_layout, large), _stack(bv, b_layout, large)
    got = (a @ b).numpy()
    expected = a.numpy() @ b.numpy()  # the logical values, broadcast ones included
    rtol, atol = tolerance([np.dtype(dtype)], 64, 3.0)
    where = f"large tier: batched matmul on backend {large!r}, {a_layout} @ {b_layout}, {dtype}"
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("a_layout", "b_layout"), [
    ("contiguous", "contiguous"), ("contiguous", "transposed"), ("transposed", "contiguous"),
    ("transposed", "transposed"), ("broadcast", "sliced"), ("sliced", "broadcast"),
])  # fmt: skip
@pytest.mark.parametrize("shapes", [((300, 129), (129, 70)), ((16, 700), (700, 400)),
                                    ((3, 120, 150), (3, 150, 130))],
                         ids=["tall", "wide", "batch"])  # fmt: skip
def test_large_matmul_beyond_one_thread(shapes, a_layout, b_layout, dtype, large):
    """Products large enough for a backend to split each one between threads (2-4 M
    multiply-adds each: tall ones by rows, wide ones by columns, a short batch of them),
    with a NaN and infinities that must reach exactly their row and column."""
    rng = np.random.default_rng(9)
    av, bv = (rng.uniform(-1.0, 1.0, s).astype(dtype) for s in shapes)
    av[..., 5, 7], av[..., -2, 3], bv[..., 11, -1] = np.nan, np.inf, -np.inf
    a, b = _stack(av, a_layout, large), _stack(bv, b_layout, large)
    got = (a @ b).numpy()
    with np.errstate(invalid="ignore"):
        expected = a.numpy() @ b.numpy()  # the logical values, broadcast ones included
    rtol, atol = tolerance([np.dtype(dtype)], shapes[0][-1], 3.0)
    where = (f"large tier: matmul {shapes} on backend {large!r}, {a_layout} @ {b_layout}, "
             f"{dtype}")  # fmt: skip
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_large_softmax(op, dim, layout, large):
    values = _values(7)
    values[5] = -np.inf  # a row (dim 1) / a NaN column (dim 0) of only -inf
    values[:, 9] = -np.inf
    a, av = _laid_out(values, layout, large)
    got = getattr(mt, op)(a, dim).numpy()
    m = np.max(av, axis=dim, keepdims=True)
    with np.errstate(all="ignore"):  # -inf - -inf is the NaN PyTorch gives too
        shifted = av - (np.where(m == -np.inf, 0.0, m) if op == "log_softmax" else m)
        total = np.sum(np.exp(shifted.astype(np.float64)), axis=dim, keepdims=True)
        expected = shifted - np.log(total) if op == "log_softmax" else np.exp(shifted) / total
    assert_close(got, expected.astype(np.float32), _where(f"{op}(dim={dim})", large, layout),
                 1e-5, 1e-6, inputs=[av])  # fmt: skip
