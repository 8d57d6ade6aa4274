"""The numba_cpu backend: parallel CPU kernels (numba ``njit``/``prange``), BLAS for matmul.

Select it with ``MYTENSOR_BACKEND=numba_cpu`` (or ``mt.set_backend("numba_cpu")``). This
package imports nothing heavy: numba is imported the first time the backend is used.

Host buffers come from a size-bucketed caching allocator, so a freed intermediate buffer
is reused instead of allocated and first-touched again. Turn it off with
``MYTENSOR_NUMBA_CACHING=0`` or `set_caching`, and read its counters with `memory_stats`:

>>> from mytensor.backends import numba_cpu
>>> sorted(numba_cpu.memory_stats())[:3]
['cached_blocks', 'cached_bytes', 'dropped']
"""

from __future__ import annotations

__all__ = ["empty_cache", "memory_stats", "set_caching"]


def memory_stats() -> dict[str, int | bool]:
    """Counters of the host caching allocator (hits, misses, bytes cached and in use)."""
    from mytensor.backends.numba_cpu.allocator import ALLOCATOR

    return ALLOCATOR.stats()


def set_caching(enabled: bool) -> None:
    """Turn buffer reuse on or off (off also frees every cached block)."""
    from mytensor.backends.numba_cpu.allocator import ALLOCATOR

    ALLOCATOR.set_enabled(enabled)


def empty_cache() -> None:
    """Free every cached block (buffers in use are untouched)."""
    from mytensor.backends.numba_cpu.allocator import ALLOCATOR

    ALLOCATOR.empty_cache()
