"""PyTorch's repetition and triangle spellings: the ``repeat(*sizes)`` / ``tile(dims)``
methods (fresh memory, never a view of the input), repeat_interleave, and the namespace
`roll`, `tril` and `triu`, which take both the array API's keywords (``axis=``, ``k=``)
and PyTorch's (positional or ``dims=``, ``diagonal=``)."""

from __future__ import annotations

import operator

import numpy as np

from mytensor.core.dtypes import ALL_DTYPES, int64
from mytensor.core.layout import is_integer, normalize_dim
from mytensor.core.ops import construction, manipulation
from mytensor.core.ops import shape as S
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.tensor import Tensor

__all__ = ["repeat", "repeat_interleave", "roll", "tile", "tril", "triu"]


def repeat(input: Tensor, *sizes: int | tuple[int, ...]) -> Tensor:
    """`input` tiled ``sizes[i]`` times along dimension i (PyTorch's ``Tensor.repeat``:
    `sizes` may add leading dimensions, never drop any); always a new tensor.

    >>> import mytensor as mt
    >>> mt.tensor([1, 2]).repeat(2, 2).tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = check_tensor("repeat", input)
    reps = S._shape_arg(sizes)
    if len(reps) < x.ndim:
        raise ValueError(
            f"repeat(): {len(reps)} repeat counts {reps} for a tensor of rank {x.ndim} (shape "
            f"{x.shape}); give at least one count per dimension"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat(): repeat counts must be non-negative, got {reps}")
    base = (1,) * (len(reps) - x.ndim) + x.shape
    interleaved = tuple(v for size in base for v in (1, size))
    spread = tuple(v for r, size in zip(reps, base, strict=True) for v in (r, size))
    out = S.broadcast_to(x.reshape(interleaved), spread).reshape(
        tuple(r * size for r, size in zip(reps, base, strict=True))
    )
    return S.clone(out) if out._storage is x._storage else out


def tile(input: Tensor, dims: tuple[int, ...] | list[int]) -> Tensor:
    """`input` tiled ``dims[i]`` times along dimension i; fewer `dims` than dimensions
    repeat the trailing ones (ones are prepended). Always a new tensor.

    >>> import mytensor as mt
    >>> mt.tensor([[1, 2]]).tile((2,)).tolist()
    [[1, 2, 1, 2]]
    """
    x = check_tensor("tile", input)
    reps = (operator.index(dims),) if is_integer(dims) else tuple(operator.index(r) for r in dims)
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def repeat_interleave(input: Tensor, repeats: int | Tensor | None = None, dim: int | None = None,
                      *, output_size: int | None = None) -> Tensor:  # fmt: skip
    """Each element (or slice along `dim`) repeated `repeats` times in place: an int, or
    one count per element. With dim=None the input is flattened first. Called with only
    a 1-d count tensor, it repeats each index ``i`` ``input[i]`` times.

    >>> import mytensor as mt
    >>> mt.repeat_interleave(mt.tensor([[1, 2], [3, 4]]), 2, dim=0).tolist()
    [[1, 2], [1, 2], [3, 4], [3, 4]]
    """
    x = check_tensor("repeat_interleave", input)
    if repeats is None:
        from mytensor.core.creation import arange

        if x.ndim != 1 or not x.dtype.is_integral:
            raise ValueError(
                f"repeat_interleave(): called with counts only, they must be a 1-d integer "
                f"tensor, got shape {x.shape} and dtype {x.dtype.name}"
            )
        return repeat_interleave(arange(x.shape[0], dtype=int64, backend=x.backend), x, 0)
    if isinstance(repeats, Tensor) and repeats.ndim > 1:
        raise ValueError(
            f"repeat_interleave(): repeats must be an int or a 0-d or 1-d tensor, got shape "
            f"{repeats.shape}"
        )
    if dim is not None:
        normalize_dim("repeat_interleave", dim, x.ndim)
    out = manipulation.repeat(x, repeats, axis=dim if x.ndim else None)
    if output_size is not None and out.shape[dim or 0] != output_size:
        raise ValueError(
            f"repeat_interleave(): output_size={output_size} but the repeats give "
            f"{out.shape[dim or 0]} elements"
        )
    return out


def roll(x: Tensor, /, shift: int | tuple[int, ...], *torch_args: int | tuple[int, ...],
         axis: int | tuple[int, ...] | None = None,
         dims: int | tuple[int, ...] | None = None) -> Tensor:  # fmt: skip
    """Shift elements cyclically along `axis` (PyTorch: `dims`, positional too); None
    shifts the flattened input and restores the shape.

    >>> import mytensor as mt
    >>> x = mt.tensor([[1, 2], [3, 4]])
    >>> mt.roll(x, 1, 1).tolist(), mt.roll(x, 1, axis=0).tolist(), mt.roll(x, 1).tolist()
    ([[2, 1], [4, 3]], [[3, 4], [1, 2]], [[4, 1], [2, 3]])
    """
    if len(torch_args) > 1:
        raise TypeError(f"roll(): takes one dims argument after shift, got {len(torch_args)}")
    named = [v for v in (axis, dims, *torch_args) if v is not None]
    if len(named) > 1:
        raise TypeError("roll(): pass the dims once (positionally, dims= or axis=)")
    target = named[0] if named else None
    if isinstance(target, list):
        target = tuple(target)
    if isinstance(shift, list):
        shift = tuple(shift)
    return manipulation.roll(x, shift, axis=target)


def _diagonal_arg(op: str, args: tuple, k: int, diagonal: int | None) -> int:
    if len(args) > 1:
        raise TypeError(f"{op}(): takes one diagonal argument after the input, got {len(args)}")
    given = [v for v in (*args, diagonal) if v is not None]
    if len(given) > 1 or (given and k != 0):
        raise TypeError(f"{op}(): pass the diagonal once (positionally, diagonal= or k=)")
    return int(given[0]) if given else k


def tril(x: Tensor, /, *torch_args: int, k: int = 0, diagonal: int | None = None) -> Tensor:
    """The lower triangle of the last two dimensions: elements above diagonal `k`
    (PyTorch: `diagonal`, positional too) set to zero.

    >>> import mytensor as mt
    >>> mt.tril(mt.ones(2, 3), 1).tolist()
    [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    return construction.tril(x, k=_diagonal_arg("tril", torch_args, k, diagonal))


def triu(x: Tensor, /, *torch_args: int, k: int = 0, diagonal: int | None = None) -> Tensor:
    """The upper triangle of the last two dimensions: elements below diagonal `k`
    (PyTorch: `diagonal`, positional too) set to zero.

    >>> import mytensor as mt
    >>> mt.triu(mt.ones(2, 3), diagonal=1).tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return construction.triu(x, k=_diagonal_arg("triu", torch_args, k, diagonal))


# -- conformance records ------------------------------------------------------------------
def _repeat_variants(shapes):
    ndim = len(shapes[0])
    out = [{"sizes": (2,) * ndim}, {"sizes": (1,) * ndim}, {"sizes": (3, *([1] * ndim))}]
    return out + ([{"sizes": (1, 0, *([2] * (ndim - 1)))}] if ndim else [])


def _repeat_interleave_variants(shapes):
    ndim = len(shapes[0])
    return [{"repeats": 2}, {"repeats": 0}, *({"repeats": 3, "dim": d} for d in range(-ndim, ndim))]


def _np_repeat_interleave(a, repeats, dim=None):
    return np.repeat(a, repeats, axis=dim)


def _repeat_by_sizes(x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    return repeat(x, *sizes)


def _np_repeat_by_sizes(a, sizes):
    return np.tile(a.reshape((1,) * (len(sizes) - a.ndim) + a.shape), sizes)


# the Tensor.repeat method (mt.repeat is the array API's, recorded in manipulation.py)
register(OpRecord("tensor_repeat", _repeat_by_sizes, _np_repeat_by_sizes, dtypes=ALL_DTYPES,
                  variants=_repeat_variants))  # fmt: skip
register(OpRecord("repeat_interleave", repeat_interleave, _np_repeat_interleave,
                  dtypes=ALL_DTYPES, variants=_repeat_interleave_variants))  # fmt: skip
