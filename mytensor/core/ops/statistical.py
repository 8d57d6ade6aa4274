"""The array API's statistical, searching-by-value and utility reductions.

These are the namespace forms (``mt.sum(x, axis=1, keepdims=True)``) with the
standard's signatures; the tensor methods keep the PyTorch forms (``x.sum(1)``,
``x.var()`` with Bessel's correction) from `mytensor.core.ops.reductions`, and
both run the same primitives, so they agree and differentiate alike. Each
namespace function also takes PyTorch's ``dim=`` / ``keepdim=`` as keyword-only
aliases, so code written either way runs.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from mytensor.core.dtypes import ALL_DTYPES, FLOAT_DTYPES, NUMERIC_DTYPES, int64, to_dtype
from mytensor.core.layout import normalize_dims
from mytensor.core.ops import reductions as R
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.tensor import Tensor

__all__ = [
    "all", "any", "argmax", "argmin", "count_nonzero", "max", "mean", "min", "prod", "std",
    "sum", "var",
]  # fmt: skip

Axis = int | tuple[int, ...] | None


def _axis(op: str, axis: Any, dim: Any) -> Any:
    """The reduced axes, from the standard's `axis` or PyTorch's `dim` (not both)."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}(): pass axis= or its PyTorch alias dim=, not both")
        return dim
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _keep(op: str, keepdims: bool, keepdim: bool | None) -> bool:
    return bool(keepdims) if keepdim is None else bool(keepdim)


def _reduced(op: str, torch_args: tuple, axis: Any, dim: Any, keepdims: bool,
             keepdim: bool | None) -> tuple[Any, bool]:  # fmt: skip
    """The reduced axes and whether to keep them, from the array API's keywords, PyTorch's
    keywords, or PyTorch's positional ``(dim, keepdim)`` after the input (a positional
    argument is never the array API's, whose reductions take keywords only)."""
    if torch_args:
        if len(torch_args) > 2:
            raise TypeError(
                f"{op}(): takes at most 2 positional arguments after the input (dim, "
                f"keepdim), got {len(torch_args)}"
            )
        if dim is not None or axis is not None:
            raise TypeError(f"{op}(): got the dim both positionally and as a keyword")
        dim = torch_args[0]
        if len(torch_args) == 2:
            if keepdim is not None:
                raise TypeError(f"{op}(): got keepdim both positionally and as a keyword")
            keepdim = torch_args[1]
    if isinstance(dim, list):
        dim = tuple(dim)
    return _axis(op, axis, dim), _keep(op, keepdims, keepdim)


def _accumulate(reduce, op: str, x: Tensor, dtype: Any, axis: Any, keepdims: bool) -> Tensor:
    """sum/prod with the standard's `dtype`: the input is cast to it first, and the
    result has exactly that dtype (integers accumulate wider, then wrap back)."""
    x = check_tensor(op, x)
    if dtype is None:
        return reduce(x, axis, keepdims)
    target = to_dtype(dtype)
    out = reduce(x.astype(target), axis, keepdims)
    return out if out.dtype is target else out.astype(target)


