"""vmap's rules for the indexing ops (getitem with any key, gather, scatter, scatter_add,
index_select) and for in-place writes into batched tensors (`batched_assign`).

Each rule puts the batch dim in front of every operand that takes part (`materialize`:
an unbatched operand is broadcast, a view) and runs the op once with its dim shifted
behind the batch dim. Advanced (tensor) keys index the batch dim with an `arange`, so
every sample reads through its own index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.core.batching import (
    Batch,
    BatchedTensor,
    materialize,
    pad_to,
    register_rule,
    shift_dim,
)
from mytensor.core.tensor import Tensor


def _batch_gather(b: Batch, x: Tensor, dim: int, index: Tensor) -> Tensor:
    ndim = x.ndim - (b.dims[0] is not None)
    x, index = materialize(x, b.dims[0], b.size), materialize(index, b.dims[2], b.size)
    return b.op(x, shift_dim(dim, ndim), index)


def _batch_scatter(b: Batch, x: Tensor, dim: int, index: Tensor, src: Any = None,
                   **kwargs: Any) -> Tensor:  # fmt: skip
    ndim = x.ndim - (b.dims[0] is not None)
    x, index = materialize(x, b.dims[0], b.size), materialize(index, b.dims[2], b.size)
    if isinstance(src, Tensor):
        src = materialize(src, b.dims[3] if len(b.dims) > 3 else b.kw.get("src"), b.size)
    return b.op(x, shift_dim(dim, ndim), index, src, **kwargs)


def _batch_index_select(b: Batch, x: Tensor, dim: int, index: Tensor) -> Tensor:
    ndim = x.ndim - (b.dims[0] is not None)
    x = materialize(x, b.dims[0], b.size)
    if ndim == 0:
        x = x.reshape(b.size, 1)
    d = shift_dim(dim, ndim)
    if b.dims[2] is None:  # one index for every sample
        out = b.op(x, d, index)
    else:  # sample i picks x[i].index_select(dim, index[i])
        rows = _arange(b.size, x, 2)
        out = x.movedim(d, 1)[rows, index].movedim(1, d)
    return out.reshape(b.size) if ndim == 0 else out


def _arange(size: int, like: Tensor, ndim: int) -> Tensor:
    """0 .. size-1 as an int64 index of `ndim` dims, the batch dim in front."""
    from mytensor.core.creation import arange

    return arange(size, backend=like.backend).reshape(size, *([1] * (ndim - 1)))


def _advanced(item: Any) -> bool:
    return isinstance(item, Tensor | list | np.ndarray | bool | np.bool_)


def _batch_getitem(b: Batch, x: Tensor, key: Any) -> Tensor:
    """x[key] for every sample: basic keys get a full slice over the batch dim in front;
    tensor keys (batched or not) index the batch dim with an arange, so each sample reads
    through its own index, and the broadcast index dims go where numpy puts them."""
    from mytensor.core.creation import asarray

    items = list(key) if isinstance(key, tuple) else [key]
    if not any(_advanced(i) for i in items):
        return b.op(x, (slice(None), *items))
    dims = b.dims[1] if isinstance(b.dims[1], tuple) else (b.dims[1],) * len(items)
    items = [asarray(i) if isinstance(i, list | np.ndarray) else i for i in items]
    for item, d in zip(items, dims, strict=True):
        if isinstance(item, Tensor) and item.dtype.kind == "bool" and d is not None:
            raise RuntimeError(
                f"vmap: getitem with a batched boolean mask (logical shape {item.shape[1:]}) "
                "would give each sample its own output shape; use where(mask, x, 0) instead"
            )
    x = materialize(x, b.dims[0], b.size)
    fill = x.ndim - 1 - sum(_consumed(i) for i in items)  # dims of Ellipsis or the tail
    # per sample, the index dims go in front unless the advanced items (ints count as
    # advanced beside them: numpy's rule) stand together; physically they go in front
    flags = [not _is_plain(i) or _is_int(i) for i in items]
    first = flags.index(True)
    last = len(flags) - 1 - flags[::-1].index(True)
    before = _basic_dims(items[:first], fill) if all(flags[first : last + 1]) else 0
    nb = max((i.ndim - (d is not None) for i, d in zip(items, dims, strict=True)
              if isinstance(i, Tensor) and i.dtype.kind != "bool"), default=0)  # fmt: skip
    if any(isinstance(i, Tensor) and i.dtype.kind == "bool" for i in items):
        nb = max(nb, 1)  # a mask reads as 1-d arrays of its True positions
    index = [pad_to(i, d, nb) if isinstance(i, Tensor) and i.dtype.kind != "bool" else i
             for i, d in zip(items, dims, strict=True)]  # fmt: skip
    out = x[(_arange(b.size, x, nb + 1), *index)]  # (batch, *index dims, *other dims)
    if before:
        tail = 0 if any(i is Ellipsis for i in items) else fill
        nb = out.ndim - 1 - _basic_dims(items, fill) - tail
        order = [0, *range(nb + 1, nb + 1 + before), *range(1, nb + 1),
                 *range(nb + 1 + before, out.ndim)]  # fmt: skip
        out = out.permute(*order)
    return out


def _is_plain(item: Any) -> bool:
    return isinstance(item, slice) or item is None or item is Ellipsis or _is_int(item)


def _is_int(item: Any) -> bool:
    return isinstance(item, int | np.integer) and not isinstance(item, bool | np.bool_)


def _consumed(item: Any) -> int:
    """How many dims of the indexed tensor `item` uses up."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, Tensor) and item.dtype.kind == "bool":
        return item.ndim
    return 1


def _basic_dims(items: list, fill: int) -> int:
    """How many output dims the slices, Nones and Ellipsis among `items` give."""
    return sum(1 if isinstance(i, slice) or i is None else fill if i is Ellipsis else 0
               for i in items)  # fmt: skip


def batched_assign(x: Tensor, result: Tensor, op: str, assign: Any) -> Tensor:
    """An in-place write under vmap: the physical result written into the physical target;
    a batched result into a target not batched at its level is refused, as torch.func
    refuses it (each sample would write its own value into the same memory)."""
    x_level = x._level if isinstance(x, BatchedTensor) else -1
    r_level = result._level if isinstance(result, BatchedTensor) else -1
    if r_level > x_level:
        raise RuntimeError(
            f"vmap: {op}() would write a value batched over vmap (logical shape "
            f"{result.shape}) into a tensor that is not batched there (shape {x.shape}): "
            "every sample would write into the same memory. Use the out-of-place op, or "
            "pass the target through vmap's in_dims"
        )
    if x_level < 0:
        return assign(x, result, op)
    value = result._value if r_level == x_level else result.unsqueeze(0).expand(
        x._value.shape[0], *result.shape)  # fmt: skip
    assign(x._value, value, op)
    return x


register_rule("getitem", _batch_getitem)
register_rule("gather", _batch_gather)
register_rule("scatter", _batch_scatter)
register_rule("scatter_add", _batch_scatter)
register_rule("index_select", _batch_index_select)
