"""Indexing: basic keys make views; integer arrays and boolean masks read through
`gather`; assignment and in-place ops write into the buffer and re-base the graph."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mytensor.core import autograd, batching
from mytensor.core._slice_grad import SliceGrad
from mytensor.core.batching import batchable, materialize, register_rule
from mytensor.core.dtypes import _KIND_RANK, FLOAT_DTYPES, bool_, int64
from mytensor.core.layout import contiguous_strides, normalize_dim
from mytensor.core.ops._base import (
    OpRecord,
    check_tensor,
    expanded,
    register,
    same_backend,
)
from mytensor.core.tensor import Tensor

_BASIC = (int, slice, type(None), type(Ellipsis))


def _is_int(item: Any) -> bool:
    if isinstance(item, bool | np.bool_):
        return False
    if isinstance(item, int | np.integer):
        return True
    return isinstance(item, Tensor) and item.ndim == 0 and item.dtype.is_integral


def _advanced_array(item: Any) -> np.ndarray:
    array = item.numpy() if isinstance(item, Tensor) else np.asarray(item)
    if array.size == 0 and not isinstance(item, Tensor | np.ndarray):
        array = array.astype(np.int64)  # an empty list indexes nothing (numpy, PyTorch)
    if array.dtype.kind not in "biu":
        raise IndexError(
            f"indexing: index arrays must be integer or bool, got {array.dtype} "
            f"(shape {array.shape})"
        )
    return array


def _normalize_key(x: Tensor, key: Any) -> list:
    items = list(key) if isinstance(key, tuple) else [key]
    items = [item if _is_basic(item) else _advanced_array(item) for item in items]
    if any(isinstance(i, np.ndarray) for i in items):  # numpy: beside index arrays, an int
        items = [np.asarray(int(i)) if _is_int(i) else i for i in items]  # is one too
    consumed = sum(
        1 if _is_int(i) or isinstance(i, slice) else i.ndim if isinstance(i, np.ndarray)
        and i.dtype == np.bool_ else 0 if i is None or i is Ellipsis else 1
        for i in items
    )  # fmt: skip
    ellipses = [k for k, item in enumerate(items) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("indexing: an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise IndexError(
            f"indexing: too many indices for a tensor of rank {x.ndim} (shape {x.shape}): "
            f"{consumed} were given"
        )
    fill = [slice(None)] * (x.ndim - consumed)
    if ellipses:
        k = ellipses[0]
        return items[:k] + fill + items[k + 1 :]
    return items + fill


def _is_basic(item: Any) -> bool:
    return _is_int(item) or isinstance(item, slice) or item is None or item is Ellipsis


class _Contiguous:
    """The layout of a C-contiguous tensor of `shape` at offset 0 (what `_basic_view` reads)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape, self._offset = shape, 0
        self._strides = contiguous_strides(shape)


def view_geometry(shape: tuple[int, ...], key: tuple) -> tuple[tuple, tuple, int]:
    """(shape, strides, offset) of the basic-index view `key` (normalized: ints, slices,
    None) of a C-contiguous tensor of `shape`."""
    view_shape, strides, offset, _ = _basic_view(_Contiguous(shape), list(key))
    return view_shape, strides, offset


