"""DataLoader worker processes: ordered, deterministic, started with spawn or forkserver.

The parent deals batches of indices round-robin to the workers (batch k always goes to
worker k % n), keeps `prefetch_factor` batches per worker in flight, and yields results in
batch order, buffering any that arrive early. Tensors cross the process boundary as numpy
arrays (`Tensor.__reduce__`). Each task carries an epoch number, so results of an
abandoned epoch are dropped when persistent workers start the next.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import random
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mytensor.core import creation, registry
from mytensor.data.collate import default_collate
from mytensor.data.sampler import make_rng

__all__ = ["MultiProcessIterator", "WorkerInfo", "fetch", "get_worker_info"]


def fetch(dataset: Any, collate_fn: Callable | None, indices: list[int]) -> Any:
    """One batch: the dataset's own `get_batch`, or `collate_fn` over the samples."""
    if collate_fn is None:
        get_batch = getattr(dataset, "get_batch", None)
        if get_batch is not None:
            return get_batch(indices)
        collate_fn = default_collate
    return collate_fn([dataset[i] for i in indices])


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself (see `get_worker_info`)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_WORKER_INFO: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker: its id, the worker count, its seed and its copy of the
    dataset. In the main process: None.

    >>> get_worker_info() is None
    True
    """
    return _WORKER_INFO


class _WorkerError:
    """An exception raised in a worker, carried back as text (it may not pickle)."""

    def __init__(self, worker_id: int, exc: BaseException) -> None:
        self.worker_id = worker_id
        self.type_name = type(exc).__name__
        self.text = "".join(traceback.format_exception(exc))

    def reraise(self) -> None:
        raise RuntimeError(
            f"DataLoader worker {self.worker_id} raised {self.type_name}; its traceback:\n"
            f"{self.text}"
        )


def _worker_loop(
    dataset: Any,
    collate_fn: Callable | None,
    worker_init_fn: Callable[[int], None] | None,
    worker_id: int,
    num_workers: int,
    seed: int,
    backend: str,
    index_queue: Any,
    result_queue: Any,
) -> None:
    global _WORKER_INFO
    import mytensor as mt

    # results nobody will read (after the parent stopped) must not keep this process alive
    result_queue.cancel_join_thread()
    setup_error = None
    try:
        mt.set_backend(backend)
        mt.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        _WORKER_INFO = WorkerInfo(worker_id, num_workers, seed, dataset)
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
    except Exception as exc:
        setup_error = _WorkerError(worker_id, exc)
    while True:
        try:
            task = index_queue.get()
        except (KeyboardInterrupt, EOFError, OSError):
            return
        if task is None:
            return
        epoch, batch_index, indices = task
        if setup_error is not None:
            result_queue.put((epoch, batch_index, setup_error))
            continue
        try:
            result = fetch(dataset, collate_fn, indices)
        except Exception as exc:
            result = _WorkerError(worker_id, exc)
        try:
            result_queue.put((epoch, batch_index, result))
        except Exception as exc:  # the batch itself does not pickle
            result_queue.put((epoch, batch_index, _WorkerError(worker_id, exc)))


class MultiProcessIterator:
    """Iterates a DataLoader's batches through `num_workers` worker processes."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        n = loader.num_workers
        ctx = multiprocessing.get_context(loader.multiprocessing_context)
        base_seed = (
            int(make_rng(loader.generator).integers(0, 2**62))
            if loader.generator is not None
            else creation._SEEDS.next()
        )
        backend = registry.get_backend().name
        self._result_queue = ctx.Queue()
        self._index_queues: list = []
        self._workers: list = []
        self._closed = False
        for i in range(n):
            index_queue = ctx.Queue()
            process = ctx.Process(
                target=_worker_loop,
                args=(
                    loader.dataset,
                    loader.collate_fn,
                    loader.worker_init_fn,
                    i,
                    n,
                    base_seed + i,
                    backend,
                    index_queue,
                    self._result_queue,
                ),
                daemon=True,
            )
            try:
                process.start()
            except Exception as exc:
                self._shutdown()
                raise RuntimeError(
                    f"DataLoader: could not start worker {i} with the "
                    f"{loader.multiprocessing_context!r} context ({exc}); with num_workers > 0 "
                    "the dataset, collate_fn and worker_init_fn must be picklable (defined at "
                    "module level, not lambdas or local functions)"
                ) from exc
            self._index_queues.append(index_queue)
            self._workers.append(process)
        self._epoch = -1
        self.reset()

    def reset(self) -> None:
        """Start a new epoch: a fresh pass over the loader's batch sampler."""
        self._epoch += 1
        self._batches = iter(self._loader.batch_sampler)
        self._sent = 0
        self._received = 0
        self._buffer: dict[int, Any] = {}
        for _ in range(self._loader.prefetch_factor * len(self._workers)):
            self._send()

    def _send(self) -> None:
        indices = next(self._batches, None)
        if indices is None:
            return
        worker = self._sent % len(self._workers)
        self._index_queues[worker].put((self._epoch, self._sent, list(indices)))
        self._sent += 1

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._received >= self._sent:
            if not self._loader.persistent_workers:
                self._shutdown()
            raise StopIteration
        while self._received not in self._buffer:
            epoch, batch_index, result = self._get()
            if epoch == self._epoch:
                self._buffer[batch_index] = result
        result = self._buffer.pop(self._received)
        self._received += 1
        if isinstance(result, _WorkerError):
            self._shutdown()
            result.reraise()
        self._send()
        return result

    def _get(self) -> tuple:
        timeout = self._loader.timeout
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            wait = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                pass
            for i, process in enumerate(self._workers):
                if not process.is_alive():
                    code = process.exitcode
                    self._shutdown()
                    raise RuntimeError(
                        f"DataLoader worker {i} (pid {process.pid}) exited "
                        f"unexpectedly with exit code {code}"
                    )
            if deadline is not None and time.monotonic() >= deadline:
                self._shutdown()
                raise RuntimeError(
                    f"DataLoader timed out after {timeout} s waiting for batch {self._received}"
                )

    def _shutdown(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        for q in self._index_queues:
            with contextlib.suppress(Exception):
                q.put(None)
        for process in self._workers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=1)
        for q in [*self._index_queues, self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        self._shutdown()
