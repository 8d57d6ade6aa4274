"""`Work`: the handle of a collective in flight (what ``async_op=True`` returns).

Every collective is started as MPI's non-blocking form (``Iallreduce``, ``Ibcast``,
...) and waited on by polling ``MPI_Test`` against the group's timeout: a blocking MPI
call cannot be interrupted, so this is how a collective gets a timeout at all. Polling
is also what drives MPICH's progress engine, so the bucketed all-reduces that
DistributedDataParallel starts during backward advance whenever any request is tested.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from mytensor.distributed._group import STATE, DistBackendError, mpi

__all__ = ["Work", "wait_for"]

# spin on MPI_Test this long before yielding the CPU between tests (short collectives
# finish within it; long ones lose at most the sleep per test)
_SPIN_SECONDS = 0.01
_SLEEP_SECONDS = 1e-4
# `wait_for`'s tests before the timed loop: ~0.3 us each
_QUICK_TESTS = 256


class Work:
    """A collective in flight: `wait()` blocks until it is done (and its results are
    written back into the tensors), `is_completed()` asks without blocking.

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> x = mt.ones(3)
    >>> work = dist.all_reduce(x, async_op=True)
    >>> work.wait(), work.is_completed(), x.tolist() == [float(dist.get_world_size())] * 3
    (True, True, True)
    >>> dist.destroy_process_group()
    """

    def __init__(
        self,
        op: str,
        requests: Any,
        *,
        detail: Any,
        finish: Callable[[], Any] | None = None,
        keep: Any = None,
    ) -> None:
        self.op = op
        self._keep = keep  # buffers MPI reads until the request completes
        self._requests = requests if isinstance(requests, list) else [requests]
        # what the timeout's message names: a string, or a tensor (formatted only then:
        # this runs per call)
        self._detail = detail
        self._finish = finish
        self._done = False
        self._result: Any = None
        self._status: Any = None  # a recv's (see `source`)

    def _test(self) -> bool:
        if len(self._requests) == 1:
            return bool(self._requests[0].Test(self._status))
        return bool(mpi().Request.Testall(self._requests))

    def _complete(self) -> None:
        self._done = True
        self._keep = None
        if self._finish is not None:
            self._result = self._finish()
            self._finish = None

    def is_completed(self) -> bool:
        """True once the collective has finished on this rank (non-blocking)."""
        if not self._done and self._test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        """True once completed (a failed collective raises instead of returning)."""
        return self.is_completed()

    def wait(self, timeout: timedelta | None = None) -> bool:
        """Block until done, at most `timeout` (default: the group's, set by
        `init_process_group`); past it, raise `DistBackendError`. Returns True."""
        if self._done:
            return True
        limit = STATE.timeout if timeout is None else timeout.total_seconds()
        start = time.perf_counter()
        while not self._test():
            waited = time.perf_counter() - start
            if waited > limit:
                raise DistBackendError(self._timeout_message(waited))
            if waited > _SPIN_SECONDS:
                time.sleep(_SLEEP_SECONDS)
        self._complete()
        return True

    def result(self) -> Any:
        """The collective's output tensors (after `wait`)."""
        self.wait()
        return self._result

    def source(self) -> int:
        """The rank a `recv`/`irecv` got its message from (after `wait`)."""
        self.wait()
        return int(self._status.Get_source()) if self._status is not None else -1

    def _timeout_message(self, waited: float) -> str:
        comm = STATE.comm
        where = f"rank {comm.rank} of {comm.size}" if comm is not None else "this rank"
        detail = self._detail
        if not isinstance(detail, str):
            from mytensor.distributed._buffers import describe

            detail = describe(detail)
        return (
            f"{self.op}({detail}) timed out on {where} after {waited:.1f} s: "
            "some rank has not joined it; every rank must call the same collectives in the "
            "same order with matching shapes and dtypes (or raise timeout= in "
            "init_process_group if a rank is legitimately slower)"
        )

    def __repr__(self) -> str:
        return f"<Work {self.op} {'completed' if self._done else 'in flight'}>"


def wait_for(requests: Any, op: str, detail: Any) -> None:
    """What ``Work(op, requests, detail=detail).wait()`` does, for a synchronous
    collective: first a bounded run of bare tests (well under a millisecond, far below
    any timeout), in which a short message completes without the handle's bookkeeping."""
    if not isinstance(requests, list):
        test = requests.Test
        for _ in range(_QUICK_TESTS):
            if test():
                return
    Work(op, requests, detail=detail).wait()
