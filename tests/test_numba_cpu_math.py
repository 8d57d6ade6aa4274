"""numba_cpu's own kernels beside the generic ones: the vectorisable float32 exp and tanh
(`_vmath.expf`, `_vmath.tanhf`) against the exact functions, the float32 softmax and LSTM
cell kernels built on them and the outer-product matmul against the reference backend,
edge values included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mytensor as mt

numba = pytest.importorskip("numba", reason="the numba extra is not installed")

from mytensor.backends.numba_cpu import _vmath  # noqa: E402
from mytensor.core.ops.recurrent import lstm_cell  # noqa: E402
from mytensor.core.registry import get_backend  # noqa: E402

F32 = np.finfo(np.float32)


def _elementwise(function):
    """`function` (a numba-compiled scalar function) over a float32 array, in a loop."""

    @numba.njit(error_model="numpy")
    def loop(x, out):
        for i in range(x.size):
            out[i] = function(x[i])

    def run(x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        loop(x, out)
        return out

    return run


_expf, _tanhf = _elementwise(_vmath.expf), _elementwise(_vmath.tanhf)


def test_expf_is_within_one_ulp_over_the_float32_range():
    # every 256th float32 from the underflow threshold to the overflow one, both signs
    # of the exponent's range walked bit pattern by bit pattern
    low, high = np.float32(-104.0), np.float32(89.0)
    positive = np.arange(0, high.view(np.int32), 256, dtype=np.int32).view(np.float32)
    negative = -np.arange(0, (-low).view(np.int32), 256, dtype=np.int32).view(np.float32)
    x = np.concatenate([positive, negative])
    got = _expf(x).astype(np.float64)
    exact = np.exp(x.astype(np.float64))
    with np.errstate(over="ignore"):
        rounded = exact.astype(np.float32)
    normal = np.isfinite(rounded) & (rounded >= F32.tiny)
    ulps = np.abs(got[normal] - exact[normal]) / np.spacing(rounded[normal]).astype(np.float64)
    assert ulps.max() <= 1.01, f"max error {ulps.max()} ulp at x = {x[normal][ulps.argmax()]}"
    # subnormal results: within one unit of the smallest subnormal
    tiny = ~normal & (exact < F32.tiny)
    smallest = float(np.float32(1e-45))
    assert np.all(np.abs(got[tiny] - exact[tiny]) <= smallest), "subnormal results"
    overflow = ~np.isfinite(rounded)
    assert np.all(np.isinf(got[overflow])), "results beyond float32 are +inf"


def test_expf_special_values_bit_for_bit():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 88.72283, 88.7229, -103.972, -104.0,
                  -1e30, 1e30, 1.0], np.float32)  # fmt: skip
    got = _expf(x)
    with np.errstate(over="ignore"):
        expected = np.exp(x.astype(np.float64)).astype(np.float32)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:5], [np.inf, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(got[5:7], expected[5:7])  # last finite, first infinite
    assert got[7] > 0 and got[8] == 0.0 and got[9] == 0.0 and got[10] == np.inf
    assert abs(float(got[11]) - np.e) <= np.spacing(np.float32(np.e))


def test_tanhf_is_within_1_3_ulp_where_tanh_is_not_yet_one():
    # every 64th float32 bit pattern from 0 to 10 (tanh rounds to 1 from 9.01), both signs;
    # the polynomial's and the exponential's sides of 0.625 both walked
    high = np.float32(10.0)
    positive = np.arange(0, high.view(np.int32), 64, dtype=np.int32).view(np.float32)
    x = np.concatenate([positive, -positive])
    got = _tanhf(x).astype(np.float64)
    exact = np.tanh(x.astype(np.float64))
    rounded = exact.astype(np.float32)
    nonzero = rounded != 0
    ulps = np.abs(got[nonzero] - exact[nonzero]) / np.spacing(rounded[nonzero]).astype(np.float64)
    assert ulps.max() <= 1.3, f"max error {ulps.max()} ulp at x = {x[nonzero][ulps.argmax()]}"
    assert np.all(np.abs(got) <= 1.0)


def test_tanhf_special_values_bit_for_bit():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-30, -1e-30, 50.0,
                  -50.0, 1e30, -3e38], np.float32)  # fmt: skip
    got = _tanhf(x)
    assert np.isnan(got[0])
    # the zero's sign kept; tanh(x) rounds to x below 2**-12, to +-1 above 9.01
    np.testing.assert_array_equal(got[1:].view(np.int32), np.tanh(x[1:]).view(np.int32))


def test_float32_lstm_cell_kernel_matches_the_reference():
    # the whole float32 cell is one numba kernel on expf and tanhf; edge values in every gate
    rng = np.random.default_rng(3)
    gates = rng.normal(0, 4, (6, 4 * 37)).astype(np.float32)
    c = rng.normal(0, 4, (6, 37)).astype(np.float32)
    gates[0, :8] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30, -1e30, 1e-40]
    gates[1, 74:82] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30, -1e30, 1e-40]  # the g gate
    c[2, :4] = [np.nan, np.inf, -np.inf, -0.0]
    results = {}
    for name in ("numba_cpu", "numpy_ref"):
        g, cell = mt.tensor(gates, backend=name), mt.tensor(c, backend=name)
        h, c_new = lstm_cell(g, cell)
        # the same values as views with column strides of 2: the kernel's strided loops
        wide_g, wide_c = (mt.tensor(np.repeat(a, 2, 1), backend=name) for a in (gates, c))
        hv, cv = lstm_cell(wide_g[:, ::2], wide_c[:, 1::2])
        results[name] = [t.numpy() for t in (h, c_new, hv, cv)]
    for got, expected in zip(results["numba_cpu"], results["numpy_ref"], strict=True):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_allclose(got, expected, rtol=4e-6, atol=1e-30)


def _rows(cols: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    rows = rng.normal(0, 3, (10, cols)).astype(np.float32)
    rows[1, cols // 2] = np.nan  # NaN: the whole row NaN
    rows[2, 0] = np.inf  # +inf: the whole row NaN
    rows[3] = -np.inf  # only -inf: NaN (softmax), NaN (log_softmax)
    rows[4, ::2] = -np.inf  # some -inf: exact zeros there
    rows[5] = rng.uniform(-3e38, 3e38, cols)  # huge values: no overflow
    rows[6] = np.float32(-1e30)  # every element equal: uniform
    rows[7] = rng.normal(0, 40, cols)  # underflowing exponentials, subnormals among them
    rows[8] = -0.0
    return rows


@pytest.mark.parametrize("cols", [1, 7, 1000])
@pytest.mark.parametrize("rows_repeated", [1, 40])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_float32_softmax_kernel_matches_the_reference(op, cols, rows_repeated):
    # 40 copies of the rows puts 400x1000 over the threaded size: the rows split
    x = np.tile(_rows(cols), (rows_repeated, 1))
    got = getattr(mt.tensor(x, backend="numba_cpu"), op)(1).numpy()
    expected = getattr(mt.tensor(x, backend="numpy_ref"), op)(1).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(got == 0, expected == 0)
    # log_softmax subtracts two rounded terms: an absolute error of their size's ulps
    atol = 1e-6 if op == "log_softmax" else 1e-37
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=atol)


def test_float32_softmax_kernel_takes_rows_of_a_3d_tensor_and_a_sliced_batch():
    x = np.random.default_rng(1).normal(size=(4, 6, 33)).astype(np.float32)
    a = mt.tensor(x, backend="numba_cpu")
    for view in (a, a[1:3], a[:, 2:]):
        expected = mt.tensor(view.numpy(), backend="numpy_ref").softmax(-1).numpy()
        np.testing.assert_allclose(view.softmax(-1).numpy(), expected, rtol=2e-6)


def test_threaded_numpy_threshold_weighs_work_per_element(monkeypatch):
    impl = get_backend("numba_cpu").impl
    calls = []
    monkeypatch.setattr(impl, "threaded_numpy_threshold", 1000)
    monkeypatch.setattr(impl, "threads", 2)
    x = np.zeros((8, 100), np.float32)

    def kernel(x, o):
        calls.append(o.shape)

    impl._numpy_in_threads(kernel, (), x, x, 1, work=1)
    assert calls == [(8, 100)]  # 800 elements of ufunc work: one call, one thread
    calls.clear()
    impl._numpy_in_threads(kernel, (), x, x, 1, work=2)
    assert sorted(calls) == [(4, 100), (4, 100)]  # twice the work: two halves of the rows


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((6, 33, 1), (6, 1, 40)), ((33, 1), (1, 40)), ((6, 33, 1), (1, 40)), ((5, 1), (1, 10))],
)
def test_outer_product_matmuls_equal_the_reference_bit_for_bit(dtype, a_shape, b_shape):
    # inner dimension 1: numba_cpu's outer-product kernel, zero signs included
    rng = np.random.default_rng(2)
    a, b = (rng.normal(0, 3, s).astype(dtype) for s in (a_shape, b_shape))
    if dtype != "int64":
        a.flat[:3] = [np.nan, np.inf, -0.0]
        b.flat[:2] = [-np.inf, 0.0]
    got = (mt.tensor(a, backend="numba_cpu") @ mt.tensor(b, backend="numba_cpu")).numpy()
    expected = (mt.tensor(a, backend="numpy_ref") @ mt.tensor(b, backend="numpy_ref")).numpy()
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_outer_product_matmul_of_strided_views():
    x = mt.tensor(np.arange(80.0, dtype=np.float32).reshape(2, 40), backend="numba_cpu")
    col = x[:, 1:34].unsqueeze(-1)  # (2, 33, 1), a sliced view
    row = x.flip(1)[:, None, :]  # (2, 1, 40), negative strides
    got = (col @ row).numpy()
    expected = col.numpy() @ row.numpy()
    np.testing.assert_array_equal(got, expected)


def test_outer_product_matmul_on_the_parallel_path(monkeypatch):
    impl = get_backend("numba_cpu").impl
    monkeypatch.setattr(impl, "parallel_threshold", 1)
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3, 5, 1)), rng.normal(size=(3, 1, 40))
    a[0, 0, 0] = -0.0
    got = (mt.tensor(a, backend="numba_cpu") @ mt.tensor(b, backend="numba_cpu")).numpy()
    assert got.tobytes() == np.matmul(a, b).tobytes()


@pytest.mark.parametrize("backend", ["numba_cpu", "numpy_ref"])
def test_matmul_of_inf_and_zero_is_nan_without_a_numpy_warning(backend):
    a = mt.tensor([[np.inf, 1.0]], backend=backend)
    b = mt.tensor([[0.0], [1.0]], backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan((a @ b).item())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_backward_kernel_on_both_paths_equals_the_rule(monkeypatch, reduction):
    # the float32 kernel in one pass and in blocks of rows on numba's threads, against the
    # core's composite (exp map, scatter_add, multiply) on the same backend, bit for bit
    from mytensor.core import fused_loss

    impl = get_backend("numba_cpu").impl
    rng = np.random.default_rng(6)
    logits = rng.normal(0, 8, (37, 300)).astype(np.float32)
    logits[3, :5] = [-np.inf, np.nan, 1e30, -1e30, 0.0]
    target = mt.tensor(rng.integers(0, 300, 37), backend="numba_cpu")
    x = mt.tensor(logits, backend="numba_cpu", requires_grad=True)
    for threshold in (1, 1 << 30):
        monkeypatch.setattr(impl, "parallel_threshold", threshold)
        monkeypatch.setattr(impl, "threads", 2)
        x.grad = None
        loss = mt.nn.functional.cross_entropy(x, target, reduction=reduction)
        loss.backward(mt.ones_like(loss))
        logp = x.detach().log_softmax(1)
        scale = mt.ones(37, backend="numba_cpu") / (37 if reduction == "mean" else 1)
        expected = mt.empty(37, 300, backend="numba_cpu")
        with np.errstate(all="ignore"):
            fused_loss.cross_entropy_backward(get_backend("numba_cpu"), expected._d, logp._d,
                                              target._d, scale._d)  # fmt: skip
        assert x.grad.numpy().tobytes() == expected.numpy().tobytes(), threshold


@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward_kernel_on_both_paths_matches_torch(monkeypatch, log):
    # the float32 row kernel serially and in blocks of rows on numba's threads; PyTorch's
    # gradient of the same softmax as the oracle
    torch = pytest.importorskip("torch")
    impl = get_backend("numba_cpu").impl
    rng = np.random.default_rng(9)
    x = rng.normal(0, 3, (40, 257)).astype(np.float32)
    g = rng.normal(0, 1, (40, 257)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    (torch.log_softmax(xt, 1) if log else torch.softmax(xt, 1)).backward(torch.tensor(g))
    for threshold in (1, 1 << 30):
        monkeypatch.setattr(impl, "parallel_threshold", threshold)
        monkeypatch.setattr(impl, "threads", 2)
        xm = mt.tensor(x, backend="numba_cpu", requires_grad=True)
        (xm.log_softmax(1) if log else xm.softmax(1)).backward(mt.tensor(g, backend="numba_cpu"))
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=f"threshold {threshold}")  # fmt: skip
