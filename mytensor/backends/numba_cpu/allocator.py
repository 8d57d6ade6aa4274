"""A size-bucketed caching allocator for host buffers (PyTorch's CUDA caching allocator,
on the host).

At 10^7 elements, allocating and first-touching a fresh output costs more than the
arithmetic that fills it: the pages of a large `np.empty` come fresh from the kernel
and fault in on first write. So large buffers are carved from cached blocks: a block's
size is rounded up to a bucket (four per power of two), and when the last array using a
block dies the block goes back to its bucket's free list instead of to the OS.

Buffers smaller than `min_bytes` come straight from `np.empty` (malloc reuses those
cheaply on its own). The bar is glibc's first mmap threshold, 128 KiB: from there malloc
may map fresh pages, or give back the heap's top and grow it again, and every page
then faults in on first write. A transformer block's step (buffers of 128-256 KiB among
many live ones) took 259 page faults a step with the bar at 256 KiB, 3.3-3.9 against
2.7 ms; none at 128. Cached blocks are capped at `max_cached_bytes`; beyond that a
returned block is freed. Turn the cache off with ``MYTENSOR_NUMBA_CACHING=0`` or
`CachingAllocator.set_enabled`; `stats` reports its counters.

Every free-list operation is a single list append or pop, atomic under the GIL, so a
block returned from a weak reference's callback (which can run in the middle of an
allocation, when the garbage collector kicks in) never sees a half-updated list.
"""

from __future__ import annotations

import os
import weakref

import numpy as np

MIN_BYTES = 1 << 17  # 128 KiB: below this malloc is as fast as a free list
MAX_CACHED_BYTES = 1 << 31  # 2 GiB of idle blocks at most


def bucket_bytes(nbytes: int) -> int:
    """`nbytes` rounded up to one of four sizes per power of two (<= 25% waste)."""
    top = 1 << (nbytes - 1).bit_length()  # the power of two >= nbytes
    quarter = top >> 3  # steps of 1/8 of top = 1/4 of the power below
    return -(-nbytes // quarter) * quarter if quarter else top


class CachingAllocator:
    """Hands out 1-d numpy arrays; large ones reuse freed blocks of the same bucket."""

    _COUNTERS = ("hits", "misses", "releases", "dropped", "cached_bytes", "in_use_bytes",
                 "peak_in_use_bytes")  # fmt: skip

    def __init__(self, enabled: bool = True, min_bytes: int = MIN_BYTES,
                 max_cached_bytes: int = MAX_CACHED_BYTES) -> None:  # fmt: skip
        self.enabled = enabled
        self.min_bytes = min_bytes
        self.max_cached_bytes = max_cached_bytes
        self._free: dict[int, list[np.ndarray]] = {}
        # id(weak reference to an array handed out) -> (that reference, its block): the
        # reference's callback returns the block when the array dies (a plain weakref
        # callback: weakref.finalize cost ~1.3 us more per allocation)
        self._out: dict[int, tuple[weakref.ref, np.ndarray]] = {}
        self._died_callback = self._died  # bound once, not per allocation
        self._buckets: dict[int, int] = {}  # nbytes -> bucket_bytes(nbytes)
        # counters as attributes: an allocation and its release cost ~2.1 us with them in
        # a dict, ~1.5 us as attributes with the bucket sizes remembered
        for name in self._COUNTERS:
            setattr(self, name, 0)

    def allocate(self, size: int, dtype: np.dtype) -> np.ndarray:
        nbytes = size * dtype.itemsize
        if nbytes < self.min_bytes or not self.enabled:
            return np.empty(size, dtype)
        bucket = self._buckets.get(nbytes)
        if bucket is None:
            if len(self._buckets) > 4096:
                self._buckets.clear()
            bucket = self._buckets[nbytes] = bucket_bytes(nbytes)
        free = self._free.get(bucket)
        try:
            block = free.pop()  # type: ignore[union-attr]
        except (AttributeError, IndexError):
            block = np.empty(bucket, np.uint8)
            self.misses += 1
        else:
            self.hits += 1
            self.cached_bytes -= bucket
        # through a memoryview, so views of the array keep *it* (not the block) alive:
        # the block returns to the pool only when nothing can reach it any more
        array = np.frombuffer(memoryview(block)[:nbytes], dtype)
        ref = weakref.ref(array, self._died_callback)
        self._out[id(ref)] = (ref, block)
        in_use = self.in_use_bytes = self.in_use_bytes + bucket
        if in_use > self.peak_in_use_bytes:
            self.peak_in_use_bytes = in_use
        return array

    def _died(self, ref: weakref.ref) -> None:
        entry = self._out.pop(id(ref), None)
        if entry is not None:
            self._release(entry[1])

    def _release(self, block: np.ndarray) -> None:
        size = block.size
        self.in_use_bytes -= size
        if not self.enabled or self.cached_bytes + size > self.max_cached_bytes:
            self.dropped += 1
            return
        self.releases += 1
        self.cached_bytes += size
        self._free.setdefault(size, []).append(block)

    def empty_cache(self) -> None:
        """Free every idle block."""
        for blocks in list(self._free.values()):
            while blocks:
                try:
                    block = blocks.pop()
                except IndexError:
                    break
                self.cached_bytes -= block.size

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        if not self.enabled:
            self.empty_cache()

    def stats(self) -> dict[str, int | bool]:
        """Counters: hits/misses of the free lists, blocks returned (`releases`) or freed
        because caching was off or full (`dropped`), and bytes idle, in use and at peak."""
        cached_blocks = sum(len(blocks) for blocks in self._free.values())
        counters = {name: getattr(self, name) for name in self._COUNTERS}
        return {"enabled": self.enabled, "cached_blocks": cached_blocks, **counters}


def _enabled_from_env() -> bool:
    value = os.environ.get("MYTENSOR_NUMBA_CACHING", "1").strip().lower()
    return value not in ("0", "false", "off", "no")


ALLOCATOR = CachingAllocator(enabled=_enabled_from_env())
