"""Direct N-d convolution kernels (N = 1, 2, 3): forward, input gradient, weight gradient.

Every N runs as 3-d: the backend hands 1-d and 2-d operands over as 5-d views with
leading spatial dims of size 1 (stride 0), kernel 1, stride 1, padding 0, dilation 1.
Each kernel reads its operands through strided descriptors (a 5-d stride tuple and an
offset each), so any layout works, and zero padding is implicit (out-of-range taps are
skipped, never materialised). ``geom`` packs the convolution's static parameters:
``(C/groups, O/groups, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, D, H, W, Do, Ho,
Wo)``.

- ``forward``: one thread per output element (n, o, z, y, x), summing its
  ``C/groups * kd * kh * kw`` taps.
- ``grad_input``: one thread per input element (n, c, z, h, w), gathering the output
  positions whose windows cover it: ``h = y*sh - ph + i*dh`` for some tap ``i``, so
  ``y = (h + ph - i*dh) / sh`` when that divides exactly. No atomics, deterministic.
- ``grad_weight``: one block per weight element (o, c, a, i, j): its threads stride over
  the ``N * Do * Ho * Wo`` output positions and meet in a shared-memory tree (float64),
  the long reduction of a conv's backward pass.

Accumulators of the first two have the output's dtype (``zero``'s type).
"""

from __future__ import annotations

import numba
from numba import cuda

from mytensor.backends.cuda._runtime import REDUCE_BLOCK
from mytensor.backends.spec import Strided

__all__ = ["forward", "geometry", "grad_input", "grad_weight", "lift"]

BY = REDUCE_BLOCK


def lift(desc: Strided) -> Strided:
    """An (N, C, *spatial) descriptor with 1 or 2 spatial dims as a 5-d view of the same
    memory: leading spatial dims of size 1 and stride 0."""
    lead = 5 - len(desc.shape)
    if lead == 0:
        return desc
    shape = (*desc.shape[:2], *(1,) * lead, *desc.shape[2:])
    strides = (*desc.strides[:2], *(0,) * lead, *desc.strides[2:])
    return Strided(desc.buffer, shape, strides, desc.offset, desc.dtype)


def geometry(x_shape, w_shape, out_shape, stride, padding, dilation, groups) -> tuple:
    """The kernels' ``geom`` tuple from 5-d shapes and N-d parameters (lifted to 3-d)."""
    lead = 3 - len(stride)
    ones, zeros = (1,) * lead, (0,) * lead
    return (x_shape[1] // groups, w_shape[0] // groups, *w_shape[2:], *ones, *stride,
            *zeros, *padding, *ones, *dilation, *x_shape[2:], *out_shape[2:])  # fmt: skip


@cuda.jit(device=True)
def _unravel5(t, shape):
    """The (a, b, c, d, e) position of flat index `t` in a C-ordered 5-d `shape`."""
    e = t % shape[4]
    r = t // shape[4]
    d = r % shape[3]
    r = r // shape[3]
    c = r % shape[2]
    r = r // shape[2]
    return r // shape[1], r % shape[1], c, d, e


@cuda.jit
def forward(total, oshape, geom, o, po, so, x, px, sx, w, pw_, sw_, zero):
    """out[n, o, z, y, x'] = sum over the group's channels and taps of xpad * weight."""
    cg, og, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, d_in, h_in, w_in, _, _, _ = geom
    t = cuda.grid(1)
    while t < total:
        n, oc, z, y, xo = _unravel5(t, oshape)
        g = oc // og
        acc = zero
        for c in range(cg):
            base_x = px + n * sx[0] + (g * cg + c) * sx[1]
            base_w = pw_ + oc * sw_[0] + c * sw_[1]
            for a in range(kd):
                iz = z * sd - pd + a * dd
                if iz < 0 or iz >= d_in:
                    continue
                for i in range(kh):
                    hy = y * sh - ph + i * dh
                    if hy < 0 or hy >= h_in:
                        continue
                    for j in range(kw):
                        wx = xo * sw - pw + j * dw
                        if wx >= 0 and wx < w_in:
                            acc += (
                                x[base_x + iz * sx[2] + hy * sx[3] + wx * sx[4]]
                                * w[base_w + a * sw_[2] + i * sw_[3] + j * sw_[4]]
                            )
        o[po + n * so[0] + oc * so[1] + z * so[2] + y * so[3] + xo * so[4]] = acc
        t += cuda.gridsize(1)


