"""Matrix multiplication: numpy's rules (1-d cases, broadcast batch dims) in the core,
one batched primitive in the backend."""

from __future__ import annotations

import numpy as np

from mytensor.core import autograd
from mytensor.core.dtypes import NUMERIC_DTYPES
from mytensor.core.layout import broadcast_shapes
from mytensor.core.ops._base import OpRecord, check_tensor, promote_operands, register
from mytensor.core.tensor import Tensor


def _batched(a: Tensor, b: Tensor) -> Tensor:
    """The primitive: a (..., n, k) @ b (..., k, m) with equal batch dims."""
    backend = a._storage.backend
    out = Tensor._empty(backend, (*a.shape[:-1], b.shape[-1]), a.dtype)
    if out.numel():
        backend.matmul(out._d, a._d, b._d)
    if autograd.needs_grad(a, b):

        def backward(g: Tensor) -> tuple:
            return (
                _batched(g, b.mT) if a.requires_grad else None,
                _batched(a.mT, g) if b.requires_grad else None,
            )

        autograd.record(out, "matmul", (a, b), backward, (a, b))
    return out


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with numpy's rules: 1-d operands are promoted to a matrix and the
    added dim removed after; leading (batch) dims broadcast.

    >>> import mytensor as mt
    >>> (mt.ones(5, 2, 3) @ mt.ones(3)).shape
    (5, 2)
    """
    a = check_tensor("matmul", a)
    b = check_tensor("matmul", b, "other")
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


register(OpRecord("matmul", matmul, np.matmul, arity=2, dtypes=NUMERIC_DTYPES, shapes="matmul"))
