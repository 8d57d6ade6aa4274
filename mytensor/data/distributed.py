"""`DistributedSampler`: each rank's share of a dataset, as PyTorch deals it.

The index list (shuffled with ``seed + epoch`` when `shuffle`) is padded by repeating
its start until every rank gets the same count (or cut to a multiple of the rank count
with `drop_last`), then rank r takes every `num_replicas`-th index starting at r. With
``shuffle=False`` the shards are PyTorch's exactly; shuffled, the order comes from numpy's
PCG64 (PyTorch's generator differs), identical on every rank for one seed and epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from mytensor.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Restrict a DataLoader to this rank's share of `dataset`.

    `num_replicas` and `rank` default to the process group's (`mytensor.distributed`);
    call `set_epoch(epoch)` before each epoch so the shuffle differs between epochs.

    >>> from mytensor.data.distributed import DistributedSampler
    >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False))
    ...  for r in (0, 1)]
    [[0, 2, 4], [1, 3, 0]]
    >>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False,
    ...                         drop_last=True))
    [1, 3]
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from mytensor import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: num_replicas and rank default to the process "
                    "group's, and none is initialized; call "
                    "mytensor.distributed.init_process_group() or pass both"
                )
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.epoch = 0
        size = len(dataset)
        if drop_last and size % num_replicas != 0:
            self.num_samples = math.ceil((size - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(size / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        size = len(self.dataset)
        if self.shuffle:
            rng = np.random.default_rng(self.seed + self.epoch)
            indices = rng.permutation(size).tolist()
        else:
            indices = list(range(size))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            elif indices:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use `epoch` in the shuffle's seed (call it before each epoch, on every rank)."""
        self.epoch = epoch
