"""The fused primitives that reduce along rows: softmax / log_softmax and their backward,
layer_norm and layer_norm_backward (the contract: `mytensor.backends.spec`), a block per
row.

A block of `REDUCE_BLOCK` threads owns a row (blocks stride over the rows); its threads
stride along the row, accumulating privately, and a shared-memory tree (`_block_sum`,
`_block_max`) combines them. Row statistics accumulate in float64 (float32 rows keep
their digits, as numba_cpu's kernels and the reductions of `_reduce` do).

softmax follows the composite (`Dispatch.softmax`) operation by operation: the row's
maximum (the specification's NaN-propagating ``maximum``), ``exp`` of the shifted values
summed in float64 and rounded to the dtype as the composite's reduction stores it, then
``div`` (or ``log`` and a subtraction): the specification's device functions, the ones the
composite's kernels call, so it matches the composite bit for bit wherever the float64
sums round alike. Any layouts (the row's offsets come from the kept dims' strides), and
``out`` may be ``a`` (the core's float16 staging runs it in place). layer_norm follows
numba_cpu's `_norm` (float64 from the loads on, each result rounded once on store);
dweight/dbias are column sums over the rows, a thread per column.
"""

from __future__ import annotations

import math
from typing import Any

import numba
from numba import cuda

from mytensor.backends.cuda._rounding import as_type, mul_rn
from mytensor.backends.cuda._runtime import BLOCK, MAX_BLOCKS, REDUCE_BLOCK, grid_for
from mytensor.backends.cuda._scalar import SCALAR, device
from mytensor.backends.spec import Strided

__all__ = ["layer_norm", "layer_norm_backward", "optional_operand", "softmax",
           "softmax_backward"]

RB = REDUCE_BLOCK  # threads per row block; a power of two (the trees halve it)
_exp, _log, _div, _maximum = SCALAR["exp"], SCALAR["log"], SCALAR["div"], SCALAR["maximum"]


@device
def _block_sum(acc, value):
    """The sum of every thread's `value` (float64), returned to all threads of the block."""
    tx = cuda.threadIdx.x
    acc[tx] = value
    cuda.syncthreads()
    half = RB // 2
    while half > 0:
        if tx < half:
            acc[tx] += acc[tx + half]
        cuda.syncthreads()
        half //= 2
    total = acc[0]
    cuda.syncthreads()  # acc is rewritten by the next tree
    return total


@device
def _block_max(acc, value):
    """The NaN-propagating maximum of every thread's `value`, returned to all threads."""
    tx = cuda.threadIdx.x
    acc[tx] = value
    cuda.syncthreads()
    half = RB // 2
    while half > 0:
        if tx < half:
            acc[tx] = _maximum(acc[tx], acc[tx + half])
        cuda.syncthreads()
        half //= 2
    best = acc[0]
    cuda.syncthreads()
    return best


@device
def _row_start(row, kshape, kas, kos, pa, po):
    """The offsets in `a` and `out` of row `row` (row-major over the kept dims `kshape`)."""
    for d in range(len(kshape) - 1, -1, -1):
        q = row // kshape[d]
        c = row - q * kshape[d]
        pa += c * kas[d]
        po += c * kos[d]
        row = q
    return pa, po


@cuda.jit
def softmax_rows(rows, kshape, kas, kos, n, a, pa, sa, o, po, so, log):
    acc = cuda.shared.array(RB, numba.float64)
    tx = cuda.threadIdx.x
    r = cuda.blockIdx.x
    while r < rows:
        ia, io = _row_start(r, kshape, kas, kos, pa, po)
        m = a[ia]  # the row's first element: neutral for the maximum
        j = tx
        while j < n:
            m = _maximum(m, a[ia + j * sa])
            j += RB
        m = as_type(_block_max(acc, float(m)), m)
        if log and m == -math.inf:
            m = as_type(0.0, m)  # a row of only -inf: -inf - log(0) is NaN below
        total = 0.0
        j = tx
        while j < n:
            total += float(_exp(a[ia + j * sa] - m))
            j += RB
        # the sum, exp and log rounded to the dtype as the composite stores them (the
        # specification's exp and log type as float64: their inf and NaN branches)
        s = as_type(_block_sum(acc, total), m)
        if log:
            s = as_type(_log(s), m)
        j = tx
        while j < n:  # out may be a: each thread rewrites only what it alone reads now
            shifted = a[ia + j * sa] - m
            o[io + j * so] = shifted - s if log else _div(as_type(_exp(shifted), m), s)
            j += RB
        r += cuda.gridDim.x


