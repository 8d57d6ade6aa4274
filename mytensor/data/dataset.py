"""Map-style datasets: the base class, tensors as a dataset, subsets, and random splits."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from mytensor.core.creation import tensor as _tensor
from mytensor.core.tensor import Tensor
from mytensor.data.sampler import GeneratorLike, make_rng

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]

T = TypeVar("T")


class Dataset(Generic[T]):
    """A map-style dataset: `__getitem__(i)` gives sample i, `__len__` the sample count.

    A dataset may also define `get_batch(indices)`, returning a whole collated batch at
    once; `DataLoader` uses it (instead of one `__getitem__` per sample) when it has no
    `collate_fn` of its own.

    >>> import mytensor as mt
    >>> class Squares(mt.data.Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> [b.tolist() for b in mt.data.DataLoader(Squares(), batch_size=2)]
    [[0, 1], [4, 9]]
    """

    def __getitem__(self, index: int) -> T:
        raise NotImplementedError(f"{type(self).__name__} does not implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _check_index(name: str, index: Any, length: int) -> int:
    index = int(index)
    if not -length <= index < length:
        raise IndexError(f"{name}: index {index} is out of range for {length} samples")
    return index % length if length else index


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are the rows of tensors that share their first dimension: sample i is
    ``(tensors[0][i], tensors[1][i], ...)``.

    >>> import mytensor as mt
    >>> ds = mt.data.TensorDataset(mt.arange(6).reshape(3, 2), mt.tensor([0, 1, 0]))
    >>> len(ds), [t.tolist() for t in ds[1]]
    (3, [[2, 3], 1])
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset(): needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset(): argument {i} is a {type(t).__name__}, not a Tensor"
                )
            if t.ndim == 0 or t.shape[0] != tensors[0].shape[0]:
                raise ValueError(
                    "TensorDataset(): all tensors need the same first dimension, got shapes "
                    + ", ".join(str(x.shape) for x in tensors)
                )
        self.tensors = tensors

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        index = _check_index("TensorDataset", index, len(self))
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices: Sequence[int]) -> tuple[Tensor, ...]:
        """Samples `indices`, stacked: one gather per tensor instead of one view per sample.

        >>> import mytensor as mt
        >>> ds = mt.data.TensorDataset(mt.arange(5) * 10)
        >>> ds.get_batch([4, 0])[0].tolist()
        [40, 0]
        """
        n = len(self)
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(
                f"TensorDataset: an index in {indices} is out of range for {n} samples"
            )
        idx = idx % n if n else idx
        start = int(idx[0]) if idx.size else 0
        if idx.size and np.array_equal(idx, np.arange(start, start + idx.size)):
            return tuple(t[start : start + idx.size].clone() for t in self.tensors)
        return tuple(t[_tensor(idx, backend=t.backend)] for t in self.tensors)


class Subset(Dataset[T]):
    """The samples of `dataset` at `indices`, in that order.

    >>> import mytensor as mt
    >>> ds = mt.data.TensorDataset(mt.arange(5))
    >>> [s[0].item() for s in mt.data.Subset(ds, [4, 1])]
    [4, 1]
    """

    def __init__(self, dataset: Dataset[T], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> T:
        return self.dataset[self.indices[_check_index("Subset", index, len(self))]]

    def __getattr__(self, name: str) -> Any:
        # offer get_batch exactly when the underlying dataset does
        if name == "get_batch" and hasattr(self.dataset, "get_batch"):
            return lambda indices: self.dataset.get_batch([self.indices[i] for i in indices])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class ConcatDataset(Dataset):
    """Several datasets one after another.

    >>> import mytensor as mt
    >>> a, b = mt.data.TensorDataset(mt.zeros(2)), mt.data.TensorDataset(mt.ones(3))
    >>> len(a + b), (a + b)[2][0].item()
    (5, 1.0)
    """

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset(): needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        index = _check_index("ConcatDataset", index, len(self))
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(
    dataset: Dataset[T], lengths: Sequence[int | float], generator: GeneratorLike = None
) -> list[Subset[T]]:
    """Split `dataset` at random into non-overlapping subsets of the given lengths.

    `lengths` are sample counts summing to ``len(dataset)``, or fractions summing to 1
    (each gets ``floor(n * fraction)`` and the remainder is dealt out one by one, from the
    first subset on, as in PyTorch). `generator` (a `mytensor.Generator`, an int seed or a
    numpy Generator) makes the split reproducible; without one it follows
    `mytensor.manual_seed`.

    >>> import mytensor as mt
    >>> ds = mt.data.TensorDataset(mt.arange(10))
    >>> train, test = mt.data.random_split(ds, [0.75, 0.25], generator=0)
    >>> len(train), len(test)
    (8, 2)
    >>> sorted(train.indices + test.indices) == list(range(10))
    True
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1):
        counts = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split(): fraction {i} is {fraction}, not in [0, 1]")
            counts.append(math.floor(n * fraction))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split(): lengths {lengths} must be non-negative counts summing to the "
            f"dataset's {n} samples, or fractions summing to 1"
        )
    order = make_rng(generator).permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + int(length)]))
        start += int(length)
    return subsets
