"""Max pooling (`max_pool`) in one pass over the output; large pools share the (N*C)
planes out among threads.

The composite lists every window's taps in a copy, runs argmax over them and gathers the
values: five kernels and two tap-sized temporaries; here each window is scanned in place.
One kernel serves 1, 2 and 3 spatial dims: fewer dims are lifted to three with leading
dims of size 1. Buffers are C-contiguous at an offset.
"""

from __future__ import annotations

import numba
import numpy as np

from mytensor.backends.numba_cpu._jit import inline, jit, pjit, prange

U = np.uint64  # an unsigned index skips numba's wraparound check for negative ones
# window taps (outputs x kernel volume) from which the planes are shared out among
# threads; below it, the launch costs more than it saves (at 2^15 taps, 80 against 120 us)
PARALLEL_TAPS = 1 << 16


@inline
def _pool_planes(out, o0, index, i0_, x, x0, first, stop, size, out_size, kernel, stride,
                 padding, dilation):  # fmt: skip
    """Every window of the (sample, channel) planes [first, stop)."""
    # the geometry into locals: read from the arrays inside the loops, it is reloaded per
    # tap (the stores to `out` might alias them), which cost 6x
    d_in, h_in, w_in = size[0], size[1], size[2]
    d_out, h_out, w_out = out_size[0], out_size[1], out_size[2]
    kd, kh, kw = kernel[0], kernel[1], kernel[2]
    sd, sh, sw = stride[0], stride[1], stride[2]
    pd, ph, pw = padding[0], padding[1], padding[2]
    dd, dh, dw = dilation[0], dilation[1], dilation[2]
    volume, out_volume = d_in * h_in * w_in, d_out * h_out * w_out
    # each window's in-bounds taps per dim, once per output position rather than per
    # window: the integer divisions they take cost more than the window's scan
    d_taps = _taps_inside(d_out, sd, pd, dd, kd, d_in)
    h_taps = _taps_inside(h_out, sh, ph, dh, kh, h_in)
    w_taps = _taps_inside(w_out, sw, pw, dw, kw, w_in)
    # 2x2 windows with every tap in bounds (no padding; ceil_mode may add a window that
    # overhangs the edge)
    pairs = (kd == 1 and kh == 2 and kw == 2 and dh == 1 and dw == 1 and ph == 0 and pw == 0
             and (h_out - 1) * sh + 2 <= h_in and (w_out - 1) * sw + 2 <= w_in)
    for plane in range(first, stop):
        base, out_base = x0 + plane * volume, plane * out_volume
        if pairs:  # the taps unrolled: 2.3-2.9x faster than the loops below
            _pool_pairs(out, o0 + out_base, index, i0_ + out_base, x, base, d_out, h_out,
                        w_out, h_in, w_in, sd, sh, sw)  # fmt: skip
            continue
        for od in range(d_out):
            z0, i0, i1 = od * sd - pd, d_taps[od, 0], d_taps[od, 1]
            for oh in range(h_out):
                y0, j0, j1 = oh * sh - ph, h_taps[oh, 0], h_taps[oh, 1]
                for ow in range(w_out):
                    c0, k0, k1 = ow * sw - pw, w_taps[ow, 0], w_taps[ow, 1]
                    at = ((z0 + i0 * dd) * h_in + y0 + j0 * dh) * w_in + c0 + k0 * dw
                    best = x[U(base + at)]
                    for i in range(i0, i1):
                        for j in range(j0, j1):
                            row = ((z0 + i * dd) * h_in + y0 + j * dh) * w_in + c0
                            for k in range(k0, k1):
                                position = row + k * dw
                                v = x[U(base + position)]
                                take = _better(v, best)
                                best = v if take else best
                                at = position if take else at
                    slot = out_base + (od * h_out + oh) * w_out + ow
                    out[U(o0 + slot)] = best
                    index[U(i0_ + slot)] = at


@inline
def _better(v, best):
    # the first maximum; the first NaN beats everything after it: v > best, or v a NaN
    # where best is not. Selects, not branches: on real data `v > best` is a coin toss,
    # and mispredictions made this 10x slower. Spelled with one compare of v (a NaN
    # fails `v <= best`): `(v > best) | ((v != v) & (best == best))` scanned 2x slower
    return (not (v <= best)) & (best == best)


