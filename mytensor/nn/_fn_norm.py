"""Functional normalisation: layer_norm, batch_norm and group_norm, from means and a
reciprocal sqrt."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

from mytensor.core import autograd
from mytensor.core.layout import is_integer
from mytensor.core.ops import normalization
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require


def _normalize(centered: Tensor, var: Tensor, eps: float) -> Tensor:
    # multiply by 1/sqrt(var + eps), as PyTorch's kernels do
    return centered * (var + eps).sqrt().reciprocal()


def _normalized_shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """`normalized_shape` as a tuple of ints (one int, numpy ints included, or a sequence)."""
    if is_integer(normalized_shape):
        return (operator.index(normalized_shape),)
    return tuple(operator.index(s) for s in normalized_shape)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims to zero mean and unit
    (biased) variance, then scale by `weight` and shift by `bias`.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> [round(v, 3) for v in F.layer_norm(mt.tensor([[1.0, 3.0]]), (2,)).tolist()[0]]
    [-1.0, 1.0]
    """
    x = _require("layer_norm", input)
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k :] != shape or x.ndim < k:
        raise ValueError(
            f"layer_norm(): input of shape {x.shape} does not end in normalized_shape {shape}"
        )
    if all(p is None or (isinstance(p, Tensor) and p.shape == shape and p.dtype is x.dtype
                         and p._storage.backend is x._storage.backend)
           for p in (weight, bias)):  # fmt: skip
        return normalization.layer_norm(x, shape, weight, bias, eps)  # one graph node
    dims = tuple(range(x.ndim - k, x.ndim))
    centered = x - x.mean(dims, keepdim=True)
    var = (centered * centered).mean(dims, keepdim=True)
    out = _normalize(centered, var, eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) of (N, C, ...) with batch statistics in training
    (updating the running ones in place: ``new = (1 - momentum) * old + momentum * batch``,
    with the unbiased batch variance), or with the running statistics otherwise.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> x = mt.tensor([[1.0], [3.0]])
    >>> mean, var = mt.zeros(1), mt.ones(1)
    >>> [round(v, 3) for v in F.batch_norm(x, mean, var, training=True).reshape(-1).tolist()]
    [-1.0, 1.0]
    >>> [round(v, 4) for v in mean.tolist() + var.tolist()]
    [0.2, 1.1]
    """
    x = _require("batch_norm", input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm(): expected an input of shape (N, C, ...), got {x.shape}")
    c = x.shape[1]
    dims = (0, *range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        n = x.numel() // c if c else 0
        if n <= 1:
            raise ValueError(
                f"batch_norm(): expected more than 1 value per channel when "
                f"training, got input of shape {x.shape}"
            )
        mean = x.mean(dims, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dims, keepdim=True)
        with autograd.no_grad():
            if running_mean is not None:
                running_mean[...] = running_mean * (1 - momentum) + mean.reshape(c) * momentum
            if running_var is not None:
                unbiased = var.reshape(c) * (n / (n - 1))
                running_var[...] = running_var * (1 - momentum) + unbiased * momentum
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm(): running_mean and running_var are needed when not training"
            )
        centered = x - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = _normalize(centered, var, eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the channels (dim 1) of (N, C, ...) into `num_groups` groups, normalise each
    group of each sample to zero mean and unit (biased) variance, then scale and shift
    each channel by `weight` and `bias` (shape (C,)).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> y = F.group_norm(mt.tensor([[1.0, 3.0, 5.0, 9.0]]), 2)
    >>> [round(v, 3) for v in y.reshape(-1).tolist()]
    [-1.0, 1.0, -1.0, 1.0]
    """
    x = _require("group_norm", input)
    if x.ndim < 2:
        raise ValueError(f"group_norm(): expected an input of shape (N, C, ...), got {x.shape}")
    n, c = x.shape[:2]
    if not is_integer(num_groups) or num_groups < 1 or c % num_groups:
        raise ValueError(
            f"group_norm(): the number of channels ({c}, input shape {x.shape}) must be "
            f"divisible by num_groups ({num_groups})"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and _require("group_norm", t, name).shape != (c,):
            raise ValueError(
                f"group_norm(): {name} must have shape ({c},) (one per channel), got {t.shape}"
            )
    grouped = x.reshape(n, num_groups, (c // num_groups) * math.prod(x.shape[2:]))
    centered = grouped - grouped.mean(2, keepdim=True)
    var = (centered * centered).mean(2, keepdim=True)
    out = _normalize(centered, var, eps).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out
