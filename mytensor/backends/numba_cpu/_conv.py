"""N-d conv (N = 1, 2, 3) forward and backward: im2col + BLAS, one sample at a time.

Every N runs as 3-d: a 1-d or 2-d conv gets leading spatial dims of size 1 (stride 0,
kernel 1, no padding), which costs one trip through an outer loop. The columns of one
sample are ``cols[g]`` of shape ``(K, L)``: ``K = C/groups * kd * kh * kw`` kernel taps
by ``L = Do * Ho * Wo`` output positions. Going sample by sample keeps them
in cache (a whole batch of columns is tens of MB that would be written and read back
through memory), and then every product lands in NCHW order with no transpose:

- forward: ``out[s, g] = W[g] @ cols_s[g]`` (``W[g]`` is ``(O/groups, K)``);
- grad_weight: ``sum_s grad_out[s, g] @ cols_s[g].T``;
- grad_input: ``col2im(W[g].T @ grad_out[s, g])``, the adjoint of im2col.

Padding is implicit: taps outside the input read (or, for the gradient, drop) zeros.
`_im2col` and `_col2im` are serial: one sample's columns are small, the parallelism is
BLAS's, and no numba thread team then competes with BLAS's threads for the cores.
"""

from __future__ import annotations

import numpy as np

from mytensor.backends.numba_cpu._jit import jit
from mytensor.backends.numba_cpu._plan import numpy_view
from mytensor.backends.spec import Strided

U = np.uint64


