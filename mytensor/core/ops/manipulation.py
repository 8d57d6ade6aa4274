"""The array API's manipulation functions, composed from the shape ops' views, `cat`
and `gather` (so every one is differentiable on every backend).

Where PyTorch spells an op differently (``cat(tensors, dim)``, ``permute(x, *dims)``,
``x.reshape(2, 3)``, ``squeeze()`` with no dim), the PyTorch form stays in
`mytensor.core.ops.shape` and on the tensor methods; the names here follow the
standard, and take ``dim=`` as a keyword-only alias where PyTorch has the same name.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from mytensor.core.creation import asarray
from mytensor.core.dtypes import ALL_DTYPES, int64
from mytensor.core.layout import broadcast_shapes, is_integer, normalize_dim
from mytensor.core.ops import shape as S
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.ops.selection import take
from mytensor.core.tensor import Tensor

__all__ = [
    "broadcast_arrays", "concat", "expand_dims", "flip", "moveaxis", "permute_dims", "repeat",
    "reshape", "roll", "squeeze", "stack", "tile", "unstack",
]  # fmt: skip


def _one_of(op: str, name: str, value: Any, alias: str, alias_value: Any, default: Any) -> Any:
    if alias_value is None:
        return default if value is None else value
    if value is not None:
        raise TypeError(f"{op}(): pass {name}= or its PyTorch alias {alias}=, not both")
    return alias_value


def broadcast_arrays(*arrays: Tensor) -> list[Tensor]:
    """The inputs broadcast against each other (stride-0 views, no copies).

    >>> import mytensor as mt
    >>> [t.shape for t in mt.broadcast_arrays(mt.ones(3), mt.ones(2, 1))]
    [(2, 3), (2, 3)]
    """
    return list(broadcast_views("broadcast_arrays", "arrays", arrays))


def broadcast_views(op: str, arg: str, tensors: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """`tensors` (the argument `arg` of `op`, each checked) as views broadcast to their
    common shape; shared by broadcast_arrays and broadcast_tensors.

    >>> import mytensor as mt
    >>> [t.shape for t in broadcast_views("op", "xs", [mt.ones(3), mt.ones(2, 1)])]
    [(2, 3), (2, 3)]
    """
    checked = [check_tensor(op, t, f"{arg}[{i}]") for i, t in enumerate(tensors)]
    shape = broadcast_shapes(op, *(t.shape for t in checked))
    return tuple(S.broadcast_to(t, shape) for t in checked)


def _positional_dim(op: str, torch_args: tuple, dim: Any, name: str = "dim") -> Any:
    """PyTorch's positional dim after the first argument (the array API's forms take it as
    a keyword only, so a positional one is always PyTorch's)."""
    if not torch_args:
        return dim
    if len(torch_args) > 1 or dim is not None:
        raise TypeError(
            f"{op}(): takes one {name} after the first argument, positionally or as {name}="
        )
    return tuple(torch_args[0]) if isinstance(torch_args[0], list) else torch_args[0]


def concat(arrays: Sequence[Tensor], /, *torch_args: int, axis: int | None = 0,
           dim: int | None = None) -> Tensor:  # fmt: skip
    """Join tensors along an existing axis (None: flatten them all first); dtypes promote.

    >>> import mytensor as mt
    >>> mt.concat([mt.zeros(2, 3), mt.ones(1, 3)], axis=0).shape
    (3, 3)
    """
    dim = _positional_dim("concat", torch_args, dim)
    if dim is not None:
        axis = dim
    if axis is None:
        return S.cat([check_tensor("concat", t, f"arrays[{i}]").reshape(-1)
                      for i, t in enumerate(arrays)], 0)  # fmt: skip
    return S.cat(list(arrays), axis)


def stack(arrays: Sequence[Tensor], /, *torch_args: int, axis: int = 0,
          dim: int | None = None) -> Tensor:  # fmt: skip
    """Join same-shaped tensors along a new axis.

    >>> import mytensor as mt
    >>> mt.stack([mt.zeros(3), mt.ones(3)], axis=1).shape
    (3, 2)
    """
    dim = _positional_dim("stack", torch_args, dim)
    return S.stack(list(arrays), axis if dim is None else dim)


