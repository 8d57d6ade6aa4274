"""Transposed convolution, N = 1, 2, 3: the adjoint of the N-d conv (its gradient with
respect to the input), computed by the core's `conv_transpose` op, so a backend's
``conv_grad_input`` primitive runs it natively and the gradients are the conv's own.

For an input (N, C_in, *L), a weight (C_in, C_out/groups, *k) is exactly the weight of
the forward conv from C_out to C_in channels whose input gradient this is, at the output
size ``(L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.
"""

from __future__ import annotations

from mytensor.core.ops._base import check_tensor
from mytensor.core.ops._conv_composite import zero_pad
from mytensor.core.ops.conv import (
    ConvParams,
    add_bias,
    batched,
    check_groups,
    check_kernel,
    conv_transpose,
    float_operands,
    ntuple,
)
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_conv import IntPair

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]

_KERNEL = ("k",), ("kh", "kw"), ("kd", "kh", "kw")


def _transpose_params(
    op: str, n: int, stride: IntPair, padding: IntPair, output_padding: IntPair,
    dilation: IntPair,
) -> tuple[tuple[int, ...], ...]:  # fmt: skip
    """stride, padding, output_padding and dilation as n-tuples, each checked, and
    output_padding smaller than the stride or the dilation in every dim (as PyTorch asks)."""
    s = ntuple(op, "stride", stride, n, 1)
    p = ntuple(op, "padding", padding, n, 0)
    o = ntuple(op, "output_padding", output_padding, n, 0)
    d = ntuple(op, "dilation", dilation, n, 1)
    for o_i, s_i, d_i in zip(o, s, d, strict=True):
        if o_i >= s_i and o_i >= d_i:
            raise ValueError(
                f"{op}(): output_padding {o} must be smaller than either stride {s} or "
                f"dilation {d} in every dim"
            )
    return s, p, o, d


def _conv_transpose(
    op: str, n: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: IntPair,
    padding: IntPair, output_padding: IntPair, groups: int, dilation: IntPair,
) -> Tensor:  # fmt: skip
    x, weight = check_tensor(op, input), check_tensor(op, weight, "weight")
    x, unbatched = batched(op, x, weight, n, "C_in, C_out/groups, " + ", ".join(_KERNEL[n - 1]))
    x, weight = float_operands(op, x, weight)
    s, p, o, d = _transpose_params(op, n, stride, padding, output_padding, dilation)
    c_in = x.shape[1]
    groups = check_groups(op, groups, c_in, "input channels", weight.shape)
    if weight.shape[0] != c_in:
        raise ValueError(
            f"{op}(): input has {c_in} channels (shape {x.shape}), but the weight of shape "
            f"{weight.shape} is laid out (C_in, C_out/groups, ...) with C_in = "
            f"{weight.shape[0]}; pass a weight of shape (C_in={c_in}, C_out/groups, ...)"
        )
    check_kernel(op, weight)
    k, spatial = weight.shape[2:], x.shape[2:]
    out_sp = tuple(
        (spatial[i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + o[i] + 1 for i in range(n)
    )  # fmt: skip
    if min(out_sp) < 1 or min(spatial) < 1:
        raise ValueError(
            f"{op}(): input of spatial size {spatial} with kernel {k}, stride {s}, padding "
            f"{p}, dilation {d} and output_padding {o} gives an empty output (size "
            f"{out_sp}); every size must be >= 1: use less padding or a larger input"
        )
    params = ConvParams(s, p, d, groups)
    # the forward conv from the output size reads ((L - 1) * s + o) // s + 1 >= L positions
    # per dim; beyond L (output_padding >= stride) the gradient it transposes is zero
    reads = params.out_size(out_sp, k)
    x = zero_pad(x, (0,) * n, tuple(r - size for r, size in zip(reads, spatial, strict=True)))
    c_out = weight.shape[1] * groups
    out = conv_transpose(x, weight, params, (x.shape[0], c_out, *out_sp))
    out = add_bias(op, out, bias)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
    padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1, dilation: IntPair = 1,
) -> Tensor:  # fmt: skip
    """1-d transposed convolution of (N, C_in, L) (or (C_in, L)) with `weight`
    (C_in, C_out/groups, k), giving length
    ``(L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.conv_transpose1d(mt.ones(1, 1, 3), mt.ones(1, 1, 2), stride=2).tolist()
    [[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)  # fmt: skip


def conv_transpose2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
    padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1, dilation: IntPair = 1,
) -> Tensor:  # fmt: skip
    """2-d transposed convolution of (N, C_in, H, W) (or (C_in, H, W)) with `weight`
    (C_in, C_out/groups, kh, kw) (sizes as in `conv_transpose1d`, per dim).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.conv_transpose2d(mt.ones(1, 2, 3, 3), mt.ones(2, 4, 3, 3), stride=2).shape
    (1, 4, 7, 7)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)  # fmt: skip


def conv_transpose3d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
    padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1, dilation: IntPair = 1,
) -> Tensor:  # fmt: skip
    """3-d transposed convolution of (N, C_in, D, H, W) (or (C_in, D, H, W)) with `weight`
    (C_in, C_out/groups, kd, kh, kw) (sizes as in `conv_transpose1d`, per dim).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.conv_transpose3d(mt.ones(1, 2, 2, 3, 3), mt.ones(2, 1, 2, 2, 2), stride=2).shape
    (1, 1, 4, 6, 6)
    """
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)  # fmt: skip
