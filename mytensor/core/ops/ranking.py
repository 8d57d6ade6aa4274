"""PyTorch's sorting and selection by rank: sort / argsort (with ``dim``), topk, kthvalue,
median, the ``max`` / ``min`` that return (values, indices) along a dim, and aminmax.

Every index comes from the stable `argsort` or `argmax` / `argmin` primitives and every
value is a `gather` at those indices, so gradients reach exactly the chosen elements
(as PyTorch's do) on every backend.

The namespace forms `sort`, `argsort`, `max` and `min` serve both conventions: called
the array API's way (``axis=``, no positional dim) they are the standard's functions;
called PyTorch's way (a positional dim, or ``dim=``) they are PyTorch's.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

from mytensor.core.dtypes import int64
from mytensor.core.layout import is_integer, normalize_dim
from mytensor.core.ops import reductions as R
from mytensor.core.ops import sorting, statistical
from mytensor.core.ops._base import check_tensor
from mytensor.core.ops.elementwise import BINARY_OPS, where
from mytensor.core.ops.indexing import gather
from mytensor.core.tensor import Tensor

__all__ = [
    "MinMax", "ValuesIndices", "aminmax", "argsort", "kthvalue", "max", "median", "min",
    "sort", "topk",
]  # fmt: skip


class ValuesIndices(NamedTuple):
    """The (values, indices) pair of sort, topk, kthvalue, median, max and min."""

    values: Tensor
    indices: Tensor


class MinMax(NamedTuple):
    """The (min, max) pair of aminmax."""

    min: Tensor
    max: Tensor


def _zero_index(x: Tensor) -> Tensor:
    from mytensor.core.creation import zeros

    return zeros((), dtype=int64, backend=x.backend)


def _sorted(op: str, x: Tensor, dim: int, descending: bool) -> ValuesIndices:
    d = normalize_dim(op, dim, x.ndim)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _zero_index(x))
    order = sorting.argsort(x, axis=d, descending=bool(descending))
    return ValuesIndices(gather(x, d, order), order)


def _from_torch_args(op: str, args: tuple, dim: Any, names: tuple[str, ...]) -> dict:
    """PyTorch's positional arguments after the input, as keywords (dim= may not repeat)."""
    if len(args) > len(names):
        raise TypeError(f"{op}(): takes at most {len(names)} arguments after the input, "
                        f"got {len(args)}")  # fmt: skip
    given = dict(zip(names, args, strict=False))
    if dim is not None:
        if "dim" in given:
            raise TypeError(f"{op}(): got dim both positionally and as a keyword")
        given["dim"] = dim
    return given


def sort(x: Tensor, /, *torch_args: Any, axis: int = -1, descending: bool = False,
         stable: bool = True, dim: int | None = None) -> Any:  # fmt: skip
    """Sort along a dimension (stably; NaN sorts as the largest value).

    PyTorch's ``sort(input, dim=-1, descending=False)``, called with a positional dim or
    ``dim=``, returns the named tuple (values, indices); the array API's
    ``sort(x, axis=-1)`` returns the values. Gradients flow to each value's origin.

    >>> import mytensor as mt
    >>> x = mt.tensor([3.0, 1.0, 2.0])
    >>> mt.sort(x, 0).indices.tolist(), mt.sort(x, axis=0).tolist()
    ([1, 2, 0], [1.0, 2.0, 3.0])
    """
    if not torch_args and dim is None:
        return sorting.sort(x, axis=axis, descending=descending, stable=stable)
    given = _from_torch_args("sort", torch_args, dim, ("dim", "descending"))
    if axis != -1:
        raise TypeError("sort(): pass axis= (the array API's form) or dim (PyTorch's), not both")
    x = check_tensor("sort", x)
    return _sorted("sort", x, given.get("dim", -1), given.get("descending", descending))


