"""Classification losses, with PyTorch's definitions (weights, ignore_index, smoothing,
reductions) and numerically stable forms (log-softmax, softplus), from core ops."""

from __future__ import annotations

import math

from mytensor.core import autograd
from mytensor.core.creation import arange
from mytensor.core.dtypes import int64
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import gather
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require, log_softmax, softmax

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(op: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}(): reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_reduction(op: str, reduction: str, extra: tuple[str, ...] = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(
            f"{op}(): reduction must be one of {_REDUCTIONS + extra}, got {reduction!r}"
        )


def _same_shape(op: str, input: Tensor, target: Tensor) -> None:
    _require(op, input)
    _require(op, target, "target")
    if input.shape != target.shape:
        raise ValueError(
            f"{op}(): target shape {target.shape} must equal input shape {input.shape}"
        )


# -- classification --------------------------------------------------------------------------
def _class_targets(op: str, input: Tensor, target: Tensor, ignore_index: int) -> tuple:
    """(mask of counted targets, targets made safe to gather) after checking them."""
    if target.dtype is not int64:  # PyTorch: "expected scalar type Long"
        raise TypeError(
            f"{op}(): class-index targets must be an int64 integer tensor (as in PyTorch), got "
            f"{target.dtype.name}; convert them with target.long()"
        )
    expected = (input.shape[0], *input.shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{op}(): input of shape {input.shape} needs a target of shape "
            f"{expected}, got {target.shape}"
        )
    mask = target != ignore_index
    safe = where(mask, target, 0)
    c = input.shape[1]
    host = safe.numpy()  # one transfer for both bounds
    if host.size and (host.min() < 0 or host.max() >= c):
        bad = host[(host < 0) | (host >= c)].flat[0]
        raise IndexError(f"{op}(): target {bad} is out of bounds for {c} classes")
    return mask, safe


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
    _check_reduction("nll_loss", reduction)
    if input.ndim == 1:  # unbatched (C,) with a 0-d target
        loss = nll_loss(input.unsqueeze(0), target.reshape(1), weight, ignore_index, reduction)
        return loss.squeeze(0) if reduction == "none" else loss
    mask, safe = _class_targets("nll_loss", input, target, ignore_index)
    loss, counted = _nll(input, mask, safe, weight)
    return _weighted_reduce(loss, counted, reduction)


def _nll(logp: Tensor, mask: Tensor, safe: Tensor, weight: Tensor | None) -> tuple:
    """Per-target losses ``-weight[t] * logp[t]`` (0 where ignored) and the weights counted."""
    picked = gather(logp, 1, safe.unsqueeze(1)).squeeze(1)
    if weight is None:
        counted = mask.astype(logp.dtype)
    else:
        counted = gather(weight, 0, safe.reshape(-1)).reshape(safe.shape)
        counted = where(mask, counted, 0.0).astype(logp.dtype)
    return where(mask, -picked * counted, 0.0), counted


def _weighted_reduce(loss: Tensor, counted: Tensor, reduction: str) -> Tensor:
    """PyTorch's reductions for class-index losses: "mean" divides by the counted weights."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / counted.sum()


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
        return _cross_entropy_indices(input, target, ignore_index, reduction)
    c = input.shape[1]
    wshape = (1, c) + (1,) * (input.ndim - 2)
    logp = log_softmax(input, 1)
    if target.dtype.kind == "float":
        return _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, wshape)
    mask, safe = _class_targets("cross_entropy", input, target, ignore_index)
    loss, counted = _nll(logp, mask, safe, weight)
    if label_smoothing > 0.0:
        # the uniform part: -sum_c weight_c * logp_c / C, reduced with the same weights
        weighted = logp if weight is None else logp * weight.reshape(wshape)
        smooth = where(mask, -weighted.sum(1), 0.0)
        loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / c)
    return _weighted_reduce(loss, counted, reduction)


def _cross_entropy_indices(
    input: Tensor, target: Tensor, ignore_index: int, reduction: str
) -> Tensor:
    """`cross_entropy` of (N, C) logits against class indices, unweighted and unsmoothed
    (the training loop's case), as one graph node.

    The forward is the general path's ops run without recording; the backward is the
    closed form ``(softmax(input) - onehot(target)) * scale`` on the counted rows, where
    the general path would differentiate some twenty recorded ops one by one. Written
    with mytensor ops, so under create_graph it is itself differentiable.
    """
    with autograd.no_grad():
        logp = log_softmax(input, 1)
        mask, safe = _class_targets("cross_entropy", input, target, ignore_index)
        loss, counted = _nll(logp, mask, safe, None)
        out = _weighted_reduce(loss, counted, reduction)
    if not autograd.needs_grad(input):
        return out
    c = input.shape[1]

    def backward(g: Tensor) -> tuple:
        # under create_graph the softmax must stay differentiable in input: recompute it
        p = softmax(input, 1) if autograd.is_grad_enabled() else logp.exp()
        onehot = (arange(c, backend=input.backend) == safe.unsqueeze(1)).astype(p.dtype)
        if reduction == "mean":
            scale = g / counted.sum()
        elif reduction == "sum":
            scale = g
        else:
            scale = g.unsqueeze(1)
        # where, not a multiply by the mask: with every target ignored, "mean" divides by
        # zero, and the ignored rows must still get exactly 0 (to every order), as in the
        # general path
        row_scale = where(mask.unsqueeze(1), scale, 0.0)
        return ((p - onehot) * row_scale,)

    return autograd.record(out, "cross_entropy", (input,), backward, (input,))


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
    _same_shape("binary_cross_entropy_with_logits", input, target)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    softplus = _softplus_neg(input)  # -log(sigmoid(input))
    if pos_weight is not None:
        softplus = softplus * ((pos_weight - 1.0) * target + 1.0)
    loss = (1.0 - target) * input + softplus
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)
