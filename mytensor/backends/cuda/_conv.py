"""Direct convolution kernels: conv2d forward, its input gradient and its weight gradient.

Each reads its operands through strided descriptors (a shape-4 stride tuple and an
offset each), so any layout works, and zero padding is implicit (out-of-range taps are
skipped, never materialised). ``geom`` packs the convolution's static parameters:
``(C/groups, O/groups, kh, kw, sh, sw, ph, pw, dh, dw, H, W, Ho, Wo)``.

- ``forward``: one thread per output element (n, o, y, x), summing its
  ``C/groups * kh * kw`` taps.
- ``grad_input``: one thread per input element (n, c, h, w), gathering the output
  positions whose windows cover it: ``h = y*sh - ph + i*dh`` for some tap ``i``, so
  ``y = (h + ph - i*dh) / sh`` when that divides exactly. No atomics, deterministic.
- ``grad_weight``: one block per weight element (o, c, i, j): its threads stride over
  the ``N * Ho * Wo`` output positions and meet in a shared-memory tree (float64), the
  long reduction of a conv's backward pass.

Accumulators of the first two have the output's dtype (``zero``'s type).
"""

from __future__ import annotations

import numba
from numba import cuda

from mytensor.backends.cuda._runtime import REDUCE_BLOCK

__all__ = ["forward", "grad_input", "grad_weight"]

BY = REDUCE_BLOCK


@cuda.jit(device=True)
def _unravel4(t, shape):
    """The (a, b, c, d) position of flat index `t` in a C-ordered 4-d `shape`."""
    d = t % shape[3]
    r = t // shape[3]
    c = r % shape[2]
    r = r // shape[2]
    return r // shape[1], r % shape[1], c, d


@cuda.jit
def forward(total, oshape, geom, o, po, so, x, px, sx, w, pw_, sw_, zero):
    """out[n, o, y, x'] = sum over the group's channels and taps of xpad * weight."""
    cg, og, kh, kw, sh, sw, ph, pw, dh, dw, h_in, w_in, _, _ = geom
    t = cuda.grid(1)
    while t < total:
        n, oc, y, xo = _unravel4(t, oshape)
        g = oc // og
        acc = zero
        for c in range(cg):
            base_x = px + n * sx[0] + (g * cg + c) * sx[1]
            base_w = pw_ + oc * sw_[0] + c * sw_[1]
            for i in range(kh):
                hy = y * sh - ph + i * dh
                if hy < 0 or hy >= h_in:
                    continue
                for j in range(kw):
                    wx = xo * sw - pw + j * dw
                    if wx >= 0 and wx < w_in:
                        acc += (
                            x[base_x + hy * sx[2] + wx * sx[3]]
                            * w[base_w + i * sw_[2] + j * sw_[3]]
                        )
        o[po + n * so[0] + oc * so[1] + y * so[2] + xo * so[3]] = acc
        t += cuda.gridsize(1)


@cuda.jit
def grad_input(total, xshape, geom, gx, pgx, sgx, go, pgo, sgo, w, pw_, sw_, zero):
    """grad_x[n, c, h, w] = sum of grad_out * weight over the taps that read (h, w)."""
    cg, og, kh, kw, sh, sw, ph, pw, dh, dw, _, _, h_out, w_out = geom
    t = cuda.grid(1)
    while t < total:
        n, ci, hy, wx = _unravel4(t, xshape)
        g = ci // cg
        c = ci - g * cg
        acc = zero
        for oc in range(g * og, (g + 1) * og):
            for i in range(kh):
                ty = hy + ph - i * dh
                if ty < 0 or ty % sh != 0 or ty // sh >= h_out:
                    continue
                y = ty // sh
                for j in range(kw):
                    tx = wx + pw - j * dw
                    if tx < 0 or tx % sw != 0 or tx // sw >= w_out:
                        continue
                    acc += (
                        go[pgo + n * sgo[0] + oc * sgo[1] + y * sgo[2] + (tx // sw) * sgo[3]]
                        * w[pw_ + oc * sw_[0] + c * sw_[1] + i * sw_[2] + j * sw_[3]]
                    )
        gx[pgx + n * sgx[0] + ci * sgx[1] + hy * sgx[2] + wx * sgx[3]] = acc
        t += cuda.gridsize(1)


@cuda.jit
def grad_weight(total, wshape, geom, batch, gw, pgw, sgw, x, px, sx, go, pgo, sgo):
    """grad_w[o, c, i, j] = sum over (n, y, x') of grad_out * xpad at the tap's position."""
    cg, og, _, _, sh, sw, ph, pw, dh, dw, h_in, w_in, h_out, w_out = geom
    vals = cuda.shared.array(BY, numba.float64)
    ty = cuda.threadIdx.x
    t = cuda.blockIdx.x
    positions = batch * h_out * w_out
    while t < total:
        oc, c, i, j = _unravel4(t, wshape)
        ci = (oc // og) * cg + c
        acc = 0.0
        p = ty
        while p < positions:
            xo = p % w_out
            r = p // w_out
            y = r % h_out
            n = r // h_out
            hy = y * sh - ph + i * dh
            wx = xo * sw - pw + j * dw
            if hy >= 0 and hy < h_in and wx >= 0 and wx < w_in:
                acc += (
                    go[pgo + n * sgo[0] + oc * sgo[1] + y * sgo[2] + xo * sgo[3]]
                    * x[px + n * sx[0] + ci * sx[1] + hy * sx[2] + wx * sx[3]]
                )
            p += BY
        vals[ty] = acc
        cuda.syncthreads()
        half = BY // 2
        while half > 0:
            if ty < half:
                vals[ty] += vals[ty + half]
            cuda.syncthreads()
            half //= 2
        if ty == 0:
            gw[pgw + oc * sgw[0] + c * sgw[1] + i * sgw[2] + j * sgw[3]] = vals[0]
        cuda.syncthreads()
        t += cuda.gridDim.x
