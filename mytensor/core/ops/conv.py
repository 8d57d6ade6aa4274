"""N-d convolution (N = 1, 2, 3 spatial dims): three differentiable ops, closed under
differentiation, and the public conv1d / conv2d / conv3d.

The three ops are the backend contract's conv primitives (``conv``, ``conv_grad_input``,
``conv_grad_weight``). Each one's gradients are the other two, so a backend that
implements them natively also serves higher-order gradients with its own kernels:

- ``y = conv(x, w)``:                  ``dx = conv_transpose(gy, w)``, ``dw = conv_weight(x, gy)``
- ``y = conv_transpose(g, w)``:        ``dg = conv(gy, w)``,          ``dw = conv_weight(gy, g)``
- ``y = conv_weight(x, g)``:           ``dx = conv_transpose(g, gy)``, ``dg = conv(x, gy)``

``conv_transpose`` (the gradient of conv with respect to its input) is the transposed
convolution; `mytensor.nn.functional.conv_transpose2d` and friends call it. A backend
without the primitives gets the composites of `_conv_composite` (im2col and a matmul).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import numpy as np

from mytensor.core import _autocast, autograd
from mytensor.core.batching import Batch, batchable, materialize, register_rule
from mytensor.core.layout import is_integer
from mytensor.core.ops import _conv_composite as composite
from mytensor.core.ops._base import OpRecord, check_tensor, promote_operands, register, same_backend
from mytensor.core.ops._conv_composite import ConvParams
from mytensor.core.tensor import Tensor

__all__ = ["ConvParams", "conv1d", "conv2d", "conv3d", "conv_transpose"]

IntTuple = int | Sequence[int]
_AXES = ("L",), ("H", "W"), ("D", "H", "W")


def ntuple(op: str, name: str, value: IntTuple, n: int, minimum: int) -> tuple[int, ...]:
    """`value` (an int, or a sequence of `n` ints) as an n-tuple of ints >= `minimum`."""
    out = tuple(value) if isinstance(value, Sequence) else (value,) * n
    if len(out) != n or any(not is_integer(v) or operator.index(v) < minimum for v in out):
        raise ValueError(
            f"{op}(): {name} must be an int >= {minimum} or a tuple of {n} of them, got {value!r}"
        )
    return tuple(operator.index(v) for v in out)


# -- the three differentiable ops ------------------------------------------------------
# Each op's backward returns the outputs of the other two (new tensors), so the three
# records pass fresh_grads: a leaf (a weight) takes its gradient without a copy
def _run(
    name: str, shape: tuple[int, ...], a: Tensor, b: Tensor, p: ConvParams,
    composite_fn: Callable[[], Tensor],
) -> Tensor:  # fmt: skip
    """The backend's primitive `name` when it has the conv primitives, else the composite."""
    backend = a._storage.backend
    if "conv" not in backend.native:
        with autograd.no_grad():
            return composite_fn()
    out = Tensor._empty(backend, shape, a.dtype)
    getattr(backend, name)(out._d, a._d, b._d, p.stride, p.padding, p.dilation, p.groups)
    return out


def _conv(x: Tensor, weight: Tensor, p: ConvParams) -> Tensor:
    """Cross-correlation of x (N, C, *sp) with weight (O, C/groups, *k); operands checked."""
    out_sp = p.out_size(x.shape[2:], weight.shape[2:])
    shape = (x.shape[0], weight.shape[0], *out_sp)
    out = _run("conv", shape, x, weight, p, lambda: composite.conv(x, weight, p, out_sp))
    if autograd.needs_grad(x, weight):

        def backward(g: Tensor) -> tuple:
            gx = conv_transpose(g, weight, p, x.shape) if x.requires_grad else None
            gw = _conv_weight(x, g, p, weight.shape) if weight.requires_grad else None
            return gx, gw

        autograd.record(out, "conv", (x, weight), backward, (x, weight), fresh_grads=True)
    return out


