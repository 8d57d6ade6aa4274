"""Set functions: the unique_* family, composed from a stable `argsort`, comparisons
of neighbours, `cumulative_sum` and `nonzero`, so they run on every backend (only the
number of distinct values travels to the host, to size the results).

NaN is never equal to anything, itself included, so each NaN is its own value (the
standard's rule); -0.0 and 0.0 are one value.
"""

from __future__ import annotations

from typing import NamedTuple

from mytensor.core import creation
from mytensor.core.dtypes import bool_, int64
from mytensor.core.ops._base import check_tensor
from mytensor.core.ops.cumulative import cumulative_sum
from mytensor.core.ops.indexing import gather, scatter_add
from mytensor.core.ops.selection import nonzero
from mytensor.core.ops.shape import cat
from mytensor.core.ops.sorting import argsort
from mytensor.core.tensor import Tensor

__all__ = [
    "UniqueAllResult", "UniqueCountsResult", "UniqueInverseResult", "unique_all",
    "unique_counts", "unique_inverse", "unique_values",
]  # fmt: skip


class UniqueAllResult(NamedTuple):
    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCountsResult(NamedTuple):
    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    values: Tensor
    inverse_indices: Tensor


def _unique(op: str, x: Tensor) -> UniqueAllResult:
    x = check_tensor(op, x).detach()
    flat = x.reshape(-1)
    n, backend = flat.shape[0], x.backend
    if n == 0:
        nothing = creation.zeros(0, dtype=int64, backend=backend)
        return UniqueAllResult(flat, nothing, nothing.reshape(x.shape), nothing)
    order = argsort(flat)
    ordered = gather(flat, 0, order)
    # a group starts where a value differs from the one before it (NaN != NaN: each
    # NaN is a group of its own)
    first = creation.ones(1, dtype=bool_, backend=backend)
    starts_mask = cat([first, ordered[1:] != ordered[:-1]])
    (starts,) = nonzero(starts_mask)
    values = gather(ordered, 0, starts)
    indices = gather(order, 0, starts)  # the sort is stable: each value's first occurrence
    counts = cat([starts[1:], creation.full((1,), n, dtype=int64, backend=backend)]) - starts
    group = cumulative_sum(starts_mask) - 1  # each sorted element's group
    inverse = scatter_add(creation.zeros(n, dtype=int64, backend=backend), 0, order, group)
    return UniqueAllResult(values, indices, inverse.reshape(x.shape), counts)


def unique_all(x: Tensor, /) -> UniqueAllResult:
    """The distinct values of `x` (sorted), the flat index of each one's first
    occurrence, the index into `values` of each element of `x` (shaped like `x`), and
    how often each value occurs.

    >>> import mytensor as mt
    >>> r = mt.unique_all(mt.tensor([3, 1, 3, 2]))
    >>> r.values.tolist(), r.indices.tolist(), r.inverse_indices.tolist(), r.counts.tolist()
    ([1, 2, 3], [1, 3, 0], [2, 0, 2, 1], [1, 1, 2])
    """
    return _unique("unique_all", x)


def unique_counts(x: Tensor, /) -> UniqueCountsResult:
    """The distinct values of `x` (sorted) and how often each occurs.

    >>> import mytensor as mt
    >>> mt.unique_counts(mt.tensor([2.0, 2.0, 5.0])).counts.tolist()
    [2, 1]
    """
    r = _unique("unique_counts", x)
    return UniqueCountsResult(r.values, r.counts)


def unique_inverse(x: Tensor, /) -> UniqueInverseResult:
    """The distinct values of `x` (sorted) and, shaped like `x`, each element's index
    into them (``values[inverse_indices]`` rebuilds `x`).

    >>> import mytensor as mt
    >>> mt.unique_inverse(mt.tensor([[5, 4], [4, 5]])).inverse_indices.tolist()
    [[1, 0], [0, 1]]
    """
    r = _unique("unique_inverse", x)
    return UniqueInverseResult(r.values, r.inverse_indices)


def unique_values(x: Tensor, /) -> Tensor:
    """The distinct values of `x`, sorted (each NaN counts as distinct).

    >>> import mytensor as mt
    >>> mt.unique_values(mt.tensor([3, 1, 3])).tolist()
    [1, 3]
    """
    return _unique("unique_values", x).values
