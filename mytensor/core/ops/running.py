"""PyTorch's running extremes and mode: cummax / cummin (the largest / smallest element so
far along a dimension, and where it is) and mode (the most frequent value along a
dimension, and where it is).

Each op finds its indices without gradient, from `where`, comparisons, `argsort` and
`argmax` only, and takes its values with a `gather` at those indices, so the gradient
reaches exactly the selected elements (as PyTorch's does) on every backend.
"""

from __future__ import annotations

from typing import Any

from mytensor.core import autograd
from mytensor.core.dtypes import int64
from mytensor.core.layout import normalize_dim
from mytensor.core.ops import reductions as R
from mytensor.core.ops import sorting
from mytensor.core.ops._base import check_tensor
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import gather
from mytensor.core.ops.ranking import ValuesIndices
from mytensor.core.tensor import Tensor

__all__ = ["cummax", "cummin", "mode"]


def _positions(x: Tensor, d: int) -> Tensor:
    """The index along `d` of every element of `x`, as an int64 tensor of x's shape."""
    from mytensor.core.creation import arange

    n = x.shape[d]
    along = arange(n, dtype=int64, backend=x.backend)
    return along.reshape(tuple(n if k == d else 1 for k in range(x.ndim))).expand(*x.shape)


def _comparable(op: str, x: Tensor) -> Tensor:
    if x.dtype.kind == "complex":
        raise TypeError(f"{op}(): complex inputs have no order (got {x.dtype.name})")
    return x.astype(int64) if x.dtype.kind == "bool" else x


def _running_extreme(op: str, input: Any, dim: int) -> ValuesIndices:
    x = check_tensor(op, input)
    d = normalize_dim(op, dim, x.ndim)
    if x.ndim == 0:
        from mytensor.core.creation import zeros

        return ValuesIndices(x.clone(), zeros((), dtype=int64, backend=x.backend))
    with autograd.no_grad():
        indices = _running_indices(op, _comparable(op, x.detach()), d)
    return ValuesIndices(gather(x, d, indices), indices)


def _running_indices(op: str, x: Tensor, d: int) -> Tensor:
    """Where the running extreme of each prefix along `d` is: a Hillis-Steele scan over
    (value, index) pairs in ceil(log2(n)) steps. A later candidate wins when it is NaN,
    or when the earlier one is not NaN and the later is at least as extreme (so ties
    and NaNs point at their last occurrence, as in PyTorch)."""
    from mytensor.core.ops.shape import cat

    n = x.shape[d]
    lead = [slice(None)] * d
    values, indices, step = x, _positions(x, d), 1
    while step < n:
        # element i (i >= step) takes in the candidate of element i - step, so after this
        # step it covers the 2 * step elements ending at i
        head = (*lead, slice(0, step))
        earlier, later = (*lead, slice(0, n - step)), (*lead, slice(step, n))
        wins = _later_wins(op, values[earlier], values[later])
        values = cat([values[head], where(wins, values[later], values[earlier])], d)
        indices = cat([indices[head], where(wins, indices[later], indices[earlier])], d)
        step *= 2
    return indices


def _later_wins(op: str, earlier: Tensor, later: Tensor) -> Tensor:
    at_least = later >= earlier if op == "cummax" else later <= earlier
    if earlier.dtype.kind != "float":
        return at_least
    return later.isnan() | (earlier.isnan().logical_not() & at_least)


def cummax(input: Tensor, dim: int) -> ValuesIndices:
    """The named tuple (values, indices) of the largest element so far along `dim`; on
    ties the index is the latest one, and from a NaN on the value is NaN (the index the
    latest NaN's). The gradient goes to the selected elements.

    >>> import mytensor as mt
    >>> mt.cummax(mt.tensor([1.0, 3.0, 2.0, 3.0]), 0)
    ValuesIndices(values=tensor([1., 3., 3., 3.]), indices=tensor([0, 1, 1, 3]))
    """
    return _running_extreme("cummax", input, dim)


def cummin(input: Tensor, dim: int) -> ValuesIndices:
    """The named tuple (values, indices) of the smallest element so far along `dim`, with
    `cummax`'s rules for ties and NaN.

    >>> import mytensor as mt
    >>> mt.cummin(mt.tensor([[2, 1, 3, 1]]), 1).indices.tolist()
    [[0, 1, 1, 3]]
    """
    return _running_extreme("cummin", input, dim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The named tuple (values, indices) of the most frequent value along `dim`: the
    smallest of the most frequent values, and the index of its last occurrence (PyTorch's
    CPU rule; each NaN counts once). The gradient goes to the selected elements.

    >>> import mytensor as mt
    >>> mt.mode(mt.tensor([[3, 1, 3, 1, 2]]))
    ValuesIndices(values=tensor([1]), indices=tensor([3]))
    """
    x = check_tensor("mode", input)
    d = normalize_dim("mode", dim, x.ndim)
    if x.ndim == 0:
        from mytensor.core.creation import zeros

        return ValuesIndices(x.clone(), zeros((), dtype=int64, backend=x.backend))
    if x.shape[d] == 0:
        raise IndexError(
            f"mode(): expected reduction dim {d} to have non-zero size (input shape {x.shape})"
        )
    with autograd.no_grad():
        indices = _mode_indices(_comparable("mode", x.detach()), d)
    values = gather(x, d, indices)
    if keepdim:
        return ValuesIndices(values, indices)
    return ValuesIndices(values.squeeze(d), indices.squeeze(d))


def _mode_indices(x: Tensor, d: int) -> Tensor:
    """The index of the mode along `d`, keepdim-shaped: sort stably, measure each run of
    equal values, and take the first longest run (its value is the smallest) at its end
    (the value's last occurrence)."""
    from mytensor.core.creation import ones
    from mytensor.core.dtypes import bool_
    from mytensor.core.ops.shape import cat

    n = x.shape[d]
    order = sorting.argsort(x, axis=d)
    ordered = gather(x, d, order)
    lead = [slice(None)] * d
    differs = ordered[(*lead, slice(1, n))] != ordered[(*lead, slice(0, n - 1))]
    edge = ones(tuple(1 if k == d else s for k, s in enumerate(x.shape)), dtype=bool_,
                backend=x.backend)  # fmt: skip
    starts, ends = cat([edge, differs], d), cat([differs, edge], d)
    position = _positions(x, d)
    run_start = cummax(where(starts, position, 0), d).values
    length = where(ends, position - run_start + 1, 0)
    return gather(order, d, R.argmax(length, d, keepdim=True))