def conv_transpose(g: Tensor, weight: Tensor, p: ConvParams, x_shape: tuple[int, ...]) -> Tensor:
    """The transposed convolution: the gradient, with respect to an input of shape
    `x_shape`, of ``sum(conv(x, weight) * g)``; `g` has the shape of that conv's output."""
    g = g if g.dtype is weight.dtype else g.astype(weight.dtype)
    out = _run(
        "conv_grad_input", x_shape, g, weight, p,
        lambda: composite.conv_grad_input(g, weight, p, x_shape),
    )  # fmt: skip
    if autograd.needs_grad(g, weight):

        def backward(gy: Tensor) -> tuple:
            dg = _conv(gy, weight, p) if g.requires_grad else None
            dw = _conv_weight(gy, g, p, weight.shape) if weight.requires_grad else None
            return dg, dw

        autograd.record(out, "conv_transpose", (g, weight), backward, (g, weight), fresh_grads=True)
    return out


def _conv_weight(x: Tensor, g: Tensor, p: ConvParams, w_shape: tuple[int, ...]) -> Tensor:
    """The gradient, with respect to a weight of shape `w_shape`, of sum(conv(x, w) * g)."""
    g = g if g.dtype is x.dtype else g.astype(x.dtype)
    out = _run(
        "conv_grad_weight", w_shape, x, g, p,
        lambda: composite.conv_grad_weight(x, g, p, w_shape),
    )  # fmt: skip
    if autograd.needs_grad(x, g):

        def backward(gy: Tensor) -> tuple:
            dx = conv_transpose(g, gy, p, x.shape) if x.requires_grad else None
            dg = _conv(x, gy, p) if g.requires_grad else None
            return dx, dg

        autograd.record(out, "conv_grad_weight", (x, g), backward, (x, g), fresh_grads=True)
    return out


