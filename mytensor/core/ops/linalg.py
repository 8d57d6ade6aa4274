"""The standard's main-namespace linear algebra: matmul (numpy's rules for 1-d operands
and broadcast batch dims in the core, one batched primitive in the backend), and
tensordot, vecdot and matrix_transpose composed from it and from views."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from mytensor.core import _autocast, autograd
from mytensor.core.batching import batchable, logical_ndim, pad_to, register_rule
from mytensor.core.dtypes import ALL_DTYPES, NUMERIC_DTYPES
from mytensor.core.layout import broadcast_shapes, is_integer, normalize_dim
from mytensor.core.ops._base import OpRecord, check_tensor, promote_operands, register
from mytensor.core.tensor import Tensor


def _batched(a: Tensor, b: Tensor) -> Tensor:
    """The primitive: a (..., n, k) @ b (..., k, m) with equal batch dims."""
    backend = a._storage.backend
    out = Tensor._empty(backend, (*a.shape[:-1], b.shape[-1]), a.dtype)
    if out.numel():
        backend.matmul(out._d, a._d, b._d)
    if autograd.needs_grad(a, b):
        if a.dtype.kind == "complex":
            return _complex_graph(out, a, b)

        def backward(g: Tensor) -> tuple:
            return (
                _grad_matmul(g, b.mT) if a.requires_grad else None,
                _grad_matmul(a.mT, g) if b.requires_grad else None,
            )

        autograd.record(out, "matmul", (a, b), backward, (a, b))
    return out


# The backward rules' product: under a vmap (jacrev's batched cotangents) it runs matmul's
# batching rule; the forward path calls _batched itself and pays no check.
_grad_matmul = batchable("matmul")(_batched)


def _complex_graph(out: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """The matmul node for complex operands: PyTorch's convention (the gradient held for
    z is dL/dRe(z) + i dL/dIm(z)) takes the conjugate transposes, g @ b^H and a^H @ g."""
    from mytensor.core.ops.elementwise import UNARY_OPS

    conj = UNARY_OPS["conj"]

    def backward(g: Tensor) -> tuple:
        return (
            _grad_matmul(g, conj(b.mT)) if a.requires_grad else None,
            _grad_matmul(conj(a.mT), g) if b.requires_grad else None,
        )

    return autograd.record(out, "matmul", (a, b), backward, (a, b))


@batchable("matmul")
def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Matrix product with numpy's rules: 1-d operands are promoted to a matrix and the
    added dim removed after; leading (batch) dims broadcast.

    >>> import mytensor as mt
    >>> (mt.ones(5, 2, 3) @ mt.ones(3)).shape
    (5, 2)
    """
    a = check_tensor("matmul", x1, "x1")
    b = check_tensor("matmul", x2, "x2")
    if _autocast.STATE.active is not None:  # mm, bmm and @ come through here too
        a, b = _autocast.lower("matmul", a, b)
    a, b, dtype = promote_operands("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul(): both operands need at least 1 dimension, got shapes {a.shape} and "
            f"{b.shape}; use * for scalars"
        )
    if dtype.name == "bool":
        raise TypeError("matmul(): not defined for bool tensors; convert with .astype()")
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul(): shapes {a.shape} and {b.shape} are not aligned: "
            f"{a2.shape[-1]} (dim -1 of the first) != {b2.shape[-2]} "
            f"(dim {-2 if b.ndim > 1 else 0} of the second)"
        )
    if a.ndim == 2 and b.ndim == 2:
        return _batched(a, b)  # no batch dims to broadcast (the layers' common case)
    batch = broadcast_shapes("matmul", a2.shape[:-2], b2.shape[:-2])
    a2 = a2.broadcast_to((*batch, *a2.shape[-2:]))
    b2 = b2.broadcast_to((*batch, *b2.shape[-2:]))
    out = _batched(a2, b2)
    if a.ndim == 1:
        out = out.squeeze(-2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    return out


def matrix_transpose(x: Tensor, /) -> Tensor:
    """Swap the last two axes (a view); `x` needs rank >= 2.

    >>> import mytensor as mt
    >>> mt.matrix_transpose(mt.zeros(4, 2, 3)).shape
    (4, 3, 2)
    """
    x = check_tensor("matrix_transpose", x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose(): needs a tensor of rank >= 2, got shape {x.shape}")
    return x.transpose(-2, -1)


def vecdot(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """Dot products of the vectors along `axis` (the other axes broadcast):
    ``sum(conj(x1) * x2, axis=axis)``.

    >>> import mytensor as mt
    >>> mt.vecdot(mt.tensor([[1.0, 2.0], [3.0, 4.0]]), mt.tensor([1.0, 1.0])).tolist()
    [3.0, 7.0]
    """
    a = check_tensor("vecdot", x1, "x1")
    b = check_tensor("vecdot", x2, "x2")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"vecdot(): needs tensors of rank >= 1, got {a.shape} and {b.shape}")
    shape = broadcast_shapes("vecdot", a.shape, b.shape)
    back = normalize_dim("vecdot", axis, len(shape)) - len(shape)  # counted from the end
    if back < -min(a.ndim, b.ndim) or a.shape[back] != b.shape[back]:
        raise ValueError(
            f"vecdot(): axis {axis} must have the same size in both inputs, got shapes "
            f"{a.shape} and {b.shape}"
        )
    a, b, dtype = promote_operands("vecdot", a, b)
    if dtype.kind == "complex":
        from mytensor.core.ops.elementwise import UNARY_OPS

        a = UNARY_OPS["conj"](a)
    from mytensor.core.ops.statistical import sum as sum_

    return sum_(a * b, axis=back, dtype=dtype)  # the operands' dtype: no widening of ints


def tensordot(x1: Tensor, x2: Tensor, /, *,
              axes: int | tuple[Sequence[int], Sequence[int]] = 2) -> Tensor:  # fmt: skip
    """Sum of products over the axes `axes` names: the last `axes` of x1 with the first
    `axes` of x2 (an int), or the pairs ``(x1_axes, x2_axes)``. One matmul.

    >>> import mytensor as mt
    >>> mt.tensordot(mt.ones(2, 3, 4), mt.ones(3, 4, 5)).shape
    (2, 5)
    """
    a = check_tensor("tensordot", x1, "x1")
    b = check_tensor("tensordot", x2, "x2")
    if is_integer(axes):
        axes = operator.index(axes)
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot(): axes={axes} must be in [0, {min(a.ndim, b.ndim)}] for shapes "
                f"{a.shape} and {b.shape}"
            )
        left, right = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        left = [normalize_dim("tensordot", d, a.ndim) for d in axes[0]]
        right = [normalize_dim("tensordot", d, b.ndim) for d in axes[1]]
    pairs = list(zip(left, right, strict=False))
    if len(left) != len(right) or any(a.shape[i] != b.shape[j] for i, j in pairs):
        raise ValueError(
            f"tensordot(): axes {axes!r} pair dimensions of different sizes in shapes "
            f"{a.shape} and {b.shape}"
        )
    free_a = [d for d in range(a.ndim) if d not in left]
    free_b = [d for d in range(b.ndim) if d not in right]
    k = math.prod(a.shape[d] for d in left)
    rows, cols = tuple(a.shape[d] for d in free_a), tuple(b.shape[d] for d in free_b)
    lhs = a.permute(*free_a, *left).reshape(math.prod(rows), k)
    rhs = b.permute(*right, *free_b).reshape(k, math.prod(cols))
    return matmul(lhs, rhs).reshape(rows + cols)


def _vecdot_variants(shapes):
    ndim = min(len(s) for s in shapes)
    rank = max(len(s) for s in shapes)
    same = [
        d
        for d in range(-ndim, 0)
        if shapes[0][d] == shapes[1][d] or 1 not in (shapes[0][d], shapes[1][d])
    ]
    return [{"axis": d} for d in same] + ([{"axis": rank + same[-1]}] if same else [])


def _np_vecdot(a, b, axis=-1):
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
    return np.sum(a * b, axis=axis)


register(OpRecord("matmul", matmul, np.matmul, arity=2, dtypes=NUMERIC_DTYPES, shapes="matmul"))
register(OpRecord("vecdot", vecdot, _np_vecdot, arity=2, dtypes=NUMERIC_DTYPES,
                  shapes="broadcast", variants=_vecdot_variants))  # fmt: skip
register(OpRecord("matrix_transpose", matrix_transpose, lambda a: np.swapaxes(a, -1, -2),
                  dtypes=ALL_DTYPES,
                  variants=lambda shapes: [{}] if len(shapes[0]) >= 2 else []))  # fmt: skip


def batch_matmul(b, x1, x2):
    """vmap's matmul: a batched vector becomes a one-row (or one-column) matrix, batched
    operands get size-1 dims behind the batch dim up to the other operand's rank, then one
    matmul runs on the physical values and the added dims are dropped."""
    (da, db), a, c = b.dims, x1, x2
    vec_a = da is not None and a.ndim == 2
    vec_b = db is not None and c.ndim == 2
    a = a.unsqueeze(-2) if vec_a else a
    c = c.unsqueeze(-1) if vec_b else c
    rank = max(logical_ndim(a, da), logical_ndim(c, db))
    out = matmul(pad_to(a, da, rank), pad_to(c, db, rank))
    if vec_b:
        out = out.squeeze(-1)
    if vec_a:
        out = out.squeeze(-1 if vec_b else -2)
    return out


register_rule("matmul", batch_matmul)
