"""`bilinear`: ``y[..., o] = x1[..., :] @ weight[o] @ x2[..., :] + bias[o]``, as one matmul
of x1 with the flattened weight and a product-sum with x2."""

from __future__ import annotations

import math

from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require

__all__ = ["bilinear"]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The bilinear form ``x1^T A_o x2 + b_o`` for every output feature `o`: `input1`
    (..., in1), `input2` (..., in2) with the same leading dims, `weight` (out, in1, in2).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> w = mt.ones(3, 2, 4)
    >>> F.bilinear(mt.ones(5, 2), mt.ones(5, 4), w, mt.zeros(3)).tolist()[0]
    [8.0, 8.0, 8.0]
    """
    op = "bilinear"
    x1, x2 = _require(op, input1, "input1"), _require(op, input2, "input2")
    if _require(op, weight, "weight").ndim != 3:
        raise ValueError(f"{op}(): weight must be 3-d (out, in1, in2), got shape {weight.shape}")
    out_features, in1, in2 = weight.shape
    if x1.ndim == 0 or x1.ndim != x2.ndim or x1.shape[:-1] != x2.shape[:-1]:
        raise ValueError(
            f"{op}(): input1 {x1.shape} and input2 {x2.shape} must have the same leading "
            "(batch) dims and at least one dim"
        )
    if x1.shape[-1] != in1 or x2.shape[-1] != in2:
        raise ValueError(
            f"{op}(): inputs ending in ({x1.shape[-1]}, {x2.shape[-1]}) features do not fit "
            f"weight of shape {weight.shape} (expected ({in1}, {in2}))"
        )
    lead = x1.shape[:-1]
    rows = math.prod(lead)
    flat_weight = weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    mixed = (x1.reshape(rows, in1) @ flat_weight).reshape(rows, out_features, in2)
    out = (mixed * x2.reshape(rows, 1, in2)).sum(-1).reshape(*lead, out_features)
    if bias is not None:
        if _require(op, bias, "bias").shape != (out_features,):
            raise ValueError(f"{op}(): bias must have shape ({out_features},), got {bias.shape}")
        out = out + bias
    return out
