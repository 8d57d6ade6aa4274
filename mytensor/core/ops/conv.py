"""Convolutions, composed from views, `stack` and `matmul` (im2col).

Every step of the composite is a differentiable core op, so its gradient comes for
free and runs on any backend. A backend that implements the three conv primitives of
the contract (forward, grad of input, grad of weight) gets them called instead; the
composite then still defines the meaning, and serves higher-order gradients.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from mytensor.core import autograd
from mytensor.core.layout import is_integer
from mytensor.core.ops._base import OpRecord, check_tensor, register, same_backend
from mytensor.core.tensor import Tensor


def _pair(op: str, name: str, value: int | Sequence[int], minimum: int) -> tuple[int, int]:
    pair = (value, value) if is_integer(value) else tuple(value)
    if len(pair) != 2 or any(not is_integer(v) or v < minimum for v in pair):
        raise ValueError(f"{op}(): {name} must be an int >= {minimum} or a pair of them, "
                         f"got {value!r}")  # fmt: skip
    return (operator.index(pair[0]), operator.index(pair[1]))


def _pad(x: Tensor, ph: int, pw: int) -> Tensor:
    """Zero-pad the last two dims (differentiable: the gradient is the interior)."""
    if ph == 0 and pw == 0:
        return x
    from mytensor.core.creation import zeros

    n, c, h, w = x.shape
    out = zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype, backend=x.backend)
    interior = (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + w))
    with autograd.no_grad():
        out[interior] = x
    if autograd.needs_grad(x):
        autograd.record(out, "pad", (x,), lambda g: (g[interior],))
    return out


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-d cross-correlation of `x` (N, C, H, W) with `weight` (O, C/groups, kh, kw).

    >>> import mytensor as mt
    >>> mt.conv2d(mt.ones(1, 1, 4, 4), mt.ones(1, 1, 3, 3), padding=1).shape
    (1, 1, 4, 4)
    """
    x, weight = check_tensor("conv2d", x), check_tensor("conv2d", weight, "weight")
    same_backend("conv2d", x, weight)
    sh, sw = _pair("conv2d", "stride", stride, 1)
    ph, pw = _pair("conv2d", "padding", padding, 0)
    dh, dw = _pair("conv2d", "dilation", dilation, 1)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv2d(): expected a 4-d input (N, C, H, W) and a 4-d weight "
                         f"(O, C/groups, kh, kw), got {x.shape} and {weight.shape}")  # fmt: skip
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    if not is_integer(groups) or groups < 1 or c % groups or o % groups or cg * groups != c:
        raise ValueError(
            f"conv2d(): input has {c} channels and weight shape {weight.shape} with "
            f"groups={groups}: need channels == weight.shape[1] * groups and "
            f"weight.shape[0] divisible by groups"
        )
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if ho < 1 or wo < 1:
        raise ValueError(
            f"conv2d(): the kernel {(kh, kw)} (dilation {(dh, dw)}) is larger than the padded "
            f"input {(h + 2 * ph, w + 2 * pw)}"
        )
    params = ((sh, sw), (ph, pw), (dh, dw), groups)
    if "conv2d" in x._storage.backend.native:
        out = _native(x, weight, (n, o, ho, wo), params)
    else:
        out = _composite(x, weight, (ho, wo), params)
    if bias is not None:
        out = out + check_tensor("conv2d", bias, "bias").reshape(1, o, 1, 1)
    return out


def _native(x: Tensor, weight: Tensor, shape: tuple, params: tuple) -> Tensor:
    """The backend's conv kernels; first-order gradients through its grad kernels."""
    from mytensor.core.ops._base import promote_operands

    x, weight, dtype = promote_operands("conv2d", x, weight)
    backend = x._storage.backend
    out = Tensor._empty(backend, shape, dtype)
    backend.conv2d(out._d, x._d, weight._d, *params)
    if autograd.needs_grad(x, weight):

        def backward(g: Tensor) -> tuple:
            if autograd.is_grad_enabled():
                # create_graph: differentiate the composite, whose graph can be differentiated
                # again; the kernels below give first-order gradients only
                wanted = [t for t in (x, weight) if t.requires_grad]
                composite = _composite(x, weight, shape[2:], params)
                grads = iter(autograd.grad(composite, wanted, g, create_graph=True))
                return tuple(next(grads) if t.requires_grad else None for t in (x, weight))
            grad_x = grad_w = None
            if x.requires_grad:
                grad_x = Tensor._empty(backend, x.shape, dtype)
                backend.conv2d_grad_input(grad_x._d, g._d, weight._d, *params)
            if weight.requires_grad:
                grad_w = Tensor._empty(backend, weight.shape, dtype)
                backend.conv2d_grad_weight(grad_w._d, x._d, g._d, *params)
            return grad_x, grad_w

        autograd.record(out, "conv2d", (x, weight), backward, (x, weight))
    return out


def _composite(x: Tensor, weight: Tensor, out_hw: tuple, params: tuple) -> Tensor:
    """im2col from views: one strided window per kernel tap, stacked, then one matmul."""
    (sh, sw), (ph, pw), (dh, dw), groups = params
    (ho, wo), n = out_hw, x.shape[0]
    o, cg, kh, kw = weight.shape
    xp = _pad(x, ph, pw)
    windows = [
        xp[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    cols = windows[0].unsqueeze(2) if len(windows) == 1 else _stack(windows)
    cols = cols.reshape(n, groups, cg * kh * kw, ho * wo)  # (N, g, K, L)
    kernel = weight.reshape(groups, o // groups, cg * kh * kw)  # (g, O/g, K)
    return (kernel @ cols).reshape(n, o, ho, wo)


def _stack(windows: list[Tensor]) -> Tensor:
    from mytensor.core.ops.shape import stack

    return stack(windows, dim=2)


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Tensor:
    """1-d cross-correlation of `x` (N, C, L) with `weight` (O, C/groups, k).

    >>> import mytensor as mt
    >>> mt.conv1d(mt.ones(2, 3, 10), mt.ones(4, 3, 3), stride=2).shape
    (2, 4, 4)
    """
    x, weight = check_tensor("conv1d", x), check_tensor("conv1d", weight, "weight")
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d(): expected a 3-d input (N, C, L) and a 3-d weight "
                         f"(O, C/groups, k), got {x.shape} and {weight.shape}")  # fmt: skip
    for name, value in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if not is_integer(value):
            raise ValueError(f"conv1d(): {name} must be an int, got {value!r}")
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), (0, padding),
                 (1, dilation), groups)  # fmt: skip
    return out.squeeze(2)


def _np_conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """A loop-over-kernel-taps numpy definition, independent of the composite above."""
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    n, _c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo), dtype=np.result_type(x, weight))
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg : (g + 1) * cg]
        ws = weight[g * og : (g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh,
                           j * dw : j * dw + sw * (wo - 1) + 1 : sw]  # fmt: skip
                out[:, g * og : (g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if bias is not None:
        out += bias.reshape(1, o, 1, 1)
    return out


def _np_conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    out = _np_conv2d(x[:, :, None], weight[:, :, None], bias, (1, stride), (0, padding),
                     (1, dilation), groups)  # fmt: skip
    return out[:, :, 0]


register(OpRecord("conv2d", conv2d, _np_conv2d, shapes="custom"))
register(OpRecord("conv1d", conv1d, _np_conv1d, shapes="custom"))
