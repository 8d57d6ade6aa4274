"""Samplers: the order in which a DataLoader visits a dataset, and how it batches it.

Randomness comes from a numpy Generator. A sampler given an int seed builds one Generator
from it once (so successive epochs differ, reproducibly); given a Generator it uses that;
given nothing it draws a fresh seed from mytensor's stream each epoch, so
`mytensor.manual_seed` makes the whole run reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized

import numpy as np

from mytensor.core import creation
from mytensor.core.generator import Generator, next_seed

__all__ = [
    "BatchSampler",
    "GeneratorLike",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "make_rng",
]

GeneratorLike = int | np.random.Generator | Generator | None


def make_rng(generator: GeneratorLike) -> np.random.Generator:
    """A numpy Generator for `generator`: itself, one seeded by the int, one seeded from a
    `mytensor.Generator` (advancing it, as PyTorch draws from it), or (None) one seeded
    from mytensor's seed stream (see `mytensor.manual_seed`)."""
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, Generator):
        return np.random.default_rng(next_seed("generator", generator))
    if generator is None:
        return np.random.default_rng(creation._SEEDS.next())
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        "generator must be a mytensor.Generator, an int seed, a numpy.random.Generator or "
        f"None, got {type(generator).__name__}"
    )


class Sampler:
    """Base class: iterating gives dataset indices."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, a new one each epoch.

    >>> a = list(RandomSampler(range(5), generator=3))
    >>> sorted(a), a == list(RandomSampler(range(5), generator=3))
    ([0, 1, 2, 3, 4], True)
    """

    def __init__(self, data_source: Sized, generator: GeneratorLike = None) -> None:
        self.data_source = data_source
        # an int or numpy seed fixes one stream for every epoch; a mytensor.Generator (as
        # in PyTorch) or the default stream is drawn from at each epoch
        self._drawn_from = generator if isinstance(generator, Generator) else None
        fixed = generator is not None and self._drawn_from is None
        self._fixed = make_rng(generator) if fixed else None

    def __iter__(self) -> Iterator[int]:
        rng = self._fixed if self._fixed is not None else make_rng(self._drawn_from)
        return iter(rng.permutation(len(self.data_source)).tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter,
    unless `drop_last`).

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Sampler | Sequence[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