def sum(x: Tensor, /, *torch_args: Any, axis: Axis = None, dtype: Any = None,
        keepdims: bool = False, dim: Axis = None,
        keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Sum over `axis` (None: all); integers and bools sum in int64 unless `dtype` says.

    >>> import mytensor as mt
    >>> mt.sum(mt.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
    [4.0, 6.0]
    """
    return _accumulate(
        R.sum, "sum", x, dtype, *_reduced("sum", torch_args, axis, dim, keepdims, keepdim)
    )


def prod(x: Tensor, /, *torch_args: Any, axis: Axis = None, dtype: Any = None,
         keepdims: bool = False, dim: Axis = None,
         keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Product over `axis`; integers and bools multiply in int64 unless `dtype` says.

    >>> import mytensor as mt
    >>> mt.prod(mt.tensor([[1, 2], [3, 4]]), axis=1).tolist()
    [2, 12]
    """
    return _accumulate(
        R.prod, "prod", x, dtype, *_reduced("prod", torch_args, axis, dim, keepdims, keepdim)
    )


def max(x: Tensor, /, *torch_args: Any, axis: Axis = None, keepdims: bool = False,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Largest value over `axis` (NaN if any is NaN); an empty reduction is an error.

    >>> import mytensor as mt
    >>> mt.max(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1).tolist()
    [5.0, 3.0]
    """
    return R.max(check_tensor("max", x), *_reduced("max", torch_args, axis, dim, keepdims, keepdim))


def min(x: Tensor, /, *torch_args: Any, axis: Axis = None, keepdims: bool = False,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Smallest value over `axis` (NaN if any is NaN); an empty reduction is an error.

    >>> import mytensor as mt
    >>> mt.min(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=0).tolist()
    [1.0, 2.0]
    """
    return R.min(check_tensor("min", x), *_reduced("min", torch_args, axis, dim, keepdims, keepdim))


def mean(x: Tensor, /, *torch_args: Any, axis: Axis = None, keepdims: bool = False,
         dim: Axis = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Arithmetic mean over `axis` of a floating-point tensor (empty gives NaN).

    >>> import mytensor as mt
    >>> mt.mean(mt.tensor([[1.0, 2.0], [3.0, 6.0]]), axis=1).tolist()
    [1.5, 4.5]
    """
    return R.mean(x, *_reduced("mean", torch_args, axis, dim, keepdims, keepdim))


def var(x: Tensor, /, *, axis: Axis = None, correction: float = 0.0, keepdims: bool = False,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Variance over `axis`, dividing by ``N - correction`` (0 by default, as the standard
    says; the method ``x.var()`` keeps PyTorch's default of 1).

    >>> import mytensor as mt
    >>> mt.var(mt.tensor([1.0, 2.0, 3.0, 4.0])).item()
    1.25
    """
    return R.var(x, _axis("var", axis, dim), correction, _keep("var", keepdims, keepdim))


def std(x: Tensor, /, *, axis: Axis = None, correction: float = 0.0, keepdims: bool = False,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Standard deviation over `axis`: ``sqrt(var(x, axis=axis, correction=correction))``.

    >>> import mytensor as mt
    >>> mt.std(mt.tensor([1.0, 3.0])).item()
    1.0
    """
    return R.std(x, _axis("std", axis, dim), correction, _keep("std", keepdims, keepdim))


def argmax(x: Tensor, /, *torch_args: Any, axis: int | None = None, keepdims: bool = False,
           dim: int | None = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Index (int64) of the first largest value along `axis` (of the flattened input if
    None); NaN counts as the largest.

    >>> import mytensor as mt
    >>> mt.argmax(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1).tolist()
    [1, 0]
    """
    return R.argmax(x, *_reduced("argmax", torch_args, axis, dim, keepdims, keepdim))


def argmin(x: Tensor, /, *torch_args: Any, axis: int | None = None, keepdims: bool = False,
           dim: int | None = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Index (int64) of the first smallest value along `axis` (of the flattened input if
    None); NaN counts as the smallest.

    >>> import mytensor as mt
    >>> mt.argmin(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1).tolist()
    [0, 1]
    """
    return R.argmin(x, *_reduced("argmin", torch_args, axis, dim, keepdims, keepdim))


def all(x: Tensor, /, *torch_args: Any, axis: Axis = None, keepdims: bool = False,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Whether every element along `axis` is true (non-zero; NaN is true).

    >>> import mytensor as mt
    >>> mt.all(mt.tensor([[1, 0], [3, 4]]), axis=1).tolist()
    [False, True]
    """
    return R.all(x, *_reduced("all", torch_args, axis, dim, keepdims, keepdim))


def any(x: Tensor, /, *torch_args: Any, axis: Axis = None, keepdims: bool = False,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:  # fmt: skip
    """Whether any element along `axis` is true (non-zero; NaN is true).

    >>> import mytensor as mt
    >>> mt.any(mt.tensor([[0, 0], [3, 0]]), axis=1).tolist()
    [False, True]
    """
    return R.any(x, *_reduced("any", torch_args, axis, dim, keepdims, keepdim))


def count_nonzero(x: Tensor, /, *torch_args: Any, axis: Axis = None, keepdims: bool = False,
                  dim: Axis = None) -> Tensor:  # fmt: skip
    """How many elements along `axis` are non-zero (int64).

    >>> import mytensor as mt
    >>> mt.count_nonzero(mt.tensor([[0.0, 2.0], [3.0, 4.0]]), axis=1).tolist()
    [1, 2]
    """
    x = check_tensor("count_nonzero", x)
    axes, keep = _reduced("count_nonzero", torch_args[:1], axis, dim, keepdims, None)
    if len(torch_args) > 1:
        raise TypeError("count_nonzero(): takes at most one positional dim after the input")
    return R.sum((x != 0).astype(int64), axes, keep)


# -- conformance records ------------------------------------------------------------------
def _axis_variants(shapes: tuple[tuple[int, ...], ...], nonempty: bool = False) -> list[dict]:
    """Every axis form for the input's rank: None, each axis, a tuple, keepdims, and the
    PyTorch aliases; `nonempty` drops reductions over a size-0 axis."""
    shape = shapes[0]
    ndim = len(shape)
    out: list[dict] = [{}, {"keepdims": True}]
    for d in range(-ndim, ndim):
        out += [{"axis": d}, {"axis": d, "keepdims": True}]
    if ndim >= 2:
        out += [{"axis": (0, ndim - 1)}, {"axis": (-1, 0), "keepdims": True},
                {"dim": 1, "keepdim": True}]  # fmt: skip
    if ndim:
        out.append({"axis": ()})
    if nonempty:
        out = [kw for kw in out if _nonempty(shape, kw)]
    return out


def _nonempty(shape: tuple[int, ...], kw: dict) -> bool:
    axes = normalize_dims("variants", kw.get("axis", kw.get("dim")), len(shape))
    return builtins.all(shape[d] for d in axes)


def _nonempty_variants(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    return _axis_variants(shapes, nonempty=True)


def _arg_variants(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    shape = shapes[0]
    out = [{"axis": d} for d in range(-len(shape), len(shape)) if shape[d]]
    out += [{"axis": d, "keepdims": True} for d in range(len(shape)) if shape[d]]
    if 0 not in shape:
        out += [{}, {"keepdims": True}]
    return out


def _sum_variants(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    return [*_axis_variants(shapes), {"dtype": "float64"}, {"axis": -1, "dtype": "float64"}]


def _np_kwargs(kw: dict) -> dict:
    """The namespace keywords as numpy spells them (PyTorch aliases mapped back)."""
    out = dict(kw)
    if "dim" in out:
        out["axis"] = out.pop("dim")
    if "keepdim" in out:
        out["keepdims"] = out.pop("keepdim")
    return out


def _np_sum_like(func):
    def ref(x, **kw):
        kw = _np_kwargs(kw)
        if kw.get("dtype") is not None:
            x = x.astype(kw.pop("dtype"))
        if x.dtype.kind in "bi":
            kw["dtype"] = np.int64
        return func(x, **kw)

    return ref


def _np_plain(func, **extra):
    def ref(x, **kw):
        return func(x, **extra, **_np_kwargs(kw))

    return ref


def _np_var(x, **kw):
    kw = _np_kwargs(kw)
    return np.var(x, ddof=kw.pop("correction", 0.0), **kw)


def _np_arg(func):
    def ref(x, axis=None, keepdims=False):
        if x.ndim == 0:
            return np.int64(0)
        return func(x, axis=axis, keepdims=keepdims)

    return ref


for _name, _func, _ref, _dtypes, _variants, _grad in [
    ("sum", sum, _np_sum_like(np.sum), ALL_DTYPES, _sum_variants, True),
    ("prod", prod, _np_sum_like(np.prod), ALL_DTYPES, _sum_variants, True),
    ("max", max, _np_plain(np.max), NUMERIC_DTYPES, _nonempty_variants, True),
    ("min", min, _np_plain(np.min), NUMERIC_DTYPES, _nonempty_variants, True),
    ("argmax", argmax, _np_arg(np.argmax), NUMERIC_DTYPES, _arg_variants, False),
    ("argmin", argmin, _np_arg(np.argmin), NUMERIC_DTYPES, _arg_variants, False),
    ("any", any, _np_plain(np.any), ALL_DTYPES, _axis_variants, False),
    ("all", all, _np_plain(np.all), ALL_DTYPES, _axis_variants, False),
    ("count_nonzero", count_nonzero, _np_plain(np.count_nonzero), ALL_DTYPES,
     lambda s: [kw for kw in _axis_variants(s) if "dim" not in kw], False),
    ("mean", mean, _np_plain(np.mean), FLOAT_DTYPES, _nonempty_variants, True),
    ("var", var, _np_var, FLOAT_DTYPES, _nonempty_variants, True),
    ("std", std, lambda x, **kw: np.sqrt(_np_var(x, **kw)), FLOAT_DTYPES,
     _nonempty_variants, True),
]:  # fmt: skip
    register(OpRecord(_name, _func, _ref, dtypes=_dtypes, variants=_variants, grad=_grad))