@cuda.jit(device=True)
def _source(pos, pad, tap, dil, step, size_out):
    """The output index whose window reads input `pos` at kernel tap `tap`, or -1."""
    q = pos + pad - tap * dil
    if q < 0 or q % step != 0 or q // step >= size_out:
        return -1
    return q // step


@cuda.jit
def grad_input(total, xshape, geom, gx, pgx, sgx, go, pgo, sgo, w, pw_, sw_, zero):
    """grad_x[n, c, z, h, w] = sum of grad_out * weight over the taps that read it."""
    cg, og, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, _, _, _, d_out, h_out, w_out = geom
    t = cuda.grid(1)
    while t < total:
        n, ci, iz, hy, wx = _unravel5(t, xshape)
        g = ci // cg
        c = ci - g * cg
        acc = zero
        for oc in range(g * og, (g + 1) * og):
            for a in range(kd):
                z = _source(iz, pd, a, dd, sd, d_out)
                if z < 0:
                    continue
                for i in range(kh):
                    y = _source(hy, ph, i, dh, sh, h_out)
                    if y < 0:
                        continue
                    for j in range(kw):
                        xo = _source(wx, pw, j, dw, sw, w_out)
                        if xo < 0:
                            continue
                        acc += (
                            go[pgo + n * sgo[0] + oc * sgo[1] + z * sgo[2] + y * sgo[3]
                               + xo * sgo[4]]
                            * w[pw_ + oc * sw_[0] + c * sw_[1] + a * sw_[2] + i * sw_[3]
                                + j * sw_[4]]
                        )  # fmt: skip
        gx[pgx + n * sgx[0] + ci * sgx[1] + iz * sgx[2] + hy * sgx[3] + wx * sgx[4]] = acc
        t += cuda.gridsize(1)


@cuda.jit
def grad_weight(total, wshape, geom, batch, gw, pgw, sgw, x, px, sx, go, pgo, sgo):
    """grad_w[o, c, a, i, j] = sum over (n, z, y, x') of grad_out * xpad at the tap."""
    cg, og, _, _, _, sd, sh, sw, pd, ph, pw, dd, dh, dw, d_in, h_in, w_in, d_out, h_out, w_out = (
        geom
    )
    vals = cuda.shared.array(BY, numba.float64)
    ty = cuda.threadIdx.x
    t = cuda.blockIdx.x
    positions = batch * d_out * h_out * w_out
    while t < total:
        oc, c, a, i, j = _unravel5(t, wshape)
        ci = (oc // og) * cg + c
        acc = 0.0
        p = ty
        while p < positions:
            xo = p % w_out
            r = p // w_out
            y = r % h_out
            r = r // h_out
            z = r % d_out
            n = r // d_out
            iz = z * sd - pd + a * dd
            hy = y * sh - ph + i * dh
            wx = xo * sw - pw + j * dw
            if iz >= 0 and iz < d_in and hy >= 0 and hy < h_in and wx >= 0 and wx < w_in:
                acc += (
                    go[pgo + n * sgo[0] + oc * sgo[1] + z * sgo[2] + y * sgo[3] + xo * sgo[4]]
                    * x[px + n * sx[0] + ci * sx[1] + iz * sx[2] + hy * sx[3] + wx * sx[4]]
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
            gw[pgw + oc * sgw[0] + c * sgw[1] + a * sgw[2] + i * sgw[3] + j * sgw[4]] = vals[0]
        cuda.syncthreads()
        t += cuda.gridDim.x
