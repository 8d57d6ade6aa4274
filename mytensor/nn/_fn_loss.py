"""Classification losses, with PyTorch's definitions (weights, ignore_index, smoothing,
reductions) and numerically stable forms (log-softmax, softplus), from core ops."""

from __future__ import annotations

import functools
import math

from mytensor.core import _autocast
from mytensor.core.batching import batchable, register_decomposition
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.nn_ops import check_reduction as _check_reduction
from mytensor.core.ops.nn_ops import class_loss
from mytensor.core.ops.nn_ops import class_targets as _class_targets
from mytensor.core.ops.nn_ops import cross_entropy as _cross_entropy_indices
from mytensor.core.ops.nn_ops import nll_terms as _nll
from mytensor.core.ops.nn_ops import weighted_reduce as _weighted_reduce
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require, log_softmax

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(op: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}(): reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(op: str, input: Tensor, target: Tensor) -> None:
    _require(op, input)
    _require(op, target, "target")
    if input.shape != target.shape:
        raise ValueError(
            f"{op}(): target shape {target.shape} must equal input shape {input.shape}"
        )


# -- classification --------------------------------------------------------------------------
@batchable("nll_loss")
def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class-index targets, from log-probabilities (N, C, ...).

    ``loss_n = -weight[t_n] * input[n, t_n]``; targets equal to `ignore_index` count for
    nothing; "mean" divides by the summed weights of the counted targets.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> logp = mt.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> F.nll_loss(logp, mt.tensor([0, 1])).item()
    0.30000001192092896
    """
    _require("nll_loss", input)
    _require("nll_loss", target, "target")
    if _autocast.STATE.active is not None:
        input, weight = _autocast.fp32("nll_loss", input, weight)
    _check_reduction("nll_loss", reduction)
    if input.ndim == 1:  # unbatched (C,) with a 0-d target
        loss = nll_loss(input.unsqueeze(0), target.reshape(1), weight, ignore_index, reduction)
        return loss.squeeze(0) if reduction == "none" else loss
    mask, safe, count = _class_targets("nll_loss", input, target, ignore_index)
    loss, counted = _nll(input, mask, safe, weight)
    return _weighted_reduce(loss, counted, reduction, count)


@batchable("nn.cross_entropy")
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy of logits (N, C, ...) against class indices (N, ...) or class
    probabilities (same shape as the input), through a stable log-softmax.

    `weight` rescales classes, `ignore_index` drops targets (indices only) and
    `label_smoothing` mixes the target with the uniform distribution, as in PyTorch.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> logits = mt.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> round(F.cross_entropy(logits, mt.tensor([0, 2])).item(), 4)
    0.6691
    >>> round(F.cross_entropy(logits, mt.tensor([0, 2]), label_smoothing=0.1).item(), 4)
    0.7357
    """
    _require("cross_entropy", input)
    _require("cross_entropy", target, "target")
    if _autocast.STATE.active is not None:
        input, target, weight = _autocast.fp32("cross_entropy", input, target, weight)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy(): label_smoothing must be in [0, 1], got {label_smoothing}"
        )
    if input.ndim == 0:
        raise ValueError("cross_entropy(): input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:
        loss = cross_entropy(
            input.unsqueeze(0),
            target.unsqueeze(0),
            weight,
            ignore_index,
            reduction,
            label_smoothing,
        )
        return loss.squeeze(0) if reduction == "none" else loss
    if (
        input.ndim == 2
        and input.dtype.kind == "float"
        and target.dtype.kind != "float"
        and weight is None
        and label_smoothing == 0.0
    ):
        return _cross_entropy_indices(input, target, ignore_index=ignore_index, reduction=reduction)
    c = input.shape[1]
    wshape = (1, c) + (1,) * (input.ndim - 2)
    logp = log_softmax(input, 1)
    if target.dtype.kind == "float":
        return _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, wshape)
    mask, safe, count = _class_targets("cross_entropy", input, target, ignore_index)
    loss, counted = _nll(logp, mask, safe, weight)
    if label_smoothing > 0.0:
        # the uniform part: -sum_c weight_c * logp_c / C, reduced with the same weights
        weighted = logp if weight is None else logp * weight.reshape(wshape)
        smooth = -weighted.sum(1)
        smooth = smooth if mask is None else where(mask, smooth, 0.0)
        loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / c)
    return _weighted_reduce(loss, counted, reduction, count)



# vmap: both run as one-hot composites (class_loss) on the batched values
register_decomposition("nll_loss", functools.partial(class_loss, log_probs=True))
register_decomposition("nn.cross_entropy", class_loss)

def _soft_cross_entropy(
    logp: Tensor,
    target: Tensor,
    weight: Tensor | None,
    reduction: str,
    label_smoothing: float,
    wshape: tuple,
) -> Tensor:
    if target.shape != logp.shape:
        raise ValueError(
            f"cross_entropy(): probability targets must have the input's shape "
            f"{logp.shape}, got {target.shape}"
        )
    c = logp.shape[1]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / c
    terms = logp * target
    if weight is not None:
        terms = terms * weight.reshape(wshape)
    loss = -terms.sum(1)
    if reduction == "mean":  # averaged over samples (not over the weights)
        samples = logp.numel() // c if c else 0
        return loss.sum() / (samples if samples else math.nan)
    return _reduce("cross_entropy", loss, reduction)


def _safe_log(x: Tensor, positive: Tensor) -> Tensor:
    """log(x) clamped below at -100 (PyTorch's BCE), with a finite gradient at x = 0."""
    inner = where(positive, x, 1.0).log().clip(min=-100.0)
    return where(positive, inner, -100.0)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """``-w * (t * log(p) + (1 - t) * log(1 - p))`` for probabilities `p` in [0, 1], each
    log clamped at -100 as in PyTorch.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> round(F.binary_cross_entropy(mt.tensor([0.8, 0.4]), mt.tensor([1.0, 0.0])).item(), 4)
    0.367
    """
    if _autocast.STATE.active is not None:
        input, target, weight = _autocast.fp32("binary_cross_entropy", input, target, weight)
    _same_shape("binary_cross_entropy", input, target)
    _check_reduction("binary_cross_entropy", reduction)
    log_p = _safe_log(input, input > 0)
    log_q = _safe_log(1.0 - input, input < 1)
    loss = -(target * log_p + (1.0 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy", loss, reduction)


def _softplus_neg(x: Tensor) -> Tensor:
    """``log(1 + exp(-x))`` without overflow: ``max(-x, 0) + log1p(exp(-|x|))``, written
    with `where` so the gradient at x = 0 is the true -1/2 rather than a kink's choice."""
    negative = x < 0
    return where(negative, -x, 0.0) + where(negative, x, -x).exp().log1p()


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits;
    `pos_weight` scales the positive term (one value per class, broadcast on the last dim).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> logits, target = mt.tensor([100.0, -100.0]), mt.tensor([1.0, 0.0])
    >>> F.binary_cross_entropy_with_logits(logits, target).item() < 1e-40
    True
    """
    if _autocast.STATE.active is not None:
        input, target, weight, pos_weight = _autocast.fp32(
            "binary_cross_entropy_with_logits", input, target, weight, pos_weight
        )
    _same_shape("binary_cross_entropy_with_logits", input, target)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    softplus = _softplus_neg(input)  # -log(sigmoid(input))
    if pos_weight is not None:
        softplus = softplus * ((pos_weight - 1.0) * target + 1.0)
    loss = (1.0 - target) * input + softplus
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)
