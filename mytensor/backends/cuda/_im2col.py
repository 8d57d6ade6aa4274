"""Convolution on GEMMs: im2col and col2im kernels, and the three conv primitives on them.

The fast path for convolution on a GPU (PyTorch's without cuDNN): unfold the input's
windows into a column buffer, then matmuls through the backend's own ``matmul`` (cuBLAS
via CuPy on a GPU, the tiled kernel under the simulator), so the code the tests run is
the code that runs on hardware. Operands are 5-d (`_conv.lift`) and ``geom`` is
`_conv.geometry`'s tuple. With ``kc = C/groups * kd * kh * kw`` and ``L = Do * Ho * Wo``,
``col[n, g, k, p]`` holds the padded input read by output position ``p = (z, y, x')`` at
tap ``k = (c, a, i, j)`` of group ``g``, laid out (g, k, n, p): per group one (kc, m * L)
matrix over a chunk's m samples, so each product is one GEMM per group with the batch
folded into its long dimension, and every large operand is C-contiguous (``cupy.matmul``
copies any operand that is not, stride-0 broadcasts included):

- ``conv``: ``out[g] = W[g] @ col[g]``, (O/G, kc) @ (kc, m * L), written straight into
  ``out`` for a one-sample chunk, else into a (G, O/G, m, L) buffer copied out to
  (m, O, *spatial).
- ``conv_grad_input``: ``col[g] = W[g]^T @ grad_out[g]``, grad_out regrouped the same
  way, then `col2im` gathers each input element's taps out of ``col``: one thread per
  input element, no atomics, deterministic (the direct kernel's gather, reading columns
  instead of the weight). The transposed weight is the only non-contiguous operand.
- ``conv_grad_weight``: ``grad_w[g]^T = col[g] @ grad_out[g]^T``, (kc, m * L) @
  (m * L, O/G), grad_out packed to (G, m, L, O/G): the reduction runs over the chunk's
  samples and positions (cuBLAS's long ``k``).

The column buffer comes from the backend's allocator and is capped at
`WORKSPACE_BYTES`: larger batches run in chunks of samples (a chunk's weight gradient
is added into the first's). A weight whose kernel dims don't merge into one stride (a
permuted layout) goes through a contiguous scratch copy; other operands are read and
written through strides.
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
    """``backend.conv``: per chunk of samples, im2col and one matmul per group."""
    out, x, weight = lift(out), lift(x), lift(weight)
    geom = geometry(x.shape, weight.shape, out.shape, stride, padding, dilation, groups)
    kc, length = _sizes(geom)
    if out.size == 0:
        return
    if kc == 0:  # no input channels: empty sums
        backend.fill(out, 0)
        return
    w = _weight_matrix(backend, weight, groups)
    for n0, m, cols, matrices in _chunks(backend, x, groups, kc, length):
        _unfold(backend, cols, x, n0, groups, geom)
        direct = _sample_matrices(out, n0, m, groups)
        if direct is not None:
            backend.matmul(direct, w, matrices)
            continue
        view, dense, product = _regrouped(backend, out, n0, m, groups)
        backend.matmul(product, w, matrices)
        backend.copy(view, dense)


def grad_input(backend: Any, grad_x: Strided, grad_out: Strided, weight: Strided,
               stride: tuple, padding: tuple, dilation: tuple, groups: int) -> None:  # fmt: skip
    """``backend.conv_grad_input``: per chunk, the transposed weight times grad_out into
    columns, then col2im."""
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
    w_t = Strided(w.buffer, (groups, kc, w.shape[1]), (w.strides[0], w.strides[2], w.strides[1]),
                  w.offset, w.dtype)  # fmt: skip
    for n0, m, cols, matrices in _chunks(backend, grad_x, groups, kc, length):
        b = _sample_matrices(grad_out, n0, m, groups)
        if b is None:
            view, dense, b = _regrouped(backend, grad_out, n0, m, groups)
            backend.copy(dense, view)
        backend.matmul(matrices, w_t, b)
        xshape = (m, *grad_x.shape[1:])
        total = math.prod(xshape)
        col2im[grid_for(total), BLOCK, backend.stream](
            total, xshape, geom, grad_x.buffer, grad_x.offset + n0 * grad_x.strides[0],
            grad_x.strides, cols.buffer, cols.offset, cols.strides, grad_x.dtype.numpy.type(0),
        )  # fmt: skip


def grad_weight(backend: Any, grad_weight: Strided, x: Strided, grad_out: Strided,
                stride: tuple, padding: tuple, dilation: tuple, groups: int) -> None:  # fmt: skip
    """``backend.conv_grad_weight``: per chunk and group, the columns times grad_out
    transposed, one matmul whose reduction runs over the chunk's samples and positions
    (written as grad_w transposed); chunks after the first are added in."""
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
    ts = target.strides
    target_t = Strided(target.buffer, (groups, kc, target.shape[1]), (ts[0], ts[2], ts[1]),
                       target.offset, target.dtype)  # fmt: skip
    partial = None
    for n0, m, cols, matrices in _chunks(backend, x, groups, kc, length):
        _unfold(backend, cols, x, n0, groups, geom)
        view, dense, b = _regrouped(backend, grad_out, n0, m, groups, transposed=True)
        backend.copy(dense, view)
        if n0 == 0:
            backend.matmul(target_t, matrices, b)
            continue
        if partial is None:
            partial = _scratch(backend, target_t)
        backend.matmul(partial, matrices, b)
        backend.zip("add", target_t, target_t, partial)
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
    """Per chunk of the batch: (first sample, samples m, the columns as im2col writes
    them, (m, G, kc, L) laid out (G, kc, m, L), and as the (G, kc, m * L) matrices).
    The buffer holds at most `WORKSPACE_BYTES` (but at least one sample) and is reused."""
    batch, dtype = x.shape[0], x.dtype
    per_sample = groups * kc * length
    step = max(1, min(batch, WORKSPACE_BYTES // (per_sample * dtype.itemsize)))
    buffer = backend.allocate(step * per_sample, dtype)
    for n0 in range(0, batch, step):
        m = min(step, batch - n0)
        row = m * length
        cols = Strided(buffer, (m, groups, kc, length), (length, kc * row, row, 1), 0, dtype)
        matrices = Strided(buffer, (groups, kc, row), (kc * row, row, 1), 0, dtype)
        yield n0, m, cols, matrices


def _unfold(backend: Any, cols: Strided, x: Strided, n0: int, groups: int, geom: tuple) -> None:
    """Launch im2col for samples n0 .. n0 + m of `x` into `cols` ((m, G, kc, L) strides)."""
    total = cols.size
    im2col[grid_for(total), BLOCK, backend.stream](
        total, groups, geom, cols.buffer, cols.offset, cols.strides,
        x.buffer, x.offset + n0 * x.strides[0], x.strides, x.dtype.numpy.type(0),
    )  # fmt: skip


def _sample_matrices(desc: Strided, n0: int, m: int, groups: int) -> Strided | None:
    """Sample n0 of an (N, O, *spatial) operand as the (G, O/G, L) matrices, when the chunk
    is that one sample and its spatial dims merge (no copy), else None."""
    step = _flat(desc.shape[2:], desc.strides[2:])
    if m != 1 or step is None:
        return None
    og, s0, s1 = desc.shape[1] // groups, desc.strides[0], desc.strides[1]
    return Strided(desc.buffer, (groups, og, math.prod(desc.shape[2:])), (og * s1, s1, step),
                   desc.offset + n0 * s0, desc.dtype)  # fmt: skip


def _regrouped(backend: Any, desc: Strided, n0: int, m: int, groups: int,
               transposed: bool = False) -> tuple[Strided, Strided, Strided]:  # fmt: skip
    """Samples n0 .. n0 + m of an (N, O, *spatial) operand regrouped for the matmuls:
    (the samples viewed as (m, G, O/G, *spatial), a new buffer of that shape laid out
    (G, O/G, m, L), or (G, m, L, O/G) when `transposed`, and that buffer as the
    (G, O/G, m * L) or (G, m * L, O/G) matrices). Copy one into the other."""
    spatial, dtype, s = desc.shape[2:], desc.dtype, desc.strides
    og, length = desc.shape[1] // groups, math.prod(spatial)
    shape = (m, groups, og, *spatial)
    view = Strided(desc.buffer, shape, (s[0], og * s[1], s[1], *s[2:]), desc.offset + n0 * s[0],
                   dtype)  # fmt: skip
    buffer = backend.allocate(m * groups * og * length, dtype)
    dense, row = contiguous_strides(spatial), m * length
    if transposed:  # [n, g, o, p] at g*m*L*og + n*L*og + p*og + o
        strides = (length * og, row * og, 1, *(d * og for d in dense))
        matrices = Strided(buffer, (groups, row, og), (row * og, og, 1), 0, dtype)
    else:  # [n, g, o, p] at g*og*m*L + o*m*L + n*L + p
        strides = (length, og * row, row, *dense)
        matrices = Strided(buffer, (groups, og, row), (og * row, row, 1), 0, dtype)
    return view, Strided(buffer, shape, strides, 0, dtype), matrices
