"""Convolution on GEMMs: im2col and col2im kernels, and the three conv primitives on them.

The fast path for convolution on a GPU (PyTorch's without cuDNN): unfold the input's
windows into a column buffer, then one batched matmul through the backend's own
``matmul`` (cuBLAS via CuPy on a GPU, the tiled kernel under the simulator), so the code
the tests run is the code that runs on hardware. Operands are 5-d (`_conv.lift`) and
``geom`` is `_conv.geometry`'s tuple. With ``kc = C/groups * kd * kh * kw`` and
``L = Do * Ho * Wo``, ``col[n, g, k, p]`` holds the padded input read by output position
``p = (z, y, x')`` at tap ``k = (c, a, i, j)`` of group ``g``:

- ``conv``: ``col`` laid out (n, g, k, p); ``out[n, g] = W[g] @ col[n, g]``, a matmul
  batched over (n, g) with the weight broadcast over n (stride 0), written straight
  into ``out`` viewed as (N, G, O/G, L).
- ``conv_grad_input``: ``col[n, g] = W[g]^T @ grad_out[n, g]``, then `col2im` gathers
  each input element's taps out of ``col``: one thread per input element, no atomics,
  deterministic (the direct kernel's gather, reading columns instead of the weight).
- ``conv_grad_weight``: ``col`` laid out (g, k, n, p) and ``grad_out`` packed to
  (g, o, n, p), so ``grad_w[g] = grad_out[g] @ col[g]^T`` is one matmul per group whose
  reduction runs over the whole batch and every position (cuBLAS's long ``k``).

The column buffer comes from the backend's allocator and is capped at
`WORKSPACE_BYTES`: larger batches run in chunks of samples (a chunk's weight gradient
is added into the first's). Operands whose dims don't merge into the matrices' (an
``out`` whose spatial dims are not one stride apart, a permuted weight) go through a
contiguous scratch copy.
"""

from __future__ import annotations

import math
from typing import Any

from numba import cuda

from mytensor.backends.cuda._conv import _source, _unravel5, geometry, lift
from mytensor.backends.cuda._runtime import BLOCK, grid_for
from mytensor.backends.spec import Strided
from mytensor.core.layout import contiguous_strides

__all__ = ["WORKSPACE_BYTES", "col2im", "conv", "grad_input", "grad_weight", "im2col"]

# the column buffer's cap in bytes: a batch whose columns exceed it runs in chunks
WORKSPACE_BYTES = 256 << 20


@cuda.jit
def im2col(total, groups, geom, col, pc, sc, x, px, sx, zero):
    """col[n, g, (c, a, i, j), (z, y, x')] = xpad[n, g*cg + c, z*sd - pd + a*dd, ...]
    (zero where the tap falls in the padding); ``sc`` is col's (n, g, k, p) strides."""
    cg, _, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, d_in, h_in, w_in, d_out, h_out, w_out = (
        geom
    )
    t = cuda.grid(1)
    while t < total:
        xo = t % w_out
        r = t // w_out
        y = r % h_out
        r = r // h_out
        z = r % d_out
        r = r // d_out
        j = r % kw
        r = r // kw
        i = r % kh
        r = r // kh
        a = r % kd
        r = r // kd
        c = r % cg
        r = r // cg
        g = r % groups
        n = r // groups
        iz = z * sd - pd + a * dd
        hy = y * sh - ph + i * dh
        wx = xo * sw - pw + j * dw
        value = zero
        if iz >= 0 and iz < d_in and hy >= 0 and hy < h_in and wx >= 0 and wx < w_in:
            value = x[px + n * sx[0] + (g * cg + c) * sx[1] + iz * sx[2] + hy * sx[3]
                      + wx * sx[4]]  # fmt: skip
        k = ((c * kd + a) * kh + i) * kw + j
        p = (z * h_out + y) * w_out + xo
        col[pc + n * sc[0] + g * sc[1] + k * sc[2] + p * sc[3]] = value
        t += cuda.gridsize(1)


@cuda.jit
def col2im(total, xshape, geom, gx, pgx, sgx, col, pc, sc, zero):
    """grad_x[n, ci, iz, hy, wx] = sum of col[n, g, (c, a, i, j), (z, y, x')] over the
    output positions and taps that read that input element (the transpose of im2col)."""
    cg, _, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, _, _, _, d_out, h_out, w_out = geom
    t = cuda.grid(1)
    while t < total:
        n, ci, iz, hy, wx = _unravel5(t, xshape)
        g = ci // cg
        c = ci - g * cg
        base = pc + n * sc[0] + g * sc[1]
        acc = zero
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
                    k = ((c * kd + a) * kh + i) * kw + j
                    acc += col[base + k * sc[2] + ((z * h_out + y) * w_out + xo) * sc[3]]
        gx[pgx + n * sgx[0] + ci * sgx[1] + iz * sgx[2] + hy * sgx[3] + wx * sgx[4]] = acc
        t += cuda.gridsize(1)