@inline
def _pair_row(out, o, index, i, x, base, r0, w_in, w_out, sw):
    """One output row of 2x2 windows whose top taps start at ``r0`` in the plane (from
    `base` in `x`): the four taps in `_pool_planes`' order (row by row), unrolled.

    The scan compares with a plain ``v > best``, which is right unless a later tap is a
    NaN; a window holding a NaN (its taps' sum is NaN; also, harmlessly, for +inf with
    -inf) is scanned again with `_better`'s rule. 64x16x28x28: 1.6 ms -> 0.42 on one
    thread, the same bits and indices."""
    r1 = r0 + w_in
    for ow in range(w_out):
        c = ow * sw
        p0, p1, p2, p3 = r0 + c, r0 + c + 1, r1 + c, r1 + c + 1
        v0, v1, v2, v3 = x[U(base + p0)], x[U(base + p1)], x[U(base + p2)], x[U(base + p3)]
        best, at = v0, p0
        take = v1 > best
        best = v1 if take else best
        at = p1 if take else at
        take = v2 > best
        best = v2 if take else best
        at = p2 if take else at
        take = v3 > best
        best = v3 if take else best
        at = p3 if take else at
        total = (v0 + v1) + (v2 + v3)
        if total != total:
            best, at = v0, p0
            take = _better(v1, best)
            best = v1 if take else best
            at = p1 if take else at
            take = _better(v2, best)
            best = v2 if take else best
            at = p2 if take else at
            take = _better(v3, best)
            best = v3 if take else best
            at = p3 if take else at
        out[U(o + ow)] = best
        index[U(i + ow)] = at


@inline
def _pool_pairs(out, o0, index, i0_, x, base, d_out, h_out, w_out, h_in, w_in, sd, sh, sw):
    """One plane's 2x2 windows (a depth of 1), every tap in bounds."""
    for od in range(d_out):
        for oh in range(h_out):
            r0 = (od * sd * h_in + oh * sh) * w_in
            slot = (od * h_out + oh) * w_out
            _pair_row(out, o0 + slot, index, i0_ + slot, x, base, r0, w_in, w_out, sw)


@pjit
def max_pool3(out, o0, index, i0_, x, x0, planes, size, out_size, kernel, stride, padding,
              dilation, threads):  # fmt: skip
    """`_pool_planes` of every plane, a block of planes per thread."""
    per = (planes + threads - 1) // threads
    for t in prange(threads):
        _pool_planes(out, o0, index, i0_, x, x0, t * per, min(planes, (t + 1) * per), size,
                     out_size, kernel, stride, padding, dilation)  # fmt: skip


@jit
def max_pool3_serial(out, o0, index, i0_, x, x0, planes, size, out_size, kernel, stride,
                     padding, dilation):  # fmt: skip
    """`max_pool3` on the calling thread: a parallel launch costs ~80 us even on one
    thread, more than a small pool's whole scan."""
    _pool_planes(out, o0, index, i0_, x, x0, 0, planes, size, out_size, kernel, stride,
                 padding, dilation)  # fmt: skip


@jit
def _taps_inside(count, stride, padding, dilation, kernel, size):
    """(count, 2): for each window along one dim, the taps [first, last) that fall inside
    0 <= start + t * dilation < size, start = o * stride - padding."""
    taps = np.empty((count, 2), np.int64)
    for o in range(count):
        start = o * stride - padding
        taps[o, 0] = (-start + dilation - 1) // dilation if start < 0 else 0
        taps[o, 1] = min(kernel, (size - 1 - start) // dilation + 1)
    return taps


def max_pool(out, index, x, kernel, stride, padding, dilation) -> None:
    """Run `max_pool3` on descriptors of 1 to 3 spatial dims (lifted to three)."""
    lead = 5 - len(x.shape)

    def lifted(values, fill=1):
        # an int64 array, not a tuple: one compiled signature serves every geometry
        return np.array((fill,) * lead + tuple(values), np.int64)

    planes = x.shape[0] * x.shape[1]
    taps = out.size * int(np.prod(kernel))
    threads = min(numba.get_num_threads(), planes)
    geometry = (lifted(x.shape[2:]), lifted(out.shape[2:]), lifted(kernel), lifted(stride),
                lifted(padding, 0), lifted(dilation))  # fmt: skip
    buffers = (out.buffer, out.offset, index.buffer, index.offset, x.buffer, x.offset)
    if taps >= PARALLEL_TAPS:  # even on one thread: numba's parfor code scans ~20% faster
        max_pool3(*buffers, planes, *geometry, threads)
    else:
        max_pool3_serial(*buffers, planes, *geometry)
