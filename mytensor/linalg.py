"""The array API's ``linalg`` extension (``mytensor.linalg``, also ``mt.linalg``).

Norms, products, traces and diagonals are composed from mytensor ops, so they run and
differentiate on every backend. The decompositions and solves (cholesky, det, eigh,
inv, qr, slogdet, solve, svd and what is built on them) call the backend's optional
``linalg`` primitive, whose default is a **host fallback**: the operands go to the
host, numpy.linalg computes, the results come back. That is exact everywhere and, on
a device backend without a native ``linalg``, costs two transfers per call. Their
gradients are backward rules in ops (see `mytensor.core.ops.linalg_decomp`).

>>> import mytensor as mt
>>> a = mt.tensor([[4.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> mt.linalg.det(a).backward()
>>> a.grad.tolist()
[[3.0, -1.0], [-1.0, 4.0]]
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from mytensor.core.layout import broadcast_shapes, normalize_dim
from mytensor.core.ops._base import check_tensor, promote_operands
from mytensor.core.ops.linalg import matmul, matrix_transpose, tensordot, vecdot
from mytensor.core.ops.linalg_decomp import (
    EighResult,
    QRResult,
    SlogdetResult,
    SVDResult,
    _matrix,
    cholesky,
    det,
    eigh,
    inv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
)
from mytensor.core.ops.manipulation import stack
from mytensor.core.ops.statistical import max, min, sum
from mytensor.core.tensor import Tensor

__all__ = [
    "EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cross", "det",
    "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm", "matrix_power",
    "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
    "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
]  # fmt: skip


def eigvalsh(x: Tensor, /) -> Tensor:
    """The eigenvalues of each symmetric matrix, ascending (see `eigh`).

    >>> import mytensor as mt
    >>> mt.linalg.eigvalsh(mt.tensor([[2.0, 1.0], [1.0, 2.0]])).tolist()
    [1.0, 3.0]
    """
    return eigh(x).eigenvalues


def outer(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The outer product of two vectors: ``out[i, j] = x1[i] * x2[j]``.

    >>> import mytensor as mt
    >>> mt.linalg.outer(mt.tensor([1, 2]), mt.tensor([1, 10, 100])).tolist()
    [[1, 10, 100], [2, 20, 200]]
    """
    a = check_tensor("linalg.outer", x1, "x1")
    b = check_tensor("linalg.outer", x2, "x2")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"linalg.outer(): needs two 1-d tensors, got {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def diagonal(x: Tensor, /, *, offset: int = 0) -> Tensor:
    """The diagonal `offset` (above the main one if positive) of each matrix.

    >>> import mytensor as mt
    >>> mt.linalg.diagonal(mt.tensor([[1, 2], [3, 4]]), offset=1).tolist()
    [2]
    """
    x = check_tensor("linalg.diagonal", x)
    if x.ndim < 2:
        raise ValueError(f"linalg.diagonal(): needs rank >= 2, got shape {x.shape}")
    *batch, n, m = x.shape
    start = offset if offset >= 0 else -offset * m
    rows, cols = (n, m - offset) if offset >= 0 else (n + offset, m)
    length = builtins.max(0, builtins.min(rows, cols))
    flat = x.reshape(*batch, n * m)
    if length == 0:
        return flat[..., 0:0]
    return flat[..., start : start + (length - 1) * (m + 1) + 1 : m + 1]


