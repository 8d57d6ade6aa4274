"""Shape ops: views that share the input's buffer (no copy), plus cat/stack/split.

Each view op computes a new (shape, strides, offset) in the core; its backward
is the inverse view (or a sum, for broadcast).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from mytensor.core import autograd
from mytensor.core.batching import (
    batchable,
    materialize,
    pass_rule,
    register_rule,
    shift_dim,
    shift_dims,
)
from mytensor.core.dtypes import ALL_DTYPES, promote_types
from mytensor.core.layout import (
    broadcast_shapes,
    contiguous_strides,
    infer_shape,
    is_integer,
    normalize_dim,
    normalize_dims,
    view_strides,
)
from mytensor.core.ops._base import OpRecord, check_tensor, register, same_backend
from mytensor.core.tensor import Tensor


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], Sequence | np.ndarray):
        shape = tuple(shape[0])
    return tuple(map(int, shape))


def _record_view(out: Tensor, name: str, x: Tensor, backward) -> Tensor:
    if out._storage is x._storage:
        out._base = x._base if x._base is not None else x
    if x.requires_grad and autograd.GRAD_MODE.enabled:
        autograd.record(out, name, (x,), lambda g: (backward(g),))
    return out


@batchable("contiguous")
def contiguous(x: Tensor) -> Tensor:
    """`x` itself if it is C-contiguous, else a C-contiguous copy.

    >>> import mytensor as mt
    >>> mt.arange(6).reshape(2, 3).T.contiguous().is_contiguous()
    True
    """
    x = check_tensor("contiguous", x)
    if x.is_contiguous():
        return x
    return clone(x)


@batchable("clone")
def clone(x: Tensor) -> Tensor:
    """A contiguous copy with its own buffer (differentiable).

    >>> import mytensor as mt
    >>> mt.clone(mt.ones(2)).tolist()
    [1.0, 1.0]
    """
    x = check_tensor("clone", x)
    out = Tensor._empty(x._storage.backend, x.shape, x.dtype)
    x._storage.backend.copy(out._d, x._d)
    return _record_view(out, "clone", x, lambda g: g)


@batchable("reshape")
def reshape(x: Tensor, *shape: int) -> Tensor:
    """`x` with a new shape (one size may be -1); a view when the layout allows, else a copy.

    >>> import mytensor as mt
    >>> mt.arange(6).reshape(2, -1).shape
    (2, 3)
    """
    x = check_tensor("reshape", x)
    new_shape = infer_shape("reshape", _shape_arg(shape), x.numel())
    if new_shape == x.shape:
        return _record_view(x._view(x.shape, x._strides, x._offset), "reshape", x, lambda g: g)
    strides = view_strides(x.shape, x._strides, new_shape)
    if strides is None:
        x = contiguous(x)
        strides = contiguous_strides(new_shape)
    out = x._view(new_shape, strides, x._offset)
    return _record_view(out, "reshape", x, lambda g: g.reshape(x.shape))


@batchable("view")
def view(x: Tensor, *shape: int) -> Tensor:
    """Like `reshape`, but never copies: an impossible view is an error.

    >>> import mytensor as mt
    >>> mt.zeros(2, 3).view(3, 2).shape
    (3, 2)
    """
    x = check_tensor("view", x)
    new_shape = infer_shape("view", _shape_arg(shape), x.numel())
    strides = view_strides(x.shape, x._strides, new_shape)
    if strides is None:
        raise RuntimeError(
            f"view(): shape {new_shape} is incompatible with the layout of the input "
            f"(shape {x.shape}, strides {x._strides}); use .reshape(), which copies, "
            "or call .contiguous() first"
        )
    return _record_view(x._view(new_shape, strides, x._offset), "view", x,
                        lambda g: g.reshape(x.shape))  # fmt: skip


def _permuted(x: Tensor, order: list[int]) -> Tensor:
    """The view of `x` with its dims in `order` (a checked permutation of them)."""
    shape, strides = x.shape, x._strides
    out = x._view(tuple([shape[d] for d in order]), tuple([strides[d] for d in order]),
                  x._offset)  # fmt: skip
    inverse = [0] * len(order)
    for position, d in enumerate(order):
        inverse[d] = position
    return _record_view(out, "permute", x, lambda g: g.permute(*inverse))


@batchable("permute")
def permute(x: Tensor, *dims: int) -> Tensor:
    """Reorder the dimensions (a view).

    >>> import mytensor as mt
    >>> mt.zeros(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    x = check_tensor("permute", x)
    dims = _shape_arg(dims)
    ndim = x.ndim
    order = [normalize_dim("permute", d, ndim) for d in dims] if ndim else list(dims)
    if sorted(order) != list(range(ndim)):
        raise ValueError(
            f"permute(): dims {dims} are not a permutation of the {ndim} dims of shape {x.shape}"
        )
    return _permuted(x, order)


@batchable("transpose")
def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view).

    >>> import mytensor as mt
    >>> mt.zeros(2, 3).transpose(0, 1).shape
    (3, 2)
    """
    x = check_tensor("transpose", x)
    ndim = x.ndim
    if ndim == 0:
        normalize_dim("transpose", dim0, 0), normalize_dim("transpose", dim1, 0)
        return _permuted(x, [])
    a, b = normalize_dim("transpose", dim0, ndim), normalize_dim("transpose", dim1, ndim)
    order = list(range(ndim))
    order[a], order[b] = b, a
    return _permuted(x, order)


@batchable("expand")
def expand(x: Tensor, *shape: int) -> Tensor:
    """Broadcast `x` to `shape` without copying (stride 0); -1 keeps a size.

    >>> import mytensor as mt
    >>> mt.ones(3, 1).expand(3, 4).shape
    (3, 4)
    """
    x = check_tensor("expand", x)
    target = _shape_arg(shape)
    lead = len(target) - x.ndim
    if lead < 0:
        raise ValueError(f"expand(): cannot expand shape {x.shape} to fewer dims {target}")
    target = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(target))
    if broadcast_shapes("expand", x.shape, target) != target:
        raise ValueError(f"expand(): shape {x.shape} cannot be expanded to {target}")
    return broadcast_to(x, target)


@batchable("broadcast_to")
def broadcast_to(x: Tensor, /, shape: Sequence[int]) -> Tensor:
    """`x` viewed with numpy-broadcast `shape` (stride 0 on new/size-1 axes).

    >>> import mytensor as mt
    >>> mt.broadcast_to(mt.ones(3), (2, 3)).shape
    (2, 3)
    """
    from mytensor.core.layout import broadcast_strides
    from mytensor.core.ops._base import unbroadcast

    x = check_tensor("broadcast_to", x)
    shape = tuple(int(s) for s in shape)
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to(): shape {x.shape} cannot be broadcast to {shape}")
    if shape == x.shape:
        return x
    out = x._view(shape, broadcast_strides(x.shape, x._strides, shape), x._offset)
    return _record_view(out, "expand", x, lambda g: unbroadcast(g, x.shape))


@batchable("squeeze")
def squeeze(x: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Drop size-1 dimensions (all, or those in `dim`); naming a size>1 dim is an error.

    >>> import mytensor as mt
    >>> mt.zeros(1, 3, 1).squeeze().shape
    (3,)
    """
    x = check_tensor("squeeze", x)
    if dim is None:
        dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        dims = normalize_dims("squeeze", dim, x.ndim)
        for d in dims:
            if x.shape[d] != 1:
                raise ValueError(
                    f"squeeze(): dimension {d} of shape {x.shape} has size {x.shape[d]}, not 1"
                )
    keep = [i for i in range(x.ndim) if i not in dims]
    out = x._view(tuple(x.shape[i] for i in keep), tuple(x._strides[i] for i in keep), x._offset)
    return _record_view(out, "squeeze", x, lambda g: g.reshape(x.shape))


