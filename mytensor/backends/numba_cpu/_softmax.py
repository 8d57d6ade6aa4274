"""float32 softmax / log_softmax along contiguous rows: the exponentials (`_vmath.expf`,
vectorised), their sum and the scaling in one kernel.

numpy's five passes (max, subtract, exp, sum, divide) read and write the whole array
five times; here the rows are read twice and written twice. Long rows take their maxima
from numpy (its reduction is SIMD with NaN propagation, which a numba loop of compares
does not vectorise to); short ones, where numpy's per-row cost dominates (1024 rows of
32: 108 us), find them in the kernel. A NaN or +inf in a row need no test of their own:
exp of ``x - max`` is NaN there, so the row's sum and every output are NaN, as in the
reference, whichever maximum the NaN-skipping compare found.

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

__all__ = ["NUMPY_MAXIMA_FROM", "rows", "rows_parallel"]

# from this many columns numpy's row maxima are faster than the kernel's compare loop
NUMPY_MAXIMA_FROM = 128

U = np.uint64
_CACHED = CACHE_DIR is not None


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True, fastmath={"reassoc"})
def _sum(x, start, n):
    # reassociated, so it vectorises: blocked partial sums (numpy's pairwise sum also
    # reorders the additions)
    total = np.float32(0.0)
    for j in range(n):
        total += x[U(start + j)]
    return total


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True)
def rows(out, x, maxima, cols, log):
    """softmax (or log_softmax) of the rows of `cols` elements of the flat C-contiguous
    float32 `x` into `out`; ``maxima[r]`` is row r's maximum, or `maxima` is empty and
    the kernel finds them."""
    for r in range(x.size // cols):
        base = r * cols
        if maxima.size:
            shift = maxima[r]
        else:
            shift = np.float32(-np.inf)
            for j in range(cols):
                v = x[U(base + j)]
                shift = v if v > shift else shift
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
def rows_parallel(out, x, maxima, cols, log, chunks):
    """`rows` on `chunks` blocks of whole rows in parallel (`maxima` as there)."""
    count = x.size // cols
    for c in numba.prange(chunks):
        first, stop = c * count // chunks, (c + 1) * count // chunks
        part = maxima[first:stop] if maxima.size else maxima
        rows(out[first * cols : stop * cols], x[first * cols : stop * cols], part, cols, log)
