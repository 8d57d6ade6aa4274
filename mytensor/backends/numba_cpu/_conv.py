"""N-d conv (N = 1, 2, 3) forward and backward: im2col + BLAS, samples in parallel.

Every N runs as 3-d: a 1-d or 2-d conv gets leading spatial dims of size 1 (stride 0,
kernel 1, no padding), which costs one trip through an outer loop. The columns of one
sample are ``cols[g]`` of shape ``(K, L)``: ``K = C/groups * kd * kh * kw`` kernel taps
by ``L = Do * Ho * Wo`` output positions, and every product lands in NCHW order with no
transpose:

- forward: ``out[s, g] = W[g] @ cols_s[g]`` (``W[g]`` is ``(O/groups, K)``);
- grad_weight: ``sum_s grad_out[s, g] @ cols_s[g].T``, computed transposed as
  ``cols_s[g] @ grad_out[s, g].T`` (see `_grad_weight`);
- grad_input: ``col2im(W[g].T @ grad_out[s, g])``, the adjoint of im2col.

Padding is implicit: taps outside the input read (or, for the gradient, drop) zeros.
A conv whose width stride is 1 (1-d or 2-d) fills its columns from padded copies of
input rows (`_im2col_rows`). A stride-1 conv of 1 or 2 spatial dims with enough
channels skips the columns altogether: one GEMM per kernel tap (`_conv_taps`, see
`Conv._taps`).

Why one numba kernel runs the whole pipeline, a block of samples per thread, with
single-threaded GEMMs (numpy's BLAS called from the kernel, `_gemm`): a sample's columns are
small (113 KB for 16x14x14 and a 3x3 kernel) and stay in cache from im2col to GEMM,
and a GEMM that small never uses OpenBLAS's threads, so per-sample ``np.matmul`` calls
left one core idle (64 of them: 1.8 ms; the same products two threads at a time: 0.8 ms).
Folding the batch into one large threaded GEMM instead writes the columns out to memory
and back, and a regrouping copy then costs what the threads saved. Each thread has its
own scratch (columns, a contiguous copy of a grad_out sample, a grad_weight sum the GEMM
accumulates into); nothing is allocated inside the parallel loop. numpy's BLAS is held to
one thread meanwhile (`_blas_threads`). A single sample, a single numba thread, or a BLAS
the kernels can't call (`_gemm.available`): the same products run a sample at a time
through ``np.matmul`` (the `Conv._serial_*` methods), whose BLAS may then thread each
product.

Small output planes are the exception (`Conv._batched`) on one thread, and on numba's
workqueue threading layer: an 8x8 plane makes a GEMM 64 columns wide, too narrow for
BLAS to run well, and a workqueue launch costs ~80 us, more than such a conv's whole
work. There the columns of all samples go side by side (`_im2col_batch`) and one GEMM
per group serves the batch: a LeNet on 8x8 digits, 32 samples, first conv forward: 26 us
against ~100 us for the per-sample paths. On TBB (a ~2 us launch) the parallel
per-sample path is ahead for those planes too.
"""

from __future__ import annotations

import numba
import numpy as np

from mytensor.backends.numba_cpu import _blas_threads, _conv_taps, _gemm
from mytensor.backends.numba_cpu._conv_taps import block as _block
from mytensor.backends.numba_cpu._gemm import NO_TRANS, TRANS, gemm
from mytensor.backends.numba_cpu._jit import THREADING_LAYER, jit, pjit, prange
from mytensor.backends.numba_cpu._plan import numpy_view
from mytensor.backends.spec import Strided

U = np.uint64
# the batched path (`Conv._batched`): output planes of at most this many positions, more
# on one thread, and at most this many column elements (16 M: 64 MB of float32). On TBB a
# parallel launch costs ~2 us, not ~80, and the per-sample path wins on two threads for
# small planes too (16x16x4x4 -> 32, forward+backward: 310 us against 361 batched)
BATCHED_POSITIONS = 0 if THREADING_LAYER == "tbb" else 64
BATCHED_POSITIONS_ONE_THREAD = 256
BATCHED_COLUMNS = 1 << 24