@jit
def _valid(wo, w, sw, pw, start):
    """The output columns [lo, hi) whose input column ``x*sw - pw + start`` is inside."""
    lo = max(0, -((start - pw) // sw))  # ceil((pw - start) / sw)
    hi = min(wo, (w - 1 + pw - start) // sw + 1)
    return lo, max(lo, hi)


@jit
def _im2col(cols, x, xs, xo, s, c, d, h, w, kd, kh, kw, do, ho, wo, sd, sh, sw, pd, ph, pw,
            dd, dh, dw):  # fmt: skip
    """cols[g, (cc, a, i, j), (z, y, x)] =
    x[s, g*cg + cc, z*sd - pd + a*dd, y*sh - ph + i*dh, x*sw - pw + j*dw] (0 outside)."""
    for ch in range(c):
        base = xo + s * xs[0] + ch * xs[1]
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    lo, hi = _valid(wo, w, sw, pw, j * dw)
                    row = (((ch * kd + a) * kh + i) * kw + j) * do * ho * wo  # (g, cc) -> ch
                    step = sw * xs[4]
                    for z in range(do):
                        iz = z * sd - pd + a * dd
                        for y in range(ho):
                            ih = y * sh - ph + i * dh
                            dst = row + (z * ho + y) * wo
                            if iz < 0 or iz >= d or ih < 0 or ih >= h:
                                for xx in range(wo):
                                    cols[U(dst + xx)] = 0
                                continue
                            for xx in range(lo):
                                cols[U(dst + xx)] = 0
                            src = base + iz * xs[2] + ih * xs[3] + (lo * sw - pw + j * dw) * xs[4]
                            if step == 1:
                                for xx in range(hi - lo):
                                    cols[U(dst + lo + xx)] = x[U(src + xx)]
                            else:
                                for xx in range(hi - lo):
                                    cols[U(dst + lo + xx)] = x[U(src + xx * step)]
                            for xx in range(hi, wo):
                                cols[U(dst + xx)] = 0


@jit
def _col2im(gx, gs, go, cols, s, c, d, h, w, kd, kh, kw, do, ho, wo, sd, sh, sw, pd, ph, pw,
            dd, dh, dw):  # fmt: skip
    """gx[s, ch] = the sum of every tap gradient in `cols` that reads it."""
    for ch in range(c):
        base = go + s * gs[0] + ch * gs[1]
        for iz in range(d):
            for ih in range(h):
                for iw in range(w):
                    gx[U(base + iz * gs[2] + ih * gs[3] + iw * gs[4])] = 0
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    lo, hi = _valid(wo, w, sw, pw, j * dw)
                    row = (((ch * kd + a) * kh + i) * kw + j) * do * ho * wo
                    step = sw * gs[4]
                    for z in range(do):
                        iz = z * sd - pd + a * dd
                        if iz < 0 or iz >= d:
                            continue
                        for y in range(ho):
                            ih = y * sh - ph + i * dh
                            if ih < 0 or ih >= h:
                                continue
                            dst = base + iz * gs[2] + ih * gs[3] + (lo * sw - pw + j * dw) * gs[4]
                            src = row + (z * ho + y) * wo + lo
                            if step == 1:
                                for xx in range(hi - lo):
                                    gx[U(dst + xx)] += cols[U(src + xx)]
                            else:
                                for xx in range(hi - lo):
                                    gx[U(dst + xx * step)] += cols[U(src + xx)]


def _lift(values: tuple, fill: int) -> tuple:
    """An N-d parameter or spatial shape (N <= 3) as 3-d, leading dims `fill`."""
    return (fill,) * (3 - len(values)) + tuple(values)


class Conv:
    """The geometry of one N-d conv call (N = 1, 2, 3, run as 3-d with leading size-1
    spatial dims) and its three products."""

    def __init__(self, x_shape, w_shape, out_shape, stride, padding, dilation, groups):
        self.n, self.c = x_shape[:2]
        self.o, self.cg = w_shape[:2]
        self.lead = 3 - (len(x_shape) - 2)  # spatial dims added in front
        self.positions = int(np.prod(out_shape[2:]))
        self.geometry = (self.c, *_lift(x_shape[2:], 1), *_lift(w_shape[2:], 1),
                         *_lift(out_shape[2:], 1), *_lift(stride, 1), *_lift(padding, 0),
                         *_lift(dilation, 1))  # fmt: skip
        self.groups = groups
        self.ktaps = int(np.prod(w_shape[1:]))

    def _strides(self, desc: Strided) -> np.ndarray:
        """The descriptor's strides as 5-d (stride 0 on the added size-1 dims)."""
        st = desc.strides
        return np.array((*st[:2], *(0,) * self.lead, *st[2:]), np.int64)

    def _cols(self, x: Strided, strides: np.ndarray, s: int, cols: np.ndarray) -> np.ndarray:
        _im2col(cols.reshape(-1), x.buffer, strides, x.offset, s, *self.geometry)
        return cols

    def _weights(self, weight: Strided) -> np.ndarray:
        """(groups, O/groups, K)."""
        return np.ascontiguousarray(numpy_view(weight)).reshape(self.groups, -1, self.ktaps)

    def _per_group(self, t: np.ndarray, s: int) -> np.ndarray:
        """Sample `s` of a (N, O, *out) array as a contiguous (groups, O/groups, L) one.

        One sample at a time: a broadcast gradient (``.sum().backward()``) is then copied
        a sample at a time, in cache, not as a whole tensor through memory.
        """
        return np.ascontiguousarray(t[s]).reshape(self.groups, -1, self.positions)

    def _empty_cols(self, dtype) -> np.ndarray:
        return np.empty((self.groups, self.ktaps, self.positions), dtype)

    def forward(self, out: Strided, x: Strided, weight: Strided) -> None:
        w = self._weights(weight)
        o = numpy_view(out)
        direct = o.flags.c_contiguous
        result = o if direct else np.empty(o.shape, o.dtype)
        result = result.reshape(self.n, self.groups, -1, self.positions)
        strides, cols = self._strides(x), self._empty_cols(o.dtype)
        for s in range(self.n):
            self._cols(x, strides, s, cols)
            for k in range(self.groups):  # 2-D products: a 3-D matmul is ~2.5x slower
                np.matmul(w[k], cols[k], out=result[s, k])
        if not direct:
            np.copyto(o, result.reshape(o.shape))

    def grad_input(self, grad_x: Strided, grad_out: Strided, weight: Strided) -> None:
        wt = self._weights(weight).transpose(0, 2, 1)
        go = numpy_view(grad_out)
        strides, dcols = self._strides(grad_x), self._empty_cols(go.dtype)
        for s in range(self.n):
            g = self._per_group(go, s)
            for k in range(self.groups):
                np.matmul(wt[k], g[k], out=dcols[k])
            _col2im(grad_x.buffer, strides, grad_x.offset, dcols.reshape(-1), s, *self.geometry)

    def grad_weight(self, grad_w: Strided, x: Strided, grad_out: Strided) -> None:
        go = numpy_view(grad_out)
        total = np.zeros((self.groups, self.o // self.groups, self.ktaps), go.dtype)
        part = np.empty_like(total)
        strides, cols = self._strides(x), self._empty_cols(go.dtype)
        for s in range(self.n):
            self._cols(x, strides, s, cols)
            g = self._per_group(go, s)
            for k in range(self.groups):
                np.matmul(g[k], cols[k].T, out=part[k])
                total[k] += part[k]
        np.copyto(numpy_view(grad_w), total.reshape(grad_w.shape))
