"""Max pooling (`max_pool`, the contract: `mytensor.backends.spec`): a thread per output
element scans its window in place, instead of the composite's tap copies, argmax and
gather. 1-d and 2-d pooling run as 3-d with leading dims of size 1; every operand is
C-contiguous from its offset.
"""

from __future__ import annotations

from typing import Any

from numba import cuda

from mytensor.backends.cuda._runtime import BLOCK, grid_for
from mytensor.backends.spec import Strided

__all__ = ["max_pool"]


@cuda.jit
def _max_pool3(n, out, o0, index, i0, x, x0, d_in, h_in, w_in, d_out, h_out, w_out, kd, kh, kw,
               sd, sh, sw, pd, ph, pw, dd, dh, dw):  # fmt: skip
    slot = cuda.grid(1)
    while slot < n:
        ow = slot % w_out
        oh = (slot // w_out) % h_out
        od = (slot // (w_out * h_out)) % d_out
        base = x0 + (slot // (w_out * h_out * d_out)) * (d_in * h_in * w_in)
        best = x[base]
        at = -1
        for i in range(kd):
            z = od * sd - pd + i * dd
            if z >= 0 and z < d_in:
                for j in range(kh):
                    y = oh * sh - ph + j * dh
                    if y >= 0 and y < h_in:
                        for k in range(kw):
                            c = ow * sw - pw + k * dw
                            if c >= 0 and c < w_in:
                                position = (z * h_in + y) * w_in + c
                                v = x[base + position]
                                # the first maximum; the first NaN beats all after it
                                if at < 0 or v > best or (v != v and best == best):
                                    best = v
                                    at = position
        out[o0 + slot] = best
        index[i0 + slot] = at
        slot += cuda.gridsize(1)


def max_pool(stream: Any, out: Strided, index: Strided, x: Strided, kernel: tuple[int, ...],
             stride: tuple[int, ...], padding: tuple[int, ...],
             dilation: tuple[int, ...]) -> None:  # fmt: skip
    """`spec` ``max_pool``: one launch, a thread per output element."""
    n = out.size
    if n == 0:
        return
    lift = (1,) * (5 - len(x.shape))
    size, out_size = lift + tuple(x.shape[2:]), lift + tuple(out.shape[2:])
    geometry = (*size, *out_size, *(lift + tuple(kernel)), *(lift + tuple(stride)),
                *((0,) * len(lift) + tuple(padding)), *(lift + tuple(dilation)))  # fmt: skip
    _max_pool3[grid_for(n), BLOCK, stream](n, out.buffer, out.offset, index.buffer,
                                           index.offset, x.buffer, x.offset, *geometry)  # fmt: skip
