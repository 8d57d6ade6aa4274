"""nn's ops that are one graph node each: `linear` and `cross_entropy` over class indices.

Both could be composed from other ops, and their general cases are: ``input @ weight.T +
bias`` records three nodes (a transposed view, a matmul, a broadcast add) and
differentiates them one by one; cross-entropy through log-softmax, gather and masks
records some twenty. A training step spends a measurable part of its time in those
frames, so the common case of each (2-d operands of one float dtype and backend) is one
op here: its forward runs backend primitives (or ops under no_grad), its backward is the
closed form, written with mytensor ops so it runs on every backend and is itself
differentiable. `nn.functional` exposes both; `mytensor.conformance` checks them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core import _autocast, autograd, batching
from mytensor.core.batching import batchable, materialize, register_decomposition, register_rule
from mytensor.core.creation import arange, tensor
from mytensor.core.dtypes import HALF_DTYPES, float32, int64
from mytensor.core.ops._base import (
    OpRecord,
    check_tensor,
    expanded,
    register,
    scalar_tensor,
    transposed,
)
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import gather, gather_checked
from mytensor.core.ops.softmax import log_softmax, softmax
from mytensor.core.tensor import Tensor

__all__ = ["cross_entropy", "linear"]

_REDUCTIONS = ("none", "mean", "sum")


# -- linear ----------------------------------------------------------------------------------
@batchable("linear")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: `weight` is (out_features, in_features), `input`
    (..., in_features), `bias` (out_features,) or anything that broadcasts to the output.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.linear(mt.ones(4, 3), mt.ones(2, 3), mt.tensor([0.0, 1.0])).tolist()[0]
    [3.0, 4.0]
    """
    check_tensor("linear", input)
    if _autocast.STATE.active is not None:
        input, weight, bias = _autocast.lower("linear", input, weight, bias)
    if check_tensor("linear", weight, "weight").ndim != 2:
        raise ValueError(
            f"linear(): weight must be 2-d (out_features, in_features), got shape {weight.shape}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear(): input of shape {input.shape} does not end in in_features="
            f"{weight.shape[1]} (weight shape {weight.shape})"
        )
    if bias is not None and input.dtype in HALF_DTYPES and input.ndim >= 2:
        flat = input.reshape(math.prod(input.shape[:-1]), input.shape[-1])
        if _fused_linear_applies(flat, weight, bias):
            out = _linear_rounded_once(flat, weight, bias)
            return out.reshape(*input.shape[:-1], weight.shape[0])
    if _fused_linear_applies(input, weight, bias):
        return _linear_2d(input, weight, bias)
    if input.ndim > 2:
        # (..., in) as rows around the fused node, not a batched matmul over an expanded
        # weight (a transformer's projections; an LSTM's outputs into its head), whose
        # weight gradient is a product per batch element summed afterwards. A layout that
        # can't be viewed as rows is copied once, as PyTorch's matmul folding does.
        flat = input.reshape(math.prod(input.shape[:-1]), input.shape[-1])
        if _fused_linear_applies(flat, weight, bias):
            return _linear_2d(flat, weight, bias).reshape(*input.shape[:-1], weight.shape[0])
    out = input @ weight.T
    return out if bias is None else out + bias


def _fused_linear_applies(input: Tensor, weight: Tensor, bias: Tensor | None) -> bool:
    """The common case (a batch of rows, one float dtype and backend, a (out_features,)
    bias) that `_linear_2d` does as one node; anything else takes the general ops."""
    backend = input._storage.backend
    if input.ndim != 2 or input.dtype is not weight.dtype or input.dtype.kind != "float":
        return False
    if weight._storage.backend is not backend:
        return False
    if bias is None:
        return True
    return (
        isinstance(bias, Tensor)
        and bias.shape == (weight.shape[0],)
        and bias.dtype is input.dtype
        and bias._storage.backend is backend
    )


