"""Holding numpy's OpenBLAS thread pool to one thread.

An OpenBLAS call waits for every thread of its pool, so a split product costs a scheduler
time slice whenever another process holds a core, and two threads calling the same pool
at once serialise. Two places avoid that:

- `matmul`: numpy's product, below `SMALL_PRODUCT` multiply-adds on one thread. The
  split saves little on a small product on an idle machine (a (16, 512) x (512, 128)
  float32 product: 29 us on two threads, 35 us on one) and with a second job on a 2-core
  machine its median went from 37 us on one thread to 12 ms on two. The LSTM and
  attention steps are made of such products. A short one just above OpenBLAS's
  small-matrix size runs as two halves (`SMALL_KERNEL_WORK`). Larger float products
  do not come here: the backend splits them between numba's threads
  (`_batched_matmul.run_blocks`), since OpenBLAS's idle threads spin for ~0.1 s after
  a threaded product and hold the second core against numba's.
- `one_numpy_blas_thread`: the conv kernels and a batch of products call numpy's GEMM
  from two numba threads at once (`_gemm`): on one pool thread each, 64 (32, 144) x
  (144, 196) products take 0.8 ms; sharing the pool, 8 ms.

The thread-count functions are found through numpy's extension module, which links the
BLAS (a ``dlopen`` handle's lookups also search the libraries it links). Where the BLAS
is not OpenBLAS (MKL, Accelerate), none is found: products then run as numpy runs them,
and the conv and batched products take their paths without kernel-side GEMMs.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable

import numpy as np

__all__ = ["SMALL_PRODUCT", "matmul", "numpy_blas_controllable", "one_numpy_blas_thread",
           "product_plan"]

# multiply-adds (m * n * k) below which numpy's product runs on one thread
SMALL_PRODUCT = int(os.environ.get("MYTENSOR_NUMBA_SMALL_MATMUL", 1 << 21))

# A short product (at most SHORT_ROWS rows, a recurrent step's batch) just above
# OpenBLAS's small-matrix size (10^6 multiply-adds, its SkylakeX kernels) runs as two
# halves of rows that each take the small-matrix kernel: (16, 128) x (128, 512), an LSTM
# step's product, 32.9 -> 21.0 us; (16, 512) x (512, 128) 29.3 -> 21.7. Taller products
# gain nothing (128 x 128 x 64: 22.6 -> 20.8; 256 x 64 x 64: 22.9 -> 23.8)
SMALL_KERNEL_WORK = 10**6
SHORT_ROWS = 32

_product = np.matmul
_NAMES = ("scipy_openblas{}64_", "scipy_openblas{}", "openblas{}64_", "openblas{}")


@functools.cache
def _thread_count_api(module_file: str) -> tuple[Callable, Callable] | None:
    """``(get_num_threads, set_num_threads)`` of the OpenBLAS `module_file` links, or None."""
    try:
        lib = ctypes.CDLL(module_file)
    except OSError:
        return None
    for pattern in _NAMES:
        try:
            return (getattr(lib, pattern.format("_get_num_threads")),
                    getattr(lib, pattern.format("_set_num_threads")))  # fmt: skip
        except AttributeError:
            continue
    return None


@functools.cache
def _numpy_api() -> tuple[Callable, Callable] | None:
    return _thread_count_api(np._core._multiarray_umath.__file__)


class _one_thread:
    """An OpenBLAS pool (`api`: its get/set thread-count functions) on one thread inside
    the block, its count restored after. A class, not a contextlib generator: entering and
    leaving cost ~1.5 us less, on small products of ~10 us."""

    __slots__ = ("api", "before")

    def __init__(self, api: tuple[Callable, Callable]) -> None:
        self.api = api

    def __enter__(self) -> None:
        get, set_ = self.api
        self.before = get()
        if self.before != 1:
            set_(1)

    def __exit__(self, *exc: object) -> None:
        if self.before != 1:
            self.api[1](self.before)


def product_plan(rows: int, work: int) -> tuple[bool, bool]:
    """``(one_thread, halves)`` for a product of `rows` rows and `work` multiply-adds:
    whether it runs on one BLAS thread, and (a 2-d one) as two halves of rows."""
    one_thread = work < SMALL_PRODUCT and _numpy_api() is not None
    return one_thread, one_thread and work > SMALL_KERNEL_WORK and rows <= SHORT_ROWS


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``np.matmul(a, b, out=out)``; a small product on one BLAS thread."""
    rows = a.shape[-2]
    one_thread, halves = product_plan(rows, rows * a.shape[-1] * b.shape[-1])
    if not one_thread:
        _product(a, b, out=out)
        return
    with _one_thread(_numpy_api()):
        if halves and a.ndim == 2 and b.ndim == 2:
            half = rows // 2
            _product(a[:half], b, out=out[:half])
            _product(a[half:], b, out=out[half:])
        else:
            _product(a, b, out=out)


def numpy_blas_controllable() -> bool:
    """Whether `one_numpy_blas_thread` can hold numpy's BLAS to one thread."""
    return _numpy_api() is not None


def one_numpy_blas_thread() -> _one_thread:
    """numpy's BLAS on one thread inside the block (needs `numpy_blas_controllable`)."""
    return _one_thread(_numpy_api())
