"""Regression, divergence and metric-learning losses, with PyTorch's definitions."""

from __future__ import annotations

import warnings

from mytensor.core import _autocast
from mytensor.core.ops.elementwise import where
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require
from mytensor.nn._fn_distance import pairwise_distance
from mytensor.nn._fn_loss import _check_reduction, _reduce


# -- regression ------------------------------------------------------------------------------
def _checked_pair(op: str, input: Tensor, target: Tensor) -> None:
    """Both must be tensors; differing sizes broadcast, but PyTorch warns, and so do we."""
    _require(op, input)
    _require(op, target, "target")
    if input.shape != target.shape:
        warnings.warn(
            f"{op}(): Using a target size ({target.shape}) that is different to the input "
            f"size ({input.shape}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)**2``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.mse_loss(mt.tensor([1.0, 2.0]), mt.tensor([0.0, 0.0])).item()
    2.5
    """
    if _autocast.STATE.active is not None:
        input, target = _autocast.fp32("mse_loss", input, target)
    _checked_pair("mse_loss", input, target)
    diff = input - target
    return _reduce("mse_loss", diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.l1_loss(mt.tensor([1.0, -2.0]), mt.tensor([0.0, 0.0])).item()
    1.5
    """
    if _autocast.STATE.active is not None:
        input, target = _autocast.fp32("l1_loss", input, target)
    _checked_pair("l1_loss", input, target)
    return _reduce("l1_loss", (input - target).abs(), reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta`` (L1 when beta is 0).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.smooth_l1_loss(mt.tensor([0.5, 3.0]), mt.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    if _autocast.STATE.active is not None:
        input, target = _autocast.fp32("smooth_l1_loss", input, target)
    _checked_pair("smooth_l1_loss", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss(): beta must be non-negative, got {beta}")
    d = (input - target).abs()
    if beta == 0.0:
        return _reduce("smooth_l1_loss", d, reduction)
    loss = where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce("smooth_l1_loss", loss, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``, with
    ``d = input - target`` (broadcast); `weight` (input's shape) scales each term.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.huber_loss(mt.tensor([0.5, 3.0]), mt.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    if _autocast.STATE.active is not None:
        input, target = _autocast.fp32("huber_loss", input, target)
    _checked_pair("huber_loss", input, target)
    if delta <= 0:
        raise ValueError(f"huber_loss(): delta must be positive, got {delta}")
    d = (input - target).abs()
    loss = where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        if _require("huber_loss", weight, "weight").shape != input.shape:
            raise ValueError(
                f"huber_loss(): weight of shape {weight.shape} must have the input's shape "
                f"{input.shape}"
            )
        loss = loss * weight
    return _reduce("huber_loss", loss, reduction)


def kl_div(
    input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """Kullback-Leibler divergence with `input` as log-probabilities:
    ``target * (log(target) - input)`` (0 where target is 0), or with a log target
    ``exp(target) * (target - input)``. "batchmean" divides the sum by the batch size.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> logq = mt.tensor([[0.25, 0.75]]).log()
    >>> round(F.kl_div(logq, mt.tensor([[0.5, 0.5]]), reduction="batchmean").item(), 4)
    0.1438
    """
    if _autocast.STATE.active is not None:
        input, target = _autocast.fp32("kl_div", input, target)
    _require("kl_div", input)
    _require("kl_div", target, "target")
    _check_reduction("kl_div", reduction, ("batchmean",))
    if log_target:
        loss = target.exp() * (target - input)
    else:
        zero = target == 0
        loss = where(zero, 0.0, target * where(zero, 1.0, target).log()) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce("kl_div", loss, reduction)


# -- embeddings and metric learning ----------------------------------------------------------
def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> x = mt.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> y = mt.tensor([[0.0, 1.0], [1.0, 1.0]])
    >>> [round(v, 4) for v in F.cosine_embedding_loss(x, y, mt.tensor([1, -1]),
    ...                                               reduction="none").tolist()]
    [1.0, 0.7071]
    """
    if _autocast.STATE.active is not None:
        input1, input2 = _autocast.fp32("cosine_embedding_loss", input1, input2)
    _require("cosine_embedding_loss", input1)
    _require("cosine_embedding_loss", input2, "input2")
    _require("cosine_embedding_loss", target, "target")
    if input1.ndim not in (1, 2) or input1.shape != input2.shape:
        raise ValueError(
            f"cosine_embedding_loss(): inputs must be 1-d or 2-d of one shape, got "
            f"{input1.shape} and {input2.shape}"
        )
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    norms = (((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)).sqrt()
    cos = dot / norms
    loss = where(target == 1, 1.0 - cos, 0.0) + where(
        target == -1, (cos - margin).clip(min=0.0), 0.0
    )
    return _reduce("cosine_embedding_loss", loss, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with `pairwise_distance` d; `swap` uses
    ``min(d(a, n), d(p, n))`` as the negative distance.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> a, pos, neg = mt.tensor([[0.0, 0.0]]), mt.tensor([[0.0, 1.0]]), mt.tensor([[0.0, 3.0]])
    >>> F.triplet_margin_loss(a, pos, neg, margin=2.5).item() > 0
    True
    """
    if _autocast.STATE.active is not None:
        anchor, positive, negative = _autocast.fp32(
            "triplet_margin_loss", anchor, positive, negative
        )
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _require("triplet_margin_loss", t, name)
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss(): margin must be positive, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = where(d_swap < d_neg, d_swap, d_neg)
    loss = (d_pos - d_neg + margin).clip(min=0.0)
    return _reduce("triplet_margin_loss", loss, reduction)


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: `target` (1 or -1) says which
    input should rank higher.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> x1, x2 = mt.tensor([1.0, 2.0]), mt.tensor([2.0, 0.0])
    >>> F.margin_ranking_loss(x1, x2, mt.tensor([1.0, 1.0]), reduction="none").tolist()
    [1.0, 0.0]
    """
    if _autocast.STATE.active is not None:
        input1, input2, target = _autocast.fp32("margin_ranking_loss", input1, input2, target)
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        _require("margin_ranking_loss", t, name)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(
            f"margin_ranking_loss(): input1, input2 and target must have the same number of "
            f"dims, got shapes {input1.shape}, {input2.shape} and {target.shape}"
        )
    z = -target * (input1 - input2) + margin
    return _reduce("margin_ranking_loss", where(z >= 0, z, 0.0), reduction)
