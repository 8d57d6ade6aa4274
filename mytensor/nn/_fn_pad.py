"""`pad`: constant, reflect, replicate and circular padding with PyTorch's rules.

Constant padding concatenates filled blocks (any number of dims; negative amounts crop).
The other modes map every output position along a padded dim to an input position on
the host and read them with one `take` per dim, so the gradient (a scatter-add of the
output's gradient back onto the positions read) comes from the core.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mytensor.core import _autocast
from mytensor.core.creation import asarray, full
from mytensor.core.dtypes import int64
from mytensor.core.ops.selection import take
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _take(x: Tensor, dim: int, positions: np.ndarray) -> Tensor:
    return take(x, asarray(positions, dtype=int64, backend=x.backend), axis=dim)


def _crop(x: Tensor, dim: int, before: int, after: int) -> tuple[Tensor, int, int]:
    """Apply the negative amounts of (before, after) as a crop of dim `dim`."""
    if before >= 0 and after >= 0:
        return x, before, after
    index = [slice(None)] * x.ndim
    index[dim] = slice(max(-before, 0), x.shape[dim] - max(-after, 0))
    return x[tuple(index)], max(before, 0), max(after, 0)


def _constant(x: Tensor, amounts: list[tuple[int, int]], value: float) -> Tensor:
    for k, (before, after) in enumerate(amounts):
        d = x.ndim - 1 - k
        x, before, after = _crop(x, d, before, after)
        if not (before or after):
            continue
        parts = []
        for amount in (before, after):
            shape = list(x.shape)
            shape[d] = amount
            parts.append(full(tuple(shape), value, dtype=x.dtype, backend=x.backend))
        x = cat([p for p in (parts[0], x, parts[1]) if p.shape[d]], d)
    return x


def _positions(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """The input position that each output position along one dim reads."""
    j = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    if mode == "circular":
        return j % size
    period = 2 * (size - 1)  # reflect about the edges, not repeating them
    if period == 0:
        return np.zeros_like(j)
    j = np.abs(j) % period
    return np.where(j < size, j, period - j)


def _check_mode_amount(mode: str, x: Tensor, d: int, before: int, after: int) -> None:
    size = x.shape[d]
    if mode == "reflect" and (before >= size or after >= size):
        raise ValueError(
            f"pad(): reflect padding ({before}, {after}) of dim {d} must be less than that "
            f"dim's size {size} (input shape {x.shape})"
        )
    if mode == "replicate" and size == 0 and (before or after):
        raise ValueError(
            f"pad(): replicate padding of dim {d} needs a non-empty dim, got {x.shape}"
        )
    if mode == "circular" and (before > size or after > size):
        raise ValueError(
            f"pad(): circular padding ({before}, {after}) of dim {d} wraps around more than "
            f"once (the dim has size {size}, input shape {x.shape})"
        )


def _indexed(x: Tensor, amounts: list[tuple[int, int]], mode: str) -> Tensor:
    for k, (before, after) in enumerate(amounts):
        d = x.ndim - 1 - k
        if mode == "circular":  # PyTorch crops first, then wraps the cropped dim
            x, before, after = _crop(x, d, before, after)
        _check_mode_amount(mode, x, d, max(before, 0), max(after, 0))
        if before == 0 and after == 0:
            continue
        x = _take(x, d, _positions(mode, x.shape[d], before, after))
    return x


def _check_mode_rank(mode: str, x: Tensor, pad_dims: int) -> None:
    if pad_dims <= 3 and x.ndim in (pad_dims + 1, pad_dims + 2):
        return
    raise NotImplementedError(
        f"pad(): {mode} padding of {pad_dims} dim(s) (a pad of length {2 * pad_dims}) is not "
        f"supported for a {x.ndim}-d input; it pads the last 1, 2 or 3 dims of an input with "
        "1 or 2 more dims (e.g. (N, C, W) or (C, W) for a pad of length 2). Use "
        "mode='constant' for other ranks"
    )


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad `input`: `pad` is (left, right) for the last dim, then (top, bottom) for the one
    before, and so on, as in PyTorch; negative amounts crop. `mode` is ``"constant"``
    (filled with `value`, default 0), ``"reflect"`` (mirrored without repeating the edge),
    ``"replicate"`` (the edge repeated) or ``"circular"`` (wrapped around); the non-constant
    modes pad the last 1-3 dims of an input with 1 or 2 leading (batch, channel) dims.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.pad(mt.ones(1, 2), (1, 2), value=-1.0).tolist()
    [[-1.0, 1.0, 1.0, -1.0, -1.0]]
    >>> x = mt.tensor([[[0.0, 1.0, 2.0]]])
    >>> F.pad(x, (2, 1), mode="reflect").tolist(), F.pad(x, (1, 1), mode="circular").tolist()
    ([[[2.0, 1.0, 0.0, 1.0, 2.0, 1.0]]], [[[2.0, 0.0, 1.0, 2.0, 0.0]]])
    """
    x = _require("pad", input)
    if _autocast.STATE.active is not None and mode in ("reflect", "replicate"):
        (x,) = _autocast.fp32("reflection_pad" if mode == "reflect" else "replication_pad", x)
    amounts_flat = [int(a) for a in pad]
    if len(amounts_flat) % 2:
        raise ValueError(f"pad(): padding {tuple(pad)} must have an even length")
    if len(amounts_flat) // 2 > x.ndim:
        raise ValueError(
            f"pad(): padding {tuple(pad)} has length {len(amounts_flat)}, more than 2 * "
            f"{x.ndim} (twice the input's rank)"
        )
    if mode not in _MODES:
        raise ValueError(f"pad(): mode must be one of {_MODES}, got {mode!r}")
    amounts = [(amounts_flat[2 * k], amounts_flat[2 * k + 1]) for k in range(len(pad) // 2)]
    if mode == "constant":
        return _constant(x, amounts, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f'pad(): padding mode "{mode}" does not take a value argument')
    _check_mode_rank(mode, x, len(amounts))
    return _indexed(x, amounts, mode)