def _basic_view(x: Tensor, items: list) -> tuple[tuple, tuple, int, list]:
    """Apply ints/slices/None; advanced arrays keep their dims and are returned with
    their output axis."""
    shape, strides, offset, advanced = [], [], x._offset, []
    dim = 0
    for item in items:
        if item is None:
            shape.append(1)
            strides.append(0)
        elif isinstance(item, slice):
            size, stride = x.shape[dim], x._strides[dim]
            start, stop, step = item.indices(size)
            n = len(range(start, stop, step))
            if n:
                offset += start * stride
            shape.append(n)
            strides.append(stride * step)
            dim += 1
        elif _is_int(item):
            i, size = int(item), x.shape[dim]
            if not -size <= i < size:
                raise IndexError(
                    f"indexing: index {i} is out of bounds for dimension {dim} with size {size} "
                    f"(tensor shape {x.shape})"
                )
            offset += (i % size) * x._strides[dim]
            dim += 1
        elif item.dtype == np.bool_ and item.ndim == 0:
            # numpy: a 0-d mask adds an axis that keeps (True) or drops (False) everything
            advanced.append((len(shape), np.zeros(int(item), np.int64), 1))
            shape.append(1)
            strides.append(0)
        elif item.dtype == np.bool_:
            span = x.shape[dim : dim + item.ndim]
            # an empty mask may have size 0 where the tensor's dimension is not (the
            # array API test suite's reading): it selects nothing
            empty = (
                item.size == 0
                and len(span) == item.ndim
                and all(k in (n, 0) for k, n in zip(item.shape, span, strict=True))
            )
            if item.shape != span and not empty:
                raise IndexError(
                    f"indexing: boolean mask of shape {item.shape} does not match dimensions "
                    f"{dim}..{dim + item.ndim - 1} of the tensor (shape {x.shape})"
                )
            for coords in np.nonzero(item):
                advanced.append((len(shape), coords, x.shape[dim]))
                shape.append(x.shape[dim])
                strides.append(x._strides[dim])
                dim += 1
        else:
            advanced.append((len(shape), item.astype(np.int64), x.shape[dim]))
            shape.append(x.shape[dim])
            strides.append(x._strides[dim])
            dim += 1
    return tuple(shape), tuple(strides), offset, advanced


@batchable("getitem")
def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]``: numpy's indexing. Basic keys (ints, slices with any step, None, ...)
    give a view; integer arrays and boolean masks give a copy.

    >>> import mytensor as mt
    >>> x = mt.arange(12).reshape(3, 4)
    >>> x[1:, ::-2].tolist(), x[mt.tensor([2, 0]), 1].tolist(), x[x > 9].tolist()
    ([[7, 5], [11, 9]], [9, 1], [10, 11])
    """
    items = _normalize_key(x, key)
    shape, strides, offset, advanced = _basic_view(x, items)
    from mytensor.core.ops.shape import _record_view

    basic_key = []  # the same key with every advanced index widened to full slices
    for item in items:
        if _is_basic(item):
            basic_key.append(item)
        else:
            basic_key.extend([slice(None)] * (item.ndim if item.dtype == np.bool_ else 1))
    basic_key = tuple(basic_key)
    out = _record_view(x._view(shape, strides, offset), "getitem", x,
                       lambda g: _view_grad(g, x, basic_key))  # fmt: skip
    if advanced:
        out = _advanced(out, advanced)
    return out


def _view_grad(g: Tensor, x: Tensor, key: tuple) -> Any:
    """The adjoint of a basic-index view: a `SliceGrad` the engine adds in place, or, when
    the backward itself is recorded (create_graph) or batched (vmap), `_embed`'s tensor."""
    if autograd.is_grad_enabled() or batching.ACTIVE[0] or type(g) is not Tensor:
        return _embed(g, x, key)
    return SliceGrad(x.shape, key, g)


@batchable("getitem_backward")
def _embed(g: Tensor, x: Tensor, key: Any) -> Tensor:
    """The adjoint of a basic-index view: `g` placed into zeros shaped like `x`."""
    from mytensor.core.creation import zeros

    base = zeros(x.shape, dtype=g.dtype, backend=g.backend)
    setitem(base, key, g)
    return base


def _advanced(v: Tensor, advanced: list) -> Tensor:
    """Read the elements the index arrays name, via one gather along a flattened axis."""
    axes = [axis for axis, _, _ in advanced]
    arrays = np.broadcast_arrays(*[array for _, array, _ in advanced])
    sizes = [size for _, _, size in advanced]
    for array, size, axis in zip(arrays, sizes, axes, strict=True):
        if array.size and (array.min() < -size or array.max() >= size):
            bad = array[(array < -size) | (array >= size)].flat[0]
            raise IndexError(
                f"indexing: index {bad} is out of bounds for dimension {axis} with size {size}"
            )
    index_shape = arrays[0].shape
    flat = (
        np.ravel_multi_index([a % s if s else a for a, s in zip(arrays, sizes, strict=True)], sizes)
        if math.prod(sizes)
        else np.zeros(index_shape, np.int64)
    )
    rest = [d for d in range(v.ndim) if d not in axes]
    moved = v.permute(*axes, *rest).reshape(math.prod(sizes), *[v.shape[d] for d in rest])
    count = int(np.prod(index_shape))
    index = _host_index(flat.reshape(count), v)
    index = index.reshape(count, *([1] * len(rest))).expand(count, *moved.shape[1:])
    out = gather(moved, 0, index).reshape(*index_shape, *moved.shape[1:])
    adjacent = axes == list(range(axes[0], axes[0] + len(axes)))
    if adjacent and axes[0] > 0:
        k = len(index_shape)
        lead = list(range(k, k + axes[0]))
        out = out.permute(*lead, *range(k), *range(k + axes[0], out.ndim))
    return out


