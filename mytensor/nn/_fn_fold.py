"""`unfold` (im2col) and `fold` (col2im), each other's adjoint.

unfold reads every kernel tap as a strided view of the zero-padded input and stacks
them; fold scatter-adds every column entry onto the output position its tap covers
(overlaps sum), from one index built on the host. Both are core ops end to end, so
their gradients (each is the other's) come from the core.
"""

from __future__ import annotations

import numpy as np

from mytensor.core.creation import asarray, zeros
from mytensor.core.dtypes import int64
from mytensor.core.ops.shape import stack
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require
from mytensor.nn._fn_conv import IntPair, _batched, _tuple
from mytensor.nn._fn_pad import pad

__all__ = ["fold", "unfold"]


def _params(op: str, kernel_size, dilation, padding, stride) -> tuple:
    return (
        _tuple(op, "kernel_size", kernel_size, 2, 1),
        _tuple(op, "dilation", dilation, 2, 1),
        _tuple(op, "padding", padding, 2, 0),
        _tuple(op, "stride", stride, 2, 1),
    )


def _blocks(op: str, size: tuple[int, ...], k, d, p, s) -> tuple[int, int]:
    """The number of sliding blocks along each spatial dim."""
    rows, cols = ((size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if min(rows, cols) < 1:
        raise ValueError(
            f"{op}(): spatial size {tuple(size)} with kernel_size {k}, dilation {d}, padding "
            f"{p} and stride {s} leaves no sliding block (the padded input must be at least "
            f"dilation * (kernel_size - 1) + 1)"
        )
    return rows, cols


def unfold(
    input: Tensor,
    kernel_size: IntPair,
    dilation: IntPair = 1,
    padding: IntPair = 0,
    stride: IntPair = 1,
) -> Tensor:
    """Every sliding `kernel_size` block of (N, C, H, W) (or (C, H, W)) as a column:
    the result is (N, C * kh * kw, L), channel-major then kernel row-major, with L the
    number of blocks.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.unfold(mt.arange(9.0).reshape(1, 1, 3, 3), 2).tolist()
    [[[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]]
    """
    x, unbatched = _batched("unfold", _require("unfold", input), 4)
    k, d, p, s = _params("unfold", kernel_size, dilation, padding, stride)
    oh, ow = _blocks("unfold", x.shape[2:], k, d, p, s)
    if p != (0, 0):
        x = pad(x, (p[1], p[1], p[0], p[0]))
    taps = [
        x[:, :, i * d[0] : i * d[0] + s[0] * (oh - 1) + 1 : s[0],
          j * d[1] : j * d[1] + s[1] * (ow - 1) + 1 : s[1]]
        for i in range(k[0])
        for j in range(k[1])
    ]  # fmt: skip
    n, c = x.shape[:2]
    cols = stack(taps, dim=2).reshape(n, c * k[0] * k[1], oh * ow)
    return cols.squeeze(0) if unbatched else cols


def fold(
    input: Tensor,
    output_size: IntPair,
    kernel_size: IntPair,
    dilation: IntPair = 1,
    padding: IntPair = 0,
    stride: IntPair = 1,
) -> Tensor:
    """Sum columns (N, C * kh * kw, L) (or (C * kh * kw, L)) back into an image
    (N, C, *output_size): the adjoint of `unfold`, overlapping entries added.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.fold(mt.ones(1, 4, 4), (3, 3), 2).tolist()
    [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    cols, unbatched = _batched("fold", _require("fold", input), 3)
    size = _tuple("fold", "output_size", output_size, 2, 1)
    k, d, p, s = _params("fold", kernel_size, dilation, padding, stride)
    n, rows, length = cols.shape
    kk = k[0] * k[1]
    if rows % kk:
        raise ValueError(
            f"fold(): input dim 1 (size {rows}) must be divisible by the product of "
            f"kernel_size {k} ({kk}); input shape {input.shape}"
        )
    oh, ow = _blocks("fold", size, k, d, p, s)
    if length != oh * ow:
        raise ValueError(
            f"fold(): output_size {size}, kernel_size {k}, dilation {d}, padding {p} and "
            f"stride {s} give {oh} * {ow} = {oh * ow} blocks, but input dim 2 has size {length}"
        )
    c = rows // kk
    hp, wp = size[0] + 2 * p[0], size[1] + 2 * p[1]
    tap_row = (np.arange(k[0]) * d[0]).reshape(k[0], 1, 1, 1)
    tap_col = (np.arange(k[1]) * d[1]).reshape(1, k[1], 1, 1)
    block_row = (np.arange(oh) * s[0]).reshape(1, 1, oh, 1)
    block_col = (np.arange(ow) * s[1]).reshape(1, 1, 1, ow)
    flat = ((tap_row + block_row) * wp + tap_col + block_col).reshape(1, 1, kk * length)
    index = asarray(flat, dtype=int64, backend=cols.backend).expand(n, c, kk * length)
    out = zeros((n, c, hp * wp), dtype=cols.dtype, backend=cols.backend)
    out = out.scatter_add(2, index, cols.reshape(n, c, kk * length)).reshape(n, c, hp, wp)
    if p != (0, 0):
        out = out[:, :, p[0] : p[0] + size[0], p[1] : p[1] + size[1]]
    return out.squeeze(0) if unbatched else out
