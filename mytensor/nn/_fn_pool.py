"""Functional pooling, composed from core ops.

Pooling gathers each kernel tap as a strided view of the (padded) input, stacks the
taps on a last axis and reduces it, the way the core's conv2d builds its columns.
When windows tile the input exactly (stride == kernel, no padding or dilation) the
taps are a reshape instead, with no per-tap copies. Max pooling picks the first
maximum of each window (argmax + gather), so its gradient matches PyTorch's even
when a window holds ties (e.g. zeros after a ReLU).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from mytensor.core.creation import asarray
from mytensor.core.layout import is_integer
from mytensor.core.ops import pooling
from mytensor.core.ops.shape import stack
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require
from mytensor.nn._fn_conv import IntPair, _batched, _tuple
from mytensor.nn._fn_pad import pad


def _pool_params(op: str, dims: int, kernel_size: IntPair, stride: IntPair | None,
                 padding: IntPair, dilation: IntPair) -> tuple:  # fmt: skip
    """(kernel, stride, padding, dilation) as `dims`-tuples; stride defaults to the kernel."""
    k = _tuple(op, "kernel_size", kernel_size, dims, 1)
    s = k if stride is None or stride == [] else _tuple(op, "stride", stride, dims, 1)
    return k, s, _tuple(op, "padding", padding, dims, 0), _tuple(op, "dilation", dilation, dims, 1)


def _pool_geometry(
    op: str,
    x: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    dilation: IntPair,
    ceil_mode: bool,
) -> tuple:
    k, s, p, d = _pool_params(op, 2, kernel_size, stride, padding, dilation)
    return k, s, p, d, pooling.pool_geometry(op, x.shape[2:], k, s, p, d, ceil_mode)


def _taps(x: Tensor, k, s, p, d, out, fill: float) -> Tensor:
    """(N, C, Ho, Wo, kh*kw): every kernel tap of every output window."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = k, s, p, d, out
    tiled = k == s and p == (0, 0) and d == (1, 1) and ho * kh <= h and wo * kw <= w
    if tiled:  # windows tile (a crop of) the input: a reshape
        tiles = x[:, :, : ho * kh, : wo * kw].reshape(n, c, ho, kh, wo, kw)
        return tiles.permute(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, kh * kw)
    need_h, need_w = (ho - 1) * sh + dh * (kh - 1) + 1, (wo - 1) * sw + dw * (kw - 1) + 1
    extra_h, extra_w = max(0, need_h - h - 2 * ph), max(0, need_w - w - 2 * pw)
    if ph or pw or extra_h or extra_w:
        x = pad(x, (pw, pw + extra_w, ph, ph + extra_h), value=fill)
    taps = [
        x[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    return stack(taps, dim=-1)


def _max_pool(op: str, input: Tensor, dims: int, kernel_size: IntPair, stride: IntPair | None,
              padding: IntPair, dilation: IntPair, ceil_mode: bool,
              return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:  # fmt: skip
    x, unbatched = _batched(op, _require(op, input), dims + 2)
    k, s, p, d = _pool_params(op, dims, kernel_size, stride, padding, dilation)
    values, indices = pooling.max_pool(x, k, s, p, d, ceil_mode, op)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def max_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each window of (N, C, H, W) (or (C, H, W)); padding never wins. With
    `return_indices`, also the flat index (into H*W) of each maximum: the first one in
    the window, a NaN counting as the largest.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.max_pool2d(mt.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _max_pool("max_pool2d", input, 2, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)  # fmt: skip


def max_pool3d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each window of (N, C, D, H, W) (or (C, D, H, W)); see `max_pool2d`.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.max_pool3d(mt.arange(8.0).reshape(1, 1, 2, 2, 2), 2).tolist()
    [[[[[7.0]]]]]
    """
    return _max_pool("max_pool3d", input, 3, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)  # fmt: skip


def _avg_divisor(size: int, k: int, s: int, p: int, out: int, include_pad: bool) -> np.ndarray:
    """PyTorch's per-window divisor along one dim: the window clipped to the padded input
    (or to the input itself without `count_include_pad`)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float64)


def avg_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each window of (N, C, H, W), with PyTorch's divisor rules.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.avg_pool2d(mt.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    x, unbatched = _batched("avg_pool2d", _require("avg_pool2d", input), 4)
    k, s, p, d, out = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    total = _taps(x, k, s, p, d, out, 0.0).sum(-1)
    if divisor_override is not None:
        result = total / float(divisor_override)
    else:
        dh = _avg_divisor(x.shape[2], k[0], s[0], p[0], out[0], count_include_pad)
        dw = _avg_divisor(x.shape[3], k[1], s[1], p[1], out[1], count_include_pad)
        divisor = np.outer(dh, dw)
        if np.all(divisor == divisor.flat[0]):
            result = total / float(divisor.flat[0])
        else:
            result = total / asarray(divisor, dtype=x.dtype, backend=x.backend)
    return result.squeeze(0) if unbatched else result


def _adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_mean(x: Tensor, dim: int, out: int) -> Tensor:
    size = x.shape[dim]
    if out == size:
        return x
    if size % out == 0:  # equal bins: a reshape and one mean
        shape = (*x.shape[:dim], out, size // out, *x.shape[dim + 1 :])
        return x.reshape(shape).mean(dim + 1)
    index = [slice(None)] * x.ndim
    parts = []
    for lo, hi in _adaptive_bins(size, out):
        index[dim] = slice(lo, hi)
        parts.append(x[tuple(index)].mean(dim))
    return stack(parts, dim=dim)


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:
    """Average (N, C, H, W) into `output_size` bins per spatial dim (PyTorch's bin edges:
    ``floor(i*H/out)`` to ``ceil((i+1)*H/out)``); None keeps that dim's size.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.adaptive_avg_pool2d(mt.ones(2, 3, 5, 7), 1).shape
    (2, 3, 1, 1)
    """
    x, unbatched = _batched("adaptive_avg_pool2d", _require("adaptive_avg_pool2d", input), 4)
    sizes = (output_size, output_size) if is_integer(output_size) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(
            f"adaptive_avg_pool2d(): output_size must be an int or a pair, got {output_size!r}"
        )
    sizes = tuple(x.shape[2 + i] if v is None else v for i, v in enumerate(sizes))
    if any(not is_integer(v) or v < 1 for v in sizes):
        raise ValueError(f"adaptive_avg_pool2d(): output sizes must be positive, got {sizes}")
    sizes = tuple(operator.index(v) for v in sizes)
    out = _adaptive_mean(_adaptive_mean(x, 2, sizes[0]), 3, sizes[1])
    return out.squeeze(0) if unbatched else out


def _as_2d(op: str, x: Tensor) -> tuple[Tensor, bool]:
    x, unbatched = _batched(op, _require(op, x), 3)
    return x.unsqueeze(2), unbatched


def _one(op: str, name: str, value: IntPair | None, default: int | None = None) -> int | None:
    if value is None:
        return default
    return _tuple(op, name, value, 1, 0)[0]


def max_pool1d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each window of (N, C, L) (or (C, L)); see `max_pool2d`.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.max_pool1d(mt.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[3.0, 2.0]]]
    """
    return _max_pool("max_pool1d", input, 1, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)  # fmt: skip


def avg_pool1d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each window of (N, C, L) (see `avg_pool2d`).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.avg_pool1d(mt.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[2.0, 1.0]]]
    """
    x, unbatched = _as_2d("avg_pool1d", input)
    k = _one("avg_pool1d", "kernel_size", kernel_size)
    s = _one("avg_pool1d", "stride", stride, k)
    p = _one("avg_pool1d", "padding", padding)
    out = avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(2)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool1d(input: Tensor, output_size: int | Sequence[int]) -> Tensor:
    """Average (N, C, L) into `output_size` bins (see `adaptive_avg_pool2d`).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.adaptive_avg_pool1d(mt.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 1).tolist()
    [[[1.5]]]
    """
    x, unbatched = _as_2d("adaptive_avg_pool1d", input)
    size = _one("adaptive_avg_pool1d", "output_size", output_size)
    out = adaptive_avg_pool2d(x, (1, size)).squeeze(2)
    return out.squeeze(0) if unbatched else out
