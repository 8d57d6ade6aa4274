"""PyTorch's scatter family and its index-producing ops: scatter (a tensor or a scalar,
optionally reducing with "add" / "multiply"), take_along_dim, bucketize, nonzero with
``as_tuple``, and unique.

Scatter writes go through one `gather` from the pool ``cat([input, src])``: each output
element is picked from the input or from the source element written last to it, so the
op differentiates in both and runs on every backend. Only the index travels to the host,
to work out which source element lands where.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.core.batching import batchable
from mytensor.core.dtypes import int32, int64
from mytensor.core.layout import normalize_dim
from mytensor.core.ops._base import check_tensor, is_scalar, same_backend
from mytensor.core.ops.indexing import _check_index, gather, scatter_add
from mytensor.core.tensor import Tensor

__all__ = ["bucketize", "nonzero", "scatter", "take_along_dim", "unique"]

_REDUCTIONS = (None, "add", "multiply")


def _positions(shape: tuple[int, ...], d: int, index: np.ndarray) -> np.ndarray:
    """The flat (row-major) position in a tensor of `shape` that each index element names."""
    coords: list[np.ndarray] = list(np.indices(index.shape, dtype=np.int64))
    coords[d] = index
    return np.ravel_multi_index(tuple(coords), shape).reshape(-1)


def _overwrite(x: Tensor, positions: np.ndarray, values: Tensor) -> Tensor:
    """`x` with ``flat[positions[i]] = values[i]``; where a position repeats, the last wins."""
    from mytensor.core.creation import asarray
    from mytensor.core.ops.shape import cat

    n = x.numel()
    source = np.arange(n, dtype=np.int64)
    source[positions] = n + np.arange(positions.size, dtype=np.int64)
    pool = cat([x.reshape(-1), values.reshape(-1)])
    return gather(pool, 0, asarray(source, backend=x.backend)).reshape(x.shape)


def _occurrence(positions: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries name the same position (0 for the first)."""
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    lengths = np.diff(np.r_[starts, ordered.size])
    rank = np.empty_like(order)
    rank[order] = np.arange(ordered.size) - np.repeat(starts, lengths)
    return rank


def _multiply_into(x: Tensor, positions: np.ndarray, values: Tensor) -> Tensor:
    """`x` with ``flat[positions[i]] *= values[i]``, repeats included: one overwrite per
    round of repeats, so no round writes a position twice."""
    from mytensor.core.creation import asarray

    rank = _occurrence(positions)
    out = x
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        chosen = np.flatnonzero(rank == r)
        where_to = positions[chosen]
        current = out.reshape(-1)[asarray(where_to, backend=x.backend)]
        factor = values[asarray(chosen, backend=x.backend)]
        out = _overwrite(out, where_to, current * factor)
    return out


def _source(op: str, x: Tensor, index: Tensor, src: Any, value: Any) -> Tensor:
    """The values to scatter, shaped like `index` (src's leading window, or a filled value)."""
    from mytensor.core.creation import full

    if src is not None and value is not None:
        raise TypeError(f"{op}(): pass src= or value=, not both")
    if src is None and value is None:
        raise TypeError(f"{op}(): missing the values to scatter; pass src (a tensor) or value")
    if value is not None or is_scalar(src):
        fill = value if value is not None else src
        if not is_scalar(fill):
            raise TypeError(f"{op}(): value must be a Python scalar, got {type(fill).__name__}")
        return full(index.shape, fill, dtype=x.dtype, backend=x.backend)
    src = check_tensor(op, src, "src")
    same_backend(op, x, src)
    if src.dtype is not x.dtype:
        raise TypeError(
            f"{op}(): src has dtype {src.dtype.name} but the input has {x.dtype.name}; "
            f"convert src with .to(mytensor.{x.dtype.name})"
        )
    if src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape, strict=True)):
        raise ValueError(
            f"{op}(): index of shape {index.shape} does not fit in src of shape {src.shape} "
            "(same rank, and no larger in any dimension)"
        )
    return src[tuple(slice(0, n) for n in index.shape)] if index.ndim else src