@cuda.jit
def softmax_backward_rows(rows, kshape, kys, kgs, kds, n, y, py, sy, g, pg, sg, dx, pd, sd,
                          log):  # fmt: skip
    # the composite's operations: the products g * y rounded to the dtype before the
    # float64 sum (log_softmax: g summed), the sum rounded as its reduction stores it
    acc = cuda.shared.array(RB, numba.float64)
    tx = cuda.threadIdx.x
    r = cuda.blockIdx.x
    while r < rows:
        iy, ig = _row_start(r, kshape, kys, kgs, py, pg)
        idx, _ = _row_start(r, kshape, kds, kds, pd, pd)
        total = 0.0
        j = tx
        while j < n:
            v = g[ig + j * sg]
            total += float(v if log else mul_rn(v, y[iy + j * sy]))
            j += RB
        s = as_type(_block_sum(acc, total), y[iy])
        j = tx
        while j < n:
            v, w = g[ig + j * sg], y[iy + j * sy]
            dx[idx + j * sd] = v - mul_rn(as_type(_exp(w), w), s) if log else mul_rn(w, v - s)
            j += RB
        r += cuda.gridDim.x


@cuda.jit
def layer_norm_rows(rows, cols, out, o0, mean, m0, rstd, r0, x, x0, w, w0, b, b0, has_w,
                    has_b, eps):  # fmt: skip
    # numba_cpu's arithmetic: float64 from the loads on, each result rounded once on store
    acc = cuda.shared.array(RB, numba.float64)
    tx = cuda.threadIdx.x
    r = cuda.blockIdx.x
    while r < rows:
        base = x0 + r * cols
        total = 0.0
        j = tx
        while j < cols:
            total += float(x[base + j])
            j += RB
        mu = _block_sum(acc, total) / cols
        squares = 0.0
        j = tx
        while j < cols:
            d = float(x[base + j]) - mu
            squares += d * d
            j += RB
        rs = 1.0 / math.sqrt(_block_sum(acc, squares) / cols + eps)
        if tx == 0:
            mean[m0 + r] = mu
            rstd[r0 + r] = rs
        j = tx
        while j < cols:
            y = (float(x[base + j]) - mu) * rs
            if has_w:
                y = y * float(w[w0 + j])
            if has_b:
                y = y + float(b[b0 + j])
            out[o0 + r * cols + j] = y
            j += RB
        r += cuda.gridDim.x


@cuda.jit
def layer_norm_backward_rows(rows, cols, dx, dx0, dy, dy0, x, x0, mean, m0, rstd, r0, w, w0,
                             has_w):  # fmt: skip
    acc = cuda.shared.array(RB, numba.float64)
    tx = cuda.threadIdx.x
    r = cuda.blockIdx.x
    while r < rows:
        mu, rs = float(mean[m0 + r]), float(rstd[r0 + r])
        base, gbase = x0 + r * cols, dy0 + r * cols
        sum_g = 0.0
        sum_gx = 0.0
        j = tx
        while j < cols:
            g = float(dy[gbase + j])
            if has_w:
                g = g * float(w[w0 + j])
            sum_g += g
            sum_gx += g * ((float(x[base + j]) - mu) * rs)
            j += RB
        mean_g = _block_sum(acc, sum_g) / cols
        mean_gx = _block_sum(acc, sum_gx) / cols
        j = tx
        while j < cols:
            g = float(dy[gbase + j])
            if has_w:
                g = g * float(w[w0 + j])
            xh = (float(x[base + j]) - mu) * rs
            dx[dx0 + r * cols + j] = rs * (g - mean_g - xh * mean_gx)
            j += RB
        r += cuda.gridDim.x


@cuda.jit
def layer_norm_columns(rows, cols, dw, dw0, db, db0, dy, dy0, x, x0, mean, m0, rstd, r0, want_w,
                       want_b):  # fmt: skip
    # dweight = sum over rows of dy * xhat, dbias = sum over rows of dy: a thread per column
    # (adjacent threads read adjacent columns), float64 sums
    j = cuda.grid(1)
    while j < cols:
        acc_w = 0.0
        acc_b = 0.0
        for r in range(rows):
            d = float(dy[dy0 + r * cols + j])
            acc_w += d * ((float(x[x0 + r * cols + j]) - float(mean[m0 + r])) * float(rstd[r0 + r]))
            acc_b += d
        if want_w:
            dw[dw0 + j] = acc_w
        if want_b:
            db[db0 + j] = acc_b
        j += cuda.gridsize(1)