@batchable("unsqueeze")
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at `dim` (negative counts from the new rank).

    >>> import mytensor as mt
    >>> mt.zeros(3).unsqueeze(0).shape
    (1, 3)
    """
    x = check_tensor("unsqueeze", x)
    d = normalize_dim("unsqueeze", dim, x.ndim + 1)
    shape = (*x.shape[:d], 1, *x.shape[d:])
    stride = x._strides[d] * x.shape[d] if d < x.ndim else 1
    strides = (*x._strides[:d], stride, *x._strides[d:])
    return _record_view(x._view(shape, strides, x._offset), "unsqueeze", x,
                        lambda g: g.reshape(x.shape))  # fmt: skip


@batchable("flip")
def flip(x: Tensor, dims: int | Sequence[int] | None = None) -> Tensor:
    """Reverse the order of elements along `dims` (all if None): a negative-stride view.

    >>> import mytensor as mt
    >>> mt.arange(3).flip(0).tolist()
    [2, 1, 0]
    """
    x = check_tensor("flip", x)
    axes = normalize_dims("flip", dims, x.ndim)
    offset = x._offset
    strides = list(x._strides)
    for d in axes:
        if x.shape[d] > 0:
            offset += (x.shape[d] - 1) * strides[d]
        strides[d] = -strides[d]
    out = x._view(x.shape, tuple(strides), offset)
    return _record_view(out, "flip", x, lambda g: g.flip(axes))


@batchable("cat")
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (their dtypes promote).

    >>> import mytensor as mt
    >>> mt.cat([mt.zeros(2, 3), mt.ones(1, 3)]).shape
    (3, 3)
    """
    tensors = [check_tensor("cat", t, f"tensors[{i}]") for i, t in enumerate(tensors)]
    if not tensors:
        raise ValueError("cat(): expected a non-empty sequence of tensors")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat(): zero-dimensional tensors cannot be concatenated; use stack()")
    d = normalize_dim("cat", dim, first.ndim)
    backend = same_backend("cat", *tensors)
    dtype = first.dtype
    for i, t in enumerate(tensors):
        dtype = promote_types(dtype, t.dtype)
        if t.ndim != first.ndim or any(
            a != b for k, (a, b) in enumerate(zip(t.shape, first.shape, strict=True)) if k != d
        ):
            raise ValueError(
                f"cat(): tensors[{i}] has shape {t.shape}, which does not match "
                f"tensors[0]'s {first.shape} outside dimension {d}"
            )
    shape = list(first.shape)
    shape[d] = sum(t.shape[d] for t in tensors)
    out = Tensor._empty(backend, tuple(shape), dtype)
    bounds = []
    start = 0
    for t in tensors:
        stop = start + t.shape[d]
        piece = out._view(t.shape, out._strides, start * out._strides[d])
        backend.copy(piece._d, t._d)  # copy casts to the promoted dtype
        bounds.append((start, stop))
        start = stop
    if autograd.needs_grad(*tensors):

        def backward(g: Tensor) -> tuple:
            index = [slice(None)] * g.ndim
            grads = []
            for t, (lo, hi) in zip(tensors, bounds, strict=True):
                index[d] = slice(lo, hi)
                grads.append(g[tuple(index)].astype(t.dtype) if t.requires_grad else None)
            return tuple(grads)

        autograd.record(out, "cat", tuple(tensors), backward)
    return out


