"""Conv1d/2d/3d and ConvTranspose1d/2d/3d, with PyTorch's parameter names, shapes and
default init (so state dicts load), and its padding modes."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, cast

from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn import init
from mytensor.nn.layers._parameters import register_weight_and_bias
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(name: str, value: int | Sequence[int], n: int) -> tuple[int, ...]:
    out = tuple(value) if isinstance(value, Sequence) else (operator.index(value),) * n
    if len(out) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n}, got {value!r}")
    return out


class _ConvNd(Module):
    weight: Parameter
    bias: Parameter
    _rank = 0
    _transposed = False

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
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"{name}: padding must be 'valid', 'same' or ints, got {padding!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple("kernel_size", kernel_size, n)
        self.stride = _ntuple("stride", stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple("padding", padding, n)
        self.dilation = _ntuple("dilation", dilation, n)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(
                f"{name}: padding='same' is not supported for strided convolutions (stride "
                f"{self.stride}); use stride=1 or explicit padding"
            )
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._pad_amounts()
        if self._transposed:  # (C_in, C_out/groups, *kernel), as PyTorch stores it
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        register_weight_and_bias(self, shape, out_channels if bias else None, dtype, backend)
        self.reset_parameters()

    def _pad_amounts(self) -> list[int]:
        """F.pad's amounts (last dim first) for a non-zeros padding_mode: ``padding`` on
        both sides, or for 'same' total // 2 before and the rest after, as PyTorch pads."""
        amounts: list[int] = []
        for i in reversed(range(self._rank)):
            if self.padding == "valid":
                amounts += [0, 0]
            elif self.padding == "same":
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                amounts += [total // 2, total - total // 2]
            else:
                amounts += [cast(tuple[int, ...], self.padding)[i]] * 2
        return amounts

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = _FUNCTIONS[self._rank - 1]
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)

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
        if getattr(self, "output_padding", (0,) * n) != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
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


class Conv3d(_ConvNd):
    """3-d convolution over (N, C_in, D, H, W) (or unbatched (C_in, D, H, W)); `weight` is
    (C_out, C_in/groups, kd, kh, kw).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> conv = nn.Conv3d(2, 4, kernel_size=3, padding=1, padding_mode="replicate")
    >>> conv(mt.ones(1, 2, 4, 5, 6)).shape, conv.weight.shape
    ((1, 4, 4, 5, 6), (4, 2, 3, 3, 3))
    """

    _rank = 3


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        if isinstance(padding, str):
            raise ValueError(
                f"{type(self).__name__}: padding must be ints, got {padding!r} (string "
                "padding is only for convolutions)"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f'{type(self).__name__}: only "zeros" padding mode is supported, got '
                f"{padding_mode!r}"
            )
        self.output_padding = _ntuple("output_padding", output_padding, self._rank)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, dtype=dtype, backend=backend,
        )  # fmt: skip

    @property
    def _int_padding(self) -> tuple[int, ...]:
        return cast(tuple[int, ...], self.padding)  # strings were refused in __init__

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """`output_size` (the full shape or its last N sizes) picks the output_padding."""
        return _TRANSPOSED[self._rank - 1](
            input, self.weight, self.bias, self.stride, self._int_padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple:
        """The output_padding that gives `output_size` (PyTorch's rule), else the layer's."""
        if output_size is None:
            return self.output_padding
        n, name = self._rank, type(self).__name__
        wanted = tuple(output_size)[-n:]
        if len(wanted) != n:
            raise ValueError(
                f"{name}: output_size must have at least {n} entries, got {output_size}"
            )
        spatial = input.shape[-n:]
        low = [
            (spatial[i] - 1) * self.stride[i] - 2 * self._int_padding[i]
            + self.dilation[i] * (self.kernel_size[i] - 1) + 1
            for i in range(n)
        ]  # fmt: skip
        high = [low[i] + self.stride[i] - 1 for i in range(n)]
        if any(not low[i] <= wanted[i] <= high[i] for i in range(n)):
            raise ValueError(
                f"{name}: requested an output size of {tuple(wanted)}, but valid sizes range "
                f"from {tuple(low)} to {tuple(high)} (for an input of spatial size {spatial})"
            )
        return tuple(wanted[i] - low[i] for i in range(n))


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution over (N, C_in, L) giving (N, C_out, L_out) with
    ``L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``;
    `weight` is (C_in, C_out/groups, k). `output_size` in forward picks output_padding.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> up = nn.ConvTranspose1d(4, 2, kernel_size=4, stride=2, padding=1)
    >>> up(mt.ones(3, 4, 10)).shape, up.weight.shape
    ((3, 2, 20), (4, 2, 4))
    """

    _rank = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution over (N, C_in, H, W) (see `ConvTranspose1d`); `weight`
    is (C_in, C_out/groups, kh, kw).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> up = nn.ConvTranspose2d(8, 4, kernel_size=3, stride=2, padding=1)
    >>> up(mt.ones(1, 8, 5, 5)).shape, up(mt.ones(1, 8, 5, 5), output_size=(10, 10)).shape
    ((1, 4, 9, 9), (1, 4, 10, 10))
    """

    _rank = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution over (N, C_in, D, H, W) (see `ConvTranspose1d`); `weight`
    is (C_in, C_out/groups, kd, kh, kw).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> up = nn.ConvTranspose3d(4, 2, kernel_size=2, stride=2)
    >>> up(mt.ones(1, 4, 2, 3, 3)).shape
    (1, 2, 4, 6, 6)
    """

    _rank = 3


_FUNCTIONS = (F.conv1d, F.conv2d, F.conv3d)
_TRANSPOSED = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)
