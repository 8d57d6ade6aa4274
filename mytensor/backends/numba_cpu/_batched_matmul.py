"""Matrix products split between numba's threads, each piece one single-threaded GEMM
(numpy's BLAS called from the kernel, `_gemm`, held to one thread by `_blas_threads`).

- `run`, a batch of products: numpy's matmul runs a batch one product at a time, each
  on OpenBLAS's threads, which meet at a barrier after every product: 32 products of
  128x128 took 1.08 ms there, and 1.7 ms on one thread. Here each thread runs whole
  products, with no barrier between them.
- `run_blocks`, products too large for one thread, as blocks of rows (or of columns)
  on the threads. OpenBLAS's own threads would do it as fast, but they spin for ~0.1 s
  after each product (``OPENBLAS_THREAD_TIMEOUT``), holding the second core against
  numba's threads: a parallel LSTM recurrence right after a threaded 512x32x512
  product took 1.0 ms instead of 0.57, and the LeNet step ~11.5 instead of ~7.5 ms.
  With every product here, numba's pool is the only one, and it stops when done.

Each operand arrives as a stack of distinct C-contiguous matrices plus, per output
matrix, the index of its matrix in that stack (broadcast batch dims repeat an index
rather than copying the matrix). A matrix stored transposed (``k.transpose(-2, -1)``,
or a gradient's ``a.mT``) is passed as its C-contiguous transpose with BLAS's transpose
flag, not copied.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from mytensor.backends.numba_cpu._gemm import NO_TRANS, TRANS, function, gemm
from mytensor.backends.numba_cpu._jit import pjit, prange

__all__ = ["MIN_WORK", "operand", "run", "run_blocks"]

# multiply-adds of the whole batch below which numpy's loop is ahead (a launch and the
# operands' preparation cost ~5 us): 32 products of 32x32x32 (1 M) took 19 us here
# and 22 us there, 4 of 48x48x48 (0.4 M) 11.6 us against 10.2
MIN_WORK = 1 << 20


@pjit
def _products(gemm_fn, res, a, ia, trans_a, b, ib, trans_b):
    """res[i] = op(a[ia[i]]) @ op(b[ib[i]]), ``op`` transposing a stack flagged so."""
    m, n = res.shape[1], res.shape[2]
    k = a.shape[1] if trans_a else a.shape[2]
    flag_a, flag_b = (TRANS if trans_a else NO_TRANS), (TRANS if trans_b else NO_TRANS)
    for i in prange(res.shape[0]):
        gemm(gemm_fn, flag_a, flag_b, m, n, k, a[ia[i]], a.shape[2], b[ib[i]], b.shape[2],
             0.0, res[i], n)  # fmt: skip


@pjit
def _blocks(gemm_fn, res, a, trans_a, b, trans_b, parts, by_rows):
    """res = op(a) @ op(b) as `parts` blocks of res's rows (`by_rows`) or columns."""
    m, n = res.shape
    k = a.shape[0] if trans_a else a.shape[1]
    flag_a, flag_b = (TRANS if trans_a else NO_TRANS), (TRANS if trans_b else NO_TRANS)
    lda, ldb = a.shape[1], b.shape[1]
    size = m if by_rows else n
    for p in prange(parts):
        lo, hi = p * size // parts, (p + 1) * size // parts
        if by_rows:  # op(a)'s rows lo..hi: a's columns when stored transposed
            part_a = a[:, lo:] if trans_a else a[lo:]
            gemm(gemm_fn, flag_a, flag_b, hi - lo, n, k, part_a, lda, b, ldb, 0.0, res[lo:], n)
        else:
            part_b = b[lo:] if trans_b else b[:, lo:]
            gemm(gemm_fn, flag_a, flag_b, m, hi - lo, k, a, lda, part_b, ldb, 0.0, res[:, lo:],
                 n)  # fmt: skip


def operand(x: np.ndarray, batch: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, bool]:
    """`x` (``(..., R, C)``, its batch dims broadcastable to `batch`) as ``(stack,
    index, transposed)``: `stack` holds x's distinct matrices, C-contiguous, as
    ``(count, R, C)`` or, if `transposed`, as ``(count, C, R)``; output matrix ``i``
    (in `batch`'s C order) uses ``stack[index[i]]``. Copies only a matrix that is
    neither C- nor F-contiguous, or batch dims that don't flatten into one stride."""
    if x.shape[:-2] == batch and x.flags.c_contiguous:  # the common case, made cheap
        return x.reshape(-1, *x.shape[-2:]), _identity(math.prod(batch)), False
    item = x.itemsize
    rows, cols = x.shape[-2:]
    transposed = not _c_matrix(x.strides[-2:], rows, cols, item) and _c_matrix(
        x.strides[:-3:-1], cols, rows, item
    )
    if transposed:
        x = x.swapaxes(-1, -2)
    # the distinct matrices: the first along each broadcast (stride-0) batch dim
    distinct = x[tuple(slice(0, 1) if s == 0 else slice(None) for s in x.strides[:-2])]
    stack = np.ascontiguousarray(distinct).reshape(-1, *x.shape[-2:])
    pad = len(batch) - (x.ndim - 2)
    ids = np.arange(len(stack), dtype=np.intp).reshape((1,) * pad + distinct.shape[:-2])
    return stack, np.broadcast_to(ids, batch).ravel(), transposed


@functools.lru_cache(maxsize=64)
def _identity(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.intp)


def _c_matrix(strides: tuple[int, int], rows: int, cols: int, item: int) -> bool:
    """Whether a ``(rows, cols)`` matrix with these strides is C-contiguous."""
    return (cols == 1 or strides[1] == item) and (rows == 1 or strides[0] == cols * item)


def run(res: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """``res = a @ b`` for C-contiguous ``res`` of shape ``(..., M, N)``, the products
    split between numba's threads (float32 or float64, `_gemm.available`). The caller
    holds numpy's BLAS to one thread."""
    batch = res.shape[:-2]
    sa, ia, ta = operand(a, batch)
    sb, ib, tb = operand(b, batch)
    _products(function(res.dtype), res.reshape(-1, *res.shape[-2:]), sa, ia, ta, sb, ib, tb)


def run_blocks(res: np.ndarray, a: np.ndarray, b: np.ndarray, parts: int) -> None:
    """``res = a @ b`` for C-contiguous ``res`` of shape ``(..., M, N)``, each product as
    `parts` blocks of rows (or of columns, where N > M) on numba's threads. As `run`."""
    batch = res.shape[:-2]
    sa, ia, ta = operand(a, batch)
    sb, ib, tb = operand(b, batch)
    by_rows = res.shape[-2] >= res.shape[-1]
    gemm_fn = function(res.dtype)
    for i, out in enumerate(res.reshape(-1, *res.shape[-2:])):
        _blocks(gemm_fn, out, sa[ia[i]], ta, sb[ib[i]], tb, parts, by_rows)