@batchable("stack")
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension.

    >>> import mytensor as mt
    >>> mt.stack([mt.zeros(3), mt.ones(3)], dim=1).shape
    (3, 2)
    """
    tensors = [check_tensor("stack", t, f"tensors[{i}]") for i, t in enumerate(tensors)]
    if not tensors:
        raise ValueError("stack(): expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack(): tensors[{i}] has shape {t.shape} but tensors[0] has "
                f"{tensors[0].shape}; stack needs equal shapes"
            )
    d = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Split into views along `dim`: chunks of one size (the last may be smaller) or
    the given list of sizes.

    >>> import mytensor as mt
    >>> [p.shape for p in mt.split(mt.arange(5), 2)]
    [(2,), (2,), (1,)]
    """
    x = check_tensor("split", x)
    d = normalize_dim("split", dim, x.ndim)
    length = x.shape[d]
    if is_integer(split_size_or_sections):
        size = operator.index(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split(): split size must be positive, got {size}")
        sizes = [size] * (length // size) + ([length % size] if length % size else [])
        sizes = sizes or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise ValueError(
                f"split(): sizes {sizes} must be non-negative and sum to {length}, "
                f"the size of dimension {d} of shape {x.shape}"
            )
    pieces = []
    start = 0
    index = [slice(None)] * x.ndim
    for s in sizes:
        index[d] = slice(start, start + s)
        pieces.append(x[tuple(index)])
        start += s
    return tuple(pieces)


def _np_split(x, split_size_or_sections, dim=0):
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        cuts = list(range(split_size_or_sections, n, split_size_or_sections))
    else:
        cuts = np.cumsum(split_size_or_sections)[:-1].tolist()
    return tuple(np.split(x, cuts, axis=dim))


# reshape, flip, squeeze and stack are recorded with their namespace forms (manipulation.py)
_CUSTOM = [
    ("view", view), ("permute", permute), ("transpose", transpose), ("expand", expand),
    ("broadcast_to", broadcast_to), ("unsqueeze", unsqueeze), ("contiguous", contiguous),
    ("clone", clone), ("cat", cat), ("split", split),
]  # fmt: skip
for _name, _func in _CUSTOM:
    register(OpRecord(_name, _func, None, dtypes=ALL_DTYPES, shapes="custom"))


# -- vmap: the batch dim sits in front of the logical dims ------------------------------
def _batch_reshape(b, x, *shape):
    return b.op(x, (x.shape[0], *_shape_arg(shape)))


def _batch_permute(b, x, *dims):
    n = x.ndim - 1
    return b.op(x, (0, *(shift_dim(d, n) for d in _shape_arg(dims))))


def _batch_transpose(b, x, dim0, dim1):
    return b.op(x, shift_dim(dim0, x.ndim - 1), shift_dim(dim1, x.ndim - 1))


def _batch_expand(b, x, *shape):
    shape = _shape_arg(shape)
    missing = len(shape) - (x.ndim - 1)
    if missing > 0:
        x = x.reshape(x.shape[0], *([1] * missing), *x.shape[1:])
    return b.op(x, (x.shape[0], *shape))


def _batch_squeeze(b, x, dim=None):
    logical = x.shape[1:]
    if dim is None:
        dim = tuple(i for i, s in enumerate(logical) if s == 1)
    return b.op(x, shift_dims(dim, len(logical)))


def _batch_unsqueeze(b, x, dim):
    return b.op(x, shift_dim(dim, x.ndim))


def _batch_flip(b, x, dims=None):
    return b.op(x, shift_dims(dims, x.ndim - 1))


def _batch_joined(stacking):
    def rule(b, tensors, dim=0):
        tensors = [materialize(t, d, b.size) for t, d in zip(tensors, b.dims[0], strict=True)]
        return b.op(tensors, shift_dim(dim, tensors[0].ndim - 1 + stacking))

    return rule


for _name, _rule in [
    ("contiguous", pass_rule), ("clone", pass_rule), ("reshape", _batch_reshape),
    ("view", _batch_reshape), ("permute", _batch_permute), ("transpose", _batch_transpose),
    ("expand", _batch_expand), ("broadcast_to", lambda b, x, shape: _batch_expand(b, x, shape)),
    ("squeeze", _batch_squeeze), ("unsqueeze", _batch_unsqueeze),
    ("flip", _batch_flip), ("cat", _batch_joined(0)), ("stack", _batch_joined(1)),
]:  # fmt: skip
    register_rule(_name, _rule)
