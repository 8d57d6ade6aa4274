"""Norm-based functions: `normalize`, `cosine_similarity`, `pairwise_distance`.

They share one p-norm whose gradient is 0 (not NaN) at an all-zero vector, as PyTorch's
norm backward is, so a zero row never poisons a batch's gradients.
"""

from __future__ import annotations

import math

from mytensor.core import autograd
from mytensor.core.layout import broadcast_shapes
from mytensor.core.ops.elementwise import where
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require

__all__ = ["cosine_similarity", "normalize", "pairwise_distance"]


def _vector_norm(x: Tensor, p: float, dim: int, keepdim: bool) -> Tensor:
    """The p-norm of `x` along `dim`, with a zero gradient at an all-zero vector."""
    if math.isinf(p):
        a = x.abs()
        return a.amax(dim, keepdim=keepdim) if p > 0 else a.amin(dim, keepdim=keepdim)
    if p == 0:
        return (x != 0).sum(dim, keepdim=keepdim).astype(x.dtype)
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    total = (
        (x * x).sum(dim, keepdim=keepdim) if p == 2 else (x.abs() ** p).sum(dim, keepdim=keepdim)
    )
    positive = total > 0
    safe = where(positive, total, 1.0)
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return where(positive, root, 0.0)


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """``input / max(||input||_p, eps)`` along `dim`.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.normalize(mt.tensor([[3.0, 4.0], [0.0, 0.0]]), p=1).tolist()
    [[0.4285714328289032, 0.5714285969734192], [0.0, 0.0]]
    """
    x = _require("normalize", input)
    result = x / _vector_norm(x, p, dim, keepdim=True).clip(min=eps)
    if out is None:
        return result
    if autograd.is_grad_enabled() and result.requires_grad:
        raise RuntimeError(
            "normalize(): out= does not support automatic differentiation; call it under "
            "mytensor.no_grad() or drop out="
        )
    out[...] = result
    return out


def _broadcast(op: str, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    _require(op, x1, "x1")
    _require(op, x2, "x2")
    try:
        shape = broadcast_shapes(op, x1.shape, x2.shape)
    except ValueError as error:
        raise ValueError(
            f"{op}(): x1 of shape {x1.shape} and x2 of shape {x2.shape} cannot be broadcast "
            f"together ({error})"
        ) from None
    return x1.broadcast_to(shape), x2.broadcast_to(shape)


def _clamped_below(norm: Tensor, eps: float) -> Tensor:
    # PyTorch clamps the norms in place under no_grad: the value is max(norm, eps), the
    # gradient that of the unclamped norm
    return where(norm < eps, norm - norm.detach() + eps, norm)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps))`` along `dim`, after
    broadcasting `x1` and `x2` (each is divided by its norm first, as in PyTorch).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.cosine_similarity(mt.tensor([[1.0, 0.0]]), mt.tensor([[3.0, 4.0]])).tolist()
    [0.6000000238418579]
    """
    a, b = _broadcast("cosine_similarity", x1, x2)
    norm_a = _clamped_below(_vector_norm(a, 2, dim, keepdim=True), eps)
    norm_b = _clamped_below(_vector_norm(b, 2, dim, keepdim=True), eps)
    return ((a / norm_a) * (b / norm_b)).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim (PyTorch's definition, eps inside).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> round(F.pairwise_distance(mt.tensor([[3.0, 0.0]]), mt.tensor([[0.0, 4.0]])).item(), 3)
    5.0
    """
    _require("pairwise_distance", x1, "x1")
    _require("pairwise_distance", x2, "x2")
    diff = x1 - x2 + eps
    if diff.ndim == 0:
        diff = diff.reshape(1)
        return _vector_norm(diff, p, 0, keepdim=True).reshape(())
    return _vector_norm(diff, p, -1, keepdim)
