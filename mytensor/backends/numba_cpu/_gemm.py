"""numpy's own BLAS GEMM, called from inside numba kernels (the conv's samples and a
batch of products run it on numba's threads, one GEMM per thread at a time).

numba's ``np.dot`` calls SciPy's OpenBLAS, a second build beside numpy's, and a slower
one where their versions differ: a (32, 144) x (144, 784) float32 product took 100 us
there and 79 us through numpy's (OpenBLAS 0.3.30 and 0.3.31, one thread each). Calling
numpy's ``cblas_?gemm`` directly also takes transposes as flags (``np.dot`` copies an
operand numba can't prove contiguous), accumulates with ``beta = 1``, and needs no SciPy.

The function is found in numpy's extension module, whose ``dlopen`` handle also
searches the libraries it links (`_blas_threads`), under OpenBLAS's names: ``cblas_sgemm``,
or with the ``scipy_`` prefix and the ``64_`` suffix of numpy's ILP64 wheels. The kernels
take it as an argument (a first-class function in numba), not as a global: a global
function pointer would be baked into the on-disk cache, and a new process loads the
library elsewhere.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from mytensor.backends.numba_cpu import _blas_threads
from mytensor.backends.numba_cpu._jit import jit

__all__ = ["NO_TRANS", "TRANS", "available", "function", "gemm"]

_ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
# (prefix, suffix, integer type) of the names tried, ILP64 first
_NAMES = (("scipy_cblas_", "64_", ctypes.c_int64), ("cblas_", "64_", ctypes.c_int64),
          ("scipy_cblas_", "", ctypes.c_int), ("cblas_", "", ctypes.c_int))  # fmt: skip
_SCALARS = {"s": ctypes.c_float, "d": ctypes.c_double}


@functools.cache
def function(dtype: np.dtype):
    """numpy's ``cblas_sgemm`` (float32) or ``cblas_dgemm`` (float64) as a ctypes
    function numba kernels can call, or None (another dtype, or not found)."""
    letter = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}.get(np.dtype(dtype))
    if letter is None:
        return None
    try:
        lib = ctypes.CDLL(np._core._multiarray_umath.__file__)
    except OSError:
        return None
    for prefix, suffix, integer in _NAMES:
        address = getattr(lib, f"{prefix}{letter}gemm{suffix}", None)
        if address is None:
            continue
        scalar, pointer, enum = _SCALARS[letter], ctypes.c_void_p, ctypes.c_int
        prototype = ctypes.CFUNCTYPE(None, enum, enum, enum, integer, integer, integer, scalar,
                                     pointer, integer, pointer, integer, scalar, pointer,
                                     integer)  # fmt: skip
        return prototype(ctypes.cast(address, ctypes.c_void_p).value)
    return None


def available(dtype: np.dtype) -> bool:
    """Whether kernels can run numpy's GEMM for `dtype` on their threads: the function
    is found, and numpy's OpenBLAS can be held to one thread (else two kernel threads
    calling it at once wait on each other; see `_blas_threads`)."""
    return function(dtype) is not None and _blas_threads.numpy_blas_controllable()


@jit
def gemm(fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, out, ldo):
    """``out = op(a) @ op(b) + beta * out`` for row-major matrices given by their first
    element and leading dimension; ``op`` transposes where the flag is `TRANS`. A zero
    `k` with ``beta = 0`` writes zeros (BLAS's rule; leading dims are kept at least 1,
    as BLAS checks)."""
    fn(_ROW_MAJOR, trans_a, trans_b, m, n, k, 1.0, a.ctypes, max(lda, 1), b.ctypes,
       max(ldb, 1), beta, out.ctypes, max(ldo, 1))  # fmt: skip