@batchable("scatter")
def scatter(input: Tensor, dim: int, index: Tensor, src: Tensor | float | None = None, *,
            value: float | None = None, reduce: str | None = None) -> Tensor:  # fmt: skip
    """A copy of `input` with ``out[index[i][j]][j] = src[i][j]`` (for dim=0): the values
    of `src` (or the scalar `value`) written where `index` says along `dim`. With
    ``reduce="add"`` / ``"multiply"`` they are added to / multiplied into the input; else
    where `index` repeats a position, the last write wins.

    >>> import mytensor as mt
    >>> index = mt.tensor([[2, 0]])
    >>> mt.scatter(mt.zeros(2, 3), 1, index, mt.tensor([[5.0, 6.0]])).tolist()
    [[6.0, 0.0, 5.0], [0.0, 0.0, 0.0]]
    """
    x = check_tensor("scatter", input)
    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
    index = check_tensor("scatter", index, "index")
    if x.ndim == 0 and index.ndim == 0:  # one element: scatter it as a 1-d tensor
        normalize_dim("scatter", dim, 0)
        single = src.reshape(1) if isinstance(src, Tensor) and src.ndim == 0 else src
        return scatter(x.reshape(1), 0, index.reshape(1), single, value=value,
                       reduce=reduce).reshape(())  # fmt: skip
    d = _check_index("scatter", x, dim, index)
    same_backend("scatter", x, index)
    values = _source("scatter", x, index, src, value)
    if reduce == "add":
        return scatter_add(x, d, index, values)
    positions = _positions(x.shape, d, index.numpy())
    if reduce == "multiply":
        return _multiply_into(x, positions, values.reshape(-1))
    return _overwrite(x, positions, values)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``out[..., i, ...] = input[..., indices[..., i, ...], ...]`` along `dim`, the other
    dimensions broadcasting; with dim=None, of the flattened input and indices.

    >>> import mytensor as mt
    >>> x = mt.tensor([[10, 30, 20], [60, 40, 50]])
    >>> mt.take_along_dim(x, mt.tensor([[0], [2]]), 1).tolist()
    [[10], [50]]
    """
    from mytensor.core.ops.selection import take_along_axis

    x = check_tensor("take_along_dim", input)
    indices = check_tensor("take_along_dim", indices, "indices")
    if not indices.dtype.is_integral:
        raise TypeError(
            f"take_along_dim(): indices must be an integer tensor, got {indices.dtype.name}"
        )
    if dim is None:
        return take_along_axis(x.reshape(-1), indices.reshape(-1), axis=0)
    return take_along_axis(x, indices, axis=dim)


def bucketize(input: Tensor | float, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:  # fmt: skip
    """The bucket of each element of `input` among the ascending 1-d `boundaries`: the
    ``i`` with ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``: ``<= x <``).
    int64, or int32 with `out_int32`.

    >>> import mytensor as mt
    >>> mt.bucketize(mt.tensor([1, 5, 9]), mt.tensor([1, 3, 5, 7])).tolist()
    [0, 2, 4]
    """
    from mytensor.core.ops.selection import searchsorted

    boundaries = check_tensor("bucketize", boundaries, "boundaries")
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize(): boundaries must be 1-d, got shape {boundaries.shape}")
    if not isinstance(input, Tensor) and not is_scalar(input):
        raise TypeError(
            f"bucketize(): input must be a Tensor or a Python scalar, got {type(input).__name__}"
        )
    out = searchsorted(boundaries, input, side="right" if right else "left")
    return out.astype(int32) if out_int32 else out


def nonzero(x: Tensor, /, *, as_tuple: bool | None = None) -> Tensor | tuple[Tensor, ...]:
    """The indices of the non-zero elements. The array API's form (no `as_tuple`) and
    PyTorch's ``as_tuple=True`` give one int64 tensor per dimension; PyTorch's
    ``as_tuple=False`` gives one (count, ndim) int64 tensor, row-major.

    >>> import mytensor as mt
    >>> x = mt.tensor([[0, 7], [3, 0]])
    >>> mt.nonzero(x, as_tuple=False).tolist()
    [[0, 1], [1, 0]]
    """
    from mytensor.core.ops import selection
    from mytensor.core.ops.shape import stack

    x = check_tensor("nonzero", x)
    if as_tuple is None:
        return selection.nonzero(x)
    if x.ndim == 0:
        if as_tuple:
            return selection.nonzero(x.reshape(1))
        from mytensor.core.creation import zeros

        return zeros((int(x.item() != 0), 0), dtype=int64, backend=x.backend)
    columns = selection.nonzero(x)
    return columns if as_tuple else stack(list(columns), 1)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:  # fmt: skip
    """The distinct values of `input`, sorted (with `dim`: its distinct slices along
    `dim`), followed, as asked, by each element's (slice's) index into them and how often
    each occurs: a tensor, or a tuple of 2 or 3 tensors.

    >>> import mytensor as mt
    >>> values, inverse = mt.unique(mt.tensor([3, 1, 3]), return_inverse=True)
    >>> values.tolist(), inverse.tolist()
    ([1, 3], [1, 0, 1])
    """
    x = check_tensor("unique", input).detach()
    if dim is None:
        from mytensor.core.ops.sets import unique_all

        values, _, inverse, counts = unique_all(x)
    else:
        values, inverse, counts = _unique_slices(x, dim)
    extras = [t for t, wanted in ((inverse, return_inverse), (counts, return_counts)) if wanted]
    return (values, *extras) if extras else values


def _unique_slices(x: Tensor, dim: int) -> tuple[Tensor, Tensor, Tensor]:
    """The distinct slices along `dim`, sorted lexicographically (worked out on the host,
    where only the order travels; the values are picked on the tensor's backend)."""
    from mytensor.core.creation import asarray
    from mytensor.core.ops.selection import take

    if x.ndim == 0:
        raise IndexError("unique(): a 0-d tensor has no dimension to take slices along")
    d = normalize_dim("unique", dim, x.ndim)
    _, first, inverse, counts = np.unique(x.numpy(), return_index=True, return_inverse=True,
                                          return_counts=True, axis=d)  # fmt: skip

    def as_tensor(a: np.ndarray) -> Tensor:
        return asarray(np.ascontiguousarray(a.reshape(-1), dtype=np.int64), backend=x.backend)

    return take(x, as_tensor(first), axis=d), as_tensor(inverse), as_tensor(counts)
