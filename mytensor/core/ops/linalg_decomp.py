"""Decompositions and solves: the backend's `linalg` primitive (or its host fallback:
numpy.linalg), with backward rules written in ops, so they run on every backend and
differentiate again. Real or complex floating-point inputs (gradients: real only);
batches are the leading axes.

The rules are the standard ones: inv' = -A^-T g A^-T, det' = g det A^-T, solve through
a second solve, Cholesky after Murray (2016), eigh after Giles (2008), QR as in
TensorFlow's ``qr_grad`` (m >= n), and SVD after Townsend (2016). Inputs of cholesky
and eigh are taken as symmetric, so their gradients are symmetric too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from mytensor.core import _autocast, autograd
from mytensor.core.dtypes import default_float, real_dtype
from mytensor.core.layout import broadcast_shapes
from mytensor.core.ops._base import check_tensor, promote_operands, same_backend
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor

__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "det", "eigh",
           "inv", "qr", "slogdet", "solve", "svd", "svdvals"]  # fmt: skip


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def _matrix(op: str, x: Tensor, square: bool = True) -> Tensor:
    x = check_tensor(f"linalg.{op}", x)
    if x.dtype.kind not in ("float", "complex"):
        x = x.astype(default_float())
    if x.ndim < 2 or (square and x.shape[-1] != x.shape[-2]):
        kind = "square matrices" if square else "matrices"
        raise ValueError(
            f"linalg.{op}(): needs a stack of {kind} (shape (..., n, n)), got shape {x.shape}"
        )
    return x


def _run(op: str, ins: tuple[Tensor, ...], shapes: list[tuple[int, ...]],
         real: tuple[int, ...] = ()) -> list[Tensor]:  # fmt: skip
    """Allocate the outputs and call the backend's linalg primitive (no graph). The
    outputs numbered in `real` (singular values, eigenvalues, log|det|) are real even
    for complex input."""
    backend = same_backend(f"linalg.{op}", *ins)
    dtype = ins[0].dtype
    outs = [
        Tensor._empty(backend, shape, real_dtype(dtype) if i in real else dtype)
        for i, shape in enumerate(shapes)
    ]
    if any(o.numel() for o in outs):
        backend.linalg(op, tuple(o._d for o in outs), tuple(t.detach()._d for t in ins))
    return outs


def _differentiable(name: str, inputs: tuple[Tensor, ...], outs: list[Tensor],
                    backward: Callable[..., tuple]) -> list[Tensor]:  # fmt: skip
    """Give several outputs one graph node: they are packed into one flat tensor whose
    backward splits the gradient and calls ``backward(*output_grads)``; the returned
    outputs are views of it (an unused output's gradient arrives as zeros)."""
    if not autograd.needs_grad(*inputs):
        return outs
    if any(t.dtype.kind == "complex" for t in inputs):
        raise NotImplementedError(
            f"linalg.{name}(): gradients of complex inputs are not implemented; compute "
            "under mytensor.no_grad() or on the real and imaginary parts"
        )
    packed = cat([o.reshape(-1) for o in outs]) if outs else outs
    bounds, start = [], 0
    for o in outs:
        bounds.append((start, start + o.numel()))
        start += o.numel()

    def unpack(g: Tensor) -> tuple:
        return backward(*(g[a:b].reshape(o.shape) for (a, b), o in zip(bounds, outs, strict=True)))

    autograd.record(packed, name, inputs, unpack, inputs)
    return [packed[a:b].reshape(o.shape) for (a, b), o in zip(bounds, outs, strict=True)]


def _eye_like(x: Tensor, n: int) -> Tensor:
    from mytensor.core.creation import eye

    return eye(n, dtype=x.dtype, backend=x.backend)


def inv(x: Tensor, /) -> Tensor:
    """The inverse of each square matrix (a singular one raises ValueError).

    >>> import mytensor as mt
    >>> mt.linalg.inv(mt.tensor([[2.0, 0.0], [0.0, 4.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    if _autocast.STATE.active is not None:
        (x,) = _autocast.fp32("inverse", x)
    x = _matrix("inv", x)
    (out,) = _run("inv", (x,), [x.shape])

    def backward(g: Tensor) -> tuple:
        return (-(a_inv.mT @ g @ a_inv.mT),)

    (a_inv,) = _differentiable("inv", (x,), [out], backward)
    return a_inv


def det(x: Tensor, /) -> Tensor:
    """The determinant of each square matrix.

    >>> import mytensor as mt
    >>> round(mt.linalg.det(mt.tensor([[1.0, 2.0], [3.0, 4.0]])).item(), 4)
    -2.0
    """
    x = _matrix("det", x)
    (out,) = _run("det", (x,), [x.shape[:-2]])

    def backward(g: Tensor) -> tuple:
        return ((g * d).reshape(*g.shape, 1, 1) * inv(x).mT,)

    (d,) = _differentiable("det", (x,), [out], backward)
    return d


def slogdet(x: Tensor, /) -> SlogdetResult:
    """The sign and the natural log of the absolute value of each determinant (stable
    where ``det`` would overflow or underflow).

    >>> import mytensor as mt
    >>> r = mt.linalg.slogdet(mt.tensor([[-2.0, 0.0], [0.0, 1.0]]))
    >>> r.sign.item(), round(r.logabsdet.item(), 4)
    (-1.0, 0.6931)
    """
    x = _matrix("slogdet", x)
    sign, logabs = _run("slogdet", (x,), [x.shape[:-2], x.shape[:-2]], real=(1,))

    def backward(g_sign: Tensor, g_log: Tensor) -> tuple:
        return (g_log.reshape(*g_log.shape, 1, 1) * inv(x).mT,)

    sign, logabs = _differentiable("slogdet", (x,), [sign, logabs], backward)
    return SlogdetResult(sign.detach(), logabs)


def solve(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The solution X of ``x1 @ X = x2`` for square `x1`; `x2` is a stack of matrices, or
    one vector (shape (n,)) solved against every matrix of `x1`.

    >>> import mytensor as mt
    >>> mt.linalg.solve(mt.tensor([[2.0, 0.0], [0.0, 4.0]]), mt.tensor([2.0, 2.0])).tolist()
    [1.0, 0.5]
    """
    a = _matrix("solve", x1)
    b = check_tensor("linalg.solve", x2, "x2")
    a, b, _ = promote_operands("linalg.solve", a, b)
    vector = b.ndim == 1
    b2 = b.unsqueeze(-1) if vector else b
    n = a.shape[-1]
    if b2.ndim < 2 or b2.shape[-2] != n:
        raise ValueError(
            f"linalg.solve(): x2 of shape {b.shape} does not match x1 of shape {a.shape}: "
            f"x2 needs {n} rows (shape (..., {n}, k), or ({n},) for one vector)"
        )
    batch = broadcast_shapes("linalg.solve", a.shape[:-2], b2.shape[:-2])
    a = a.broadcast_to((*batch, n, n))
    b2 = b2.broadcast_to((*batch, *b2.shape[-2:]))
    (out,) = _run("solve", (a, b2), [b2.shape])

    def backward(g: Tensor) -> tuple:
        g_b = solve(a.mT, g)
        return (-(g_b @ x.mT), g_b)

    (x,) = _differentiable("solve", (a, b2), [out], backward)
    return x.squeeze(-1) if vector else x


def cholesky(x: Tensor, /, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix: lower L with
    ``x = L @ L.mT`` (or upper ``U = L.mT`` when `upper`).

    >>> import mytensor as mt
    >>> mt.linalg.cholesky(mt.tensor([[4.0, 2.0], [2.0, 2.0]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    if _autocast.STATE.active is not None:
        (x,) = _autocast.fp32("cholesky", x)
    from mytensor.core.ops.construction import tril

    x = _matrix("cholesky", x)
    (out,) = _run("cholesky", (x,), [x.shape])

    def backward(g: Tensor) -> tuple:
        n = x.shape[-1]
        halve = where(_eye_like(x, n) == 1, 0.5, 1.0).astype(x.dtype)
        phi = tril(low.mT @ tril(g)) * halve
        low_inv = inv(low)
        s = low_inv.mT @ phi @ low_inv
        return ((s + s.mT) * 0.5,)

    (low,) = _differentiable("cholesky", (x,), [out], backward)
    return low.mT if upper else low


def _off_diagonal_reciprocal(diff: Tensor, n: int) -> Tensor:
    """1 / diff off the diagonal, 0 on it (with no inf anywhere, even in gradients)."""
    diagonal = _eye_like(diff, n) == 1
    return where(diagonal, 0.0, 1.0 / where(diagonal, 1.0, diff))


def eigh(x: Tensor, /) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (the columns) of each symmetric matrix;
    only the lower triangle is read.

    >>> import mytensor as mt
    >>> mt.linalg.eigh(mt.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues.tolist()
    [1.0, 2.0]
    """
    x = _matrix("eigh", x)
    n = x.shape[-1]
    values, vectors = _run("eigh", (x,), [x.shape[:-1], x.shape], real=(0,))

    def backward(g_w: Tensor, g_v: Tensor) -> tuple:
        f = _off_diagonal_reciprocal(w.unsqueeze(-2) - w.unsqueeze(-1), n)
        inner = _eye_like(x, n) * g_w.unsqueeze(-2) + f * (v.mT @ g_v)
        grad = v @ inner @ v.mT
        return ((grad + grad.mT) * 0.5,)

    w, v = _differentiable("eigh", (x,), [values, vectors], backward)
    return EighResult(w, v)


def qr(x: Tensor, /, *, mode: str = "reduced") -> QRResult:
    """The QR decomposition of each matrix: orthonormal Q, upper-triangular R, x = Q R
    (``mode="reduced"``: Q is (m, k), R (k, n) with k = min(m, n); ``"complete"``: Q is
    (m, m)). Gradients need m >= n (and, in complete mode, m == n).

    >>> import mytensor as mt
    >>> q, r = mt.linalg.qr(mt.tensor([[3.0, 0.0], [4.0, 5.0]]))
    >>> [round(v, 4) for v in (q @ r).reshape(-1).tolist()]
    [3.0, 0.0, 4.0, 5.0]
    """
    from mytensor.core.ops.construction import tril

    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr(): mode must be 'reduced' or 'complete', got {mode!r}")
    x = _matrix("qr", x, square=False)
    *batch, m, n = x.shape
    k = m if mode == "complete" else min(m, n)
    op = "qr_complete" if mode == "complete" else "qr"
    q_raw, r_raw = _run(op, (x,), [(*batch, m, k), (*batch, k, n)])

    def backward(g_q: Tensor, g_r: Tensor) -> tuple:
        if m < n or q.shape[-1] != n:
            raise NotImplementedError(
                f"linalg.qr(): the gradient needs a matrix with m >= n (and mode='reduced' "
                f"unless m == n); got shape {x.shape} with mode={mode!r}"
            )
        qdq = q.mT @ g_q
        rdr = r @ g_r.mT
        low = tril(qdq - qdq.mT + rdr - rdr.mT)
        r_inv_t = inv(r).mT
        return (q @ (g_r + low @ r_inv_t) + (g_q - q @ qdq) @ r_inv_t,)

    q, r = _differentiable("qr", (x,), [q_raw, r_raw], backward)
    return QRResult(q, r)


def svd(x: Tensor, /, *, full_matrices: bool = True) -> SVDResult:
    """The singular value decomposition x = U diag(S) Vh, S descending. Gradients need
    ``full_matrices=False`` (or a square x) and distinct non-zero singular values.

    >>> import mytensor as mt
    >>> mt.linalg.svd(mt.tensor([[3.0, 0.0], [0.0, -4.0]])).S.tolist()
    [4.0, 3.0]
    """
    x = _matrix("svd", x, square=False)
    *batch, m, n = x.shape
    k = min(m, n)
    u_cols, v_rows = (m, n) if full_matrices else (k, k)
    op = "svd_full" if full_matrices else "svd"
    raw = _run(op, (x,), [(*batch, m, u_cols), (*batch, k), (*batch, v_rows, n)], real=(1,))

    def backward(g_u: Tensor, g_s: Tensor, g_vh: Tensor) -> tuple:
        if u.shape[-1] != k or vh.shape[-2] != k:
            raise NotImplementedError(
                f"linalg.svd(): the gradient of full_matrices=True needs a square input, got "
                f"shape {x.shape}; use full_matrices=False"
            )
        return (_svd_backward(u, s, vh, g_u, g_s, g_vh),)

    u, s, vh = _differentiable("svd", (x,), raw, backward)
    return SVDResult(u, s, vh)


def _svd_backward(u, s, vh, g_u, g_s, g_vh) -> Tensor:
    m, k, n = u.shape[-2], s.shape[-1], vh.shape[-1]
    v, g_v = vh.mT, g_vh.mT
    s2 = s * s
    f = _off_diagonal_reciprocal(s2.unsqueeze(-2) - s2.unsqueeze(-1), k)
    j = f * (u.mT @ g_u - g_u.mT @ u)
    kk = f * (v.mT @ g_v - g_v.mT @ v)
    inner = j * s.unsqueeze(-2) + _eye_like(s, k) * g_s.unsqueeze(-2) + s.unsqueeze(-1) * kk
    grad = u @ inner @ vh
    if m > k:
        grad = grad + ((g_u - u @ (u.mT @ g_u)) / s.unsqueeze(-2)) @ vh
    if n > k:
        grad = grad + u @ ((g_v - v @ (v.mT @ g_v)) / s.unsqueeze(-2)).mT
    return grad


def svdvals(x: Tensor, /) -> Tensor:
    """The singular values of each matrix, descending; differentiable (U diag(g) Vh)
    even where singular values repeat or vanish.

    >>> import mytensor as mt
    >>> mt.linalg.svdvals(mt.tensor([[0.0, 2.0], [1.0, 0.0]])).tolist()
    [2.0, 1.0]
    """
    x = _matrix("svdvals", x, square=False)
    *batch, m, n = x.shape
    k = min(m, n)
    u, s_raw, vh = _run("svd", (x,), [(*batch, m, k), (*batch, k), (*batch, k, n)], real=(1,))

    def backward(g: Tensor) -> tuple:
        left, right = u, vh
        if autograd.is_grad_enabled():  # create_graph: U and Vh must carry x's graph too
            left, _, right = svd(x, full_matrices=False)
        return ((left * g.unsqueeze(-2)) @ right,)

    (s,) = _differentiable("svdvals", (x,), [s_raw], backward)
    return s