def argsort(x: Tensor, /, *torch_args: Any, axis: int = -1, descending: bool = False,
            stable: bool = True, dim: int | None = None) -> Tensor:  # fmt: skip
    """The int64 indices that sort `x` along a dimension (stably; NaN as the largest):
    the array API's ``argsort(x, axis=-1)`` and PyTorch's ``argsort(input, dim=-1,
    descending=False)`` alike.

    >>> import mytensor as mt
    >>> mt.argsort(mt.tensor([[3, 1, 2]]), 1, True).tolist()
    [[0, 2, 1]]
    """
    if torch_args or dim is not None:
        given = _from_torch_args("argsort", torch_args, dim, ("dim", "descending"))
        if axis != -1:
            raise TypeError(
                "argsort(): pass axis= (the array API's form) or dim (PyTorch's), not both"
            )
        axis, descending = given.get("dim", -1), given.get("descending", descending)
    return sorting.argsort(x, axis=axis, descending=descending, stable=stable)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> ValuesIndices:  # fmt: skip
    """The `k` largest (``largest=False``: smallest) elements along `dim`, in order, and
    their indices; NaN counts as the largest.

    >>> import mytensor as mt
    >>> mt.topk(mt.tensor([1.0, 4.0, 2.0, 3.0]), 2).values.tolist()
    [4.0, 3.0]
    """
    x, d, k = _checked_k("topk", input, k, dim, 0)
    if x.ndim == 0:
        picked = topk(x.reshape(1), k, 0, largest, sorted)
        if k == 0:
            return picked
        return ValuesIndices(picked.values.reshape(()), picked.indices.reshape(()))
    order = sorting.argsort(x, axis=d, descending=bool(largest))
    order = order[(*[slice(None)] * d, slice(0, k))]
    return ValuesIndices(gather(x, d, order), order)


def _checked_k(op: str, input: Any, k: Any, dim: int, lowest: int) -> tuple[Tensor, int, int]:
    """(input, dim made non-negative, k as an int) for topk / kthvalue, with an IndexError
    unless ``lowest <= k <=`` the size of `dim` (a 0-d input counts as size 1)."""
    x = check_tensor(op, input)
    d = normalize_dim(op, dim, x.ndim)
    size = x.shape[d] if x.ndim else 1
    k = _count_arg(op, k)
    if not lowest <= k <= size:
        raise IndexError(
            f"{op}(): k={k!r} is out of range for dimension {d} of size {size} "
            f"(expected {lowest}..{size})"
        )
    return x, d, k


def _count_arg(op: str, k: Any) -> int:
    """`k` as a Python int (an int, a numpy integer or a one-element integer tensor)."""
    try:
        return operator.index(k)
    except TypeError:
        raise TypeError(f"{op}(): k must be an integer, got {type(k).__name__} {k!r}") from None


def _pick(x: Tensor, d: int, position: Tensor, keepdim: bool) -> ValuesIndices:
    """The element at sorted `position` (keepdim-shaped int64) along `d`, with its index."""
    order = sorting.argsort(x, axis=d)
    indices = gather(order, d, position)
    values = gather(x, d, indices)
    if keepdim:
        return ValuesIndices(values, indices)
    return ValuesIndices(values.squeeze(d), indices.squeeze(d))


def _reduced_shape(x: Tensor, d: int) -> tuple[int, ...]:
    return tuple(1 if k == d else s for k, s in enumerate(x.shape))


def _nonempty(op: str, x: Tensor, d: int) -> None:
    if x.ndim and x.shape[d] == 0:
        raise IndexError(
            f"{op}(): cannot reduce over dimension {d} of size 0 (input shape {x.shape})"
        )


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The `k`-th smallest element along `dim` (1-based) and its index.

    >>> import mytensor as mt
    >>> mt.kthvalue(mt.tensor([5.0, 1.0, 4.0]), 2)
    ValuesIndices(values=tensor(4.), indices=tensor(2))
    """
    from mytensor.core.creation import full

    x, d, k = _checked_k("kthvalue", input, k, dim, 1)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _zero_index(x))
    position = full(_reduced_shape(x, d), k - 1, dtype=int64, backend=x.backend)
    return _pick(x, d, position, keepdim)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (the smaller middle value for an even count); NaN if a NaN is
    present. Without `dim`, the median of all elements (a 0-d tensor); with `dim`, the
    named tuple (values, indices) along it.

    >>> import mytensor as mt
    >>> x = mt.tensor([[4.0, 1.0, 3.0, 2.0]])
    >>> mt.median(x).item(), mt.median(x, 1).indices.tolist()
    (2.0, [3])
    """
    x = check_tensor("median", input)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            from mytensor.core.creation import full

            return full((), float("nan"), dtype=x.dtype, backend=x.backend)
        return median(flat, 0).values
    d = normalize_dim("median", dim, x.ndim)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _zero_index(x))
    _nonempty("median", x, d)
    n = x.shape[d]
    middle = (n - 1) // 2
    if x.dtype.kind in ("float", "complex"):
        nans = x.isnan().astype(int64).sum(d, keepdim=True)
        position = where(nans > 0, n - nans, middle)  # NaN sorts last: pick the first one
    else:
        from mytensor.core.creation import full

        position = full(_reduced_shape(x, d), middle, dtype=int64, backend=x.backend)
    return _pick(x, d, position, keepdim)


