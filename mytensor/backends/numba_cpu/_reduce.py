"""Reduction kernels: parallel over output elements, a sequential loop per element.

The core hands over ``a`` and ``out`` (``a``'s rank, size 1 on the reduced axes). The
plan (`reduce_plan`) splits ``a``'s axes into the kept space, indexed like ``out``, and
the reduced space. Each space is an offset table over its outer axes plus one inner
axis ``(size, stride)``, so a kernel walks it with no division and no allocation per
element. Three loop orders:

- ``_rows``: each output element reduces its whole reduced space (inner axis innermost);
  parallel over chunks of output elements. Used when the reduced axis is the fast one
  in memory, e.g. ``sum(axis=1)`` of a row-major matrix.
- ``_lanes``: when a kept axis is the fast one (``sum(axis=0)``), a block of adjacent
  outputs accumulates together, reduced position by reduced position, so every load is
  a contiguous vector. Parallel over blocks; each block owns its outputs (no races).
- ``_split``: few outputs but many elements (a full reduction to a scalar): each output's
  reduced range is cut into pieces reduced in parallel into per-piece partials, then
  combined in order (so ``argmax`` still returns the first maximum, or the first NaN).

Float ``sum``/``prod`` accumulate in float64 whatever the input (``zero`` carries the
accumulator type), which keeps the digits numpy's pairwise float32 sum keeps; the
kernels may reassociate those adds (``fastmath={"reassoc"}``, no other flag), which is
what lets them vectorise. One exception, for speed: a float32 sum along a contiguous
axis adds blocks of ``SUM_BLOCK`` elements in float32 (vectorised: 8 lanes, each
accumulator sees a few dozen elements, as in numpy's pairwise blocks) and the block
sums in float64; that is twice the lanes of a float64 accumulator and no conversions.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload
from numba.np.numpy_support import as_dtype

from mytensor.backends.numba_cpu._jit import prange, prjit, rjit

U = np.uint64
SUM, PROD, MAX, MIN, ARGMAX, ARGMIN, ANY, ALL = range(8)
CODES = {"sum": SUM, "prod": PROD, "max": MAX, "min": MIN, "argmax": ARGMAX,
         "argmin": ARGMIN, "any": ANY, "all": ALL}  # fmt: skip
LANE_BLOCK = 512
SUM_BLOCK = 512


def _block_zero(a, acc):
    """The zero a contiguous block of `a` is summed from before it is added to `acc`
    (this body runs under NUMBA_DISABLE_JIT; compiled code takes the overload below)."""
    return np.float32(0) if a.dtype == np.float32 else type(acc)(0)


@overload(_block_zero)
def _block_zero_typed(a, acc):
    scalar = np.float32 if a.dtype == types.float32 else as_dtype(acc).type
    return lambda a, acc: scalar(0)


@rjit
def _contiguous_sum(a, p, n, acc):
    """`acc` plus the sum of ``a[p : p + n]``, block by block. Indexed as ``unsigned(p +
    i)`` into `a` itself: a sliced view per block and a signed index cost ~20% (a 1024 x
    1024 row sum, 57 against 47 us on one thread), with the same additions in the same
    order."""
    zero = _block_zero(a, acc)
    start = 0
    while start < n:
        part = zero
        for i in range(min(SUM_BLOCK, n - start)):
            part += a[U(p + start + i)]
        acc += part
        start += SUM_BLOCK
    return acc


# -- one output element over reduced positions [k0, k1) ------------------------------------
@rjit
def _sum_span(a, pa, rt, rn, rs, k0, k1, acc):
    j = k0 // rn
    c = k0 - j * rn
    k = k0
    while k < k1:
        n = min(rn - c, k1 - k)
        p = pa + rt[j] + c * rs
        if rs == 1:
            acc = _contiguous_sum(a, p, n, acc)
        else:
            for i in range(n):
                acc += a[U(p + i * rs)]
        k += n
        c = 0
        j += 1
    return acc


@rjit
def _prod_span(a, pa, rt, rn, rs, k0, k1, acc):
    j = k0 // rn
    c = k0 - j * rn
    k = k0
    while k < k1:
        n = min(rn - c, k1 - k)
        p = pa + rt[j] + c * rs
        for i in range(n):
            acc *= a[U(p + i * rs)]
        k += n
        c = 0
        j += 1
    return acc


@rjit
def _extreme_span(a, pa, rt, rn, rs, k0, k1, largest):
    """(position in the reduced space, value) of the first max (min), or of the first NaN."""
    j = k0 // rn
    c = k0 - j * rn
    best = a[U(pa + rt[j] + c * rs)]
    where = k0
    k = k0
    while k < k1:
        n = min(rn - c, k1 - k)
        p = pa + rt[j] + c * rs
        if best != best:
            break
        for i in range(n):
            v = a[U(p + i * rs)]
            better = v > best if largest else v < best
            if better or (v != v and best == best):
                best = v
                where = k + i
        k += n
        c = 0
        j += 1
    return where, best


@rjit
def _logical_span(a, pa, rt, rn, rs, k0, k1, want):
    """Whether some element != 0 equals `want` (any: want True; all: want False)."""
    j = k0 // rn
    c = k0 - j * rn
    k = k0
    while k < k1:
        n = min(rn - c, k1 - k)
        p = pa + rt[j] + c * rs
        for i in range(n):
            if (a[U(p + i * rs)] != 0) == want:
                return True
        k += n
        c = 0
        j += 1
    return False


@rjit
def _span(op, a, pa, rt, rn, rs, k0, k1, zero):
    """The reduction of one output element as (value, position) in the accumulator type."""
    if op == SUM:
        return _sum_span(a, pa, rt, rn, rs, k0, k1, zero), 0
    if op == PROD:
        return _prod_span(a, pa, rt, rn, rs, k0, k1, zero + 1), 0
    if op == ANY:
        return zero + _logical_span(a, pa, rt, rn, rs, k0, k1, True), 0
    if op == ALL:
        return zero + (not _logical_span(a, pa, rt, rn, rs, k0, k1, False)), 0
    where, best = _extreme_span(a, pa, rt, rn, rs, k0, k1, op in (MAX, ARGMAX))
    return zero + best, where


# -- output elements [m0, m1), each over its whole reduced space --------------------------------
@rjit
def _rows(op, o, a, kta, kto, kn, kas, kos, rt, rn, rs, m0, m1, zero):
    total = rt.shape[0] * rn
    j = m0 // kn
    c = m0 - j * kn
    if op == SUM and total == rn and rs == 1:  # contiguous rows: no span bookkeeping
        for _ in range(m0, m1):
            o[U(kto[j] + c * kos)] = _contiguous_sum(a, kta[j] + c * kas + rt[0], rn, zero)
            c += 1
            if c == kn:
                c = 0
                j += 1
        return
    for _ in range(m0, m1):
        value, where = _span(op, a, kta[j] + c * kas, rt, rn, rs, 0, total, zero)
        po = U(kto[j] + c * kos)
        if op in (ARGMAX, ARGMIN):
            o[po] = where
        else:
            o[po] = value
        c += 1
        if c == kn:
            c = 0
            j += 1


@prjit
def _rows_par(op, o, a, kta, kto, kn, kas, kos, rt, rn, rs, nchunks, zero):
    m = kta.shape[0] * kn
    for t in prange(nchunks):
        _rows(
            op,
            o,
            a,
            kta,
            kto,
            kn,
            kas,
            kos,
            rt,
            rn,
            rs,
            t * m // nchunks,
            (t + 1) * m // nchunks,
            zero,
        )


# -- blocks of adjacent outputs, accumulated together -----------------------------------
@rjit
def _lane_acc(op, a, pa, c0, c1, kas, rt, rn, rs, k0, k1, zero):
    """Outputs c0..c1 of one kept row over reduced positions [k0, k1), as an array of the
    accumulator type (max/min values are exact in it)."""
    width = c1 - c0
    acc = np.full(width, zero + 1 if op in (PROD, ALL) else zero)
    j = k0 // rn
    c = k0 - j * rn
    if op in (MAX, MIN):
        for lane in range(width):
            acc[lane] = a[U(pa + rt[j] + c * rs + (c0 + lane) * kas)]
    for _ in range(k0, k1):
        p = pa + rt[j] + c * rs + c0 * kas
        if op == SUM and kas == 1:
            for lane in range(width):
                acc[lane] += a[U(p + lane)]
        elif op == SUM:
            for lane in range(width):
                acc[lane] += a[U(p + lane * kas)]
        elif op == PROD:
            for lane in range(width):
                acc[lane] *= a[U(p + lane * kas)]
        elif op == ANY:
            for lane in range(width):
                acc[lane] = acc[lane] + (a[U(p + lane * kas)] != 0) > 0
        elif op == ALL:
            for lane in range(width):
                acc[lane] = acc[lane] * (a[U(p + lane * kas)] != 0)
        else:
            for lane in range(width):
                v = a[U(p + lane * kas)]
                b = acc[lane]
                if (v > b if op == MAX else v < b) or v != v:
                    acc[lane] = v
        c += 1
        if c == rn:
            c = 0
            j += 1
    return acc


@rjit
def _lanes(op, o, a, kta, kto, kn, kas, kos, rt, rn, rs, c0, c1, j0, j1, zero):
    """Kept rows j0..j1, outputs c0..c1 of each, over the whole reduced space."""
    total = rt.shape[0] * rn
    for j in range(j0, j1):
        acc = _lane_acc(op, a, kta[j], c0, c1, kas, rt, rn, rs, 0, total, zero)
        for lane in range(c1 - c0):
            o[U(kto[j] + (c0 + lane) * kos)] = acc[lane]


@prjit
def _lanes_par(op, o, a, kta, kto, kn, kas, kos, rt, rn, rs, block, zero):
    blocks = (kn + block - 1) // block
    for t in prange(kta.shape[0] * blocks):
        j = t // blocks
        c0 = (t - j * blocks) * block
        _lanes(op, o, a, kta, kto, kn, kas, kos, rt, rn, rs, c0, min(c0 + block, kn), j, j + 1,
               zero)  # fmt: skip


@prjit
def _lanes_split_par(op, o, a, kta, kto, kn, kas, kos, rt, rn, rs, partial, zero):
    """Few kept rows: each row's reduced space in `pieces` streamed in parallel (whole
    rows of input per step), then the per-piece partials combined lane by lane."""
    total = rt.shape[0] * rn
    rows = kta.shape[0]
    pieces = partial.shape[0] // rows
    for t in prange(rows * pieces):
        j = t // pieces
        piece = t - j * pieces
        k0 = piece * total // pieces
        k1 = (piece + 1) * total // pieces
        partial[t] = _lane_acc(op, a, kta[j], 0, kn, kas, rt, rn, rs, k0, k1, zero)
    for t in prange(rows * pieces):  # `pieces` chunks of lanes per row
        j = t // pieces
        piece = t - j * pieces
        for lane in range(piece * kn // pieces, (piece + 1) * kn // pieces):
            acc = partial[j * pieces, lane]
            for q in range(j * pieces + 1, (j + 1) * pieces):
                v = partial[q, lane]
                if op == SUM:
                    acc += v
                elif op in (PROD, ALL):
                    acc *= v
                elif op == ANY:
                    acc = max(acc, v)
                elif acc == acc and ((v > acc if op == MAX else v < acc) or v != v):
                    acc = v  # a NaN, once there, stays
            o[U(kto[j] + lane * kos)] = acc


# -- few outputs: pieces of each reduced space in parallel, then combined ------------------
@prjit
def _split_par(op, a, kta, kn, kas, rt, rn, rs, pieces, values, wheres, zero):
    total = rt.shape[0] * rn
    m = kta.shape[0] * kn
    for t in prange(m * pieces):
        out = t // pieces
        piece = t - out * pieces
        j = out // kn
        k0 = piece * total // pieces
        k1 = (piece + 1) * total // pieces
        if k0 < k1:
            value, where = _span(op, a, kta[j] + (out - j * kn) * kas, rt, rn, rs, k0, k1, zero)
            values[t] = value
            wheres[t] = where
        else:
            wheres[t] = -1  # an empty piece


@rjit
def _combine(op, o, kto, kn, kos, pieces, values, wheres):
    m = kto.shape[0] * kn
    for out in range(m):
        j = out // kn
        po = U(kto[j] + (out - j * kn) * kos)
        first = out * pieces
        acc = values[first]
        where = wheres[first]
        for t in range(first + 1, first + pieces):
            if wheres[t] < 0:
                continue
            v = values[t]
            if op == SUM:
                acc += v
            elif op == PROD:
                acc *= v
            elif op == ANY:
                acc = max(acc, v)
            elif op == ALL:
                acc = min(acc, v)
            elif acc == acc:
                better = v > acc if (op in (MAX, ARGMAX)) else v < acc
                if better or v != v:
                    acc = v
                    where = wheres[t]
        if op in (ARGMAX, ARGMIN):
            o[po] = where
        else:
            o[po] = acc