def unstack(x: Tensor, /, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of `x` along `axis`, as a tuple of views (the inverse of `stack`).

    >>> import mytensor as mt
    >>> [t.tolist() for t in mt.unstack(mt.tensor([[1, 2], [3, 4]]), axis=1)]
    [[1, 3], [2, 4]]
    """
    x = check_tensor("unstack", x)
    if x.ndim == 0:
        raise ValueError("unstack(): a 0-d tensor has no axis to unstack along")
    d = normalize_dim("unstack", axis, x.ndim)
    key = [slice(None)] * d
    return tuple(x[(*key, i)] for i in range(x.shape[d]))


def expand_dims(x: Tensor, /, axis: int) -> Tensor:
    """Insert a size-1 axis at `axis` (in ``[-ndim - 1, ndim]``): a view.

    >>> import mytensor as mt
    >>> mt.expand_dims(mt.zeros(2, 3), axis=-1).shape
    (2, 3, 1)
    """
    x = check_tensor("expand_dims", x)
    return S.unsqueeze(x, axis)


def squeeze(x: Tensor, /, axis: int | tuple[int, ...]) -> Tensor:
    """Drop the size-1 axes named by `axis` (required; naming a size > 1 axis is an error).
    The method ``x.squeeze()`` keeps PyTorch's drop-them-all default.

    >>> import mytensor as mt
    >>> mt.squeeze(mt.zeros(1, 3, 1), axis=(0, 2)).shape
    (3,)
    """
    return S.squeeze(check_tensor("squeeze", x), axis)


def flip(x: Tensor, /, *torch_args: Any, axis: int | tuple[int, ...] | None = None,
         dims: int | tuple[int, ...] | None = None) -> Tensor:  # fmt: skip
    """Reverse the order of elements along `axis` (None: all axes): a view.

    >>> import mytensor as mt
    >>> mt.flip(mt.tensor([[1, 2], [3, 4]]), axis=1).tolist()
    [[2, 1], [4, 3]]
    """
    dims = _positional_dim("flip", torch_args, dims, "dims")
    return S.flip(check_tensor("flip", x), _one_of("flip", "axis", axis, "dims", dims, None))


def permute_dims(x: Tensor, /, axes: tuple[int, ...]) -> Tensor:
    """Reorder the axes: output axis ``i`` is input axis ``axes[i]`` (a view).

    >>> import mytensor as mt
    >>> mt.permute_dims(mt.zeros(2, 3, 4), (2, 0, 1)).shape
    (4, 2, 3)
    """
    x = check_tensor("permute_dims", x)
    return S.permute(x, *tuple(axes))


def moveaxis(x: Tensor, source: int | tuple[int, ...], destination: int | tuple[int, ...],
             /) -> Tensor:  # fmt: skip
    """Move axes `source` to positions `destination`, keeping the others in order (a view).

    >>> import mytensor as mt
    >>> mt.moveaxis(mt.zeros(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    """
    x = check_tensor("moveaxis", x)
    src = (source,) if is_integer(source) else tuple(source)
    dst = (destination,) if is_integer(destination) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis(): source {source!r} and destination {destination!r} must name "
            "the same number of axes"
        )
    src_n = [normalize_dim("moveaxis", d, x.ndim) for d in src]
    dst_n = [normalize_dim("moveaxis", d, x.ndim) for d in dst]
    if len(set(src_n)) != len(src_n) or len(set(dst_n)) != len(dst_n):
        raise ValueError(f"moveaxis(): repeated axes in {source!r} or {destination!r}")
    order = [d for d in range(x.ndim) if d not in src_n]
    for s, d in sorted(zip(dst_n, src_n, strict=True)):
        order.insert(s, d)
    return S.permute(x, *order)


def reshape(x: Tensor, /, shape: tuple[int, ...], *, copy: bool | None = None) -> Tensor:
    """`x` with a new shape (one size may be -1). ``copy=None``: a view when the layout
    allows, else a copy; ``copy=True``: always a copy; ``copy=False``: a view or an error.

    >>> import mytensor as mt
    >>> mt.reshape(mt.arange(6), (2, -1)).shape
    (2, 3)
    """
    x = check_tensor("reshape", x)
    shape = (operator.index(shape),) if is_integer(shape) else tuple(shape)
    if copy is False:
        return S.view(x, shape)
    out = S.reshape(x, shape)
    if copy and out._storage is x._storage:
        out = S.clone(out)
    return out


def roll(x: Tensor, /, shift: int | tuple[int, ...], *,
         axis: int | tuple[int, ...] | None = None) -> Tensor:  # fmt: skip
    """Shift elements along `axis` cyclically (None: along the flattened input).

    >>> import mytensor as mt
    >>> mt.roll(mt.tensor([1, 2, 3, 4]), 1).tolist()
    [4, 1, 2, 3]
    """
    x = check_tensor("roll", x)
    if axis is None:
        if not is_integer(shift):
            raise TypeError(f"roll(): with axis=None, shift must be an int, got {shift!r}")
        return roll(x.reshape(-1), shift, axis=0).reshape(x.shape)
    axes = (axis,) if is_integer(axis) else tuple(axis)
    shifts = (shift,) * len(axes) if is_integer(shift) else tuple(shift)
    if len(shifts) != len(axes):
        raise ValueError(f"roll(): shift {shift!r} and axis {axis!r} must have the same length")
    out = x
    for s, a in zip(shifts, axes, strict=True):
        d = normalize_dim("roll", a, x.ndim)
        n = x.shape[d] if x.ndim else 1
        k = s % n if n else 0
        if k and x.ndim:
            key = [slice(None)] * d
            out = S.cat([out[(*key, slice(n - k, n))], out[(*key, slice(0, n - k))]], d)
    return out


def repeat(x: Tensor, repeats: int | Tensor, /, *, axis: int | None = None) -> Tensor:
    """Repeat each element `repeats` times (an int, or one count per element) along
    `axis` (None: of the flattened input).

    >>> import mytensor as mt
    >>> mt.repeat(mt.tensor([1, 2, 3]), mt.tensor([2, 0, 1])).tolist()
    [1, 1, 3]
    """
    x = check_tensor("repeat", x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    d = normalize_dim("repeat", axis, x.ndim)
    n = x.shape[d] if x.ndim else 1
    counts = repeats.numpy() if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any():
        raise ValueError(
            f"repeat(): repeats must be a non-negative int or a 1-d integer tensor, got {repeats!r}"
        )
    if counts.ndim == 1 and counts.shape[0] not in (1, n):
        raise ValueError(
            f"repeat(): {counts.shape[0]} repeats for axis {d} of size {n} (shape {x.shape}); "
            "give one count per element, or a single int"
        )
    picks = np.repeat(np.arange(n, dtype=np.int64), counts)
    return take(x, asarray(picks, dtype=int64, backend=x.backend), axis=d)


def tile(x: Tensor, repetitions: tuple[int, ...], /) -> Tensor:
    """`x` repeated `repetitions[i]` times along axis i (numpy's `tile`).

    >>> import mytensor as mt
    >>> mt.tile(mt.tensor([1, 2]), (2, 2)).tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = check_tensor("tile", x)
    reps = tuple(int(r) for r in repetitions)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile(): repetitions must be non-negative, got {reps}")
    rank = max(len(reps), x.ndim)
    reps = (1,) * (rank - len(reps)) + reps
    base = (1,) * (rank - x.ndim) + x.shape
    interleaved = tuple(v for pair in zip((1,) * rank, base, strict=True) for v in pair)
    target = tuple(v for pair in zip(reps, base, strict=True) for v in pair)
    out = S.broadcast_to(x.reshape(interleaved), target)
    out = out.reshape(tuple(r * s for r, s in zip(reps, base, strict=True)))
    return S.clone(out) if out._storage is x._storage else out  # tiles never alias x


# -- conformance records ------------------------------------------------------------------
def _flip_variants(shapes):
    ndim = len(shapes[0])
    return [{}, *({"axis": d} for d in range(-ndim, ndim)),
            *([{"axis": (0, -1)}, {"dims": (0,)}] if ndim >= 2 else [])]  # fmt: skip


def _squeeze_variants(shapes):
    ones = [d for d, s in enumerate(shapes[0]) if s == 1]
    return [{"axis": d} for d in ones] + ([{"axis": tuple(ones)}] if ones else [])


def _expand_dims_variants(shapes):
    ndim = len(shapes[0])
    return [{"axis": d} for d in range(-ndim - 1, ndim + 1)]


def _permute_variants(shapes):
    ndim = len(shapes[0])
    rolled = (*range(1, ndim), 0) if ndim else ()
    return [{"axes": tuple(range(ndim))}, {"axes": tuple(reversed(range(ndim)))},
            {"axes": rolled}]  # fmt: skip


def _reshape_variants(shapes):
    shape = shapes[0]
    n = math.prod(shape)
    out = [{"shape": (-1,)}, {"shape": (*shape, 1)}, {"shape": tuple(reversed(shape))},
           {"shape": shape, "copy": True}]  # fmt: skip
    out += [{"shape": (-1, k)} for k in (2, 3) if n and n % k == 0]
    return out + ([{"shape": ()}] if n == 1 else [])


def _roll_variants(shapes):
    ndim = len(shapes[0])
    out = [{"shift": 1}, {"shift": -2}]
    out += [{"shift": s, "axis": d} for d in range(-ndim, ndim) for s in (1, -3)]
    return out + ([{"shift": (1, 2), "axis": (0, -1)}] if ndim >= 2 else [])


def _np_flip(a, axis=None, dims=None):
    axis = dims if dims is not None else axis
    return np.flip(a, axis=axis) if a.ndim else a


def _np_reshape(a, shape, copy=None):
    return np.reshape(a, shape)


_TABLE = [
    ("flip", flip, _np_flip, _flip_variants),
    ("squeeze", squeeze, lambda a, axis: np.squeeze(a, axis=axis), _squeeze_variants),
    ("expand_dims", expand_dims, lambda a, axis: np.expand_dims(a, axis), _expand_dims_variants),
    ("permute_dims", permute_dims, lambda a, axes: np.transpose(a, axes), _permute_variants),
    ("reshape", reshape, _np_reshape, _reshape_variants),
    ("roll", roll, lambda a, shift, axis=None: np.roll(a, shift, axis), _roll_variants),
]
for _name, _func, _ref, _variants in _TABLE:
    register(OpRecord(_name, _func, _ref, dtypes=ALL_DTYPES, variants=_variants))
register(OpRecord("stack", stack, None, dtypes=ALL_DTYPES, shapes="custom"))  # test_custom.py
