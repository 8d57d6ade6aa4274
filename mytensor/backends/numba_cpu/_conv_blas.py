"""The BLAS behind numba's ``np.dot``, held to one thread while the conv kernels run.

numba's ``np.dot`` calls the BLAS that SciPy links (``scipy.linalg.cython_blas``), an
OpenBLAS with its own thread pool. Called from two numba threads at once, that pool
serialises them and the calls stall: 64 (32, 144) x (144, 196) products took 8 ms
instead of 0.8 ms on 2 cores. The conv kernels already run one sample per thread, so
the BLAS gets one thread for the length of each call (the previous count is restored;
the pair of calls costs under a microsecond). Where SciPy is missing, or its BLAS has
no thread-count function we know, `available()` is False and the conv runs its
per-sample NumPy path instead. SciPy is looked up at the first conv, not at import.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from collections.abc import Callable, Iterator


@functools.cache
def _thread_count_api() -> tuple[Callable, Callable] | None:
    """``(get_num_threads, set_num_threads)`` of SciPy's OpenBLAS, or None."""
    try:
        from scipy.linalg import cython_blas

        # a dlopen handle's lookups also search the libraries it links
        lib = ctypes.CDLL(cython_blas.__file__)
    except (ImportError, OSError):
        return None
    for prefix in ("scipy_openblas", "openblas"):
        try:
            get = getattr(lib, f"{prefix}_get_num_threads")
            return get, getattr(lib, f"{prefix}_set_num_threads")
        except AttributeError:
            continue
    return None


def available() -> bool:
    """Whether `one_blas_thread` can hold numba's BLAS to one thread here."""
    return _thread_count_api() is not None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """numba's BLAS on one thread inside the block (needs `available`)."""
    get, set_ = _thread_count_api()
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)
