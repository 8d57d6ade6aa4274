"""Functional convolution: the core's im2col conv2d/conv1d, plus unbatched inputs and
``padding="same"`` / ``"valid"``."""

from __future__ import annotations

import operator
from collections.abc import Sequence

from mytensor.core.layout import is_integer
from mytensor.core.ops.conv import conv2d as _conv2d
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require
from mytensor.nn._fn_pad import pad

IntPair = int | Sequence[int]


def _tuple(op: str, name: str, value: IntPair, n: int, minimum: int) -> tuple[int, ...]:
    out = (value,) * n if is_integer(value) else tuple(value)
    if len(out) != n or any(not is_integer(v) or v < minimum for v in out):
        raise ValueError(
            f"{op}(): {name} must be an int >= {minimum} or a tuple of {n} of them, got {value!r}"
        )
    return tuple(operator.index(v) for v in out)


def _batched(op: str, x: Tensor, rank: int) -> tuple[Tensor, bool]:
    """Accept an unbatched input (one rank less) by adding a batch dim of 1."""
    if x.ndim == rank:
        return x, False
    if x.ndim == rank - 1:
        return x.unsqueeze(0), True
    raise ValueError(f"{op}(): expected a {rank - 1}-d or {rank}-d input, got shape {x.shape}")


def _same_padding(
    op: str, x: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[Tensor, tuple[int, ...]]:
    """'same' padding: PyTorch pads total//2 before and the rest after each spatial dim."""
    if any(s != 1 for s in stride):
        raise ValueError(f"{op}(): padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    symmetric = tuple(t // 2 for t in totals)
    extra: list[int] = []
    for t in reversed(totals):  # F.pad lists the last dim first
        extra += [0, t % 2]
    if any(extra):
        x = pad(x, extra)
    return x, symmetric


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair | str = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation) of (N, C, H, W) with (O, C/groups, kh, kw);
    `padding` may also be ``"valid"`` or ``"same"``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.conv2d(mt.ones(1, 2, 5, 5), mt.ones(4, 2, 3, 3), padding="same").shape
    (1, 4, 5, 5)
    """
    x, unbatched = _batched("conv2d", _require("conv2d", input), 4)
    _require("conv2d", weight, "weight")
    if isinstance(padding, str):
        stride_t = _tuple("conv2d", "stride", stride, 2, 1)
        if padding == "valid":
            padding = 0
        elif padding == "same":
            dilation_t = _tuple("conv2d", "dilation", dilation, 2, 1)
            x, padding = _same_padding("conv2d", x, weight.shape[2:], stride_t, dilation_t)
        else:
            raise ValueError(
                f"conv2d(): padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
            )
    out = _conv2d(x, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair | str = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution of (N, C, L) with (O, C/groups, k); `padding` may be ``"same"``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.conv1d(mt.ones(2, 3, 10), mt.ones(4, 3, 3), stride=2).shape
    (2, 4, 4)
    """
    x, unbatched = _batched("conv1d", _require("conv1d", input), 3)
    if _require("conv1d", weight, "weight").ndim != 3:
        raise ValueError(f"conv1d(): weight must be 3-d (O, C/groups, k), got {weight.shape}")
    (s,), (d,) = (
        _tuple("conv1d", "stride", stride, 1, 1),
        _tuple("conv1d", "dilation", dilation, 1, 1),
    )
    p = padding if isinstance(padding, str) else (0, _tuple("conv1d", "padding", padding, 1, 0)[0])
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), p, (1, d), groups)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out
