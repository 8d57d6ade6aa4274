"""A faster block scheduler for numba's CUDA simulator (tests only).

The simulator runs every CUDA thread of a block as a Python thread (kept here: that is
what makes it run the real kernel code, ``syncthreads`` and shared memory included).
Its stock block manager, though, busy-polls its threads until they finish or all sit
in ``syncthreads``; on a small, shared machine that poll loop competes for the GIL with
the threads it waits for, and a launch costs tens of milliseconds.

`install` replaces that manager with one that starts the same threads and waits on
them with ``join``, and turns ``syncthreads`` into a condition-variable barrier over the
block's live threads (a thread that has returned no longer counts, as in the stock
manager). Semantics are unchanged: the same threads, the same barrier points, the same
exception propagation. It is installed only under the simulator, and
``MYTENSOR_CUDASIM_FAST_BLOCKS=0`` keeps numba's own manager.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

__all__ = ["Aborted", "BlockBarrier", "install"]


class Aborted(RuntimeError):
    """Raised in the threads waiting at a barrier when another thread of the block raised."""


class BlockBarrier:
    """``syncthreads`` for one block: releases when every live thread is waiting."""

    def __init__(self, threads: int) -> None:
        self._cond = threading.Condition()
        self._live = threads
        self._waiting = 0
        self._generation = 0
        self.broken = False

    def wait(self) -> None:
        with self._cond:
            if self.broken:
                raise Aborted("another thread of this block raised; syncthreads aborted")
            generation = self._generation
            self._waiting += 1
            if self._waiting == self._live:
                self._release()
                return
            while generation == self._generation and not self.broken:
                self._cond.wait()
            if self.broken:
                raise Aborted("another thread of this block raised; syncthreads aborted")

    def leave(self, failed: bool) -> None:
        """A thread returned (or raised): it no longer takes part in the barrier."""
        with self._cond:
            self._live -= 1
            if failed:
                self.broken = True
                self._cond.notify_all()
            elif self._live and self._waiting == self._live:
                self._release()

    def _release(self) -> None:
        self._waiting = 0
        self._generation += 1
        self._cond.notify_all()


def install() -> bool:
    """Use the join/barrier block manager in numba's simulator; False if not installed."""
    if os.environ.get("MYTENSOR_CUDASIM_FAST_BLOCKS", "1").strip() in ("0", "off", "false"):
        return False
    from numba.cuda.simulator import kernel as sim

    if getattr(sim.BlockManager, "mytensor_fast", False):
        return True
    stock_manager, stock_thread = sim.BlockManager, sim.BlockThread

    class FastBlockThread(stock_thread):
        def run(self) -> None:
            try:
                super().run()  # stores an exception on self.exception, like the stock one
            finally:
                self._manager.barrier.leave(self.exception is not None)

        def syncthreads(self) -> None:
            self._manager.barrier.wait()

    class FastBlockManager(stock_manager):
        mytensor_fast = True

        def run(self, grid_point: Any, *args: Any) -> None:
            points = list(np.ndindex(*self._block_dim))
            self.barrier = BlockBarrier(len(points))
            threads = [FastBlockThread(lambda: self._f(*args), self, grid_point, point,
                                       self._debug) for point in points]  # fmt: skip
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            failures = [t.exception for t in threads if t.exception]
            failures.sort(key=lambda failure: isinstance(failure[0], Aborted))  # the cause first
            if failures:
                raise failures[0][0].with_traceback(failures[0][1])

    sim.BlockManager = FastBlockManager
    return True