# -- launches (the backend's methods call these with its stream) -----------------------------
def _rows_grid(rows: int) -> int:
    return max(1, min(rows, MAX_BLOCKS))


def _rows_along(dim: int, *descs: Strided) -> tuple[int, tuple, list[tuple]]:
    """(rows, the kept dims' shape, each descriptor's kept strides) of rows along `dim`;
    a 1-d operand has one row, of kept shape (1,) and strides (0,)."""
    shape = descs[0].shape
    kept = [d for d in range(len(shape)) if d != dim]
    kshape = tuple(shape[d] for d in kept) or (1,)
    strides = [tuple(t.strides[d] for d in kept) or (0,) for t in descs]
    return descs[0].size // shape[dim], kshape, strides


def softmax(stream: Any, out: Strided, a: Strided, dim: int, log: bool) -> None:
    """`spec` ``softmax(out, a, dim, log)``: a block per row along `dim`, any layouts."""
    if out.size == 0:
        return
    rows, kshape, (kas, kos) = _rows_along(dim, a, out)
    softmax_rows[_rows_grid(rows), RB, stream](
        rows, kshape, kas, kos, a.shape[dim], a.buffer, a.offset, a.strides[dim],
        out.buffer, out.offset, out.strides[dim], log,
    )  # fmt: skip


def softmax_backward(stream: Any, dx: Strided, y: Strided, g: Strided, dim: int,
                     log: bool) -> None:  # fmt: skip
    """`spec` ``softmax_backward``: a block per row along `dim`, any layouts."""
    if dx.size == 0:
        return
    rows, kshape, (kys, kgs, kds) = _rows_along(dim, y, g, dx)
    softmax_backward_rows[_rows_grid(rows), RB, stream](
        rows, kshape, kys, kgs, kds, y.shape[dim], y.buffer, y.offset, y.strides[dim],
        g.buffer, g.offset, g.strides[dim], dx.buffer, dx.offset, dx.strides[dim], log,
    )  # fmt: skip


def optional_operand(desc: Strided | None, like: Strided) -> tuple[Any, int, bool]:
    """(buffer, offset, present) of an optional operand; `like`'s buffer when absent."""
    if desc is None:
        return like.buffer, 0, False
    return desc.buffer, desc.offset, True


def layer_norm(stream: Any, out: Strided, mean: Strided, rstd: Strided, x: Strided,
               weight: Strided | None, bias: Strided | None, eps: float) -> None:  # fmt: skip
    """`spec` ``layer_norm``: a block per row."""
    rows, cols = x.shape
    if rows == 0:
        return
    w, w0, has_w = optional_operand(weight, x)
    b, b0, has_b = optional_operand(bias, x)
    layer_norm_rows[_rows_grid(rows), RB, stream](
        rows, cols, out.buffer, out.offset, mean.buffer, mean.offset, rstd.buffer, rstd.offset,
        x.buffer, x.offset, w, w0, b, b0, has_w, has_b, float(eps),
    )  # fmt: skip


def layer_norm_backward(stream: Any, dx: Strided, dweight: Strided | None,
                        dbias: Strided | None, dy: Strided, x: Strided, mean: Strided,
                        rstd: Strided, weight: Strided | None) -> None:  # fmt: skip
    """`spec` ``layer_norm_backward``: a block per row for dx, a thread per column for
    dweight and dbias."""
    rows, cols = x.shape
    w, w0, has_w = optional_operand(weight, x)
    stats = (x.buffer, x.offset, mean.buffer, mean.offset, rstd.buffer, rstd.offset)
    if rows:
        layer_norm_backward_rows[_rows_grid(rows), RB, stream](
            rows, cols, dx.buffer, dx.offset, dy.buffer, dy.offset, *stats, w, w0, has_w,
        )  # fmt: skip
    if (dweight is None and dbias is None) or cols == 0:
        return
    dw, dw0, want_w = optional_operand(dweight, dx)
    db, db0, want_b = optional_operand(dbias, dx)
    layer_norm_columns[grid_for(cols), BLOCK, stream](
        rows, cols, dw, dw0, db, db0, dy.buffer, dy.offset, *stats, want_w, want_b,
    )  # fmt: skip
