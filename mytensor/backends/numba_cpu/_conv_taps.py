"""A stride-1 convolution's forward as one GEMM per kernel tap on shifted views of the
padded input, with no im2col columns (`Conv` takes this path where it applies).

With stride 1, the input positions that tap ``(i, j)`` reads for consecutive output
positions are consecutive positions of the padded input, provided the output is computed
on rows as wide as the padded rows (``Wp = W + 2 * pw``; the last ``Wp - Wo`` columns of
each row are computed and dropped). So ``out[o, y * Wp + x] = sum over taps and channels
of w[o, c, i, j] * P[c, (y + i * dh) * Wp + x + j * dw]``: tap ``(i, j)`` adds
``W_tap (O x C) @ P[:, off : off + Ho * Wp]`` with ``off = i * dh * Wp + j * dw``, a GEMM
whose second operand is a view of the padded planes (leading dimension ``Hp * Wp``). A
valid column reads only its own row (``x + j * dw <= Wp - 1``); a dropped one may read the
next row, channel or the buffer's slack, and is never copied out.

A 3x3 conv of 16 channels on 14x14 planes: 22 us a sample on one thread, against 43 for
im2col (22) and its GEMM (21); on 28x28 planes, 88 against 111. The GEMMs' inner
dimension is the channel count, so few channels (LeNet's first conv: one) keep im2col,
whose inner dimension has the taps too.
"""

from __future__ import annotations

import numpy as np

from mytensor.backends.numba_cpu._gemm import NO_TRANS, TRANS, gemm
from mytensor.backends.numba_cpu._jit import jit, pjit, prange

__all__ = ["MIN_CHANNELS", "MIN_WEIGHT_WORK", "block", "forward", "grad_weight"]

U = np.uint64
# input channels per group from which the forward's tap GEMMs beat im2col's one GEMM
MIN_CHANNELS = 8
# output positions times input channels per group from which grad_weight's do
MIN_WEIGHT_WORK = 512


@jit
def block(t, threads, n):
    """Thread t's samples: a contiguous block of the batch."""
    per = (n + threads - 1) // threads
    return t * per, min(n, (t + 1) * per)


@jit
def _pad_sample(pad, x, base, xs, channels, h, w, ph, pw, plane, wp):
    """The sample's planes into the interior of `pad` (its borders stay zero)."""
    for c in range(channels):
        for y in range(h):
            src = base + c * xs[1] + y * xs[3]
            dst = c * plane + (y + ph) * wp + pw
            for xx in range(w):
                pad[U(dst + xx)] = x[U(src + xx * xs[4])]


@jit
def _widths(geometry):
    """(Wp, Hp * Wp, Ho * Wp): a padded row, a padded plane, the output on padded rows."""
    h, w, _, _, ho, _, ph, pw, _, _ = geometry
    wp = w + 2 * pw
    return wp, (h + 2 * ph) * wp, ho * wp


@pjit
def forward(gemm_fn, res, wt, x, xs, xo, pad, full, geometry):
    """res[s] (O, Ho * Wo) = the conv of sample s, a block of samples per thread; `wt` is
    (groups, kh * kw, O / groups, C / groups), `pad` and `full` per-thread scratch:
    (threads, C * Hp * Wp + slack) zeros and (threads, O, Ho * Wp)."""
    h, w, kh, kw, ho, wo, ph, pw, dh, dw = geometry
    threads, n = pad.shape[0], res.shape[0]
    groups, og, cg = wt.shape[0], wt.shape[2], wt.shape[3]
    wp, plane, cols = _widths(geometry)
    for t in prange(threads):
        first, stop = block(t, threads, n)
        padt, fullt = pad[t], full[t]
        for s in range(first, stop):
            _pad_sample(padt, x, xo + s * xs[0], xs, groups * cg, h, w, ph, pw, plane, wp)
            for g in range(groups):
                for i in range(kh):
                    for j in range(kw):
                        tap = i * kw + j
                        off = g * cg * plane + i * dh * wp + j * dw
                        gemm(gemm_fn, NO_TRANS, NO_TRANS, og, cols, cg, wt[g, tap], cg,
                             padt[off:], plane, 0.0 if tap == 0 else 1.0, fullt[g * og :],
                             cols)  # fmt: skip
            out = res[s]
            for o in range(groups * og):
                for y in range(ho):
                    src, dst = y * wp, y * wo
                    for xx in range(wo):
                        out[o, U(dst + xx)] = fullt[o, U(src + xx)]


@jit
def _pad_sample_checked(pad, x, base, xs, channels, h, w, ph, pw, plane, wp):
    """`_pad_sample`, and whether every value copied is finite."""
    check = x.dtype.type(0)
    for c in range(channels):
        for y in range(h):
            src = base + c * xs[1] + y * xs[3]
            dst = c * plane + (y + ph) * wp + pw
            for xx in range(w):
                v = x[U(src + xx * xs[4])]
                pad[U(dst + xx)] = v
                check += v * 0  # NaN from here on if v is NaN or infinite
    return check == 0


@pjit
def grad_weight(gemm_fn, acc, x, xs, xo, go, pad, gfull, geometry):
    """acc[t, g, tap] (O/g, C/g) = the sum over thread t's samples of grad_out[s, g] (on
    rows Wp wide, zeros in the dropped columns) @ the tap's view of the padded input,
    transposed. The dropped columns' zeros meet input values there, so a sample holding
    an infinity or NaN (0 * inf is NaN) takes one GEMM per output row over its kept
    columns instead."""
    h, w, kh, kw, ho, wo, ph, pw, dh, dw = geometry
    threads, n = pad.shape[0], go.shape[0]
    groups, og, cg = acc.shape[1], acc.shape[3], acc.shape[4]
    wp, plane, cols = _widths(geometry)
    for t in prange(threads):
        first, stop = block(t, threads, n)
        padt, gt = pad[t], gfull[t]
        for s in range(first, stop):
            finite = _pad_sample_checked(padt, x, xo + s * xs[0], xs, groups * cg, h, w, ph,
                                         pw, plane, wp)  # fmt: skip
            for o in range(groups * og):
                for y in range(ho):
                    for xx in range(wo):
                        gt[o, U(y * wp + xx)] = go[s, o, y, xx]
            for g in range(groups):
                for i in range(kh):
                    for j in range(kw):
                        tap = i * kw + j
                        off = g * cg * plane + i * dh * wp + j * dw
                        if finite:
                            gemm(gemm_fn, NO_TRANS, TRANS, og, cg, cols, gt[g * og :], cols,
                                 padt[off:], plane, 1.0, acc[t, g, tap], cg)  # fmt: skip
                            continue
                        for y in range(ho):
                            gemm(gemm_fn, NO_TRANS, TRANS, og, cg, wo, gt[g * og :, y * wp :],
                                 cols, padt[off + y * wp :], plane, 1.0, acc[t, g, tap],
                                 cg)  # fmt: skip