def _extremum_along(op: str, x: Tensor, dim: int, keepdim: bool) -> ValuesIndices:
    """(values, indices) of max / min along `dim`: the first extreme element (NaN wins)."""
    d = normalize_dim(op, dim, x.ndim)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _zero_index(x))
    _nonempty(op, x, d)
    find = R.argmax if op == "max" else R.argmin
    indices = find(x, d, keepdim=True)
    values = gather(x, d, indices)
    if keepdim:
        return ValuesIndices(values, indices)
    return ValuesIndices(values.squeeze(d), indices.squeeze(d))


def _extremum(op: str, x: Any, args: tuple, axis: Any, keepdims: bool, dim: Any,
              keepdim: bool | None) -> Any:  # fmt: skip
    if args and isinstance(args[0], Tensor):  # PyTorch's max(input, other): elementwise
        if len(args) > 1 or dim is not None or axis is not None:
            raise TypeError(f"{op}(): {op}(input, other) takes no dim; got more arguments")
        return BINARY_OPS["maximum" if op == "max" else "minimum"](x, args[0])
    if args or is_integer(dim):
        given = _from_torch_args(op, args, dim, ("dim", "keepdim"))
        if axis is not None:
            raise TypeError(f"{op}(): pass axis= (the array API's form) or dim (PyTorch's), "
                            "not both")  # fmt: skip
        flag = given.get("keepdim", keepdim if keepdim is not None else keepdims)
        return _extremum_along(op, check_tensor(op, x), given["dim"], bool(flag))
    array_api = statistical.max if op == "max" else statistical.min
    return array_api(x, axis=axis, keepdims=keepdims, dim=dim, keepdim=keepdim)


def max(x: Tensor, /, *torch_args: Any, axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False, dim: Any = None, keepdim: bool | None = None) -> Any:  # fmt: skip
    """The largest value: of all elements (``max(x)``), over `axis` (the array API's
    ``max(x, axis=1)``: a tensor), or PyTorch's ``max(input, dim, keepdim=False)``, the
    named tuple (values, indices) along `dim`; ``max(input, other)`` is `maximum`.

    >>> import mytensor as mt
    >>> x = mt.tensor([[1.0, 5.0], [3.0, 2.0]])
    >>> mt.max(x, 1).indices.tolist(), mt.max(x, axis=1).tolist(), mt.max(x).item()
    ([1, 0], [5.0, 3.0], 5.0)
    """
    return _extremum("max", x, torch_args, axis, keepdims, dim, keepdim)


def min(x: Tensor, /, *torch_args: Any, axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False, dim: Any = None, keepdim: bool | None = None) -> Any:  # fmt: skip
    """The smallest value: of all elements, over `axis` (the array API's form), or
    PyTorch's ``min(input, dim, keepdim=False)``, the named tuple (values, indices);
    ``min(input, other)`` is `minimum`.

    >>> import mytensor as mt
    >>> mt.min(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0).values.tolist()
    [1.0, 2.0]
    """
    return _extremum("min", x, torch_args, axis, keepdims, dim, keepdim)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """The named tuple (min, max) of all elements, or along `dim`.

    >>> import mytensor as mt
    >>> mt.aminmax(mt.tensor([3, 1, 2]))
    MinMax(min=tensor(1), max=tensor(3))
    """
    x = check_tensor("aminmax", input)
    if dim is not None:
        normalize_dim("aminmax", dim, x.ndim)
    return MinMax(R.min(x, dim, keepdim), R.max(x, dim, keepdim))
