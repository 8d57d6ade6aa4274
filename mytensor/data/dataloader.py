"""DataLoader: batches of a dataset, in order or shuffled, in this process or in workers."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from mytensor.data._workers import MultiProcessIterator, fetch
from mytensor.data.dataset import Dataset
from mytensor.data.sampler import (
    BatchSampler,
    GeneratorLike,
    RandomSampler,
    Sampler,
    SequentialSampler,
)

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style dataset (`__getitem__` and `__len__`).
        batch_size: samples per batch.
        shuffle: visit the samples in a new random order each epoch.
        sampler: the index order instead of shuffle's (an iterable of indices).
        batch_sampler: the batches of indices themselves (excludes batch_size, shuffle,
            sampler and drop_last).
        num_workers: 0 loads in this process; n > 0 starts n worker processes, which load
            batches in parallel and hand them back in order (results are identical to
            num_workers=0).
        collate_fn: combines a list of samples into a batch (default: `default_collate`,
            or the dataset's own `get_batch` when it has one).
        drop_last: drop the last batch when it is smaller than batch_size.
        generator: a `mytensor.Generator` (drawn from each epoch), an int seed or a numpy
            Generator for shuffling and worker seeds; by default both follow
            `mytensor.manual_seed`.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker at start.
        multiprocessing_context: "forkserver" (the default where available) or "spawn".
            Never "fork": a worker forked after a parallel (numba/OpenMP) kernel ran in
            the parent can crash.
        timeout: seconds to wait for a worker's batch (0: forever).
        prefetch_factor: batches in flight per worker.
        persistent_workers: keep the workers alive between epochs.

    With workers, the dataset and the functions are pickled into fresh processes: define
    them at module level, and guard a script's entry point with
    ``if __name__ == "__main__":``.

    >>> import mytensor as mt
    >>> ds = mt.data.TensorDataset(mt.arange(10), mt.arange(10) % 2)
    >>> loader = mt.data.DataLoader(ds, batch_size=4, shuffle=True, generator=0)
    >>> [len(x) for x, y in loader]
    [4, 4, 2]
    >>> len(loader)
    3
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        sampler: Sampler | Iterable[int] | None = None,
        batch_sampler: Iterable[Sequence[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | None = None,
        generator: GeneratorLike = None,
        *,
        prefetch_factor: int = 2,
        persistent_workers: bool = False,
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader(): num_workers must be an int >= 0, got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader(): timeout must be >= 0, got {timeout}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader(): sampler and shuffle=True are mutually exclusive")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader(): batch_sampler excludes batch_size, shuffle, "
                    "sampler and drop_last"
                )
        else:
            if sampler is None:
                sampler = (
                    RandomSampler(dataset, generator) if shuffle else SequentialSampler(dataset)
                )
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader(): persistent_workers needs num_workers > 0")
        self.dataset = dataset
        self.batch_size = batch_size if isinstance(batch_sampler, BatchSampler) else None
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _context_name(multiprocessing_context)
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self._workers: MultiProcessIterator | None = None

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            return (fetch(self.dataset, self.collate_fn, list(b)) for b in self.batch_sampler)
        if not self.persistent_workers:
            return iter(MultiProcessIterator(self))
        if self._workers is None:
            self._workers = MultiProcessIterator(self)
        else:
            self._workers.reset()
        return iter(self._workers)


def _context_name(name: str | None) -> str:
    methods = multiprocessing.get_all_start_methods()
    if name is None:
        return "forkserver" if "forkserver" in methods else "spawn"
    if name == "fork":
        raise ValueError(
            "DataLoader(): multiprocessing_context='fork' is not supported: a worker forked "
            "after a parallel kernel (numba's OpenMP layer) ran in the parent can abort; use "
            "'forkserver' or 'spawn'"
        )
    if name not in methods:
        raise ValueError(
            f"DataLoader(): unknown multiprocessing context {name!r}; this platform has {methods}"
        )
    return name
