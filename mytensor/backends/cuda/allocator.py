"""Caching device allocators: every buffer is a 1-d numba device array.

``cudaMalloc``/``cudaFree`` synchronize the device and cost tens of microseconds, more
than a small kernel, so freed memory is kept and reused:

- `CupyAllocator` (a real GPU with CuPy): CuPy's memory pool owns the memory; each
  buffer is a numba view of a CuPy array (``__cuda_array_interface__``), which keeps the
  CuPy array, and so the pool block, alive exactly as long as the buffer lives.
- `BlockCache` (no CuPy, and the simulator): a size-bucketed cache of numba device
  arrays. A block's size is rounded up to a bucket (four per power of two); when the
  last reference to a buffer dies its block returns to the bucket's free list.

Reuse is safe without synchronization because every kernel and copy of a backend runs
on one stream: work queued on a block before it was freed runs before any work queued
by its next owner (the rule PyTorch's caching allocator follows, per stream).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from numba import cuda

__all__ = ["BlockCache", "CupyAllocator", "bucket_bytes"]

MIN_BLOCK = 512  # bytes: CUDA's allocation granularity makes smaller blocks pointless
MAX_CACHED_BYTES = 1 << 32  # idle blocks kept at most (4 GiB)


def bucket_bytes(nbytes: int) -> int:
    """`nbytes` rounded up to one of four sizes per power of two (<= 25% waste)."""
    if nbytes <= MIN_BLOCK:
        return MIN_BLOCK
    top = 1 << (nbytes - 1).bit_length()
    quarter = top >> 3
    return -(-nbytes // quarter) * quarter


class BlockCache:
    """Hands out 1-d device arrays carved from cached blocks (see the module docstring)."""

    def __init__(self, stream: Any, max_cached_bytes: int = MAX_CACHED_BYTES) -> None:
        self.stream = stream
        self.max_cached_bytes = max_cached_bytes
        self._free: dict[int, list[Any]] = {}
        self._counts = dict.fromkeys(
            ("hits", "misses", "releases", "dropped", "cached_bytes", "in_use_bytes",
             "peak_in_use_bytes"), 0)  # fmt: skip

    def allocate(self, size: int, dtype: np.dtype) -> Any:
        """A device array of `size` elements of `dtype` (uninitialised)."""
        bucket = bucket_bytes(size * dtype.itemsize)
        counts = self._counts
        try:
            block = self._free[bucket].pop()
        except (KeyError, IndexError):
            block = cuda.device_array(bucket, np.uint8, stream=self.stream)
            counts["misses"] += 1
        else:
            counts["hits"] += 1
            counts["cached_bytes"] -= bucket
        array = block[: size * dtype.itemsize].view(dtype)
        weakref.finalize(array, self._release, block, bucket).atexit = False
        counts["in_use_bytes"] += bucket
        counts["peak_in_use_bytes"] = max(counts["peak_in_use_bytes"], counts["in_use_bytes"])
        return array

    def _release(self, block: Any, bucket: int) -> None:
        counts = self._counts
        counts["in_use_bytes"] -= bucket
        if counts["cached_bytes"] + bucket > self.max_cached_bytes:
            counts["dropped"] += 1
            return
        counts["releases"] += 1
        counts["cached_bytes"] += bucket
        self._free.setdefault(bucket, []).append(block)

    def empty_cache(self) -> None:
        """Free every idle block (buffers in use are untouched)."""
        for bucket, blocks in list(self._free.items()):
            while blocks:
                try:
                    blocks.pop()
                except IndexError:  # emptied meanwhile by a finalizer's thread
                    break
                self._counts["cached_bytes"] -= bucket

    def stats(self) -> dict[str, int | str]:
        """Hits and misses of the free lists, blocks returned or dropped, bytes idle/in use."""
        blocks = sum(len(b) for b in self._free.values())
        return {"allocator": "block-cache", "cached_blocks": blocks, **self._counts}


class CupyAllocator:
    """Buffers from CuPy's memory pool, allocated on the backend's stream."""

    def __init__(self, cupy: Any, cupy_stream: Any) -> None:
        self.cupy = cupy
        self.cupy_stream = cupy_stream
        self.pool = cupy.get_default_memory_pool()

    def allocate(self, size: int, dtype: np.dtype) -> Any:
        """A numba view of a fresh CuPy array (the view keeps the CuPy array alive)."""
        with self.cupy_stream:
            array = self.cupy.empty(size, dtype)
        # sync=False: the producer is our own stream, which every consumer shares
        return cuda.as_cuda_array(array, sync=False)

    def empty_cache(self) -> None:
        """Return CuPy's idle pool blocks to the driver."""
        self.pool.free_all_blocks()

    def stats(self) -> dict[str, int | str]:
        """Bytes CuPy's pool holds in use and in total."""
        return {
            "allocator": "cupy-pool",
            "in_use_bytes": int(self.pool.used_bytes()),
            "pool_bytes": int(self.pool.total_bytes()),
        }