# -- the primitives --------------------------------------------------------------------------
def conv(backend: Any, out: Strided, x: Strided, weight: Strided, stride: tuple,
         padding: tuple, dilation: tuple, groups: int) -> None:  # fmt: skip
    """``backend.conv`` as im2col and a matmul per chunk of samples."""
    out, x, weight = lift(out), lift(x), lift(weight)
    geom = geometry(x.shape, weight.shape, out.shape, stride, padding, dilation, groups)
    kc, length = _sizes(geom)
    if out.size == 0:
        return
    if kc == 0:  # no input channels: empty sums
        backend.fill(out, 0)
        return
    w = _weight_matrix(backend, weight, groups)
    target = out if _flat(out.shape[2:], out.strides[2:]) is not None else _scratch(backend, out)
    ts, sp = target.strides, _flat(target.shape[2:], target.strides[2:])
    og = geom[1]
    for n0, m, cols in _chunks(backend, x, groups, kc, length):
        _unfold(backend, cols, x, n0, groups, geom)
        a = Strided(w.buffer, (m, groups, og, kc), (0, *w.strides), w.offset, w.dtype)
        o = Strided(target.buffer, (m, groups, og, length), (ts[0], og * ts[1], ts[1], sp),
                    target.offset + n0 * ts[0], target.dtype)  # fmt: skip
        backend.matmul(o, a, cols)
    if target is not out:
        backend.copy(out, target)


def grad_input(backend: Any, grad_x: Strided, grad_out: Strided, weight: Strided,
               stride: tuple, padding: tuple, dilation: tuple, groups: int) -> None:  # fmt: skip
    """``backend.conv_grad_input`` as a matmul into columns and col2im, per chunk."""
    grad_x, grad_out, weight = lift(grad_x), lift(grad_out), lift(weight)
    geom = geometry(grad_x.shape, weight.shape, grad_out.shape, stride, padding, dilation,
                    groups)  # fmt: skip
    kc, length = _sizes(geom)
    if grad_x.size == 0:
        return
    if grad_out.size == 0:  # no output channels: nothing reads x
        backend.fill(grad_x, 0)
        return
    w = _weight_matrix(backend, weight, groups)
    go = grad_out
    if _flat(go.shape[2:], go.strides[2:]) is None:
        go = _scratch(backend, grad_out, copy=True)
    gs, sp = go.strides, _flat(go.shape[2:], go.strides[2:])
    og = geom[1]
    ws = w.strides
    for n0, m, cols in _chunks(backend, grad_x, groups, kc, length):
        a = Strided(w.buffer, (m, groups, kc, og), (0, ws[0], ws[2], ws[1]), w.offset, w.dtype)
        b = Strided(go.buffer, (m, groups, og, length), (gs[0], og * gs[1], gs[1], sp),
                    go.offset + n0 * gs[0], go.dtype)  # fmt: skip
        backend.matmul(cols, a, b)
        xshape = (m, *grad_x.shape[1:])
        total = math.prod(xshape)
        col2im[grid_for(total), BLOCK, backend.stream](
            total, xshape, geom, grad_x.buffer, grad_x.offset + n0 * grad_x.strides[0],
            grad_x.strides, cols.buffer, cols.offset, cols.strides, grad_x.dtype.numpy.type(0),
        )  # fmt: skip


def grad_weight(backend: Any, grad_weight: Strided, x: Strided, grad_out: Strided,
                stride: tuple, padding: tuple, dilation: tuple, groups: int) -> None:  # fmt: skip
    """``backend.conv_grad_weight``: per chunk, grad_out (packed per group) times the
    transposed columns, one matmul whose reduction covers the chunk's samples and
    positions; chunks after the first are added in."""
    grad_weight, x, grad_out = lift(grad_weight), lift(x), lift(grad_out)
    geom = geometry(x.shape, grad_weight.shape, grad_out.shape, stride, padding, dilation,
                    groups)  # fmt: skip
    kc, length = _sizes(geom)
    if grad_weight.size == 0:
        return
    if x.shape[0] == 0:
        backend.fill(grad_weight, 0)
        return
    target = _weight_matrix(backend, grad_weight, groups, copy=False)
    og, dtype = geom[1], x.dtype
    partial = None
    for n0, m, cols in _chunks(backend, x, groups, kc, length):
        # cols[n, g, k, p] at g*kc*m*L + k*m*L + n*L + p: per group a (kc, m*L) matrix
        cols = Strided(cols.buffer, cols.shape, (length, kc * m * length, m * length, 1),
                       0, dtype)  # fmt: skip
        _unfold(backend, cols, x, n0, groups, geom)
        packed = _pack_grad_out(backend, grad_out, n0, m, groups, og)
        b = Strided(cols.buffer, (groups, m * length, kc), (kc * m * length, 1, m * length),
                    0, dtype)  # fmt: skip
        if n0 == 0:
            backend.matmul(target, packed, b)
            continue
        if partial is None:
            shape = target.shape
            partial = Strided(backend.allocate(math.prod(shape), dtype), shape,
                              contiguous_strides(shape), 0, dtype)  # fmt: skip
        backend.matmul(partial, packed, b)
        backend.zip("add", target, target, partial)
    if target.buffer is not grad_weight.buffer:
        backend.copy(grad_weight, _reshaped(target, grad_weight.shape))


