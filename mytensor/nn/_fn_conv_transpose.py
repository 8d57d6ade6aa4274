"""Transposed convolution (the gradient of conv with respect to its input), as an
ordinary convolution: zeros inserted between the input's elements (stride - 1 of them),
edges padded by ``dilation * (k - 1) - padding`` (plus `output_padding` after; negative
amounts crop), then a stride-1 conv with the kernel flipped and its in/out channels
swapped within each group. Every step is a core op, so the gradients come from the core
and the conv runs natively where the backend has one.
"""

from __future__ import annotations

from mytensor.core.creation import zeros
from mytensor.core.layout import is_integer
from mytensor.core.ops.conv import conv2d as _conv2d
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require
from mytensor.nn._fn_conv import IntPair, _batched, _tuple
from mytensor.nn._fn_pad import pad

__all__ = ["conv_transpose1d", "conv_transpose2d"]


def _spread(x: Tensor, dim: int, stride: int) -> Tensor:
    """Insert ``stride - 1`` zeros between neighbours along `dim`."""
    if stride == 1 or x.shape[dim] == 0:
        return x
    size = x.shape[dim]
    gaps = list(x.shape)
    gaps.insert(dim + 1, stride - 1)
    blocks = cat([x.unsqueeze(dim + 1), zeros(tuple(gaps), dtype=x.dtype, backend=x.backend)],
                 dim + 1)  # fmt: skip
    merged = blocks.reshape(*x.shape[:dim], size * stride, *x.shape[dim + 1 :])
    index = [slice(None)] * x.ndim
    index[dim] = slice(0, (size - 1) * stride + 1)
    return merged[tuple(index)]


def _transposed_kernel(weight: Tensor, groups: int) -> Tensor:
    """(C_in, C_out/g, kh, kw) -> (C_out, C_in/g, kh, kw), spatially flipped."""
    c_in, c_out_g, kh, kw = weight.shape
    w = weight.reshape(groups, c_in // groups, c_out_g, kh, kw).transpose(1, 2)
    return w.reshape(groups * c_out_g, c_in // groups, kh, kw).flip((2, 3))


def _transpose_params(
    op: str, dims: int, stride: IntPair, padding: IntPair, output_padding: IntPair,
    dilation: IntPair,
) -> tuple[tuple[int, ...], ...]:  # fmt: skip
    """stride, padding, output_padding and dilation as `dims`-tuples, each checked, and
    output_padding smaller than the stride or the dilation in every dim (as PyTorch asks)."""
    s = _tuple(op, "stride", stride, dims, 1)
    p = _tuple(op, "padding", padding, dims, 0)
    o = _tuple(op, "output_padding", output_padding, dims, 0)
    d = _tuple(op, "dilation", dilation, dims, 1)
    for o_i, s_i, d_i in zip(o, s, d, strict=True):
        if o_i >= s_i and o_i >= d_i:
            raise ValueError(
                f"{op}(): output_padding {o} must be smaller than either stride {s} or "
                f"dilation {d} in every dim"
            )
    return s, p, o, d


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    groups: int = 1,
    dilation: IntPair = 1,
) -> Tensor:
    """2-d transposed convolution of (N, C_in, H, W) (or unbatched (C_in, H, W)) with
    `weight` (C_in, C_out/groups, kh, kw), giving height
    ``(H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.conv_transpose2d(mt.ones(1, 2, 3, 3), mt.ones(2, 4, 3, 3), stride=2).shape
    (1, 4, 7, 7)
    """
    op = "conv_transpose2d"
    x, unbatched = _batched(op, _require(op, input), 4)
    if _require(op, weight, "weight").ndim != 4:
        raise ValueError(
            f"{op}(): weight must be 4-d (C_in, C_out/groups, kh, kw), got {weight.shape}"
        )
    s, p, o, d = _transpose_params(op, 2, stride, padding, output_padding, dilation)
    c_in = x.shape[1]
    if not is_integer(groups) or groups < 1 or c_in % groups or weight.shape[0] != c_in:
        raise ValueError(
            f"{op}(): input with {c_in} channels needs a weight of shape (C_in={c_in}, "
            f"C_out/groups, kh, kw) with C_in divisible by groups={groups}, got {weight.shape}"
        )
    k = weight.shape[2:]
    edge = [d[i] * (k[i] - 1) - p[i] for i in range(2)]
    out_sizes = [(x.shape[2 + i] - 1) * s[i] + edge[i] + o[i] - p[i] + 1 for i in range(2)]
    if min(out_sizes) < 1:
        raise ValueError(
            f"{op}(): input of spatial size {x.shape[2:]} with kernel {tuple(k)}, stride {s}, "
            f"padding {p}, dilation {d} gives an empty output"
        )
    spread = _spread(_spread(x, 2, s[0]), 3, s[1])
    padded = pad(spread, (edge[1], edge[1] + o[1], edge[0], edge[0] + o[0]))
    out = _conv2d(padded, _transposed_kernel(weight, groups), bias, 1, 0, d, groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    groups: int = 1,
    dilation: IntPair = 1,
) -> Tensor:
    """1-d transposed convolution of (N, C_in, L) (or (C_in, L)) with `weight`
    (C_in, C_out/groups, k) (see `conv_transpose2d`).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.conv_transpose1d(mt.ones(1, 1, 3), mt.ones(1, 1, 2), stride=2).tolist()
    [[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]
    """
    op = "conv_transpose1d"
    x, unbatched = _batched(op, _require(op, input), 3)
    if _require(op, weight, "weight").ndim != 3:
        raise ValueError(f"{op}(): weight must be 3-d (C_in, C_out/groups, k), got {weight.shape}")
    (s,), (p,), (o,), (d,) = _transpose_params(op, 1, stride, padding, output_padding, dilation)
    out = conv_transpose2d(
        x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, o), groups, (1, d)
    ).squeeze(2)
    return out.squeeze(0) if unbatched else out
