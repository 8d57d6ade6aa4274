"""mytensor.linalg against numpy.linalg on every installed backend, and its gradients
against central differences (through gauge-invariant functions of the decompositions:
a factor is only defined up to signs, a symmetric input's gradient only up to its
symmetric part)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import gradcheck
from mytensor.conformance.checks import assert_close

BACKENDS = [info.name for info in mt.backends() if info.status == "loaded"]
DRAWN = settings(
    max_examples=12, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
by_backend = pytest.mark.parametrize("backend", BACKENDS)


@st.composite
def _matrices(draw, kind="general", square=True):
    """(numpy float64 batch of matrices, its shape): well conditioned; `spd` symmetric
    positive-definite; `distinct` with well-separated singular values."""
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2), label="batch"))
    n = draw(st.integers(1, 4), label="n")
    m = n if square else draw(st.integers(1, 4), label="m")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    a = rng.standard_normal((*batch, m, n))
    if kind == "spd":
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    if kind == "distinct":  # U diag(s) Vh with s spread apart
        k = min(m, n)
        u = np.linalg.qr(rng.standard_normal((*batch, m, k)))[0]
        v = np.linalg.qr(rng.standard_normal((*batch, n, k)))[0]
        s = np.arange(k, 0, -1) + 0.5
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)
    return a + (2 * n * np.eye(n) if square else 0)


def _t(a, backend, grad=False):
    t = mt.asarray(a, dtype=mt.float64, device=backend)
    return t.requires_grad_() if grad else t


def _same(got, expected, what, tol=1e-9):
    assert_close(np.asarray(got.numpy()), np.asarray(expected), what, tol, tol)


@by_backend
@DRAWN
@given(a=_matrices(), b_cols=st.integers(0, 3), vector=st.booleans())
def test_inverse_determinant_and_solve(backend, a, b_cols, vector):
    x = _t(a, backend)
    _same(mt.linalg.inv(x), np.linalg.inv(a), "inv")
    _same(mt.linalg.det(x), np.linalg.det(a), "det")
    sign, logabs = mt.linalg.slogdet(x)
    _same(sign, np.linalg.slogdet(a)[0], "slogdet sign")
    _same(logabs, np.linalg.slogdet(a)[1], "slogdet logabsdet")
    n = a.shape[-1]
    b = np.arange(n * max(b_cols, 1), dtype=np.float64).reshape(n, -1) - 1.5
    b = b[:, 0] if vector else b[:, :b_cols]
    expected = np.linalg.solve(a, b[..., None])[..., 0] if vector else np.linalg.solve(a, b)
    _same(mt.linalg.solve(x, _t(b, backend)), expected, f"solve with x2 of shape {b.shape}")


@by_backend
@DRAWN
@given(a=_matrices("spd"), upper=st.booleans())
def test_cholesky_and_eigh(backend, a, upper):
    x = _t(a, backend)
    lower = np.linalg.cholesky(a)
    expected = np.swapaxes(lower, -1, -2) if upper else lower
    _same(mt.linalg.cholesky(x, upper=upper), expected, f"cholesky upper={upper}")
    w, v = mt.linalg.eigh(x)
    _same(w, np.linalg.eigvalsh(a), "eigh eigenvalues")
    _same(mt.linalg.eigvalsh(x), np.linalg.eigvalsh(a), "eigvalsh")
    rebuilt = (v.numpy() * w.numpy()[..., None, :]) @ np.swapaxes(v.numpy(), -1, -2)
    assert_close(rebuilt, a, "V diag(w) V^T rebuilds the input", 1e-9, 1e-9)


@by_backend
@DRAWN
@given(a=_matrices(square=False), mode=st.sampled_from(["reduced", "complete"]),
       full=st.booleans())  # fmt: skip
def test_qr_and_svd(backend, a, mode, full):
    x = _t(a, backend)
    q, r = mt.linalg.qr(x, mode=mode)
    nq, nr = np.linalg.qr(a, mode=mode)
    assert q.shape == nq.shape and r.shape == nr.shape, (q.shape, r.shape, nq.shape, nr.shape)
    _same(q @ r, a, f"Q R rebuilds x (mode {mode})")
    _same(mt.abs(r), np.abs(nr), "|R| (R is unique up to row signs)")
    u, s, vh = mt.linalg.svd(x, full_matrices=full)
    nu, ns, nvh = np.linalg.svd(a, full_matrices=full)
    assert u.shape == nu.shape and vh.shape == nvh.shape, (u.shape, vh.shape)
    _same(s, ns, "svd S")
    _same(mt.linalg.svdvals(x), ns, "svdvals")
    k = s.shape[-1]
    _same((u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :], a, "U diag(S) Vh rebuilds x")


@by_backend
@DRAWN
@given(a=_matrices(square=False), data=st.data())
def test_norms_and_compositions(backend, a, data):
    x = _t(a, backend)
    for order in ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf):
        keep = data.draw(st.booleans(), label="keepdims")
        expected = np.linalg.matrix_norm(a, ord=order, keepdims=keep)
        _same(mt.linalg.matrix_norm(x, ord=order, keepdims=keep), expected, f"ord={order}")
    axis = data.draw(st.sampled_from([None, -1, 0, (-2, -1)]), label="axis")
    for order in (2, 1, 0, 3, 0.5, math.inf, -math.inf):
        expected = np.linalg.vector_norm(a, ord=order, axis=axis)
        _same(mt.linalg.vector_norm(x, ord=order, axis=axis), expected,
              f"vector_norm ord={order} axis={axis}", 1e-7)  # fmt: skip
    offset = data.draw(st.integers(-3, 3), label="offset")
    _same(mt.linalg.diagonal(x, offset=offset), np.diagonal(a, offset, -2, -1), "diagonal")
    _same(mt.linalg.trace(x, offset=offset), np.trace(a, offset, -2, -1), "trace")
    _same(mt.linalg.matrix_rank(x), np.linalg.matrix_rank(a), "matrix_rank")
    _same(mt.linalg.pinv(x), np.linalg.pinv(a), "pinv", 1e-7)
    v = a.reshape(-1)[:3]
    _same(mt.linalg.outer(_t(v, backend), _t(v[::-1], backend)), np.outer(v, v[::-1]), "outer")


@by_backend
def test_cross_power_and_reexports(backend):
    a = np.arange(12, dtype=np.float64).reshape(4, 3)
    b = np.array([1.0, -2.0, 0.5])
    _same(mt.linalg.cross(_t(a, backend), _t(b, backend)), np.cross(a, b), "cross")
    _same(mt.linalg.cross(_t(a.T, backend), _t(b[:, None], backend), axis=0),
          np.cross(a.T, b[:, None], axis=0), "cross axis=0")  # fmt: skip
    m = np.array([[2.0, 1.0], [0.0, 1.0]])
    for n in (-2, 0, 1, 5):
        _same(mt.linalg.matrix_power(_t(m, backend), n), np.linalg.matrix_power(m, n), f"n={n}")
    assert mt.linalg.matmul is mt.matmul and mt.linalg.vecdot is mt.vecdot
    assert mt.linalg.tensordot is mt.tensordot
    assert mt.linalg.matrix_transpose is mt.matrix_transpose


# -- gradients ------------------------------------------------------------------------------
def _check(func, *tensors, what):
    assert gradcheck(func, list(tensors), name=what)


@by_backend
@settings(max_examples=6, deadline=None, derandomize=True, database=None)
@given(a=_matrices(), spd=_matrices("spd"), data=st.data())
def test_gradients_of_inverse_determinant_solve(backend, a, spd, data):
    x = _t(a, backend, grad=True)
    _check(mt.linalg.inv, x, what="inv")
    _check(mt.linalg.det, x, what="det")
    _check(lambda t: mt.linalg.slogdet(t).logabsdet, x, what="slogdet")
    b = _t(a[..., :1] * 0.5 + 1.0, backend, grad=True)
    _check(mt.linalg.solve, x, b, what="solve")
    vector = mt.arange(a.shape[-1], dtype=mt.float64, device=backend) + 1.0
    _check(lambda t: mt.linalg.solve(t, vector), x, what="solve with a vector")
    s = _t(spd, backend, grad=True)
    sym = lambda t: (t + t.mT) * 0.5  # noqa: E731 (the decompositions read one triangle)
    _check(lambda t: mt.linalg.cholesky(sym(t)), s, what="cholesky")
    c = mt.arange(1, spd.shape[-1] + 1, dtype=mt.float64, device=backend)
    _check(lambda t: mt.linalg.eigh(sym(t)).eigenvalues, s, what="eigh eigenvalues")
    _check(lambda t: (mt.linalg.eigh(sym(t)).eigenvectors * c) @ mt.linalg.eigh(sym(t))
           .eigenvectors.mT, s, what="eigh eigenvectors")  # fmt: skip


@by_backend
@settings(max_examples=6, deadline=None, derandomize=True, database=None)
@given(a=_matrices("distinct", square=False))
def test_gradients_of_qr_and_svd(backend, a):
    x = _t(a, backend, grad=True)
    m, n = a.shape[-2:]
    k = min(m, n)
    c = mt.arange(1, k + 1, dtype=mt.float64, device=backend)
    _check(mt.linalg.svdvals, x, what="svdvals")
    _check(lambda t: mt.linalg.svd(t, full_matrices=False).S, x, what="svd S")

    def svd_gauge_free(t):
        u, _, vh = mt.linalg.svd(t, full_matrices=False)
        return (u * c) @ vh

    _check(svd_gauge_free, x, what="svd U, Vh")
    if m >= n:

        def qr_gauge_free(t):
            q, r = mt.linalg.qr(t)
            return (q * c) @ r

        _check(qr_gauge_free, x, what="qr")
    _check(lambda t: mt.linalg.matrix_norm(t, ord="nuc"), x, what="nuclear norm")
    _check(lambda t: mt.linalg.pinv(t), x, what="pinv")


def test_second_order_through_the_decompositions():
    a = mt.asarray([[3.0, 1.0], [0.5, 2.0]], dtype=mt.float64).requires_grad_()

    def hessian_row(t):
        with mt.enable_grad():  # gradcheck's central differences run without a graph
            leaf = t if t.requires_grad else t.detach().requires_grad_()
            (g,) = mt.autograd.grad(mt.linalg.det(mt.linalg.inv(leaf)), [leaf],
                                    create_graph=True)  # fmt: skip
            return g

    assert gradcheck(hessian_row, [a], name="grad of det(inv(x))")


def test_errors_and_host_fallback_declaration():
    with pytest.raises(ValueError, match=r"linalg\.inv\(\): input of shape \(2, 2\)"):
        mt.linalg.inv(mt.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"linalg\.det\(\): needs a stack of square"):
        mt.linalg.det(mt.ones((2, 3)))
    with pytest.raises(ValueError, match=r"linalg\.solve\(\): x2 of shape \(3,\)"):
        mt.linalg.solve(mt.eye(2), mt.ones(3))
    x = mt.asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=mt.float64).requires_grad_()
    with pytest.raises(NotImplementedError, match=r"full_matrices=False"):
        mt.linalg.svd(x, full_matrices=True).U.sum().backward()
    from mytensor.core.registry import get_backend

    assert "linalg" not in get_backend("minimal").native  # minimal runs the host fallback
    assert mt.linalg.inv(mt.eye(2, device="minimal")).backend == "minimal"


def test_complex_input_gives_real_values_where_the_standard_says():
    """Singular values, eigenvalues of a Hermitian matrix and log|det| are real for
    complex input; pinv uses the conjugate transposes."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    square = a[:2]
    hermitian = square @ square.conj().T
    x = mt.asarray(a, backend="numpy_ref")
    s = mt.linalg.svdvals(x)
    assert s.dtype == mt.float64
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(a, compute_uv=False))
    logabs = mt.linalg.slogdet(mt.asarray(square)).logabsdet
    assert logabs.dtype == mt.float64
    np.testing.assert_allclose(logabs.numpy(), np.linalg.slogdet(square).logabsdet)
    w = mt.linalg.eigh(mt.asarray(hermitian)).eigenvalues
    assert w.dtype == mt.float64
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(hermitian))
    np.testing.assert_allclose(mt.linalg.pinv(x).numpy(), np.linalg.pinv(a), atol=1e-12)
    np.testing.assert_allclose(mt.linalg.vector_norm(x).item(), np.linalg.norm(a))
    assert mt.linalg.matrix_rank(x).item() == 2


def test_vecdot_keeps_the_integer_dtype():
    u8 = mt.asarray(np.array([1, 2, 3], np.uint8), backend="numpy_ref")
    out = mt.vecdot(u8, u8)
    assert out.dtype == mt.uint8 and out.item() == 14
