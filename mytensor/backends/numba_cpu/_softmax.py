"""float32 softmax / log_softmax along contiguous rows: the exponentials (`_vmath.expf`,
vectorised), their sum and the scaling in one kernel, after numpy's row maxima.

numpy's five passes (max, subtract, exp, sum, divide) read and write the whole array
five times; here the rows are read twice and written twice. The maxima stay numpy's:
its reduction is SIMD with NaN propagation, which a numba loop of compares does not
vectorise to. A NaN or +inf in a row need no test of their own: exp of ``x - max``
is NaN there, so the row's sum and every output are NaN, as in the reference.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mytensor.backends.numba_cpu._jit import CACHE_DIR
from mytensor.backends.numba_cpu._vmath import expf

_CACHED = CACHE_DIR is not None


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True, fastmath={"reassoc"})
def _sum(x):
    # reassociated, so it vectorises: blocked partial sums (numpy's pairwise sum also
    # reorders the additions)
    total = np.float32(0.0)
    for j in range(x.size):
        total += x[j]
    return total


@numba.njit(cache=_CACHED, error_model="numpy", nogil=True)
def rows(out, x, maxima, log):
    """softmax (or log_softmax) of each row of the C-contiguous float32 (rows, cols)
    arrays `x` into `out`, ``maxima[r]`` the maximum of row ``r``."""
    # the rows as slices, indexed from 0 by the loop counter: an index computed from an
    # offset keeps numba's negative-index wraparound, and the loads become gathers
    for r in range(x.shape[0]):
        xr, o = x[r], out[r]
        shift = maxima[r]
        if log and shift == -np.inf:
            shift = np.float32(0.0)  # a row of only -inf: -inf - log(0) is NaN below
        for j in range(xr.size):
            o[j] = expf(xr[j] - shift)
        total = _sum(o)
        if log:
            log_total = np.float32(math.log(total))
            for j in range(xr.size):
                o[j] = (xr[j] - shift) - log_total
        else:
            scale = np.float32(1.0) / total  # a multiply per element, not a divide
            for j in range(xr.size):
                o[j] = o[j] * scale
