"""Selecting by position and by value: take, take_along_axis (differentiable through
`gather`), nonzero and searchsorted (integer results, through the backend's
`nonzero` / `searchsorted` primitives or their host fallbacks)."""

from __future__ import annotations

from typing import Any

from mytensor.core.dtypes import int64
from mytensor.core.layout import normalize_dim
from mytensor.core.ops._base import check_tensor, promote_operands, require_kind, same_backend
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import gather
from mytensor.core.tensor import Tensor

__all__ = ["nonzero", "searchsorted", "take", "take_along_axis"]


def _indices(op: str, indices: Any, size: int, axis: int) -> Tensor:
    """Integer indices as int64, negative ones counted from the end, bounds checked."""
    indices = check_tensor(op, indices, "indices")
    require_kind(op, indices, ("int", "uint"), " for indices")
    if indices.dtype is not int64:
        indices = indices.astype(int64)
    if indices.numel():
        low, high = indices.min().item(), indices.max().item()
        if low < -size or high >= size:
            bad = low if low < -size else high
            raise IndexError(
                f"{op}(): index {bad} is out of bounds for axis {axis} of size {size}"
            )
        if low < 0:
            indices = where(indices < 0, indices + size, indices)
    return indices


def take(x: Tensor, indices: Tensor, /, *, axis: int | None = None) -> Tensor:
    """The elements of `x` at the 1-d integer `indices` along `axis` (None: of the
    flattened input); negative indices count from the end.

    >>> import mytensor as mt
    >>> mt.take(mt.tensor([[1, 2, 3], [4, 5, 6]]), mt.tensor([2, 0]), axis=1).tolist()
    [[3, 1], [6, 4]]
    """
    x = check_tensor("take", x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(
                f"take(): axis=None needs a tensor of rank 0 or 1, got shape {x.shape}; "
                "pass axis=, or flatten with mt.reshape(x, (-1,))"
            )
        x, axis = x.reshape(-1), 0
    d = normalize_dim("take", axis, x.ndim)
    if x.ndim == 0:
        x = x.reshape(1)
    idx = check_tensor("take", indices, "indices")
    if idx.ndim != 1:
        raise ValueError(f"take(): indices must be 1-d, got shape {idx.shape}")
    idx = _indices("take", idx, x.shape[d], d)
    shape = (*x.shape[:d], idx.shape[0], *x.shape[d + 1 :])
    lifted = idx.reshape(tuple(-1 if k == d else 1 for k in range(x.ndim)))
    return gather(x, d, lifted.broadcast_to(shape))


def take_along_axis(x: Tensor, indices: Tensor, /, *, axis: int = -1) -> Tensor:
    """``out[..., i, ...] = x[..., indices[..., i, ...], ...]`` along `axis`; the other
    axes broadcast (numpy's `take_along_axis`).

    >>> import mytensor as mt
    >>> x = mt.tensor([[10, 30, 20], [60, 40, 50]])
    >>> mt.take_along_axis(x, mt.argsort(x, axis=1), axis=1).tolist()
    [[10, 20, 30], [40, 50, 60]]
    """
    x = check_tensor("take_along_axis", x)
    idx = check_tensor("take_along_axis", indices, "indices")
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis(): indices (shape {idx.shape}) must have the rank of x "
            f"(shape {x.shape})"
        )
    d = normalize_dim("take_along_axis", axis, x.ndim)
    if x.ndim == 0:
        return gather(x.reshape(1), 0, _indices("take_along_axis", idx, 1, d).reshape(1)) \
            .reshape(())  # fmt: skip
    idx = _indices("take_along_axis", idx, x.shape[d], d)
    from mytensor.core.layout import broadcast_shapes

    outer = broadcast_shapes(
        "take_along_axis",
        tuple(1 if k == d else s for k, s in enumerate(x.shape)),
        tuple(1 if k == d else s for k, s in enumerate(idx.shape)),
    )
    x_shape = tuple(x.shape[d] if k == d else s for k, s in enumerate(outer))
    idx_shape = tuple(idx.shape[d] if k == d else s for k, s in enumerate(outer))
    return gather(x.broadcast_to(x_shape), d, idx.broadcast_to(idx_shape))


def nonzero(x: Tensor, /) -> tuple[Tensor, ...]:
    """The indices of the non-zero elements, one int64 tensor per axis (row-major order).

    >>> import mytensor as mt
    >>> [t.tolist() for t in mt.nonzero(mt.tensor([[0, 7], [3, 0]]))]
    [[0, 1], [1, 0]]
    """
    x = check_tensor("nonzero", x)
    if x.ndim == 0:
        raise ValueError(
            "nonzero(): a 0-d tensor has no axes to index; use mt.reshape(x, (1,)) first"
        )
    from mytensor.core.ops.statistical import count_nonzero

    count = int(count_nonzero(x).item())
    backend = x._storage.backend
    coords = Tensor._empty(backend, (count, x.ndim), int64)
    if count:
        backend.nonzero(coords._d, x.detach()._d)
    return tuple(coords[:, k] for k in range(x.ndim))


def searchsorted(x1: Tensor, x2: Tensor | int | float, /, *, side: str = "left",
                 sorter: Tensor | None = None) -> Tensor:  # fmt: skip
    """Where each element of `x2` would go in the ascending 1-d `x1` to keep it sorted
    (int64): before equal elements (``side="left"``) or after them (``"right"``).
    `sorter` gives indices that sort `x1` when it is not sorted itself.

    >>> import mytensor as mt
    >>> mt.searchsorted(mt.tensor([1.0, 2.0, 2.0, 5.0]), mt.tensor([2.0, 6.0])).tolist()
    [1, 4]
    """
    x1 = check_tensor("searchsorted", x1, "x1")
    if x1.ndim != 1:
        raise ValueError(f"searchsorted(): x1 must be 1-d, got shape {x1.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted(): side must be 'left' or 'right', got {side!r}")
    if sorter is not None:
        x1 = take(x1, sorter, axis=0)
    seq, values, _ = promote_operands("searchsorted", x1, x2)
    backend = same_backend("searchsorted", seq, values)
    out = Tensor._empty(backend, values.shape, int64)
    if out.numel():
        backend.searchsorted(out._d, seq.detach()._d, values.detach()._d, side == "right")
    return out
