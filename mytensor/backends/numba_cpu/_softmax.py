"""float32 softmax / log_softmax along contiguous rows: the row maxima, the exponentials
(`_vmath.expf`, vectorised), their sum and the scaling in one kernel; and cross-entropy's
backward from the log-probabilities (`cross_entropy_backward`), and softmax's and
log_softmax's (`backward_rows`), one pass each.

numpy's five passes (max, subtract, exp, sum, divide) read and write the whole array
five times; here the rows are read three times and written twice, and the maxima run in
the kernel's threads too (numpy's row maxima are single-threaded: 32 of ~135 us for
256x1000 on two threads). A NaN or +inf in a row need no test of their own: exp of ``x
- max`` is NaN there, so the row's sum and every output are NaN, as in the reference,
whichever maximum the NaN-skipping compare found.

The arrays are flat and indexed as ``unsigned(row start + j)``: slicing a row per
iteration costs a reference count each, and a signed computed index keeps numba's
negative-index wraparound, which turns the loads into gathers.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mytensor.backends.numba_cpu._jit import CACHE_DIR
from mytensor.backends.numba_cpu._vmath import expf

__all__ = ["backward_rows", "backward_rows_parallel", "cross_entropy_backward", "row_max",
           "rows", "rows_parallel"]

U = np.uint64
_CACHED = CACHE_DIR is not None


@numba.njit(inline="always")
def _larger(v, m):
    # the compare skips NaN (False either way) and keeps the earlier of equal values
    return v if v > m else m


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True)
def row_max(x, base, n):
    """The first maximum of ``x[base : base + n]`` that is not NaN (-inf if none), as a
    loop of compares finds it. A compare loop does not vectorise (a NaN makes it order
    dependent), so eight of them run side by side, on every eighth element, which LLVM
    packs into one vector compare (3.5x faster on rows of 1000). Equal values are the
    same bits except zeros, so only a zero maximum needs the first one in row order."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = np.float32(-np.inf)
    j = 0
    while j + 8 <= n:
        p = base + j
        m0, m1 = _larger(x[U(p)], m0), _larger(x[U(p + 1)], m1)
        m2, m3 = _larger(x[U(p + 2)], m2), _larger(x[U(p + 3)], m3)
        m4, m5 = _larger(x[U(p + 4)], m4), _larger(x[U(p + 5)], m5)
        m6, m7 = _larger(x[U(p + 6)], m6), _larger(x[U(p + 7)], m7)
        j += 8
    while j < n:
        m0 = _larger(x[U(base + j)], m0)
        j += 1
    m0, m2, m4, m6 = _larger(m1, m0), _larger(m3, m2), _larger(m5, m4), _larger(m7, m6)
    m0, m4 = _larger(m2, m0), _larger(m6, m4)
    best = _larger(m4, m0)
    if best == 0:  # +0.0 or -0.0: the sign of the first zero
        for j in range(n):
            v = x[U(base + j)]
            if v == 0:
                return v
    return best


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True, fastmath={"reassoc"})
def _dot(a, b, start, n):
    # each product rounded to float32, the sum reassociated (vectorised), as `_sum`
    total = np.float32(0.0)
    for j in range(n):
        total += a[U(start + j)] * b[U(start + j)]
    return total


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True, fastmath={"reassoc"})
def _sum(x, start, n):
    # reassociated, so it vectorises: blocked partial sums (numpy's pairwise sum also
    # reorders the additions)
    total = np.float32(0.0)
    for j in range(n):
        total += x[U(start + j)]
    return total


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True)
def rows(out, x, cols, log):
    """softmax (or log_softmax) of the rows of `cols` elements of the flat C-contiguous
    float32 `x` into `out`."""
    for r in range(x.size // cols):
        base = r * cols
        shift = row_max(x, base, cols)
        if log and shift == -np.inf:
            shift = np.float32(0.0)  # a row of only -inf: -inf - log(0) is NaN below
        for j in range(cols):
            out[U(base + j)] = expf(x[U(base + j)] - shift)
        total = _sum(out, base, cols)
        if log:
            log_total = np.float32(math.log(total))
            for j in range(cols):
                out[U(base + j)] = (x[U(base + j)] - shift) - log_total
        else:
            scale = np.float32(1.0) / total  # a multiply per element, not a divide
            for j in range(cols):
                out[U(base + j)] = out[U(base + j)] * scale


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True, parallel=True)
def rows_parallel(out, x, cols, log, chunks):
    """`rows` on `chunks` blocks of whole rows in parallel."""
    count = x.size // cols
    for c in numba.prange(chunks):
        first, stop = c * count // chunks, (c + 1) * count // chunks
        rows(out[first * cols : stop * cols], x[first * cols : stop * cols], cols, log)


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True)
def backward_rows(dx, y, g, cols, log):
    """softmax's gradient ``y * (g - sum(g * y))`` (or log_softmax's, ``g - exp(y) *
    sum(g)``) along rows of `cols` elements of the flat C-contiguous float32 `y` and `g`."""
    for r in range(y.size // cols):
        base = r * cols
        if log:
            s = _sum(g, base, cols)
            for j in range(cols):
                dx[U(base + j)] = g[U(base + j)] - expf(y[U(base + j)]) * s
        else:
            s = _dot(g, y, base, cols)
            for j in range(cols):
                dx[U(base + j)] = y[U(base + j)] * (g[U(base + j)] - s)


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True, parallel=True)
def backward_rows_parallel(dx, y, g, cols, log, chunks):
    """`backward_rows` on `chunks` blocks of whole rows in parallel."""
    count = y.size // cols
    for c in numba.prange(chunks):
        lo, hi = c * count // chunks * cols, (c + 1) * count // chunks * cols
        backward_rows(dx[lo:hi], y[lo:hi], g[lo:hi], cols, log)


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True)
def _cross_entropy_rows(d, d0, logp, p0, target, t0, ts, scale, s0, ss, cols, first, stop):
    # target and scale are read once per row, with signed strides (either may be 0 or < 0)
    for r in range(first, stop):
        out, row = d0 + r * cols, p0 + r * cols
        k = scale[s0 + r * ss]
        for j in range(cols):
            d[U(out + j)] = expf(logp[U(row + j)]) * k
        t = target[t0 + r * ts]
        d[U(out + t)] = (expf(logp[U(row + t)]) - np.float32(1.0)) * k


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True, parallel=True)
def _cross_entropy_parallel(d, d0, logp, p0, target, t0, ts, scale, s0, ss, rows, cols,
                            chunks):  # fmt: skip
    for c in numba.prange(chunks):
        _cross_entropy_rows(d, d0, logp, p0, target, t0, ts, scale, s0, ss, cols,
                            c * rows // chunks, (c + 1) * rows // chunks)  # fmt: skip


def cross_entropy_backward(d, d0, logp, p0, target, t0, ts, scale, s0, ss, rows, cols,
                           chunks):  # fmt: skip
    """float32 ``d = (exp(logp) - onehot(target)) * scale`` row by row (the contract's
    rounding: expf as the backend's exp map, then the -1 at the target, then the scale),
    on `chunks` blocks of rows in parallel when more than one: 256x1000 in 83-90 us, the
    composite's exp, scatter and multiply passes in 149-179."""
    if chunks > 1:
        _cross_entropy_parallel(d, d0, logp, p0, target, t0, ts, scale, s0, ss, rows, cols,
                                chunks)  # fmt: skip
    else:
        _cross_entropy_rows(d, d0, logp, p0, target, t0, ts, scale, s0, ss, cols, 0, rows)
