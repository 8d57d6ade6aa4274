"""The N-d convolution's geometry, and its three products composed from core ops.

A backend without the conv primitives of the contract gets these: im2col from strided
views (one window of the zero-padded input per kernel tap, stacked) and a matmul per
group. With ``T`` kernel taps, ``K = C/groups * T`` and ``L`` output positions:

- ``conv``:             ``out[n, g] = W[g] @ cols[n, g]``, ``W[g]`` is ``(O/groups, K)``;
- ``conv_grad_weight``: ``sum_n grad_out[n, g] @ cols[n, g].T``;
- ``conv_grad_input``:  col2im of ``W[g].T @ grad_out[n, g]``: every tap's columns added
  back onto the window they were read from (the adjoint of im2col), which is also the
  transposed convolution.

The callers in `conv` run them under ``no_grad`` and record their own backward rules,
so the graph holds one node per convolution whichever path computed it.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

from mytensor.core import autograd
from mytensor.core.tensor import Tensor

__all__ = ["ConvParams", "conv", "conv_grad_input", "conv_grad_weight", "zero_pad"]


class ConvParams(NamedTuple):
    """The static parameters of one convolution: N-tuples (one entry per spatial dim)
    and the group count, as the backend contract receives them."""

    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int

    def out_size(self, spatial: tuple[int, ...], kernel: tuple[int, ...]) -> tuple[int, ...]:
        """Output positions per spatial dim: ``(size + 2p - d * (k - 1) - 1) // s + 1``."""
        return tuple(
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, k, s, p, d in zip(spatial, kernel, self.stride, self.padding,
                                        self.dilation, strict=True)
        )  # fmt: skip


def zero_pad(x: Tensor, before: tuple[int, ...], after: tuple[int, ...]) -> Tensor:
    """Zero-pad the trailing ``len(before)`` dims of `x` (differentiable: the gradient is
    the interior)."""
    if not any(before) and not any(after):
        return x
    from mytensor.core.creation import zeros

    lead = x.ndim - len(before)
    sizes = x.shape[lead:]
    shape = (*x.shape[:lead], *(b + s + a for b, s, a in zip(before, sizes, after, strict=True)))
    out = zeros(shape, dtype=x.dtype, backend=x.backend)
    interior = (slice(None),) * lead + tuple(
        slice(b, b + s) for b, s in zip(before, sizes, strict=True)
    )  # fmt: skip
    with autograd.no_grad():
        out[interior] = x
    if autograd.needs_grad(x):
        autograd.record(out, "constant_pad", (x,), lambda g: (g[interior],))
    return out


def _window(tap: tuple[int, ...], p: ConvParams, out_sp: tuple[int, ...]) -> tuple:
    """The index of the padded input that kernel tap `tap` reads for every output."""
    return (slice(None), slice(None), *(
        slice(t * d, t * d + s * (o - 1) + 1, s)
        for t, d, s, o in zip(tap, p.dilation, p.stride, out_sp, strict=True)
    ))  # fmt: skip


def _taps(kernel: tuple[int, ...]) -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(k) for k in kernel)))


def _columns(x: Tensor, kernel: tuple[int, ...], p: ConvParams, out_sp: tuple) -> Tensor:
    """im2col: (N, groups, C/groups * T, L), the taps of a channel adjacent (weight order)."""
    from mytensor.core.ops.shape import stack

    xp = zero_pad(x, p.padding, p.padding)
    windows = [xp[_window(tap, p, out_sp)] for tap in _taps(kernel)]
    cols = windows[0].unsqueeze(2) if len(windows) == 1 else stack(windows, dim=2)
    n, c = x.shape[:2]
    return cols.reshape(n, p.groups, c // p.groups * len(windows), math.prod(out_sp))


def _kernel(weight: Tensor, groups: int) -> Tensor:
    """(O, C/groups, *k) as (groups, O/groups, K)."""
    return weight.reshape(groups, weight.shape[0] // groups, math.prod(weight.shape[1:]))


def conv(x: Tensor, weight: Tensor, p: ConvParams, out_sp: tuple[int, ...]) -> Tensor:
    """out (N, O, *out_sp) = the cross-correlation of x (N, C, *sp) with weight."""
    cols = _columns(x, weight.shape[2:], p, out_sp)
    return (_kernel(weight, p.groups) @ cols).reshape(x.shape[0], weight.shape[0], *out_sp)


def conv_grad_weight(
    x: Tensor, grad_out: Tensor, p: ConvParams, w_shape: tuple[int, ...]
) -> Tensor:
    """d(sum(conv(x, w) * grad_out)) / dw, of shape `w_shape`."""
    n, o = grad_out.shape[:2]
    cols = _columns(x, w_shape[2:], p, grad_out.shape[2:])
    g = grad_out.reshape(n, p.groups, o // p.groups, math.prod(grad_out.shape[2:]))
    return (g @ cols.transpose(-1, -2)).sum(0).reshape(w_shape)


def conv_grad_input(
    grad_out: Tensor, weight: Tensor, p: ConvParams, x_shape: tuple[int, ...]
) -> Tensor:
    """d(sum(conv(x, w) * grad_out)) / dx, of shape `x_shape`: col2im of W.T @ grad_out."""
    from mytensor.core.creation import zeros

    n, o, *out_sp = grad_out.shape
    c, spatial = x_shape[1], x_shape[2:]
    taps = _taps(weight.shape[2:])
    g = grad_out.reshape(n, p.groups, o // p.groups, math.prod(out_sp))
    dcols = _kernel(weight, p.groups).transpose(-1, -2) @ g  # (N, groups, C/groups * T, L)
    dcols = dcols.reshape(n, c, len(taps), *out_sp)
    padded_shape = tuple(s + 2 * q for s, q in zip(spatial, p.padding, strict=True))
    padded = zeros((n, c, *padded_shape), dtype=dcols.dtype, backend=dcols.backend)
    for t, tap in enumerate(taps):
        window = _window(tap, p, tuple(out_sp))
        padded[window] = padded[window] + dcols[:, :, t]
    interior = (slice(None), slice(None), *(
        slice(q, q + s) for q, s in zip(p.padding, spatial, strict=True)
    ))  # fmt: skip
    return padded[interior]
