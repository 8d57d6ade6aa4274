"""numba_cpu's conv and max-pool kernels on each of their paths, against numpy_ref.

The backend picks a path by size (`Conv._batched`, `Conv._parallel`, `_pool.PARALLEL_TAPS`)
and conformance meets whichever its shapes select; here every path runs on every geometry:
1-, 2- and 3-d, groups, strides (the row-copy im2col and the general one), dilation,
padding, and strided, offset inputs and outputs."""

from __future__ import annotations

import numpy as np
import pytest

from mytensor.backends.spec import Strided
from mytensor.core.dtypes import float32, float64, int64
from mytensor.core.registry import get_backend

pytest.importorskip("numba", reason="the numba extra is not installed")

from mytensor.backends.numba_cpu import _blas_threads, _conv, _conv_taps, _gemm, _pool

RNG = np.random.default_rng(11)
REFERENCE = get_backend("numpy_ref").impl
DTYPES = {np.float32: float32, np.float64: float64, np.int64: int64}

CONV_CASES = [
    # (x shape, weight shape, stride, padding, dilation, groups)
    ((4, 1, 8, 8), (16, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # 8x8 digits: batched
    ((3, 4, 7, 6), (6, 2, 3, 2), (2, 2), (1, 0), (1, 1), 2),
    ((2, 3, 12, 11), (4, 3, 3, 3), (1, 1), (2, 1), (2, 1), 1),
    ((3, 2, 9), (4, 2, 3), (2,), (2,), (1,), 1),
    ((2, 4, 4, 5, 3), (4, 2, 2, 3, 2), (1, 2, 1), (1, 0, 1), (2, 1, 1), 2),
]


def _strided(values: np.ndarray, *, spread: bool = False) -> Strided:
    """A descriptor of `values`; with `spread`, inside a larger buffer at an offset, with
    a gap after every row (a view the kernels must not treat as contiguous)."""
    if not spread:
        a = np.ascontiguousarray(values)
        strides = tuple(s // a.itemsize for s in a.strides)
        return Strided(a.reshape(-1), a.shape, strides, 0, DTYPES[a.dtype.type])
    host = np.full((*values.shape[:-1], values.shape[-1] + 2), np.nan, values.dtype)
    view = host[..., 1:-1]
    view[...] = values
    strides = tuple(s // host.itemsize for s in view.strides)
    return Strided(host.reshape(-1), values.shape, strides, 1, DTYPES[host.dtype.type])


def _read(desc: Strided) -> np.ndarray:
    return np.lib.stride_tricks.as_strided(
        desc.buffer[desc.offset:], desc.shape,
        tuple(s * desc.buffer.itemsize for s in desc.strides)).copy()  # fmt: skip


def _output_shape(x_shape, w_shape, stride, padding, dilation):
    return tuple((size + 2 * p - d * (k - 1) - 1) // s + 1 for size, k, s, p, d in
                 zip(x_shape[2:], w_shape[2:], stride, padding, dilation, strict=True))  # fmt: skip


def _run_path(conv: _conv.Conv, path: str, method: str, *descs: Strided) -> None:
    if path == "parallel":
        with _blas_threads.one_numpy_blas_thread():
            getattr(conv, f"_parallel_{method}")(*descs)
    else:
        getattr(conv, f"_{path}_{method}")(*descs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", ["batched", "parallel", "serial"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{len(c[0]) - 2}d-{c[0]}")
def test_conv_paths_agree_with_numpy_ref(case, path, dtype):
    if path == "parallel" and not _gemm.available(np.dtype(dtype)):
        pytest.skip("the parallel conv path needs numpy's OpenBLAS")
    x_shape, w_shape, stride, padding, dilation, groups = case
    out_shape = (x_shape[0], w_shape[0], *_output_shape(x_shape, w_shape, stride, padding,
                                                        dilation))  # fmt: skip
    x = RNG.standard_normal(x_shape).astype(dtype)
    w = RNG.standard_normal(w_shape).astype(dtype)
    go = RNG.standard_normal(out_shape).astype(dtype)
    params = (stride, padding, dilation, groups)
    conv = _conv.Conv(x_shape, w_shape, out_shape, *params)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    for spread in (False, True):
        expected = _strided(np.empty(out_shape, dtype))
        REFERENCE.conv(expected, _strided(x), _strided(w), *params)
        got = _strided(np.zeros(out_shape, dtype), spread=spread)
        _run_path(conv, path, "forward", got, _strided(x, spread=spread), _strided(w))
        np.testing.assert_allclose(_read(got), _read(expected), **tol)

        expected = _strided(np.empty(x_shape, dtype))
        REFERENCE.conv_grad_input(expected, _strided(go), _strided(w), *params)
        got = _strided(np.full(x_shape, np.nan, dtype), spread=spread)
        _run_path(conv, path, "grad_input", got, _strided(go, spread=spread), _strided(w))
        np.testing.assert_allclose(_read(got), _read(expected), **tol)

        expected = _strided(np.empty(w_shape, dtype))
        REFERENCE.conv_grad_weight(expected, _strided(x), _strided(go), *params)
        got = _strided(np.full(w_shape, np.nan, dtype))
        _run_path(conv, path, "grad_weight", got, _strided(x, spread=spread),
                  _strided(go, spread=spread))  # fmt: skip
        np.testing.assert_allclose(_read(got), _read(expected), **tol)


TAP_CASES = [
    # stride-1 convs: grad_weight runs as taps; the forward from _conv_taps.MIN_CHANNELS
    # input channels per group; grad_input from as many output channels per group (and
    # two input channels, padding at most dilation * (k - 1))
    # (sizes such that a sample's output positions times input channels per group reach
    # _conv_taps.MIN_WEIGHT_WORK)
    ((2, 8, 9, 8), (8, 8, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((3, 16, 10, 9), (16, 8, 3, 2), (1, 1), (1, 0), (2, 1), 2),  # groups, dilation
    ((2, 9, 8, 8), (9, 9, 5, 5), (1, 1), (2, 2), (1, 1), 1),  # a 5x5 kernel
    ((2, 8, 8, 9), (8, 8, 1, 1), (1, 1), (0, 0), (1, 1), 1),  # 1x1
    ((2, 8, 70), (10, 8, 3), (1,), (2,), (2,), 1),  # 1-d
    ((3, 8, 3, 70), (2, 8, 3, 3), (1, 1), (0, 3), (1, 2), 1),  # wide padding, one row out
    ((4, 1, 24, 24), (8, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # one channel: grad_weight only
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TAP_CASES, ids=lambda c: f"{len(c[0]) - 2}d-{c[0]}-{c[1]}")
@pytest.mark.parametrize("threads", [1, 2])
def test_conv_by_taps_agrees_with_numpy_ref(case, dtype, threads, monkeypatch):
    """The tap-GEMM forward, grad_weight and grad_input (`_conv_taps`) against numpy_ref,
    on contiguous and spread operands (rows with gaps, at an offset), NaN and infinities
    included (a dropped column may compute garbage from them; a kept one must not)."""
    if not _gemm.available(np.dtype(dtype)):
        pytest.skip("the tap path needs numpy's OpenBLAS")
    monkeypatch.setattr(_conv.numba, "get_num_threads", lambda: threads)
    x_shape, w_shape, stride, padding, dilation, groups = case
    out_shape = (x_shape[0], w_shape[0], *_output_shape(x_shape, w_shape, stride, padding,
                                                        dilation))  # fmt: skip
    x = RNG.standard_normal(x_shape).astype(dtype)
    x.reshape(-1)[7::23] = np.inf
    x.reshape(-1)[11::29] = np.nan
    w = RNG.standard_normal(w_shape).astype(dtype)
    params = (stride, padding, dilation, groups)
    conv = _conv.Conv(x_shape, w_shape, out_shape, *params)
    forward_by_taps = conv._taps_for("forward", np.dtype(dtype))
    assert forward_by_taps == (w_shape[1] >= _conv_taps.MIN_CHANNELS)
    assert conv._taps_for("grad_weight", np.dtype(dtype))
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    expected = _strided(np.empty(out_shape, dtype))
    with np.errstate(invalid="ignore"):  # inf - inf in the reference's sums
        REFERENCE.conv(expected, _strided(x), _strided(w), *params)
    for spread in (False, True):
        got = _strided(np.full(out_shape, -7.0, dtype), spread=spread)
        conv.forward(got, _strided(x, spread=spread), _strided(w))
        np.testing.assert_allclose(_read(got), _read(expected), **tol)
    # grad_weight: a sample holding inf/NaN takes the per-row GEMMs, a finite one the taps'
    go = RNG.standard_normal(out_shape).astype(dtype)
    for values in (x, np.where(np.isfinite(x), x, 0.5).astype(dtype)):
        expected = _strided(np.empty(w_shape, dtype))
        with np.errstate(invalid="ignore"):
            REFERENCE.conv_grad_weight(expected, _strided(values), _strided(go), *params)
        for spread in (False, True):
            got = _strided(np.full(w_shape, -7.0, dtype))
            conv.grad_weight(got, _strided(values, spread=spread), _strided(go, spread=spread))
            np.testing.assert_allclose(_read(got), _read(expected), **tol)
    if not conv._taps_for("grad_input", np.dtype(dtype)):
        assert w_shape[0] // groups < _conv_taps.MIN_CHANNELS or w_shape[1] == 1
        return
    go.reshape(-1)[5::19] = -np.inf
    expected = _strided(np.empty(x_shape, dtype))
    with np.errstate(invalid="ignore"):
        REFERENCE.conv_grad_input(expected, _strided(go), _strided(w), *params)
    for spread in (False, True):
        got = _strided(np.full(x_shape, -7.0, dtype), spread=spread)
        conv.grad_input(got, _strided(go, spread=spread), _strided(w))
        np.testing.assert_allclose(_read(got), _read(expected), **tol)


def test_small_planes_take_the_batched_path_where_launches_are_dear():
    """Batched: on one thread, or on two where a parallel launch costs ~80 us (workqueue),
    not on TBB; large planes never."""
    digits = _conv.Conv((32, 16, 8, 8), (32, 16, 3, 3), (32, 32, 8, 8), (1, 1), (1, 1),
                        (1, 1), 1)  # fmt: skip
    f32 = np.dtype(np.float32)
    assert digits._batched(f32) == (not digits._parallel(f32) or _conv.THREADING_LAYER != "tbb")
    large = _conv.Conv((64, 16, 28, 28), (32, 16, 3, 3), (64, 32, 28, 28), (1, 1), (1, 1),
                       (1, 1), 1)  # fmt: skip
    assert not large._batched(f32)
    one_sample = _conv.Conv((1, 16, 8, 8), (32, 16, 3, 3), (1, 32, 8, 8), (1, 1), (1, 1),
                            (1, 1), 1)  # fmt: skip
    assert not one_sample._batched(f32)


POOL_CASES = [
    # (x shape, kernel, stride, padding, dilation[, ceil_mode]); 2x2 windows without
    # padding take the unrolled path unless ceil_mode adds a window over the edge
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1)),
    ((2, 2, 7, 9), (2, 2), (1, 1), (0, 0), (1, 1)),
    ((1, 3, 9, 8), (2, 2), (3, 2), (0, 0), (1, 1)),
    ((2, 2, 5, 7), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((2, 2, 9, 7), (3, 2), (2, 1), (1, 1), (1, 2)),
    ((3, 2, 11), (3,), (2,), (1,), (2,)),
    ((1, 2, 5, 6, 4), (2, 3, 2), (1, 2, 2), (1, 1, 0), (2, 1, 1)),
]


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{len(c[0]) - 2}d-{c[0]}")
def test_max_pool_paths_agree_with_numpy_ref_bit_for_bit(case, parallel, monkeypatch):
    x_shape, kernel, stride, padding, dilation, *ceil_mode = case
    x = RNG.standard_normal(x_shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[::7] = -np.inf  # whole windows of -inf where padding is near
    flat[2::11] = np.inf  # beside a -inf: the NaN check's false alarm (inf + -inf)
    flat[5::13] = np.nan
    flat[3::17] = -0.0
    flat[4::17] = 0.0  # ties of signed zeros: the first one wins
    spatial = _output_shape(x_shape, (0, 0, *kernel), stride, padding, dilation)
    if ceil_mode:  # one more window that starts inside and overhangs the edge
        spatial = tuple(n + 1 for n in spatial)
    out_shape = (*x_shape[:2], *spatial)
    monkeypatch.setattr(_pool, "PARALLEL_TAPS", 0 if parallel else 1 << 62)
    monkeypatch.setattr(_pool.numba, "get_num_threads", lambda: 2 if parallel else 1)
    got, got_index = (
        _strided(np.empty(out_shape, np.float32)),
        _strided(np.empty(out_shape, np.int64)),
    )
    expected, expected_index = (
        _strided(np.empty(out_shape, np.float32)),
        _strided(np.empty(out_shape, np.int64)),
    )
    _pool.max_pool(got, got_index, _strided(x), kernel, stride, padding, dilation)
    REFERENCE.max_pool(expected, expected_index, _strided(x), kernel, stride, padding,
                       dilation)  # fmt: skip
    assert _read(got).tobytes() == _read(expected).tobytes()
    np.testing.assert_array_equal(_read(got_index), _read(expected_index))
