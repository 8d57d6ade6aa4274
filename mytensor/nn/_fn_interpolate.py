"""`interpolate`: resize (N, C, L) or (N, C, H, W) with PyTorch's sampling rules.

Interpolation is separable, so each spatial dim is resized on its own: the source
positions and weights of every output position are computed on the host (in float32
for float32 input, as PyTorch's kernels compute them), then read with `take` and blended
with core ops, so gradients come from the core.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mytensor.core.creation import asarray
from mytensor.core.dtypes import float64, int64
from mytensor.core.ops.selection import take
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require
from mytensor.nn._fn_pool import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate"]

_RANKS = {"nearest": (3, 4), "nearest-exact": (3, 4), "area": (3, 4), "linear": (3,),
          "bilinear": (4,)}  # fmt: skip
_LINEAR_MODES = ("linear", "bilinear")


def _per_dim(name: str, value, dims: int, spatial: tuple[int, ...]) -> list:
    if isinstance(value, Sequence):
        if len(value) != dims:
            raise ValueError(
                f"interpolate(): {name} {tuple(value)} must have one entry per spatial dim "
                f"of the input ({dims}: spatial shape {spatial})"
            )
        return list(value)
    return [value] * dims


def _scale(in_size: int, out_size: int, factor: float | None, dtype: type) -> np.floating:
    """PyTorch's `compute_scales_value`: 1/factor when a factor is used, else in/out."""
    if factor is not None and factor > 0:
        return dtype(1.0 / factor)
    return dtype(in_size) / dtype(out_size)


def _nearest(in_size: int, out_size: int, factor: float | None, exact: bool) -> np.ndarray:
    dst = np.arange(out_size, dtype=np.float32)
    scale = _scale(in_size, out_size, factor, np.float32)
    offset = np.float32(0.5) if exact else np.float32(0.0)
    src = np.floor((dst + offset) * scale).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _linear(
    in_size: int, out_size: int, factor: float | None, align_corners: bool, dtype: type
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left index, right index, right weight) of every output position."""
    dst: np.ndarray = np.arange(out_size).astype(dtype)
    if align_corners:
        scale = dtype(in_size - 1) / dtype(out_size - 1) if out_size > 1 else dtype(0)
        src = scale * dst
    else:
        scale = _scale(in_size, out_size, factor, dtype)
        src = np.maximum(scale * (dst + dtype(0.5)) - dtype(0.5), dtype(0))
    left = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    weight = np.clip(src - left.astype(dtype), 0, 1).astype(dtype)
    right = left + (left < in_size - 1)
    return left, right, weight


def _read(x: Tensor, axis: int, positions: np.ndarray) -> Tensor:
    return take(x, asarray(positions, dtype=int64, backend=x.backend), axis=axis)


def _resize_dim(
    x: Tensor, axis: int, out_size: int, factor: float | None, mode: str, align_corners: bool
) -> Tensor:
    in_size = x.shape[axis]
    if mode in ("nearest", "nearest-exact"):
        if out_size == in_size:
            return x
        return _read(x, axis, _nearest(in_size, out_size, factor, mode == "nearest-exact"))
    dtype = np.float64 if x.dtype is float64 else np.float32
    left, right, weight = _linear(in_size, out_size, factor, align_corners, dtype)
    shape = (out_size,) + (1,) * (x.ndim - 1 - axis)
    w1 = asarray(weight.reshape(shape), dtype=x.dtype, backend=x.backend)
    w0 = asarray((1 - weight).reshape(shape), dtype=x.dtype, backend=x.backend)
    return _read(x, axis, left) * w0 + _read(x, axis, right) * w1


def _output_sizes(
    x: Tensor, size, scale_factor, recompute_scale_factor: bool | None
) -> tuple[list[int], list]:
    dims, spatial = x.ndim - 2, x.shape[2:]
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate(): only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                "interpolate(): recompute_scale_factor is not meaningful with an explicit size"
            )
        return [int(s) for s in _per_dim("size", size, dims, spatial)], [None] * dims
    if scale_factor is None:
        raise ValueError("interpolate(): either size or scale_factor should be defined")
    factors = [float(f) for f in _per_dim("scale_factor", scale_factor, dims, spatial)]
    sizes = [math.floor(spatial[i] * factors[i]) for i in range(dims)]
    return sizes, [None] * dims if recompute_scale_factor else factors


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) to `size`, or by
    `scale_factor`. Modes: ``"nearest"``, ``"nearest-exact"``, ``"area"`` (adaptive
    averaging), ``"linear"`` (3-d input) and ``"bilinear"`` (4-d input), the last two with
    `align_corners` (default False) as in PyTorch.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> x = mt.tensor([[[0.0, 2.0]]])
    >>> F.interpolate(x, scale_factor=2).tolist()
    [[[0.0, 0.0, 2.0, 2.0]]]
    >>> F.interpolate(x, size=3, mode="linear", align_corners=True).tolist()
    [[[0.0, 1.0, 2.0]]]
    """
    x = _require("interpolate", input)
    if mode not in _RANKS:
        raise NotImplementedError(
            f"interpolate(): mode {mode!r} is not supported; choose one of {tuple(_RANKS)}"
        )
    if x.ndim not in _RANKS[mode]:
        raise NotImplementedError(
            f"interpolate(): mode {mode!r} needs a {' or '.join(map(str, _RANKS[mode]))}-d "
            f"input (N, C, spatial...), got shape {x.shape}"
        )
    if mode not in _LINEAR_MODES and align_corners is not None:
        raise ValueError(
            "interpolate(): align_corners option can only be set with the interpolating "
            f"modes: linear | bilinear (got mode {mode!r})"
        )
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported")
    sizes, factors = _output_sizes(x, size, scale_factor, recompute_scale_factor)
    if any(s < 1 for s in sizes):
        raise ValueError(
            f"interpolate(): input sizes {x.shape[2:]} and output sizes {tuple(sizes)} "
            "should be greater than 0"
        )
    if mode == "area":
        pool = adaptive_avg_pool1d if x.ndim == 3 else adaptive_avg_pool2d
        return pool(x, sizes[0] if x.ndim == 3 else tuple(sizes))
    for i, (out_size, factor) in enumerate(zip(sizes, factors, strict=True)):
        x = _resize_dim(x, 2 + i, out_size, factor, mode, bool(align_corners))
    return x
