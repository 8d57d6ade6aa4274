"""Moments in PyTorch's spellings: nanmean, and var / std with ``unbiased=`` and
``correction=`` (default 1, Bessel's correction), composed from `sum`, `where` and the
core `var`, so they differentiate on every backend.

The namespace `var` / `std` serve both conventions: called the array API's way
(``axis=``, or no dim) they keep the standard's default ``correction=0``; called
PyTorch's way (a positional dim, ``dim=`` or ``unbiased=``) PyTorch's default of 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.core.dtypes import FLOAT_DTYPES, to_dtype
from mytensor.core.layout import normalize_dims
from mytensor.core.ops import reductions as R
from mytensor.core.ops import statistical
from mytensor.core.ops._base import OpRecord, check_tensor, register, require_kind
from mytensor.core.ops.elementwise import where
from mytensor.core.tensor import Tensor

__all__ = ["nanmean", "std", "var"]

Dim = int | tuple[int, ...] | list[int] | None


class _StandardDefault(float):
    """The array API's default ``correction=0.0``, told apart from an explicit 0 so that
    a PyTorch-style call can default to 1 instead (it compares equal to 0.0)."""

    __slots__ = ()


_ARRAY_API_CORRECTION = _StandardDefault(0.0)


def nanmean(input: Tensor, dim: Dim = None, keepdim: bool = False, *,
            dtype: Any = None) -> Tensor:  # fmt: skip
    """The mean of the non-NaN elements over `dim` (NaN where all are NaN).

    >>> import mytensor as mt
    >>> mt.nanmean(mt.tensor([1.0, float("nan"), 3.0])).item()
    2.0
    """
    x = check_tensor("nanmean", input)
    if dtype is not None:
        x = x.astype(to_dtype(dtype))
    require_kind("nanmean", x, ("float",), "; convert it first with .to(mytensor.float32)")
    dims = normalize_dims("nanmean", _dims(dim), x.ndim)
    missing = x.isnan()
    total = R.sum(where(missing, 0.0, x), dims, keepdim)
    count = R.sum(missing.logical_not().astype(x.dtype), dims, keepdim)
    return total / count


def _dims(dim: Dim) -> int | tuple[int, ...] | None:
    return tuple(dim) if isinstance(dim, list) else dim


def torch_correction(op: str, unbiased: bool | None, correction: float | None) -> float:
    """PyTorch's divisor rule: ``correction`` if given, else 1 (``unbiased``) or 0."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass unbiased= or correction=, not both")
    if correction is not None:
        return correction
    return 0.0 if unbiased is False else 1.0


def _torch_variance(op: str, x: Any, dim: Dim, unbiased: bool | None, keepdim: bool,
                    correction: float | None) -> Tensor:  # fmt: skip
    x = check_tensor(op, x)
    if isinstance(dim, bool):  # PyTorch's var(input, unbiased)
        dim, unbiased = None, dim if unbiased is None else unbiased
    spread = R.std if op == "std" else R.var
    return spread(x, _dims(dim), torch_correction(op, unbiased, correction), keepdim)


def _dispatch(op: str, x: Any, args: tuple, axis: Any, correction: float, keepdims: bool,
              dim: Any, keepdim: bool | None, unbiased: bool | None) -> Tensor:  # fmt: skip
    if not args and dim is None and unbiased is None:
        array_api = statistical.var if op == "var" else statistical.std
        return array_api(x, axis=axis, correction=correction, keepdims=keepdims, keepdim=keepdim)
    if axis is not None:
        raise TypeError(f"{op}(): pass axis= (the array API's form) or dim (PyTorch's), not both")
    if len(args) > 3:
        raise TypeError(f"{op}(): takes at most 3 arguments after the input, got {len(args)}")
    given = dict(zip(("dim", "unbiased", "keepdim"), args, strict=False))
    if dim is not None:
        if "dim" in given:
            raise TypeError(f"{op}(): got dim both positionally and as a keyword")
        given["dim"] = dim
    if unbiased is not None:
        given.setdefault("unbiased", unbiased)
    flag = given.get("keepdim", keepdim if keepdim is not None else keepdims)
    explicit = None if correction is _ARRAY_API_CORRECTION else correction
    return _torch_variance(op, x, given.get("dim"), given.get("unbiased"), bool(flag), explicit)


def var(x: Tensor, /, *torch_args: Any, axis: Dim = None,
        correction: float = _ARRAY_API_CORRECTION, keepdims: bool = False, dim: Dim = None,
        keepdim: bool | None = None, unbiased: bool | None = None) -> Tensor:  # fmt: skip
    """Variance, dividing by ``N - correction``. The array API's ``var(x, axis=...)``
    defaults to ``correction=0``; PyTorch's ``var(input, dim, unbiased=True,
    keepdim=False)`` (also ``var(input, dim=..., correction=...)``) defaults to 1.

    >>> import mytensor as mt
    >>> x = mt.tensor([1.0, 2.0, 3.0, 4.0])
    >>> mt.var(x).item(), round(mt.var(x, 0).item(), 4), mt.var(x, 0, False).item()
    (1.25, 1.6667, 1.25)
    """
    return _dispatch("var", x, torch_args, axis, correction, keepdims, dim, keepdim, unbiased)


def std(x: Tensor, /, *torch_args: Any, axis: Dim = None,
        correction: float = _ARRAY_API_CORRECTION, keepdims: bool = False, dim: Dim = None,
        keepdim: bool | None = None, unbiased: bool | None = None) -> Tensor:  # fmt: skip
    """Standard deviation, ``sqrt(var(...))``, with `var`'s two conventions: the array
    API's default ``correction=0``, PyTorch's (positional dim, ``dim=``, ``unbiased=``) 1.

    >>> import mytensor as mt
    >>> mt.std(mt.tensor([1.0, 3.0])).item(), round(mt.std(mt.tensor([1.0, 3.0]), 0).item(), 4)
    (1.0, 1.4142)
    """
    return _dispatch("std", x, torch_args, axis, correction, keepdims, dim, keepdim, unbiased)


# -- conformance record -------------------------------------------------------------------
def torch_reduction_variants(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    """Conformance variants of a PyTorch-style reduction: no dim, keepdim, each dim, and
    (from 2-d on) a tuple of dims kept.

    >>> torch_reduction_variants(((2, 3),))[-1]
    {'dim': (0, -1), 'keepdim': True}
    """
    ndim = len(shapes[0])
    out = [{}, {"keepdim": True}, *({"dim": d} for d in range(-ndim, ndim))]
    return out + ([{"dim": (0, -1), "keepdim": True}] if ndim >= 2 else [])


def _np_nanmean(a, dim=None, keepdim=False):
    axis = tuple(dim) if isinstance(dim, tuple | list) else dim
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.sum(np.where(np.isnan(a), 0, a), axis=axis, keepdims=keepdim)
        return total / np.sum(~np.isnan(a), axis=axis, keepdims=keepdim).astype(a.dtype)


register(OpRecord("nanmean", nanmean, _np_nanmean, dtypes=FLOAT_DTYPES,
                  variants=torch_reduction_variants))  # fmt: skip