# -- helpers ----------------------------------------------------------------------------------
def _sizes(geom: tuple) -> tuple[int, int]:
    """(kc, L): a group's taps per output position, and the output positions per sample."""
    cg, _, kd, kh, kw = geom[:5]
    d_out, h_out, w_out = geom[17:]
    return cg * kd * kh * kw, d_out * h_out * w_out


def _flat(shape: tuple, strides: tuple) -> int | None:
    """The stride of `shape`'s dims merged into one (C order), or None where they don't
    merge (size-1 dims merge with anything)."""
    step, need = 1, None
    for size, st in zip(reversed(shape), reversed(strides), strict=True):
        if size == 1:
            continue
        if need is None:
            step = st
        elif st != need:
            return None
        need = st * size
    return step


def _scratch(backend: Any, like: Strided, copy: bool = False) -> Strided:
    """A contiguous buffer of `like`'s shape and dtype, holding its values when `copy`."""
    packed = Strided(backend.allocate(like.size, like.dtype), like.shape,
                     contiguous_strides(like.shape), 0, like.dtype)  # fmt: skip
    if copy:
        backend.copy(packed, like)
    return packed


def _reshaped(desc: Strided, shape: tuple) -> Strided:
    """Contiguous `desc` with another shape of the same size."""
    return Strided(desc.buffer, shape, contiguous_strides(shape), desc.offset, desc.dtype)


def _weight_matrix(backend: Any, weight: Strided, groups: int, copy: bool = True) -> Strided:
    """(O, C/G, kd, kh, kw) as (G, O/G, kc): a view where the kernel dims merge, else a
    contiguous scratch (holding the weight when `copy`; the caller copies it back
    otherwise)."""
    og = weight.shape[0] // groups
    kc = math.prod(weight.shape[1:])
    step = _flat(weight.shape[1:], weight.strides[1:])
    if step is None:
        weight = _scratch(backend, weight, copy=copy)
        step = 1
    s0 = weight.strides[0]
    return Strided(weight.buffer, (groups, og, kc), (og * s0, s0, step), weight.offset,
                   weight.dtype)  # fmt: skip


def _chunks(backend: Any, x: Strided, groups: int, kc: int, length: int):
    """(first sample, samples, column buffer (m, G, kc, L)) per chunk of the batch, the
    columns capped at `WORKSPACE_BYTES` (at least one sample per chunk)."""
    batch, dtype = x.shape[0], x.dtype
    per_sample = groups * kc * length
    step = max(1, min(batch, WORKSPACE_BYTES // (per_sample * dtype.itemsize)))
    buffer = backend.allocate(step * per_sample, dtype)
    for n0 in range(0, batch, step):
        m = min(step, batch - n0)
        shape = (m, groups, kc, length)
        yield n0, m, Strided(buffer, shape, contiguous_strides(shape), 0, dtype)


def _unfold(backend: Any, cols: Strided, x: Strided, n0: int, groups: int, geom: tuple) -> None:
    """Launch im2col for samples n0 .. n0 + m of `x` into `cols` ((m, G, kc, L) strides)."""
    total = cols.size
    im2col[grid_for(total), BLOCK, backend.stream](
        total, groups, geom, cols.buffer, cols.offset, cols.strides,
        x.buffer, x.offset + n0 * x.strides[0], x.strides, x.dtype.numpy.type(0),
    )  # fmt: skip


def _pack_grad_out(backend: Any, grad_out: Strided, n0: int, m: int, groups: int,
                   og: int) -> Strided:  # fmt: skip
    """grad_out's samples n0 .. n0 + m copied to (G, O/G, m, L) and viewed as the
    (G, O/G, m * L) matrices of the weight gradient."""
    spatial = grad_out.shape[2:]
    length = math.prod(spatial)
    s = grad_out.strides
    shape = (m, groups, og, *spatial)
    src = Strided(grad_out.buffer, shape, (s[0], og * s[1], s[1], *s[2:]),
                  grad_out.offset + n0 * s[0], grad_out.dtype)  # fmt: skip
    dense = contiguous_strides(spatial)
    dtype = grad_out.dtype
    dst = Strided(backend.allocate(m * groups * og * length, dtype), shape,
                  (length, og * m * length, m * length, *dense), 0, dtype)  # fmt: skip
    backend.copy(dst, src)
    return Strided(dst.buffer, (groups, og, m * length), (og * m * length, m * length, 1), 0,
                   grad_out.dtype)  # fmt: skip
