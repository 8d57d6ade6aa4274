"""PyTorch's masking and index-along-a-dimension ops: masked_fill, masked_select,
index_select, index_add and index_fill. Each is composed from `where`, `getitem`,
`take` and `scatter_add`, so it runs and differentiates on every backend."""

from __future__ import annotations

from typing import Any

from mytensor.core.batching import batchable
from mytensor.core.dtypes import bool_, int64
from mytensor.core.layout import broadcast_shapes, normalize_dim
from mytensor.core.ops._base import check_tensor, is_scalar, same_backend
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import scatter_add
from mytensor.core.tensor import Tensor

__all__ = ["index_add", "index_fill", "index_select", "masked_fill", "masked_select"]

_INDEX_DTYPES = ("int32", "int64")


def _check_mask(op: str, x: Tensor, mask: Any, *, to_input: bool) -> Tensor:
    mask = check_tensor(op, mask, "mask")
    if mask.dtype is not bool_:
        raise TypeError(
            f"{op}(): mask must be a bool tensor, got {mask.dtype.name}; compare first "
            "(e.g. mask != 0)"
        )
    same_backend(op, x, mask)
    shape = broadcast_shapes(op, x.shape, mask.shape)
    if to_input and shape != x.shape:
        raise ValueError(
            f"{op}(): mask of shape {mask.shape} broadcasts the input of shape {x.shape} to "
            f"{shape}; the mask must broadcast to the input's shape"
        )
    return mask


def _fill_value(op: str, x: Tensor, value: Any) -> Tensor | bool | int | float | complex:
    """A fill value for `x`: a Python scalar, or a 0-d tensor (kept, so gradients reach it)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(
                f"{op}(): value must be a Python scalar or a 0-d tensor, got a tensor of shape "
                f"{value.shape}; use where() to fill from a tensor"
            )
        same_backend(op, x, value)
        return value.astype(x.dtype) if value.dtype is not x.dtype else value
    if not is_scalar(value):
        raise TypeError(
            f"{op}(): value must be a Python scalar or a 0-d tensor, got {type(value).__name__}"
        )
    return value


def _filled(x: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``where(mask, value, x)`` in x's dtype (a float value in an int tensor truncates, as
    PyTorch's fills do)."""
    if isinstance(value, Tensor):
        return where(mask, value, x)
    from mytensor.core.creation import full

    fill = full((), value, dtype=x.dtype, backend=x.backend)
    return where(mask, fill, x)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """`input` with `value` where the bool `mask` (broadcast to input's shape) is True.
    `value` is a Python scalar or a 0-d tensor; gradients reach input and a tensor value.

    >>> import mytensor as mt
    >>> x = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> mt.masked_fill(x, x > 2, 0.0).tolist()
    [[1.0, 2.0], [0.0, 0.0]]
    """
    x = check_tensor("masked_fill", input)
    mask = _check_mask("masked_fill", x, mask, to_input=True)
    return _filled(x, mask, _fill_value("masked_fill", x, value))


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of `input` where `mask` is True, as a 1-d tensor in row-major order
    (input and mask broadcast against each other first).

    >>> import mytensor as mt
    >>> x = mt.tensor([[1, 2], [3, 4]])
    >>> mt.masked_select(x, mt.tensor([True, False])).tolist()
    [1, 3]
    """
    x = check_tensor("masked_select", input)
    mask = _check_mask("masked_select", x, mask, to_input=False)
    shape = broadcast_shapes("masked_select", x.shape, mask.shape)
    if not shape:
        return x.reshape(1)[mask.reshape(1)]
    return x.broadcast_to(shape)[mask.broadcast_to(shape)]


def _index_vector(op: str, x: Tensor, dim: int, index: Any) -> tuple[int, Tensor]:
    """The normalized dim and a 1-d int64 index, each entry checked against the dim."""
    index = check_tensor(op, index, "index")
    if index.dtype.name not in _INDEX_DTYPES:
        raise TypeError(f"{op}(): index must be an int64 or int32 tensor, got {index.dtype.name}")
    if index.ndim > 1:
        raise ValueError(f"{op}(): index must be 0-d or 1-d, got shape {index.shape}")
    same_backend(op, x, index)
    d = normalize_dim(op, dim, x.ndim)
    size = x.shape[d] if x.ndim else 1
    index = index.reshape(-1).astype(int64)
    if index.numel():
        low, high = index.min().item(), index.max().item()
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            raise IndexError(
                f"{op}(): index {bad} is out of range for dimension {d} of size {size} "
                f"(expected 0..{size - 1})"
            )
    return d, index


@batchable("index_select")
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of `input` at the 1-d `index` along `dim` (a copy; repeats allowed).

    >>> import mytensor as mt
    >>> x = mt.tensor([[1, 2, 3], [4, 5, 6]])
    >>> mt.index_select(x, 1, mt.tensor([2, 0, 2])).tolist()
    [[3, 1, 3], [6, 4, 6]]
    """
    from mytensor.core.ops.selection import take

    x = check_tensor("index_select", input)
    d, index = _index_vector("index_select", x, dim, index)
    if x.ndim == 0:
        return take(x.reshape(1), index, axis=0).reshape(())
    return take(x, index, axis=d)