def _linear_2d(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """The forward reads `weight` through a transposed descriptor (no copy, the values of
    ``input @ weight.T``) into a fresh output and adds the bias there in place; backward
    computes each gradient directly in its parameter's layout (no transpose of the
    weight's gradient, no un-broadcasting reshape of the bias's)."""
    backend = input._storage.backend
    n, m = input.shape[0], weight.shape[0]
    out = Tensor._empty(backend, (n, m), input.dtype)
    if out.numel():
        backend.matmul(out._d, input._d, transposed(weight._d))
        if bias is not None:
            backend.zip("add", out._d, out._d, expanded(bias, out.shape))
    inputs = (input, weight) if bias is None else (input, weight, bias)
    if autograd.needs_grad(*inputs):

        def backward(g: Tensor) -> tuple:
            if autograd.is_grad_enabled() or batching.ACTIVE[0] or g.dtype is not out.dtype:
                grads = (
                    g @ weight if input.requires_grad else None,
                    g.mT @ input if weight.requires_grad else None,  # (out, in), like weight
                )
            else:  # nothing recorded: the same two products, straight on descriptors
                wanted = input.requires_grad, weight.requires_grad
                grads = (
                    _product(backend, g._d, weight._d, (n, weight.shape[1])) if wanted[0] else None,
                    _product(backend, transposed(g._d), input._d, weight.shape) if wanted[1]
                    else None,
                )  # fmt: skip
            if bias is None:
                return grads
            return (*grads, g.sum(0) if bias.requires_grad else None)

        # each gradient is a new matmul or sum result, so a parameter can keep it as is
        autograd.record(out, "linear", inputs, backward, (input, weight), fresh_grads=True)
    return out


def _product(backend: Any, a: Strided, b: Strided, shape: tuple[int, int]) -> Tensor:
    """A new (shape) tensor holding ``a @ b`` of two descriptors (no graph node)."""
    result = Tensor._empty(backend, shape, a.dtype)
    if result.numel():
        backend.matmul(result._d, a, b)
    return result


def _linear_rounded_once(input: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """16-bit floats: PyTorch's addmm adds the bias to the float32 accumulator and rounds
    once, where the product and the add would each round (a third of a bfloat16 layer's
    outputs one ulp off). The float32 casts are exact; each gradient rounds once too."""
    out = _linear_2d(input.to(float32), weight.to(float32), bias.to(float32))
    return out.to(input.dtype)


def _np_linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    out = np.matmul(x, weight.T)
    return out if bias is None else out + bias


register(OpRecord("linear", linear, _np_linear, shapes="custom"))


# -- cross-entropy over class indices ----------------------------------------------------------
def check_reduction(op: str, reduction: str, extra: tuple[str, ...] = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(
            f"{op}(): reduction must be one of {_REDUCTIONS + extra}, got {reduction!r}"
        )


def class_targets(
    op: str, input: Tensor, target: Tensor, ignore_index: int
) -> tuple[Tensor | None, Tensor, int]:
    """(mask of counted targets, or None when every target counts; targets made safe to
    gather; how many count) after checking them. The targets go to the host once for the
    bounds check, so the mask and the count are worked out there too: a batch without
    ignored targets then costs no device op at all."""
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
    host = target.numpy()
    keep = host != ignore_index
    counted = host[keep]
    c = input.shape[1]
    if counted.size and (counted.min() < 0 or counted.max() >= c):
        bad = counted[(counted < 0) | (counted >= c)].flat[0]
        raise IndexError(f"{op}(): target {bad} is out of bounds for {c} classes")
    if counted.size == host.size:
        return None, target, counted.size
    mask = tensor(keep, backend=input.backend)
    return mask, tensor(np.where(keep, host, 0), backend=input.backend), counted.size


def nll_terms(
    logp: Tensor, mask: Tensor | None, safe: Tensor, weight: Tensor | None
) -> tuple[Tensor, Tensor | None]:
    """Per-target losses ``-weight[t] * logp[t]`` (0 where ignored) and the weight each
    target counts with (None without class weights: a counted target counts 1)."""
    picked = gather_checked(logp, 1, safe.unsqueeze(1)).squeeze(1)  # class_targets checked
    if weight is None:
        return (-picked if mask is None else where(mask, -picked, 0.0)), None
    counted = gather(weight, 0, safe.reshape(-1)).reshape(safe.shape)
    if mask is not None:
        counted = where(mask, counted, 0.0)
    counted = counted.astype(logp.dtype)
    loss = -picked * counted
    # where, not the zero weight alone: an ignored row's -inf log-probability times 0 is NaN
    return (loss if mask is None else where(mask, loss, 0.0)), counted


def weighted_reduce(
    loss: Tensor, counted: Tensor | None, reduction: str, count: int | None = None
) -> Tensor:
    """PyTorch's reductions for class-index losses: "mean" divides by the counted weights
    (`counted`, or without class weights the number of counted targets, `count`)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (count if counted is None else counted.sum())


@batchable("cross_entropy")
def cross_entropy(
    input: Tensor, target: Tensor, *, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Cross-entropy of (N, C) float logits against (N,) int64 class indices, unweighted
    and unsmoothed: `nn.functional.cross_entropy`'s common case, as one graph node.

    Targets equal to `ignore_index` count for nothing; "mean" divides by the number of
    counted targets. The backward is ``(softmax(input) - onehot(target)) * scale`` on the
    counted rows, where the composite form would differentiate some twenty ops.

    >>> import mytensor as mt
    >>> from mytensor.core.ops.nn_ops import cross_entropy
    >>> logits = mt.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
    >>> loss = cross_entropy(logits, mt.tensor([0, 2]))
    >>> round(loss.item(), 4), loss.grad_fn
    (0.6691, <cross_entropyBackward>)
    """
    check_tensor("cross_entropy", input)
    check_tensor("cross_entropy", target, "target")
    check_reduction("cross_entropy", reduction)
    if _autocast.STATE.active is not None:
        (input,) = _autocast.fp32("cross_entropy", input)
    if input.ndim != 2 or input.dtype.kind != "float":
        raise ValueError(
            f"cross_entropy(): this op takes (N, C) float logits, got shape {input.shape} "
            f"{input.dtype.name}; nn.functional.cross_entropy takes the other cases"
        )
    with autograd.no_grad():
        logp = log_softmax(input, 1)
        mask, safe, count = class_targets("cross_entropy", input, target, ignore_index)
        if mask is None and reduction != "none" and input.shape[0]:
            out = _picked_total(logp, safe, count if reduction == "mean" else None)
        else:
            loss, _ = nll_terms(logp, mask, safe, None)
            out = weighted_reduce(loss, None, reduction, count)
    if not autograd.needs_grad(input):
        return out
    c = input.shape[1]

    def backward(g: Tensor) -> tuple:
        recorded = autograd.is_grad_enabled()  # create_graph: p must stay in the graph
        scale = g / count if reduction == "mean" else g  # 0-d, or (N,) for "none"
        if not recorded and not batching.ACTIVE[0]:
            # (exp(logp) - onehot(target)) * scale in one primitive, into a fresh gradient
            backend = logp._storage.backend
            d_logits = Tensor._empty(backend, logp.shape, logp.dtype)
            backend.cross_entropy_backward(d_logits._d, logp._d, safe._d,
                                           expanded(scale, safe.shape))  # fmt: skip
            # ignored rows get exactly 0, whatever their logits or a "mean" over no
            # counted target (a division by zero) made of them
            return (d_logits if mask is None else where(mask.unsqueeze(1), d_logits, 0.0),)
        # ops: differentiable again under create_graph (the softmax recomputed from input),
        # batched under vmap
        p = softmax(input, 1) if recorded else logp.exp()
        p = p - (arange(c, backend=input.backend) == safe.unsqueeze(1)).astype(p.dtype)
        row_scale = scale.unsqueeze(1) if reduction == "none" else scale
        # where, not a multiply by the mask: with every target ignored, "mean" divides by
        # zero, and the ignored rows must still get exactly 0 (to every order)
        if mask is not None:
            row_scale = where(mask.unsqueeze(1), row_scale, 0.0)
        return (p * row_scale,)

    # the gradient is always a new tensor: a leaf takes it without a copy
    return autograd.record(out, "cross_entropy", (input,), backward, (input,),
                           fresh_grads=True)  # fmt: skip


def _picked_total(logp: Tensor, targets: Tensor, count: int | None) -> Tensor:
    """``-logp[i, targets[i]]`` summed, divided by `count` unless None: what `nll_terms`
    and `weighted_reduce` give when every target counts, in four kernels on descriptors
    instead of six ops. The sum is negated after summing rather than term by term (the
    same bits: rounding is symmetric in sign)."""
    backend, dtype = logp._storage.backend, logp.dtype
    n = logp.shape[0]
    index = Strided(targets._storage.buffer, (n, 1), (targets._strides[0], 1), targets._offset,
                    targets.dtype)  # fmt: skip
    picked = Tensor._empty(backend, (n, 1), dtype)
    backend.gather(picked._d, logp._d, index, 1)
    total = Tensor._empty(backend, (1,), dtype)
    column = Strided(picked._d.buffer, (n,), (1,), 0, dtype)
    backend.reduce("sum", total._d, column, (0,))
    backend.map("neg", total._d, total._d)
    if count is not None:
        divisor = expanded(scalar_tensor(count, dtype, backend), (1,))
        backend.zip("div", total._d, total._d, divisor)
    return total._view((), (), 0)


def _np_cross_entropy(
    x: np.ndarray, target: np.ndarray, *, ignore_index: int = -100, reduction: str = "mean"
) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    mask = target != ignore_index
    safe = np.where(mask, target, 0)
    loss = np.where(mask, -np.take_along_axis(logp, safe[:, None], axis=1)[:, 0], 0.0)
    loss = loss.astype(x.dtype)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum(dtype=x.dtype)
    return (loss.sum() / mask.sum()).astype(x.dtype)


register(OpRecord("cross_entropy", cross_entropy, _np_cross_entropy, shapes="custom"))


# -- vmap ------------------------------------------------------------------------------------
def _batch_linear(b, input, weight, bias=None):
    """One linear of the whole batch; per-sample weights (vmap of a gradient) run one
    batched matmul."""
    x = materialize(input, b.dims[0], b.size)
    bias_dim = b.dims[2] if len(b.dims) > 2 else b.kw.get("bias")
    if b.dims[1] is None and bias_dim is None:
        return linear(x, weight, bias)
    lead = x.shape[1:-1]
    w = materialize(weight, b.dims[1], b.size)
    out = (x.reshape(b.size, -1, x.shape[-1]) @ w.transpose(1, 2)).reshape(b.size, *lead, -1)
    if bias is None:
        return out
    if bias_dim is not None:
        bias = bias.reshape(b.size, *([1] * (out.ndim - bias.ndim)), *bias.shape[1:])
    return out + bias


def class_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
               ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0,
               log_probs: bool = False) -> Tensor:  # fmt: skip
    """nll_loss (`log_probs`) or cross_entropy of class indices or probabilities, composed
    of ops that vmap batches (a one-hot compare instead of gather): both under vmap."""
    check_reduction("cross_entropy", reduction)
    dim = 0 if input.ndim == 1 else 1
    c = input.shape[dim]
    shape = [1] * input.ndim
    shape[dim] = c
    logp = input if log_probs else log_softmax(input, dim)
    w = 1.0 if weight is None else weight.reshape(shape)
    if target.dtype.kind == "float":  # class probabilities (cross_entropy only)
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / c
        loss = -(logp * target * w).sum(dim)
        n = loss.numel()
        return loss if reduction == "none" else loss.sum() / (n if reduction == "mean" else 1)
    hit = target.unsqueeze(dim) == arange(c, backend=input.backend).reshape(shape)
    keep = target != ignore_index
    counted = where(keep, where(hit, w, 0.0).sum(dim), 0.0).astype(logp.dtype)
    loss = where(keep, -where(hit, logp, 0.0).sum(dim), 0.0) * counted
    if label_smoothing:
        smooth = where(keep, -(logp * w).sum(dim), 0.0)
        loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / c)
    return weighted_reduce(loss, counted, reduction)


register_rule("linear", _batch_linear)
register_decomposition("cross_entropy", class_loss)
