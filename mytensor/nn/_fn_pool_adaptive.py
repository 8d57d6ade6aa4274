"""Adaptive max pooling: the max of each of `output_size` bins per spatial dim, with
PyTorch's bin edges (``floor(i*H/out)`` to ``ceil((i+1)*H/out)``).

Bins may differ in width by one, so every bin's taps are listed on the host at the
widest width, the short bins repeating their last position; a repeated tap never wins
over its first copy (argmax picks the first maximum, in the row-major order PyTorch
scans a window), so values, indices and gradients all match PyTorch's.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import cast

import numpy as np

from mytensor.core.creation import asarray
from mytensor.core.dtypes import int64
from mytensor.core.layout import is_integer
from mytensor.core.ops.indexing import gather
from mytensor.core.ops.selection import take
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require
from mytensor.nn._fn_conv import _batched
from mytensor.nn._fn_pool import _adaptive_bins

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d"]


def _bin_taps(size: int, out: int) -> np.ndarray:
    """(out, widest bin) input positions, short bins padded with their last position."""
    bins = _adaptive_bins(size, out)
    width = max(hi - lo for lo, hi in bins)
    return np.array([[min(lo + t, hi - 1) for t in range(width)] for lo, hi in bins])


def _sizes(op: str, x: Tensor, output_size, n: int) -> tuple[int, ...]:
    single = output_size is None or is_integer(output_size)
    sizes = (output_size,) * n if single else tuple(output_size)
    if len(sizes) != n:
        raise ValueError(f"{op}(): output_size must be an int or {n} of them, got {output_size!r}")
    filled = tuple(x.shape[x.ndim - n + i] if v is None else v for i, v in enumerate(sizes))
    if any(not is_integer(v) or v < 1 for v in filled):
        raise ValueError(f"{op}(): output sizes must be positive ints, got {filled}")
    if any(s == 0 for s in x.shape[x.ndim - n :]):
        raise ValueError(f"{op}(): input of shape {x.shape} has an empty spatial dim")
    return tuple(operator.index(v) for v in filled)


def adaptive_max_pool2d(
    input: Tensor, output_size: int | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max of (N, C, H, W) (or (C, H, W)) over `output_size` adaptive bins; with
    `return_indices`, also each maximum's flat index into H*W.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.adaptive_max_pool2d(mt.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    op = "adaptive_max_pool2d"
    x, unbatched = _batched(op, _require(op, input), 4)
    (oh, ow) = _sizes(op, x, output_size, 2)
    n, c, h, w = x.shape
    rows_at, cols_at = _bin_taps(h, oh), _bin_taps(w, ow)
    kh, kw = rows_at.shape[1], cols_at.shape[1]
    rows = take(x, asarray(rows_at.reshape(-1), dtype=int64, backend=x.backend), axis=2)
    taps = take(rows, asarray(cols_at.reshape(-1), dtype=int64, backend=x.backend), axis=3)
    taps = taps.reshape(n, c, oh, kh, ow, kw).permute(0, 1, 2, 4, 3, 5)
    taps = taps.reshape(n, c, oh, ow, kh * kw)
    best = taps.argmax(-1, keepdim=True)
    values = gather(taps, 4, best).squeeze(-1)
    values = values.squeeze(0) if unbatched else values
    if not return_indices:
        return values
    tap = best.squeeze(-1).numpy()
    row = rows_at[np.arange(oh).reshape(oh, 1), tap // kw]
    col = cols_at[np.arange(ow).reshape(1, ow), tap % kw]
    indices = asarray(row * w + col, dtype=int64, backend=x.backend)
    return values, indices.squeeze(0) if unbatched else indices


def adaptive_max_pool1d(
    input: Tensor, output_size: int | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max of (N, C, L) (or (C, L)) over `output_size` adaptive bins (see
    `adaptive_max_pool2d`).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.adaptive_max_pool1d(mt.tensor([[[1.0, 3.0, 2.0, 0.0, 5.0]]]), 2).tolist()
    [[[3.0, 5.0]]]
    """
    op = "adaptive_max_pool1d"
    x, unbatched = _batched(op, _require(op, input), 3)
    (size,) = _sizes(op, x, output_size, 1)
    x = x.unsqueeze(2)
    if not return_indices:
        return _drop_dims(cast(Tensor, adaptive_max_pool2d(x, (1, size))), unbatched)
    values, indices = adaptive_max_pool2d(x, (1, size), return_indices=True)
    return _drop_dims(values, unbatched), _drop_dims(indices, unbatched)


def _drop_dims(t: Tensor, unbatched: bool) -> Tensor:
    """Undo the 1-d -> 2-d lift (and the batch dim of an unbatched input)."""
    t = t.squeeze(2)
    return t.squeeze(0) if unbatched else t
