"""Functional convolution: the core's N-d conv1d / conv2d / conv3d (the same function
objects as ``mytensor.conv2d``: unbatched inputs and ``padding="same"`` / ``"valid"``
included), and the argument helpers the pooling and folding functions share."""

from __future__ import annotations

from collections.abc import Sequence

from mytensor.core.ops.conv import conv1d, conv2d, conv3d, ntuple
from mytensor.core.tensor import Tensor

__all__ = ["IntPair", "conv1d", "conv2d", "conv3d"]

IntPair = int | Sequence[int]


def _tuple(op: str, name: str, value: IntPair, n: int, minimum: int) -> tuple[int, ...]:
    return ntuple(op, name, value, n, minimum)


def _batched(op: str, x: Tensor, rank: int) -> tuple[Tensor, bool]:
    """Accept an unbatched input (one rank less) by adding a batch dim of 1."""
    if x.ndim == rank:
        return x, False
    if x.ndim == rank - 1:
        return x.unsqueeze(0), True
    raise ValueError(f"{op}(): expected a {rank - 1}-d or {rank}-d input, got shape {x.shape}")