@jit
def _valid(wo, w, sw, pw, start):
    """The output columns [lo, hi) whose input column ``x*sw - pw + start`` is inside."""
    lo = max(0, -((start - pw) // sw))  # ceil((pw - start) / sw)
    hi = min(wo, (w - 1 + pw - start) // sw + 1)
    return lo, max(lo, hi)


@jit
def _im2col_rows(cols, x, xs, base, rowbuf, ld, c, h, w, kh, kw, ho, wo, sh, ph, pw, dh, dw):
    """`_im2col` of a 1-d or 2-d conv with width stride 1: each input row is copied once
    into `rowbuf` (``w + 2*pw`` wide, its borders kept zero), and the ``kw`` taps of an
    output row are plain copies from it at shifts ``j*dw``, with no clipping per tap
    (30% faster than the general loop on 16x14x14 with a 3x3 kernel)."""
    for ch in range(c):
        for i in range(kh):
            for y in range(ho):
                ih = y * sh - ph + i * dh
                first = ((ch * kh + i) * kw) * ld + y * wo
                if ih < 0 or ih >= h:
                    for j in range(kw):
                        for xx in range(wo):
                            cols[U(first + j * ld + xx)] = 0
                    continue
                src = base + ch * xs[1] + ih * xs[3]
                for xx in range(w):
                    rowbuf[U(pw + xx)] = x[U(src + xx * xs[4])]
                for j in range(kw):
                    for xx in range(wo):
                        cols[U(first + j * ld + xx)] = rowbuf[U(j * dw + xx)]


@jit
def _im2col(cols, x, xs, base, rowbuf, ld, c, d, h, w, kd, kh, kw, do, ho, wo, sd, sh, sw,
            pd, ph, pw, dd, dh, dw):  # fmt: skip
    """cols[(ch, a, i, j) * ld + (z, y, x)] =
    x[base + ch, z*sd - pd + a*dd, y*sh - ph + i*dh, x*sw - pw + j*dw] (0 outside): one
    row per tap, `ld` apart (``Do*Ho*Wo`` for one sample's matrix, ``N*Do*Ho*Wo`` for a
    batch's, see `_im2col_batch`).

    `cols` is flat; unsigned indices spare numba its negative-index wraparound checks.
    `rowbuf` is zeros, ``w + 2*pw`` long (scratch for `_im2col_rows`)."""
    if d == kd == do == sw == 1:
        _im2col_rows(cols, x, xs, base, rowbuf, ld, c, h, w, kh, kw, ho, wo, sh, ph, pw, dh, dw)
        return
    step = sw * xs[4]
    for ch in range(c):
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    lo, hi = _valid(wo, w, sw, pw, j * dw)
                    row = (((ch * kd + a) * kh + i) * kw + j) * ld
                    for z in range(do):
                        iz = z * sd - pd + a * dd
                        inz = 0 <= iz < d
                        for y in range(ho):
                            ih = y * sh - ph + i * dh
                            dst = row + (z * ho + y) * wo
                            if not inz or ih < 0 or ih >= h:
                                for xx in range(wo):
                                    cols[U(dst + xx)] = 0
                                continue
                            for xx in range(lo):
                                cols[U(dst + xx)] = 0
                            src = (base + ch * xs[1] + iz * xs[2] + ih * xs[3]
                                   + (lo * sw - pw + j * dw) * xs[4])  # fmt: skip
                            if step == 1:
                                for xx in range(hi - lo):
                                    cols[U(dst + lo + xx)] = x[U(src + xx)]
                            else:
                                for xx in range(hi - lo):
                                    cols[U(dst + lo + xx)] = x[U(src + xx * step)]
                            for xx in range(hi, wo):
                                cols[U(dst + xx)] = 0


@jit
def _col2im(gx, gs, base, cols, ld, c, d, h, w, kd, kh, kw, do, ho, wo, sd, sh, sw, pd, ph,
            pw, dd, dh, dw):  # fmt: skip
    """gx[base + ch] = the sum of every tap gradient in (flat) `cols`, rows `ld` apart,
    that reads it."""
    step = sw * gs[4]
    for ch in range(c):
        cbase = base + ch * gs[1]
        for iz in range(d):
            for ih in range(h):
                for iw in range(w):
                    gx[U(cbase + iz * gs[2] + ih * gs[3] + iw * gs[4])] = 0
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    lo, hi = _valid(wo, w, sw, pw, j * dw)
                    row = (((ch * kd + a) * kh + i) * kw + j) * ld
                    for z in range(do):
                        iz = z * sd - pd + a * dd
                        if iz < 0 or iz >= d:
                            continue
                        for y in range(ho):
                            ih = y * sh - ph + i * dh
                            if ih < 0 or ih >= h:
                                continue
                            dst = (cbase + iz * gs[2] + ih * gs[3]
                                   + (lo * sw - pw + j * dw) * gs[4])  # fmt: skip
                            src = row + (z * ho + y) * wo + lo
                            if step == 1:
                                for xx in range(hi - lo):
                                    gx[U(dst + xx)] += cols[U(src + xx)]
                            else:
                                for xx in range(hi - lo):
                                    gx[U(dst + xx * step)] += cols[U(src + xx)]


@jit
def _im2col_batch(cols, x, xs, xo, rowbuf, n, positions, geometry):
    """The columns of all `n` samples side by side: ``(K, n * L)`` per group, sample s in
    columns ``[s*L, (s+1)*L)``, so that one GEMM per group serves the batch."""
    for s in range(n):
        _im2col(cols[s * positions :], x, xs, xo + s * xs[0], rowbuf, n * positions, *geometry)


@jit
def _col2im_batch(gx, gs, go_off, cols, n, positions, geometry):
    """`_col2im` of every sample from `_im2col_batch`'s layout."""
    for s in range(n):
        _col2im(gx, gs, go_off + s * gs[0], cols[s * positions :], n * positions, *geometry)


@jit
def _load(gbuf, go, s):
    """gbuf[g, o, l] = go[s, g, o, l]: one grad_out sample, contiguous (go may be a
    broadcast or otherwise strided view)."""
    for g in range(go.shape[1]):
        for o in range(go.shape[2]):
            for p in range(go.shape[3]):
                gbuf[g, o, p] = go[s, g, o, p]


@jit
def _load_t(gbuf, go, s):
    """gbuf[g, l, o] = go[s, g, o, l]: `_load`, each group's matrix transposed."""
    for g in range(go.shape[1]):
        for o in range(go.shape[2]):
            for p in range(go.shape[3]):
                gbuf[g, p, o] = go[s, g, o, p]


@pjit
def _forward(gemm_fn, res, w, x, xs, xo, cols, flat, rowbuf, geometry):
    """res[s, g] = w[g] @ im2col(x[s])[g]; ``cols[t]`` (flat: ``flat[t]``) is thread t's."""
    threads = cols.shape[0]
    og, k, ld = w.shape[1], w.shape[2], cols.shape[3]
    for t in prange(threads):
        first, stop = _block(t, threads, res.shape[0])
        for s in range(first, stop):
            _im2col(flat[t], x, xs, xo + s * xs[0], rowbuf[t], ld, *geometry)
            for g in range(w.shape[0]):
                gemm(gemm_fn, NO_TRANS, NO_TRANS, og, ld, k, w[g], k, cols[t, g], ld, 0.0,
                     res[s, g], ld)  # fmt: skip


@pjit
def _grad_input(gemm_fn, gx, gs, go_off, go, w, cols, flat, gbuf, geometry):
    """gx[s] = col2im(w[g].T @ go[s, g]), a block of samples per thread."""
    threads = cols.shape[0]
    og, k, ld = w.shape[1], w.shape[2], cols.shape[3]
    for t in prange(threads):
        first, stop = _block(t, threads, go.shape[0])
        for s in range(first, stop):
            _load(gbuf[t], go, s)
            for g in range(w.shape[0]):
                gemm(gemm_fn, TRANS, NO_TRANS, k, ld, og, w[g], k, gbuf[t, g], ld, 0.0,
                     cols[t, g], ld)  # fmt: skip
            _col2im(gx, gs, go_off + s * gs[0], flat[t], ld, *geometry)


@pjit
def _grad_weight(gemm_fn, acc, x, xs, xo, go, cols, flat, gbuf, rowbuf, geometry):
    """acc[t, g] = the sum over thread t's samples of (go[s, g] @ im2col(x[s])[g].T).T,
    as ``cols @ go.T`` accumulated by the GEMM (``beta = 1``; `acc` starts at zero)."""
    threads = cols.shape[0]
    k, og, ld = acc.shape[2], acc.shape[3], cols.shape[3]
    for t in prange(threads):
        first, stop = _block(t, threads, go.shape[0])
        for s in range(first, stop):
            _im2col(flat[t], x, xs, xo + s * xs[0], rowbuf[t], ld, *geometry)
            _load_t(gbuf[t], go, s)
            for g in range(acc.shape[1]):
                gemm(gemm_fn, NO_TRANS, NO_TRANS, k, og, ld, cols[t, g], ld, gbuf[t, g], og,
                     1.0, acc[t, g], og)  # fmt: skip


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
        self.threads = max(1, min(numba.get_num_threads(), self.n))

    def _strides(self, desc: Strided) -> np.ndarray:
        """The descriptor's strides as 5-d (stride 0 on the added size-1 dims)."""
        st = desc.strides
        return np.array((*st[:2], *(0,) * self.lead, *st[2:]), np.int64)

    def _scratch(self, dtype, threads: int | None = None) -> tuple[np.ndarray, ...]:
        """Per-thread columns (threads, groups, K, L), the same memory flat per thread,
        and a zeroed padded-row buffer per thread (for `_im2col_rows`)."""
        threads = self.threads if threads is None else threads
        cols = np.empty((threads, self.groups, self.ktaps, self.positions), dtype)
        w, pw = self.geometry[3], self.geometry[15]
        return cols, cols.reshape(threads, -1), np.zeros((threads, w + 2 * pw), dtype)

    def _by_group(self, t: np.ndarray) -> np.ndarray:
        """A (N, O, *out) array viewed (or, if it can't be, copied) as (N, G, O/G, L)."""
        return t.reshape(self.n, self.groups, self.o // self.groups, self.positions)

    def _weights(self, weight: Strided) -> np.ndarray:
        """(groups, O/groups, K)."""
        return np.ascontiguousarray(numpy_view(weight)).reshape(self.groups, -1, self.ktaps)

    def _parallel_forward(self, out: Strided, x: Strided, weight: Strided) -> None:
        o = numpy_view(out)
        res = o if o.flags.c_contiguous else np.empty(o.shape, o.dtype)
        cols, flat, rowbuf = self._scratch(o.dtype)
        _forward(_gemm.function(o.dtype), self._by_group(res), self._weights(weight), x.buffer,
                 self._strides(x), x.offset, cols, flat, rowbuf, self.geometry)  # fmt: skip
        if res is not o:
            np.copyto(o, res)

    def _parallel_grad_input(self, grad_x: Strided, grad_out: Strided, weight: Strided) -> None:
        go = self._by_group(numpy_view(grad_out))
        cols, flat, _ = self._scratch(go.dtype)
        gbuf = np.empty((self.threads, *go.shape[1:]), go.dtype)
        _grad_input(_gemm.function(go.dtype), grad_x.buffer, self._strides(grad_x),
                    grad_x.offset, go, self._weights(weight), cols, flat, gbuf,
                    self.geometry)  # fmt: skip

    def _parallel_grad_weight(self, grad_w: Strided, x: Strided, grad_out: Strided) -> None:
        go = self._by_group(numpy_view(grad_out))
        og = self.o // self.groups
        acc = np.zeros((self.threads, self.groups, self.ktaps, og), go.dtype)
        cols, flat, rowbuf = self._scratch(go.dtype)
        gbuf = np.empty((self.threads, self.groups, self.positions, og), go.dtype)
        _grad_weight(_gemm.function(go.dtype), acc, x.buffer, self._strides(x), x.offset, go,
                     cols, flat, gbuf, rowbuf, self.geometry)  # fmt: skip
        total = acc.sum(axis=0).transpose(0, 2, 1)  # (groups, O/groups, K)
        np.copyto(numpy_view(grad_w), total.reshape(grad_w.shape))

    # -- dispatch, and the per-sample NumPy path: one im2col, then one np.matmul per group,
    # a sample at a time, with NumPy's BLAS threads (if any) on each product
    def _parallel(self, dtype: np.dtype) -> bool:
        """Samples in parallel: at least two of them and two numba threads (one sample
        alone is better served by a threaded BLAS), and numpy's GEMM callable from the
        kernels for `dtype` (`_gemm.available`)."""
        return self.threads > 1 and _gemm.available(dtype)

    def _taps(self, dtype: np.dtype) -> bool:
        """Whether the tap GEMMs (`_conv_taps`) can run: a stride-1 conv of 1 or 2 spatial
        dims, numpy's GEMM callable from the kernel, and no thread left idle (a single
        sample keeps the paths whose BLAS threads each product). Which products take them
        depends on their GEMMs' inner dimension and rows (`_taps_for`)."""
        _, d, _, _, kd, _, _, do, _, _, _, sh, sw = self.geometry[:13]
        idle = self.threads == 1 and numba.get_num_threads() > 1
        return d == kd == do == 1 and sh == sw == 1 and not idle and _gemm.available(dtype)

    def _taps_for(self, product: str, dtype: np.dtype) -> bool:
        """Whether `product` ("forward", "grad_input", "grad_weight") runs as tap GEMMs.
        Measured against im2col on 3x3 convs, 14x14 to 32x32 planes:

        - forward, inner dimension C/groups: ahead from 8 channels (16 -> 32 on 14x14: 22
          against 43 us a sample); behind at 1 (64x1x28x28 -> 16: 494 against 177 us)
          and 4 (28x28, 16 outputs: 866 against 694);
        - grad_input, the forward of grad_out (inner dimension O/groups, C/groups rows):
          ahead from 8 output channels unless it has a single input channel (64x1x28x28
          <- 16: 375 against 279 us), and only where its padding, dilation * (k - 1) -
          padding, is not negative;
        - grad_weight, inner dimension the output positions: ahead at every channel count
          (LeNet's first conv, one input channel: 267 against 455 us) once a sample's
          positions times input channels per group reach `_conv_taps.MIN_WEIGHT_WORK`
          (16 channels of 8x8: 185 against 238 us; one channel of 8x8: 39 against 31)."""
        if not self._taps(dtype):
            return False
        if product == "forward":
            return self.cg >= _conv_taps.MIN_CHANNELS
        if product == "grad_input":
            _, _, _, _, _, kh, kw, _, _, _, _, _, _, _, ph, pw, _, dh, dw = self.geometry
            return (self.o // self.groups >= _conv_taps.MIN_CHANNELS and self.cg > 1
                    and ph <= dh * (kh - 1) and pw <= dw * (kw - 1))  # fmt: skip
        return self.positions * self.cg >= _conv_taps.MIN_WEIGHT_WORK

    def _taps_forward(self, out: Strided, x: Strided, weight: Strided) -> None:
        _, _, h, w, _, kh, kw, _, ho, wo, _, _, _, _, ph, pw, _, dh, dw = self.geometry
        og = self.o // self.groups
        taps = self._weights(weight).reshape(self.groups, og, self.cg, -1)
        wt = np.ascontiguousarray(taps.transpose(0, 3, 1, 2))  # (groups, taps, O/g, C/g)
        self._run_taps(out, x, wt, (h, w, kh, kw, ho, wo, ph, pw, dh, dw))

    def _taps_grad_input(self, grad_x: Strided, grad_out: Strided, weight: Strided) -> None:
        """grad_x[c, y, x] = sum over o, i, j of w[o, c, i, j] * grad_out[o, y + ph - i*dh,
        x + pw - j*dw]: a stride-1 forward conv of grad_out, padded by ``dh * (kh - 1) -
        ph`` (and so on), with w's taps flipped and its channel dims swapped."""
        _, _, h, w, _, kh, kw, _, ho, wo, _, _, _, _, ph, pw, _, dh, dw = self.geometry
        og = self.o // self.groups
        taps = self._weights(weight).reshape(self.groups, og, self.cg, -1)
        # (groups, taps, C/g, O/g), the taps in reverse order (a flip of both dims)
        wt = np.ascontiguousarray(taps[..., ::-1].transpose(0, 3, 2, 1))
        geometry = (ho, wo, kh, kw, h, w, dh * (kh - 1) - ph, dw * (kw - 1) - pw, dh, dw)
        self._run_taps(grad_x, grad_out, wt, geometry)

    def _taps_grad_weight(self, grad_w: Strided, x: Strided, grad_out: Strided) -> None:
        _, _, h, w, _, kh, kw, _, ho, wo, _, _, _, _, ph, pw, _, dh, dw = self.geometry
        og, taps = self.o // self.groups, kh * kw
        go = numpy_view(grad_out).reshape(self.n, self.o, ho, wo)
        acc = np.zeros((self.threads, self.groups, taps, og, self.cg), go.dtype)
        pad = self._padded_planes(self.c, (h, w, ph, pw, kw, dw), go.dtype)
        gfull = np.zeros((self.threads, self.o, ho * (w + 2 * pw)), go.dtype)
        _conv_taps.grad_weight(_gemm.function(go.dtype), acc, x.buffer, self._strides(x),
                               x.offset, go, pad, gfull, (h, w, kh, kw, ho, wo, ph, pw, dh,
                                                          dw))  # fmt: skip
        with np.errstate(invalid="ignore"):  # inf - inf across threads' sums is NaN, quietly
            total = acc.sum(axis=0).transpose(0, 2, 3, 1)  # (groups, O/g, C/g, taps)
        np.copyto(numpy_view(grad_w), total.reshape(grad_w.shape))

    def _padded_planes(self, channels: int, sizes: tuple, dtype: np.dtype) -> np.ndarray:
        """Zeroed scratch per thread for `channels` padded planes (`sizes`: h, w, ph, pw,
        kw, dw), with slack past the last plane: the dropped columns of the last taps read
        up to ``(kw - 1) * dw`` elements beyond it."""
        h, w, ph, pw, kw, dw = sizes
        size = channels * (h + 2 * ph) * (w + 2 * pw) + (kw - 1) * dw
        return np.zeros((self.threads, size), dtype)

    def _run_taps(self, out: Strided, x: Strided, wt: np.ndarray, geometry: tuple) -> None:
        """`_conv_taps.forward` of `x` (N, channels, *in) with per-group tap matrices `wt`
        into `out` (N, out channels, *out): `geometry` is (h, w, kh, kw, ho, wo, ph, pw,
        dh, dw) of that stride-1 conv."""
        h, w, _, kw, ho, _, ph, pw, _, dw = geometry
        o = numpy_view(out)
        res = o if o.flags.c_contiguous else np.empty(o.shape, o.dtype)
        out_channels = out.shape[1]
        pad = self._padded_planes(x.shape[1], (h, w, ph, pw, kw, dw), o.dtype)
        full = np.empty((self.threads, out_channels, ho * (w + 2 * pw)), o.dtype)
        _conv_taps.forward(_gemm.function(o.dtype), res.reshape(self.n, out_channels, -1), wt,
                           x.buffer, self._strides(x), x.offset, pad, full, geometry)  # fmt: skip
        if res is not o:
            np.copyto(o, res)

    def _batched(self, dtype: np.dtype) -> bool:
        """All samples' columns side by side and one GEMM per group: for small output
        planes, whose per-sample GEMMs are too narrow for BLAS to run well (8x8 planes,
        32 samples: 26 us against 100 us a sample at a time), and on one thread for
        mid-sized ones (14x14 planes: 20% faster); within a bound on the columns' size."""
        limit = BATCHED_POSITIONS if self._parallel(dtype) else BATCHED_POSITIONS_ONE_THREAD
        columns = self.n * self.groups * self.ktaps * self.positions
        return self.n > 1 and self.positions <= limit and columns <= BATCHED_COLUMNS

    def forward(self, out: Strided, x: Strided, weight: Strided) -> None:
        dtype = out.dtype.numpy
        if self._taps_for("forward", dtype):
            with _blas_threads.one_numpy_blas_thread():
                self._taps_forward(out, x, weight)
        elif self._batched(dtype):
            self._batched_forward(out, x, weight)
        elif self._parallel(dtype):
            with _blas_threads.one_numpy_blas_thread():
                self._parallel_forward(out, x, weight)
        else:
            self._serial_forward(out, x, weight)

    def grad_input(self, grad_x: Strided, grad_out: Strided, weight: Strided) -> None:
        dtype = grad_x.dtype.numpy
        if self._taps_for("grad_input", dtype):
            with _blas_threads.one_numpy_blas_thread():
                self._taps_grad_input(grad_x, grad_out, weight)
        elif self._batched(dtype):
            self._batched_grad_input(grad_x, grad_out, weight)
        elif self._parallel(dtype):
            with _blas_threads.one_numpy_blas_thread():
                self._parallel_grad_input(grad_x, grad_out, weight)
        else:
            self._serial_grad_input(grad_x, grad_out, weight)

    def grad_weight(self, grad_w: Strided, x: Strided, grad_out: Strided) -> None:
        dtype = grad_w.dtype.numpy
        if self._taps_for("grad_weight", dtype):
            with _blas_threads.one_numpy_blas_thread():
                self._taps_grad_weight(grad_w, x, grad_out)
        elif self._batched(dtype):
            self._batched_grad_weight(grad_w, x, grad_out)
        elif self._parallel(dtype):
            with _blas_threads.one_numpy_blas_thread():
                self._parallel_grad_weight(grad_w, x, grad_out)
        else:
            self._serial_grad_weight(grad_w, x, grad_out)

    def _serial_forward(self, out: Strided, x: Strided, weight: Strided) -> None:
        w, o = self._weights(weight), numpy_view(out)
        res = o if o.flags.c_contiguous else np.empty(o.shape, o.dtype)
        grouped = self._by_group(res)
        strides, (cols,), (flat,), (rowbuf,) = self._strides(x), *self._scratch(o.dtype, 1)
        for s in range(self.n):
            _im2col(flat, x.buffer, strides, x.offset + s * strides[0], rowbuf, self.positions,
                    *self.geometry)  # fmt: skip
            for k in range(self.groups):  # 2-D products: a 3-D matmul is ~2.5x slower
                np.matmul(w[k], cols[k], out=grouped[s, k])
        if res is not o:
            np.copyto(o, res)

    def _serial_grad_input(self, grad_x: Strided, grad_out: Strided, weight: Strided):
        wt = self._weights(weight).transpose(0, 2, 1)
        go = self._by_group(numpy_view(grad_out))
        strides, (cols,), (flat,), _ = self._strides(grad_x), *self._scratch(go.dtype, 1)
        for s in range(self.n):
            g = np.ascontiguousarray(go[s])
            for k in range(self.groups):
                np.matmul(wt[k], g[k], out=cols[k])
            _col2im(grad_x.buffer, strides, grad_x.offset + s * strides[0], flat, self.positions,
                    *self.geometry)  # fmt: skip

    def _serial_grad_weight(self, grad_w: Strided, x: Strided, grad_out: Strided) -> None:
        go = self._by_group(numpy_view(grad_out))
        total = np.zeros((self.groups, self.o // self.groups, self.ktaps), go.dtype)
        part = np.empty_like(total)
        strides, (cols,), (flat,), (rowbuf,) = self._strides(x), *self._scratch(go.dtype, 1)
        for s in range(self.n):
            _im2col(flat, x.buffer, strides, x.offset + s * strides[0], rowbuf, self.positions,
                    *self.geometry)  # fmt: skip
            g = np.ascontiguousarray(go[s])
            for k in range(self.groups):
                np.matmul(g[k], cols[k].T, out=part[k])
                total[k] += part[k]
        np.copyto(numpy_view(grad_w), total.reshape(grad_w.shape))

    # -- the batched path: every sample's columns side by side, one GEMM per group
    def _batch_columns(self, x: Strided) -> np.ndarray:
        """(groups, K, N * L): `_im2col_batch` of the whole input."""
        cols = np.empty((self.groups, self.ktaps, self.n * self.positions), x.buffer.dtype)
        rowbuf = np.zeros(self.geometry[3] + 2 * self.geometry[15], x.buffer.dtype)
        _im2col_batch(cols.reshape(-1), x.buffer, self._strides(x), x.offset, rowbuf, self.n,
                      self.positions, self.geometry)  # fmt: skip
        return cols

    def _batch_grad_out(self, grad_out: Strided) -> np.ndarray:
        """(groups, O/groups, N * L): grad_out with its samples side by side."""
        go = self._by_group(numpy_view(grad_out)).transpose(1, 2, 0, 3)
        return np.ascontiguousarray(go).reshape(self.groups, -1, self.n * self.positions)

    def _batched_forward(self, out: Strided, x: Strided, weight: Strided) -> None:
        cols = self._batch_columns(x)
        res = np.empty((self.groups, self.o // self.groups, cols.shape[2]), cols.dtype)
        _blas_threads.matmul(self._weights(weight), cols, out=res)
        o = numpy_view(out)
        by_sample = res.reshape(self.groups, -1, self.n, self.positions).transpose(2, 0, 1, 3)
        if o.flags.c_contiguous:
            np.copyto(o.reshape(by_sample.shape), by_sample)
        else:
            np.copyto(o, by_sample.reshape(o.shape))

    def _batched_grad_input(self, grad_x: Strided, grad_out: Strided, weight: Strided):
        wt = self._weights(weight).transpose(0, 2, 1)
        go = self._batch_grad_out(grad_out)
        cols = np.empty((self.groups, self.ktaps, go.shape[2]), go.dtype)
        _blas_threads.matmul(wt, go, out=cols)
        _col2im_batch(grad_x.buffer, self._strides(grad_x), grad_x.offset, cols.reshape(-1),
                      self.n, self.positions, self.geometry)  # fmt: skip

    def _batched_grad_weight(self, grad_w: Strided, x: Strided, grad_out: Strided) -> None:
        cols = self._batch_columns(x)
        total = np.empty((self.groups, self.o // self.groups, self.ktaps), cols.dtype)
        _blas_threads.matmul(self._batch_grad_out(grad_out), cols.transpose(0, 2, 1), out=total)
        np.copyto(numpy_view(grad_w), total.reshape(grad_w.shape))