def trace(x: Tensor, /, *, offset: int = 0, dtype=None) -> Tensor:
    """The sum of diagonal `offset` of each matrix.

    >>> import mytensor as mt
    >>> mt.linalg.trace(mt.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
    5.0
    """
    return sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def cross(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """The cross product of 3-vectors along `axis` (the other axes broadcast).

    >>> import mytensor as mt
    >>> mt.linalg.cross(mt.tensor([1.0, 0.0, 0.0]), mt.tensor([0.0, 1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    a = check_tensor("linalg.cross", x1, "x1")
    b = check_tensor("linalg.cross", x2, "x2")
    a, b, _ = promote_operands("linalg.cross", a, b)
    shape = broadcast_shapes("linalg.cross", a.shape, b.shape)
    if not shape:
        raise ValueError("linalg.cross(): needs tensors of rank >= 1")
    d = normalize_dim("linalg.cross", axis, len(shape)) - len(shape)
    if -d > builtins.min(a.ndim, b.ndim) or a.shape[d] != 3 or b.shape[d] != 3:
        raise ValueError(
            f"linalg.cross(): axis {axis} must have size 3 in both inputs, got shapes "
            f"{a.shape} and {b.shape}"
        )
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    key = (Ellipsis,) + (slice(None),) * (-d - 1)
    a0, a1, a2 = (a[(*key[:1], i, *key[1:])] for i in range(3))
    b0, b1, b2 = (b[(*key[:1], i, *key[1:])] for i in range(3))
    parts = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    return stack(parts, axis=d)


def vector_norm(x: Tensor, /, *, axis: int | tuple[int, ...] | None = None,
                keepdims: bool = False, ord: float = 2) -> Tensor:  # fmt: skip
    """The `ord`-norm of the vectors along `axis` (None: all elements): ``ord`` 2
    (Euclidean), 1, any p, ``inf`` / ``-inf`` (largest / smallest magnitude) or 0
    (the count of non-zero elements).

    >>> import mytensor as mt
    >>> mt.linalg.vector_norm(mt.tensor([3.0, -4.0])).item()
    5.0
    """
    x = check_tensor("linalg.vector_norm", x)
    x = _as_float(x)
    magnitude = x.abs()
    kw = {"axis": axis, "keepdims": keepdims}
    if ord == math.inf:
        return max(magnitude, **kw)
    if ord == -math.inf:
        return min(magnitude, **kw)
    if ord == 0:
        return sum((x != 0).astype(magnitude.dtype), **kw)
    if ord == 1:
        return sum(magnitude, **kw)
    if ord == 2:
        return sum(magnitude * magnitude, **kw).sqrt()
    return sum(magnitude**ord, **kw) ** (1.0 / ord)


def _as_float(x: Tensor) -> Tensor:
    from mytensor.core.dtypes import default_float

    return x if x.dtype.kind in ("float", "complex") else x.astype(default_float())


def matrix_norm(x: Tensor, /, *, keepdims: bool = False, ord: float | str = "fro") -> Tensor:
    """The `ord`-norm of each matrix: ``"fro"`` (Frobenius), ``"nuc"`` (sum of singular
    values), 2 / -2 (largest / smallest singular value), 1 / -1 (largest / smallest
    column sum of magnitudes), ``inf`` / ``-inf`` (the same over rows).

    >>> import mytensor as mt
    >>> mt.linalg.matrix_norm(mt.tensor([[3.0, 0.0], [0.0, 4.0]]), ord=2).item()
    4.0
    """
    x = _matrix("matrix_norm", x, square=False)
    if ord == "fro":
        magnitude = x.abs()
        out = sum(magnitude * magnitude, axis=(-2, -1)).sqrt()
    elif ord in ("nuc", 2, -2):
        s = svdvals(x)
        out = {"nuc": sum, 2: max, -2: min}[ord](s, axis=-1)
    elif ord in (1, -1, math.inf, -math.inf):
        along = -2 if ord in (1, -1) else -1
        sums = sum(x.abs(), axis=along)
        out = (max if ord > 0 else min)(sums, axis=-1)
    else:
        raise ValueError(
            f"linalg.matrix_norm(): ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, "
            f"got {ord!r}"
        )
    return out.reshape(*out.shape, 1, 1) if keepdims else out


def matrix_power(x: Tensor, n: int, /) -> Tensor:
    """Each square matrix raised to the integer power `n` (negative: of its inverse).

    >>> import mytensor as mt
    >>> mt.linalg.matrix_power(mt.tensor([[1, 1], [0, 1]]), 3).tolist()
    [[1, 3], [0, 1]]
    """
    x = check_tensor("linalg.matrix_power", x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"linalg.matrix_power(): needs square matrices, got shape {x.shape}")
    if not isinstance(n, int | np.integer):
        raise TypeError(f"linalg.matrix_power(): n must be an int, got {type(n).__name__}")
    if n < 0:
        x, n = inv(x), -n
    from mytensor.core.creation import eye

    result = eye(x.shape[-1], dtype=x.dtype, backend=x.backend).broadcast_to(x.shape)
    square = x
    while n:
        if n & 1:
            result = matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return result


def _default_rtol(x: Tensor) -> float:
    return builtins.max(x.shape[-2:]) * float(np.finfo(x.dtype.numpy).eps)


def matrix_rank(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """The number of singular values above ``rtol * largest`` (int64) for each matrix.

    >>> import mytensor as mt
    >>> mt.linalg.matrix_rank(mt.tensor([[1.0, 2.0], [2.0, 4.0]])).item()
    1
    """
    x = _matrix("matrix_rank", x, square=False)
    s = svdvals(x).detach()
    tol = rtol if rtol is not None else _default_rtol(x)
    if isinstance(tol, Tensor):
        tol = tol.unsqueeze(-1)
    limit = max(s, axis=-1, keepdims=True) * tol if s.shape[-1] else s
    return sum(s > limit, axis=-1)


def pinv(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix (singular values at or below
    ``rtol * largest`` count as zero); differentiable where the rank does not change.

    >>> import mytensor as mt
    >>> mt.linalg.pinv(mt.tensor([[2.0, 0.0], [0.0, 0.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.0]]
    """
    x = _matrix("pinv", x, square=False)
    from mytensor.core import autograd
    from mytensor.core.ops.elementwise import where

    with autograd.no_grad():
        u, s, vh = svd(x, full_matrices=False)
        tol = rtol if rtol is not None else _default_rtol(x)
        if isinstance(tol, Tensor):
            tol = tol.unsqueeze(-1)
        limit = max(s, axis=-1, keepdims=True) * tol if s.shape[-1] else s
        kept = s > limit
        s_inv = where(kept, 1.0 / where(kept, s, 1.0), 0.0)
        out = (_conj_transpose(vh) * s_inv.unsqueeze(-2)) @ _conj_transpose(u)
    if autograd.needs_grad(x):
        autograd.record(out, "pinv", (x,), lambda g: (_pinv_backward(g, x, out),), (x, out))
    return out


def _pinv_backward(g: Tensor, a: Tensor, p: Tensor) -> Tensor:
    # The differential of P = pinv(A) where the rank is constant (Golub and Pereyra):
    # dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P. It needs no SVD, so
    # repeated singular values are fine, and it is written in ops, so it differentiates
    # again. Its adjoint, the gradient for A, term by term:
    ph, gh = _conj_transpose(p), _conj_transpose(g)
    through = -(ph @ g) @ ph
    outside_columns = ((gh - a @ (p @ gh)) @ p) @ ph  # (I - A P) G^H P P^H
    outside_rows = ph @ (p @ (gh - (gh @ p) @ a))  # P^H P G^H (I - P A)
    return through + outside_columns + outside_rows


def _conj_transpose(x: Tensor) -> Tensor:
    from mytensor.core.ops.elementwise import UNARY_OPS

    return UNARY_OPS["conj"](x.mT) if x.dtype.kind == "complex" else x.mT
