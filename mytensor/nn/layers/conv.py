"""Conv1d and Conv2d: the core's im2col convolution with PyTorch's default init."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mytensor.core.creation import empty
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn import init
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


def _ntuple(name: str, value: int | Sequence[int], n: int) -> tuple[int, ...]:
    out = (value,) * n if isinstance(value, int) else tuple(value)
    if len(out) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n}, got {value!r}")
    return out


class _ConvNd(Module):
    _rank = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        n, name = self._rank, type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"{name}: padding must be 'valid', 'same' or ints, got {padding!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple("kernel_size", kernel_size, n)
        self.stride = _ntuple("stride", stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple("padding", padding, n)
        self.dilation = _ntuple("dilation", dilation, n)
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, backend=backend))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_linear_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        n = self._rank
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-d convolution over (N, C_in, L) giving (N, C_out, L_out); `padding` may be
    ints, ``"valid"`` or ``"same"``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> conv = nn.Conv1d(4, 8, kernel_size=5, padding="same")
    >>> conv(mt.ones(2, 4, 30)).shape
    (2, 8, 30)
    """

    _rank = 1

    def forward(self, input: Tensor) -> Tensor:
        return F.conv1d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) with stride, padding, dilation and groups.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> conv = nn.Conv2d(1, 6, kernel_size=5)
    >>> conv(mt.ones(2, 1, 28, 28)).shape
    (2, 6, 24, 24)
    >>> conv
    Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
    """

    _rank = 2

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )
