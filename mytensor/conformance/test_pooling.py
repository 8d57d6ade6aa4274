"""max_pool (the custom record of `core/ops/pooling.py`): values and indices against the
numpy reference on drawn geometries (1 to 3 spatial dims, stride, padding, dilation,
ceil_mode), layouts and edge values (NaN, -inf, ties), bit for bit; gradients by central
differences in float64 and against the numpy reference backend's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import GradcheckError, gradcheck
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close, call_reference
from mytensor.core.ops import OPS


def _cases() -> list:
    # ids start with the op's name: the runner's per-op summary reads it from there
    return [pytest.param(d, id=f"max_pool-{d.name}") for d in (mt.float32, mt.float64)]


def _draw(data, dtype, backend, grad=False):
    """(x Built, (kernel, stride, padding, dilation, ceil_mode)): N, C in 1..2 and each
    spatial size from the smallest the window allows to 2 more."""
    dims = data.draw(st.integers(1, 3), label="spatial dims")
    top = 3 if dims < 3 else 2
    kernel = tuple(data.draw(st.integers(1, top), label="kernel") for _ in range(dims))
    stride = tuple(data.draw(st.integers(1, 3), label="stride") for _ in range(dims))
    dilation = tuple(data.draw(st.integers(1, 2), label="dilation") for _ in range(dims))
    padding = tuple(data.draw(st.integers(0, k // 2), label="padding") for k in kernel)
    ceil_mode = data.draw(st.booleans(), label="ceil_mode")
    spatial = tuple(
        data.draw(st.integers(d * (k - 1) + 1, d * (k - 1) + 3), label="size")
        for k, d in zip(kernel, dilation, strict=True)
    )
    shape = (data.draw(st.integers(1, 2), label="N"), data.draw(st.integers(1, 2), label="C"),
             *spatial)  # fmt: skip
    if grad:
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        values = S.smooth_values(seed, dtype, shape, (-2.0, 2.0), False)
    else:
        values = data.draw(S.arrays(dtype, shape, (-2.0, 2.0)), label="input")
    built = data.draw(S.laid_out(values, dtype, backend, requires_grad=grad), label="input")
    return built, (kernel, stride, padding, dilation, ceil_mode)


def _where(backend, built, geometry, what="forward"):
    names = ("kernel", "stride", "padding", "dilation", "ceil_mode")
    params = ", ".join(f"{n}={v}" for n, v in zip(names, geometry, strict=True))
    return f"{what} of max_pool on backend {backend!r}, {params}\n  input: {built.describe()}"


@pytest.mark.parametrize("dtype", _cases())
@S.suite_settings(15)
@given(data=st.data())
def test_max_pool(dtype, backend, data):
    built, geometry = _draw(data, dtype, backend)
    record = OPS["max_pool"]
    values, indices = record.func(built.tensor, *geometry)
    expected_values, expected_indices = call_reference(record.ref, built.values, *geometry)
    where = _where(backend, built, geometry)
    assert values.dtype is dtype and indices.dtype is mt.int64, f"{where}\n  dtypes"
    assert_close(values.numpy(), expected_values, where, zero_signs=True)  # a selection: exact
    got = indices.numpy()
    assert np.array_equal(got, expected_indices), f"{where}\n  indices {got.tolist()}\n  " \
        f"expected {expected_indices.tolist()}"  # fmt: skip


@pytest.mark.parametrize("dtype", _cases())
@S.suite_settings(5)
@given(data=st.data())
def test_max_pool_gradients(dtype, backend, data):
    built, geometry = _draw(data, dtype, backend, grad=True)
    where = _where(backend, built, geometry, "gradients")

    def values(x):
        return OPS["max_pool"].func(x, *geometry)[0]

    if dtype is mt.float64:
        try:
            gradcheck(values, [built.tensor], name="max_pool")
        except GradcheckError as exc:
            raise AssertionError(f"{where}\n  {exc}") from None
    grads = []
    for on in (backend, "numpy_ref"):
        x = mt.tensor(built.values, dtype=dtype, backend=on, requires_grad=True)
        out = values(x)
        cotangent = np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
        (out * mt.tensor(cotangent, dtype=dtype, backend=on)).sum().backward()
        grads.append(x.grad.numpy())
    # windows may overlap: a position's gradient adds up to prod(kernel) cotangents
    assert_close(grads[0], grads[1], f"{where}\n  vs numpy_ref", 1e-6, 1e-6)


def _edge_planes(dtype) -> np.ndarray:
    """(2, 3, 8, 8) values with a NaN at each tap position of a 2x2 window, -inf beside
    +inf, all--inf windows and ties of signed zeros (the first one wins)."""
    values = np.random.default_rng(11).uniform(-2.0, 2.0, (2, 3, 8, 8)).astype(dtype.numpy)
    flat = values.reshape(-1)
    flat[::7] = -np.inf
    flat[2::11] = np.inf
    flat[5::13] = np.nan
    flat[3::17] = -0.0
    flat[4::17] = 0.0
    for tap, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        values[0, tap % 3, 2 * tap + i, 2 + j] = np.nan  # one window per tap position
    values[1, 0, :2, :2] = -np.inf
    return values


@pytest.mark.parametrize("dtype", _cases())
@pytest.mark.parametrize("geometry", [((2, 2), (2, 2), (0, 0), (1, 1), False),
                                      ((3, 3), (2, 2), (1, 1), (1, 1), False),
                                      ((2, 2), (2, 2), (0, 0), (1, 1), True)],
                         ids=["2x2", "3x3-stride2-pad1", "2x2-ceil"])  # fmt: skip
def test_max_pool_common_windows_with_edge_values(dtype, geometry, backend):
    """The windows CNNs use (LeNet's 2x2, ResNet's 3x3 stride 2), which a backend may run
    on a path of their own, on every edge value, bit for bit with their indices."""
    values = _edge_planes(dtype)
    record = OPS["max_pool"]
    got, got_indices = record.func(mt.tensor(values, backend=backend), *geometry)
    expected, expected_indices = call_reference(record.ref, values, *geometry)
    where = f"max_pool on backend {backend!r}, kernel, stride, padding, dilation, " \
        f"ceil_mode = {geometry}, with NaN, +-inf and signed zeros"  # fmt: skip
    got = got.numpy()  # the reference computes in float64: a selection, exact either way
    assert got.tobytes() == expected.astype(got.dtype).tobytes(), f"{where}\n  values differ"
    assert np.array_equal(got_indices.numpy(), expected_indices), f"{where}\n  indices differ"
