"""PyTorch's summaries beside the moments: nansum (a sum that skips NaN), and var_mean /
std_mean (the spread and the mean in one call, PyTorch's Bessel-corrected default),
composed from `where`, `sum`, `mean` and `var`, so they differentiate on every backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.core.dtypes import FLOAT_DTYPES, to_dtype
from mytensor.core.layout import normalize_dims
from mytensor.core.ops import reductions as R
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.moments import torch_correction, torch_reduction_variants
from mytensor.core.tensor import Tensor

__all__ = ["nansum", "std_mean", "var_mean"]

Dim = int | tuple[int, ...] | list[int] | None


def _dims(op: str, dim: Any, ndim: int) -> tuple[int, ...]:
    """The dims to reduce; as in PyTorch, an empty list or tuple means all of them."""
    if isinstance(dim, list | tuple):
        dim = tuple(dim) or None
    return normalize_dims(op, dim, ndim)


def nansum(input: Tensor, dim: Dim = None, keepdim: bool = False, *,
           dtype: Any = None) -> Tensor:  # fmt: skip
    """The sum over `dim` counting NaN as zero (integers and bools sum in int64, as
    `sum`; `dtype` casts the input first). The gradient is zero at the NaNs.

    >>> import mytensor as mt
    >>> mt.nansum(mt.tensor([1.0, float("nan"), 3.0])).item()
    4.0
    """
    x = check_tensor("nansum", input)
    if dtype is not None:
        x = x.astype(to_dtype(dtype))
    if x.dtype.kind == "complex":
        raise TypeError(
            f"nansum(): complex inputs are not supported (got {x.dtype.name}); sum the real "
            "and imaginary parts separately"
        )
    dims = _dims("nansum", dim, x.ndim)
    if x.dtype.kind == "float":
        x = where(x.isnan(), 0.0, x)
    return R.sum(x, dims, keepdim)


def _spread_mean(op: str, input: Any, dim: Any, unbiased: bool | None, keepdim: bool,
                 correction: float | None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """(var or std, mean) for var_mean / std_mean, PyTorch's calls resolved."""
    x = check_tensor(op, input)
    if x.dtype.kind != "float":
        raise TypeError(
            f"{op}(): input must be floating-point, got {x.dtype.name}; convert it first "
            "with .float()"
        )
    if isinstance(dim, bool):  # PyTorch's var_mean(input, unbiased)
        if unbiased is not None:
            raise TypeError(f"{op}(): got unbiased both positionally and as a keyword")
        dim, unbiased = None, dim
    dims = _dims(op, dim, x.ndim)
    spread = R.std if op == "std_mean" else R.var
    divisor_correction = torch_correction(op, unbiased, correction)
    return spread(x, dims, divisor_correction, keepdim), R.mean(x, dims, keepdim)


def var_mean(input: Tensor, dim: Dim = None, unbiased: bool | None = None,
             keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The tuple (variance, mean) over `dim`; the variance divides by ``N - correction``
    (default 1; ``unbiased=False`` means 0), as `var` does.

    >>> import mytensor as mt
    >>> v, m = mt.var_mean(mt.tensor([1.0, 2.0, 3.0, 4.0]))
    >>> round(v.item(), 4), m.item()
    (1.6667, 2.5)
    """
    return _spread_mean("var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(input: Tensor, dim: Dim = None, unbiased: bool | None = None,
             keepdim: bool = False, *,
             correction: float | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The tuple (standard deviation, mean) over `dim`, with `var_mean`'s keywords and
    defaults; a zero spread has gradient 0, as in `std`.

    >>> import mytensor as mt
    >>> s, m = mt.std_mean(mt.tensor([[1.0, 3.0]]), dim=1, correction=0)
    >>> s.tolist(), m.tolist()
    ([1.0], [2.0])
    """
    return _spread_mean("std_mean", input, dim, unbiased, keepdim, correction)


# -- conformance record -------------------------------------------------------------------
def _np_nansum(a, dim=None, keepdim=False):
    axis = tuple(dim) if isinstance(dim, tuple | list) else dim
    return np.nansum(a, axis=axis, keepdims=keepdim).astype(a.dtype)


register(OpRecord("nansum", nansum, _np_nansum, dtypes=FLOAT_DTYPES,
                  variants=torch_reduction_variants))  # fmt: skip