# -- checks shared by conv and conv_transpose -------------------------------------------
def float_operands(op: str, x: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    """x and weight on one backend, in one (promoted) floating dtype."""
    same_backend(op, x, weight)
    for arg, t in (("input", x), ("weight", weight)):
        if t.dtype.kind != "float":
            raise TypeError(
                f"{op}(): {arg} has dtype {t.dtype.name}; convolution needs floating-point "
                f"operands (convert with .to(mytensor.float32))"
            )
    x, weight, _ = promote_operands(op, x, weight)
    return x, weight


def batched(op: str, x: Tensor, weight: Tensor, n: int, w_layout: str) -> tuple[Tensor, bool]:
    """Check the ranks of an N-d conv's input and weight; add a batch dim to an unbatched
    input. Returns the (batched) input and whether one was added."""
    axes = ", ".join(_AXES[n - 1])
    if weight.ndim != n + 2:
        raise ValueError(f"{op}(): weight must be {n + 2}-d ({w_layout}), got shape {weight.shape}")
    if x.ndim == n + 2:
        return x, False
    if x.ndim == n + 1:
        return x.unsqueeze(0), True
    raise ValueError(
        f"{op}(): expected a {n + 1}-d (unbatched: C, {axes}) or {n + 2}-d (batched: N, C, "
        f"{axes}) input, got shape {x.shape}"
    )


def check_groups(op: str, groups: int, channels: int, what: str, weight_shape: tuple) -> int:
    if not is_integer(groups) or groups < 1 or channels % groups:
        raise ValueError(
            f"{op}(): groups={groups!r} must be a positive int dividing the {channels} {what} "
            f"(weight shape {weight_shape})"
        )
    return operator.index(groups)


def check_kernel(op: str, weight: Tensor) -> None:
    if 0 in weight.shape[2:]:
        raise ValueError(f"{op}(): kernel sizes must be >= 1, got weight shape {weight.shape}")


def add_bias(op: str, out: Tensor, bias: Tensor | None) -> Tensor:
    if bias is None:
        return out
    bias = check_tensor(op, bias, "bias")
    if bias.shape != (out.shape[1],):
        raise ValueError(
            f"{op}(): bias must have shape ({out.shape[1]},) (one per output channel), got "
            f"{bias.shape}"
        )
    return out + bias.reshape(1, out.shape[1], *(1,) * (out.ndim - 2))


# -- the public convolutions ----------------------------------------------------------
def _same_padding(
    op: str, x: Tensor, kernel: tuple[int, ...], stride: tuple, dilation: tuple
) -> tuple[Tensor, tuple[int, ...]]:
    """'same': PyTorch pads total // 2 before and the rest after each spatial dim."""
    if any(s != 1 for s in stride):
        raise ValueError(
            f"{op}(): padding='same' is not supported for strided convolutions (stride "
            f"{stride}); pass stride=1 or explicit padding"
        )
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    extra = tuple(t % 2 for t in totals)
    x = composite.zero_pad(x, (0,) * len(extra), extra)
    return x, tuple(t // 2 for t in totals)


def _convolution(
    op: str, n: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: IntTuple,
    padding: IntTuple | str, dilation: IntTuple, groups: int,
) -> Tensor:  # fmt: skip
    x, weight = check_tensor(op, input), check_tensor(op, weight, "weight")
    if _autocast.STATE.active is not None:
        x, weight, bias = _autocast.lower(op, x, weight, bias)
    x, unbatched = batched(op, x, weight, n, "O, C/groups, " + ", ".join(
        "k" + a.lower() for a in _AXES[n - 1]))  # fmt: skip
    x, weight = float_operands(op, x, weight)
    s = ntuple(op, "stride", stride, n, 1)
    d = ntuple(op, "dilation", dilation, n, 1)
    o, cg = weight.shape[:2]
    groups = check_groups(op, groups, o, "output channels (weight.shape[0])", weight.shape)
    if x.shape[1] != cg * groups:
        raise ValueError(
            f"{op}(): input has {x.shape[1]} channels (shape {x.shape}), but weight of shape "
            f"{weight.shape} with groups={groups} expects weight.shape[1] * groups = "
            f"{cg * groups}; pass an input with {cg * groups} channels or a weight of shape "
            f"({o}, {x.shape[1] // groups if x.shape[1] % groups == 0 else '?'}, ...)"
        )
    check_kernel(op, weight)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0,) * n
        elif padding == "same":
            x, pads = _same_padding(op, x, kernel, s, d)
        else:
            raise ValueError(
                f"{op}(): padding must be an int, a tuple of {n}, 'valid' or 'same', got "
                f"{padding!r}"
            )
    else:
        pads = ntuple(op, "padding", padding, n, 0)
    p = ConvParams(s, pads, d, groups)
    out_sp = p.out_size(x.shape[2:], kernel)
    if min(out_sp) < 1:
        padded = tuple(size + 2 * q for size, q in zip(x.shape[2:], pads, strict=True))
        reach = tuple(dd * (k - 1) + 1 for k, dd in zip(kernel, d, strict=True))
        raise ValueError(
            f"{op}(): the padded input's spatial size {padded} is smaller than the dilated "
            f"kernel {reach} (kernel {kernel}, dilation {d}, input {x.shape}, padding {pads}), "
            f"so the output would be {out_sp}; use a larger input, more padding, or a "
            f"smaller kernel or dilation"
        )
    out = add_bias(op, _conv(x, weight, p), bias)
    return out.squeeze(0) if unbatched else out


@batchable("conv1d")
def conv1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntTuple = 1,
    padding: IntTuple | str = 0, dilation: IntTuple = 1, groups: int = 1,
) -> Tensor:  # fmt: skip
    """1-d cross-correlation of `input` (N, C, L) or (C, L) with `weight` (O, C/groups, k);
    `padding` may be ints, ``"valid"`` or ``"same"`` (stride 1).

    >>> import mytensor as mt
    >>> mt.conv1d(mt.ones(2, 3, 10), mt.ones(4, 3, 3), stride=2).shape
    (2, 4, 4)
    """
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@batchable("conv2d")
def conv2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntTuple = 1,
    padding: IntTuple | str = 0, dilation: IntTuple = 1, groups: int = 1,
) -> Tensor:  # fmt: skip
    """2-d cross-correlation of `input` (N, C, H, W) or (C, H, W) with `weight`
    (O, C/groups, kh, kw); `padding` may be ints, ``"valid"`` or ``"same"`` (stride 1).

    >>> import mytensor as mt
    >>> mt.conv2d(mt.ones(1, 1, 4, 4), mt.ones(1, 1, 3, 3), padding=1).shape
    (1, 1, 4, 4)
    >>> mt.conv2d(mt.ones(2, 5, 5), mt.ones(4, 2, 2, 2), padding="same").shape
    (4, 5, 5)
    """
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@batchable("conv3d")
def conv3d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntTuple = 1,
    padding: IntTuple | str = 0, dilation: IntTuple = 1, groups: int = 1,
) -> Tensor:  # fmt: skip
    """3-d cross-correlation of `input` (N, C, D, H, W) or (C, D, H, W) with `weight`
    (O, C/groups, kd, kh, kw); `padding` may be ints, ``"valid"`` or ``"same"`` (stride 1).

    >>> import mytensor as mt
    >>> mt.conv3d(mt.ones(1, 2, 4, 5, 6), mt.ones(3, 2, 3, 3, 3), stride=(1, 2, 2)).shape
    (1, 3, 2, 2, 2)
    """
    return _convolution("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)



def _batch_conv(n: int) -> Callable:
    """vmap's rule of conv{n}d, as torch.func's: a batched input folds the batch into N; a
    batched weight folds it into the channels (B groups of the per-sample convolution)."""

    def rule(b: Batch, input: Tensor, weight: Tensor, bias: Tensor | None = None,
             stride: IntTuple = 1, padding: IntTuple | str = 0, dilation: IntTuple = 1,
             groups: int = 1) -> Tensor:  # fmt: skip
        dims = (*b.dims, None, None)[:3]
        xd, wd, bd = (b.kw.get(k, dims[i]) for i, k in enumerate(("input", "weight", "bias")))
        many = input.ndim - (xd is not None) == n + 2  # the sample has its own N dim
        run = b.op.__wrapped__  # type: ignore[attr-defined]  # conv{n}d on physical values
        if wd is None:
            x = input.reshape(-1, *input.shape[-n - 1 :]) if many else input
            out = run(x, weight, bias if bd is None else None, stride, padding, dilation,
                      groups)  # fmt: skip
            out = out.reshape(b.size, -1, *out.shape[1:]) if many else out
            if bd is not None:
                out = out + bias.reshape(b.size, *([1] * many), -1, *([1] * n))
            return out
        x = materialize(input, xd, b.size)
        x = x if many else x.unsqueeze(1)  # (B, N, C, *spatial)
        x = x.movedim(0, 1).reshape(x.shape[1], -1, *x.shape[3:])
        w = weight.reshape(-1, *weight.shape[2:])
        if bias is not None:
            bias = materialize(bias, bd, b.size).reshape(-1)
        out = run(x, w, bias, stride, padding, dilation, groups * b.size)
        out = out.reshape(out.shape[0], b.size, -1, *out.shape[2:]).movedim(1, 0)
        return out if many else out.squeeze(1)

    return rule


for _n in (1, 2, 3):
    register_rule(f"conv{_n}d", _batch_conv(_n))


# -- numpy definitions (loops over kernel taps, independent of the code above) ----------
def _np_conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, y] = sum_{c, t} xpad[n, g*C/groups + c, y*s + t*d] * weight[o, c, t]."""
    n = weight.ndim - 2
    s, p, d = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
               for v in (stride, padding, dilation))  # fmt: skip
    xp = np.pad(x, ((0, 0), (0, 0), *((q, q) for q in p)))
    o, cg, *kernel = weight.shape
    out_sp = [(xp.shape[2 + i] - d[i] * (kernel[i] - 1) - 1) // s[i] + 1 for i in range(n)]
    out = np.zeros((x.shape[0], o, *out_sp), dtype=np.result_type(x, weight))
    og = o // groups
    for g in range(groups):
        xs, ws = xp[:, g * cg : (g + 1) * cg], weight[g * og : (g + 1) * og]
        for tap in np.ndindex(*kernel):
            window = tuple(slice(t * d[i], t * d[i] + s[i] * (out_sp[i] - 1) + 1, s[i])
                           for i, t in enumerate(tap))  # fmt: skip
            patch = xs[(slice(None), slice(None), *window)]
            out[:, g * og : (g + 1) * og] += np.einsum(
                "nc...,oc->no...", patch, ws[(slice(None), slice(None), *tap)]
            )
    if bias is not None:
        out += bias.reshape(1, o, *(1,) * n)
    return out


_np_conv1d = _np_conv2d = _np_conv3d = _np_conv


register(OpRecord("conv1d", conv1d, _np_conv1d, shapes="custom"))
register(OpRecord("conv2d", conv2d, _np_conv2d, shapes="custom"))
register(OpRecord("conv3d", conv3d, _np_conv3d, shapes="custom"))
