"""Small matrix products on one BLAS thread.

numpy's OpenBLAS splits a product across its thread pool once it is past a few hundred
thousand multiply-adds. On a small product the split saves little when the machine is
idle (a (16, 512) x (512, 128) float32 product: 29 us on two threads, 35 us on one) and
costs a scheduler time slice whenever another process holds a core, because the caller
waits for every pool thread: the same product's median went to 12 ms on two threads and
stayed at 37 us on one, with a second job running on a 2-core machine. The LSTM and
attention steps are made of such products. Below `SMALL_PRODUCT` multiply-adds the
product runs with the pool held to one thread (the previous count is restored after).

The thread-count functions are found through numpy's own extension module, whose
``dlopen`` handle also searches the BLAS it links; where numpy's BLAS is not OpenBLAS
(MKL, Accelerate) none is found and products run as numpy runs them.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable

import numpy as np

__all__ = ["SMALL_PRODUCT", "matmul"]

# multiply-adds (m * n * k) below which a product runs on one thread
SMALL_PRODUCT = int(os.environ.get("MYTENSOR_NUMBA_SMALL_MATMUL", 1 << 21))

_product = np.matmul
_NAMES = ("scipy_openblas{}64_", "scipy_openblas{}", "openblas{}64_", "openblas{}")


@functools.cache
def _thread_count_api() -> tuple[Callable, Callable] | None:
    """``(get_num_threads, set_num_threads)`` of numpy's OpenBLAS, or None."""
    try:
        lib = ctypes.CDLL(np._core._multiarray_umath.__file__)
    except (AttributeError, OSError):
        return None
    for pattern in _NAMES:
        try:
            return (getattr(lib, pattern.format("_get_num_threads")),
                    getattr(lib, pattern.format("_set_num_threads")))  # fmt: skip
        except AttributeError:
            continue
    return None


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``np.matmul(a, b, out=out)``; a small product on one BLAS thread."""
    api = _thread_count_api()
    if api is None or a.shape[-2] * a.shape[-1] * b.shape[-1] >= SMALL_PRODUCT:
        _product(a, b, out=out)
        return
    get, set_ = api
    before = get()
    if before == 1:
        _product(a, b, out=out)
        return
    set_(1)
    try:
        _product(a, b, out=out)
    finally:
        set_(before)