def _host_index(array: np.ndarray, like: Tensor) -> Tensor:
    from mytensor.core.creation import asarray

    return asarray(np.ascontiguousarray(array, dtype=np.int64), backend=like.backend)


def _check_index(op: str, x: Tensor, dim: int, index: Tensor) -> int:
    index = check_tensor(op, index, "index")
    if index.dtype is not int64:
        raise TypeError(f"{op}(): index must be an int64 tensor, got {index.dtype.name}")
    d = normalize_dim(op, dim, x.ndim)
    if index.ndim != x.ndim:
        raise ValueError(
            f"{op}(): index (shape {index.shape}) must have the same rank as the input "
            f"(shape {x.shape})"
        )
    for k, (i, s) in enumerate(zip(index.shape, x.shape, strict=True)):
        if k != d and i > s:
            raise ValueError(
                f"{op}(): index shape {index.shape} exceeds input shape {x.shape} in dimension {k}"
            )
    if index.numel():
        low, high = index.min().item(), index.max().item()
        if low < 0 or high >= x.shape[d]:
            bad = low if low < 0 else high
            raise IndexError(
                f"{op}(): index {bad} is out of bounds for dimension {d} with size {x.shape[d]}"
            )
    return d


@batchable("gather")
def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` (for dim=1): pick values along `dim`.

    >>> import mytensor as mt
    >>> x = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> mt.gather(x, 1, mt.tensor([[1], [0]])).tolist()
    [[2.0], [3.0]]
    """
    x = check_tensor("gather", x)
    d = _check_index("gather", x, dim, index)
    return gather_checked(x, d, index)


def gather_checked(x: Tensor, d: int, index: Tensor) -> Tensor:
    """`gather` along the normalised dim `d` of an index its caller has already checked
    (dtype, rank, shape and bounds): the bounds check costs two reductions and two
    transfers, which a loss that validated its targets need not pay twice."""
    backend = same_backend("gather", x, index)
    source = x
    if any(k != d and n != m for k, (n, m) in enumerate(zip(index.shape, x.shape, strict=True))):
        window = tuple(slice(None) if k == d else slice(0, n) for k, n in enumerate(index.shape))
        source = x.detach()[window]
    out = Tensor._empty(backend, index.shape, x.dtype)
    if out.numel():
        backend.gather(out._d, source._d, index._d, d)
    if autograd.needs_grad(x):

        def backward(g: Tensor) -> tuple:
            from mytensor.core.creation import zeros

            return (scatter_add(zeros(x.shape, dtype=g.dtype, backend=g.backend), d, index, g),)

        autograd.record(out, "gather", (x,), backward)
    return out


@batchable("scatter_add")
def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of `x` with ``out[i][index[i][j]] += src[i][j]`` (for dim=1); repeats add up.

    >>> import mytensor as mt
    >>> mt.scatter_add(mt.zeros(3), 0, mt.tensor([0, 2, 0]), mt.ones(3)).tolist()
    [2.0, 0.0, 1.0]
    """
    x = check_tensor("scatter_add", x)
    src = check_tensor("scatter_add", src, "src")
    d = _check_index("scatter_add", x, dim, index)
    if src.shape != index.shape:
        raise ValueError(
            f"scatter_add(): src shape {src.shape} must equal index shape {index.shape}"
        )
    backend = same_backend("scatter_add", x, index, src)
    out = Tensor._empty(backend, x.shape, x.dtype)
    backend.copy(out._d, x._d)
    if src.numel():
        backend.scatter_add(out._d, index._d, src.astype(x.dtype)._d, d)
    if autograd.needs_grad(x, src):

        def backward(g: Tensor) -> tuple:
            return (g if x.requires_grad else None,
                    gather(g, d, index) if src.requires_grad else None)  # fmt: skip

        autograd.record(out, "scatter_add", (x, src), backward)
    return out


# -- writing ----------------------------------------------------------------------------
def assign(x: Tensor, result: Tensor, op: str) -> Tensor:
    """Write `result` (x's shape) into x's buffer in place; x takes over result's graph."""
    if batching.ACTIVE[0] and (type(x) is not Tensor or type(result) is not Tensor):
        return _batch_indexing.batched_assign(x, result, op, assign)
    _refuse_overlap(op, x)
    if result.shape != x.shape:
        raise ValueError(
            f"{op}(): the result has shape {result.shape} but the in-place target has "
            f"shape {x.shape}; in-place ops cannot change the shape"
        )
    if result.dtype is not x.dtype and _rank(result.dtype) > _rank(x.dtype):
        raise TypeError(
            f"{op}(): the result type {result.dtype.name} cannot be stored in place into a "
            f"{x.dtype.name} tensor; use the out-of-place form"
        )
    tracking = autograd.is_grad_enabled() and (x.requires_grad or result.requires_grad)
    if tracking:
        _check_inplace_grad(op, x)
    x._storage.backend.copy(x._d, result._d)
    x._storage.version += 1
    if tracking:
        # x now holds result's values: it takes result's place in the graph (or leaves the
        # graph, if a constant overwrote it)
        x._node = result._node
        x.requires_grad = result.requires_grad
    return x


def _refuse_overlap(op: str, x: Tensor) -> None:
    """A broadcast view (a stride 0 over a dim of size > 1) names one memory location from
    several elements: writing one of them would change them all, so it is refused."""
    if any(stride == 0 and size > 1 for size, stride in zip(x.shape, x._strides, strict=True)):
        raise RuntimeError(
            f"{op}(): unsupported operation: more than one element of the written-to tensor "
            f"(shape {x.shape}, strides {x._strides}, a broadcast or expanded view) refers to "
            "a single memory location; write to a .clone() of it instead"
        )


def _rank(dtype) -> int:
    return _KIND_RANK[dtype.kind]


def _check_inplace_grad(op: str, x: Tensor) -> None:
    if x.requires_grad and x._node is None:
        raise RuntimeError(
            f"{op}(): a leaf tensor that requires grad cannot be modified in place while grad "
            "is recorded; wrap the update in `with mytensor.no_grad():` (as optimizers do) "
            "or work on a .clone()"
        )
    if x._base is not None:
        raise RuntimeError(
            f"{op}(): in-place modification of a view is not supported while grad is "
            "recorded; build the result out of place (e.g. with mytensor.where or cat)"
        )


def setitem(x: Tensor, key: Any, value: Tensor | complex) -> None:
    """``x[key] = value`` with numpy's indexing (ints, slices, None, ..., boolean masks and
    integer arrays); `value` broadcasts to ``x[key]``'s shape and takes x's dtype. Where
    integer arrays name an element twice, the last write wins (as in numpy).

    >>> import mytensor as mt
    >>> x = mt.zeros(4)
    >>> x[1:3] = 5.0
    >>> x[mt.tensor([0, 3])] = mt.tensor([1.0, 2.0])
    >>> x.tolist()
    [1.0, 5.0, 5.0, 2.0]
    """
    from mytensor.core.ops._base import promote_operands

    _refuse_overlap("setitem", x)
    single = not isinstance(value, Tensor) or value.numel() == 1
    if isinstance(key, Tensor) and key.dtype is bool_ and key.shape == x.shape and single:
        from mytensor.core.ops.elementwise import where

        if isinstance(value, Tensor):
            value = value.reshape(())  # one value fills every masked place, whatever its rank
        assign(x, where(key, value, x).astype(x.dtype), "setitem")
        return
    items = _normalize_key(x, key)
    if not all(_is_basic(i) for i in items):
        _setitem_advanced(x, items, value)
        return
    shape, strides, offset, _ = _basic_view(x, items)
    target = x._view(shape, strides, offset)
    if not isinstance(value, Tensor):
        value = promote_operands("setitem", target, value)[1]
    same_backend("setitem", x, value)
    while value.ndim > len(shape) and value.shape[0] == 1:
        value = value.squeeze(0)  # leading size-1 dims drop, as in numpy
    from mytensor.core.layout import broadcast_shapes

    if broadcast_shapes("setitem", value.shape, shape) != shape:
        raise ValueError(f"setitem(): value of shape {value.shape} cannot fill a slot of {shape}")
    tracking = autograd.is_grad_enabled() and (x.requires_grad or value.requires_grad)
    if not tracking:
        if value._storage is x._storage:
            value = value.clone()  # overlapping source and target
        x._storage.backend.copy(target._d, expanded(value, shape))
        x._storage.version += 1
        return
    from mytensor.core.creation import zeros
    from mytensor.core.ops.elementwise import where

    region = zeros(x.shape, dtype=bool_, backend=x.backend)
    region[key] = True
    full = zeros(x.shape, dtype=value.dtype, backend=x.backend)
    full = _place(full, key, value, shape)
    assign(x, where(region, full, x).astype(x.dtype), "setitem")


def _setitem_advanced(x: Tensor, items: list, value: Tensor | complex) -> None:
    """Assignment through integer arrays / masks: one `gather` picks each element of the
    result from x or from the (broadcast) values, so every dtype and backend works and
    the gradient reaches both x and value."""
    from mytensor.core.creation import asarray
    from mytensor.core.ops._base import promote_operands
    from mytensor.core.ops.shape import cat

    np_key = tuple(int(i) if isinstance(i, Tensor) else i for i in items)
    try:
        positions = np.arange(x.numel(), dtype=np.int64).reshape(x.shape)[np_key]
    except IndexError as exc:
        raise IndexError(f"setitem(): {exc} (tensor shape {x.shape})") from None
    if not isinstance(value, Tensor):
        value = promote_operands("setitem", x, value)[1]
    same_backend("setitem", x, value)
    from mytensor.core.layout import broadcast_shapes

    if broadcast_shapes("setitem", value.shape, positions.shape) != positions.shape:
        raise ValueError(
            f"setitem(): value of shape {value.shape} cannot fill a slot of {positions.shape}"
        )
    flat_positions = positions.reshape(-1)
    source = np.arange(x.numel(), dtype=np.int64)
    # the last write to a position wins: assign in order, later entries overwrite
    source[flat_positions] = x.numel() + np.arange(flat_positions.size, dtype=np.int64)
    values = value.astype(x.dtype).broadcast_to(positions.shape).reshape(-1)
    pool = cat([x.reshape(-1), values])
    result = gather(pool, 0, asarray(source, backend=x.backend)).reshape(x.shape)
    assign(x, result, "setitem")


def _place(base: Tensor, key: Any, value: Tensor, shape: tuple) -> Tensor:
    """`base` with `value` broadcast into ``base[key]``, differentiable in `value`."""
    items = _normalize_key(base, key)
    v_shape, v_strides, v_offset, _ = _basic_view(base, items)
    base._storage.backend.copy(base._view(v_shape, v_strides, v_offset)._d, expanded(value, shape))
    if autograd.needs_grad(value):
        from mytensor.core.ops._base import unbroadcast

        autograd.record(base, "setitem", (value,),
                        lambda g: (unbroadcast(g[key], value.shape),))  # fmt: skip
    return base


register(OpRecord("getitem", getitem, None, shapes="custom"))
register(OpRecord("gather", gather, None, dtypes=FLOAT_DTYPES, shapes="custom"))
register(OpRecord("scatter_add", scatter_add, None, dtypes=FLOAT_DTYPES, shapes="custom"))


def _batch_embed(b, g, x, key):
    shape = x.shape[1:] if b.dims[1] is not None else x.shape
    g = materialize(g, b.dims[0], b.size)
    return _embed(g, g.new_zeros((b.size, *shape)), (slice(None), *key))


register_rule("getitem_backward", _batch_embed)
# the rules of getitem, gather, scatter_add, ... (they use this module's ops)
from mytensor.core.ops import _batch_indexing  # noqa: E402
