"""PyTorch's counting ops: bincount (occurrences of each non-negative integer, or their
summed weights) and histc (a histogram of equal-width bins), composed from `scatter_add`,
so they run on every backend.

The result's length depends on the data (bincount's on the largest value, histc's range
on the smallest and largest when none is given), so each reads those back to the host
once, as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any

from mytensor.core import autograd
from mytensor.core.dtypes import float32, float64, int64
from mytensor.core.ops import reductions as R
from mytensor.core.ops._base import check_tensor
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import gather, scatter_add
from mytensor.core.tensor import Tensor

__all__ = ["bincount", "histc"]

_INTEGRAL_INPUT = "bincount only supports 1-d non-negative integral inputs"


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value ``0 .. max(input)`` occurs in the 1-d non-negative integer
    `input` (int64), or with `weights` the sum of the weights at each value (float32
    weights give float32, others float64). The result has at least `minlength` entries.
    It is differentiable in `weights` (PyTorch's is not).

    >>> import mytensor as mt
    >>> mt.bincount(mt.tensor([0, 2, 2, 3])).tolist()
    [1, 0, 2, 1]
    >>> mt.bincount(mt.tensor([1, 1]), weights=mt.tensor([0.5, 2.0]), minlength=3).tolist()
    [0.0, 2.5, 0.0]
    """
    x = check_tensor("bincount", input)
    if x.dtype.kind not in ("int", "uint"):
        raise TypeError(
            f"bincount(): input must hold integers, got {x.dtype.name}; convert it with "
            ".long() (floats: round first)"
        )
    if x.ndim != 1:
        raise RuntimeError(f"{_INTEGRAL_INPUT}: got a {x.ndim}-d tensor of shape {x.shape}")
    if isinstance(minlength, bool) or not isinstance(minlength, int) or minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be an int >= 0, got {minlength!r}")
    n = x.shape[0]
    if n and R.min(x).item() < 0:
        raise RuntimeError(
            f"{_INTEGRAL_INPUT}: input holds the negative value {R.min(x).item()}; shift it "
            "(input - input.min()) or drop the negative values first"
        )
    length = max(int(R.max(x).item()) + 1 if n else 0, minlength)
    from mytensor.core.creation import ones, zeros

    index = x.astype(int64)
    if weights is None:
        counts = ones(n, dtype=int64, backend=x.backend)
        return scatter_add(zeros(length, dtype=int64, backend=x.backend), 0, index, counts)
    w = _checked_weights(weights, n)
    dtype = w.dtype if w.dtype in (float32, float64) else float64
    total = zeros(length, dtype=dtype, backend=x.backend)
    return scatter_add(total, 0, index, w if w.dtype is dtype else w.astype(dtype))


def _checked_weights(weights: Any, n: int) -> Tensor:
    w = check_tensor("bincount", weights, "weights")
    if w.ndim != 1 or w.shape[0] != n:
        raise RuntimeError(
            f"bincount(): weights should be 1-d and have the same length as input ({n}), "
            f"got shape {w.shape}"
        )
    if w.dtype.kind == "complex":
        raise TypeError(f"bincount(): weights must be real, got {w.dtype.name}")
    return w


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of `input`'s elements in `bins` equal-width bins over [min, max], in
    `input`'s (floating-point) dtype. With ``min == max`` (the default 0, 0) the range is
    the data's smallest and largest element (widened by 1 each way when those are equal).
    Elements outside the range and NaNs are not counted; the last bin includes `max`.
    Not differentiable, as in PyTorch.

    >>> import mytensor as mt
    >>> mt.histc(mt.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist()
    [0.0, 2.0, 1.0, 0.0]
    """
    x = check_tensor("histc", input)
    if x.dtype.kind != "float":
        raise TypeError(
            f"histc(): input must be floating-point, got {x.dtype.name}; convert it with .float()"
        )
    if isinstance(bins, bool) or not isinstance(bins, int) or bins <= 0:
        raise RuntimeError(f"histc(): bins must be an int > 0, got {bins!r}")
    low, high = _histc_range(x, float(min), float(max))
    with autograd.no_grad():
        flat = x.reshape(-1)
        inside = (flat >= low) & (flat <= high)  # NaN is never inside
        position = _bin_of(where(inside, flat, low), bins, low, high)
        counts = bincount(position, weights=inside.astype(x.dtype), minlength=bins)
    return counts


def _histc_range(x: Tensor, low: float, high: float) -> tuple[float, float]:
    if low == high and x.numel():
        low, high = float(R.min(x).item()), float(R.max(x).item())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(
            f"histc(): range of [{low}, {high}] is not finite; pass finite min= and max= "
            "(or remove the inf / NaN elements)"
        )
    if low > high:
        raise RuntimeError(f"histc(): max must be larger than min, got min={low}, max={high}")
    return low, high


def _bin_of(flat: Tensor, bins: int, low: float, high: float) -> Tensor:
    """The bin of each element, as PyTorch places it: scaled into [0, bins], then moved
    by one where rounding put it beside the bin whose edges (a linspace) hold it."""
    from mytensor.core.creation import linspace

    scaled = ((flat - low) * bins / (high - low)).floor()
    position = scaled.clip(0, bins - 1).astype(int64)
    edges = linspace(low, high, bins + 1, dtype=flat.dtype, backend=flat.backend)
    left, right = gather(edges, 0, position), gather(edges, 0, position + 1)
    below = (flat < left) & (position > 0)
    above = (flat >= right) & (position < bins - 1)
    return position - below.astype(int64) + above.astype(int64)