def _spread_index(index: Tensor, d: int, shape: tuple[int, ...]) -> Tensor:
    """The 1-d `index` laid along dim `d` and broadcast to `shape` (scatter's index)."""
    lifted = index.reshape(tuple(-1 if k == d else 1 for k in range(len(shape))))
    return lifted.broadcast_to(shape)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,
              alpha: float = 1) -> Tensor:  # fmt: skip
    """A copy of `input` with ``alpha * source[..., i, ...]`` added to the slice
    ``index[i]`` along `dim`; repeated indices add up.

    >>> import mytensor as mt
    >>> mt.index_add(mt.zeros(3), 0, mt.tensor([0, 2, 0]), mt.tensor([1.0, 2.0, 3.0])).tolist()
    [4.0, 0.0, 2.0]
    """
    x = check_tensor("index_add", input)
    source = check_tensor("index_add", source, "source")
    d, index = _index_vector("index_add", x, dim, index)
    same_backend("index_add", x, source)
    if source.dtype is not x.dtype:
        raise TypeError(
            f"index_add(): source has dtype {source.dtype.name} but the input has "
            f"{x.dtype.name}; convert source with .to(mytensor.{x.dtype.name})"
        )
    if x.ndim == 0:
        return index_add(x.reshape(1), 0, index, source.reshape(-1), alpha=alpha).reshape(())
    expected = tuple(index.shape[0] if k == d else s for k, s in enumerate(x.shape))
    if source.shape != expected:
        raise ValueError(
            f"index_add(): source has shape {source.shape}, expected {expected} (the input's "
            f"shape {x.shape} with dimension {d} the length of index, {index.shape[0]})"
        )
    if alpha != 1:
        source = source * alpha
    return scatter_add(x, d, _spread_index(index, d, source.shape), source)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of `input` with the slices ``index`` along `dim` set to `value` (a Python
    scalar or a 0-d tensor).

    >>> import mytensor as mt
    >>> mt.index_fill(mt.zeros(2, 3), 1, mt.tensor([0, 2]), 7.0).tolist()
    [[7.0, 0.0, 7.0], [7.0, 0.0, 7.0]]
    """
    from mytensor.core.creation import arange

    x = check_tensor("index_fill", input)
    value = _fill_value("index_fill", x, value)
    d, index = _index_vector("index_fill", x, dim, index)
    size = x.shape[d] if x.ndim else 1
    positions = arange(size, backend=x.backend).reshape(size, 1)
    hit = (positions == index.reshape(1, -1)).any(1)
    mask = hit.reshape(tuple(-1 if k == d else 1 for k in range(x.ndim)))
    return _filled(x, mask, value)
