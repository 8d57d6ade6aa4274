"""Pooling layers: max (1-d to 3-d), average, adaptive average and adaptive max (1-d and
2-d)."""

from __future__ import annotations

from collections.abc import Sequence

from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn.module import Module

Size = int | Sequence[int]


class _MaxPoolNd(Module):
    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """Max over windows of (N, C, H, W); `stride` defaults to the kernel size.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.MaxPool2d(2)(mt.ones(1, 3, 28, 28)).shape
    (1, 3, 14, 14)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool3d(_MaxPoolNd):
    """Max over windows of (N, C, D, H, W); `stride` defaults to the kernel size.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.MaxPool3d(2)(mt.ones(1, 2, 4, 4, 4)).shape
    (1, 2, 2, 2, 2)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.MaxPool1d(3, stride=2)(mt.ones(2, 4, 9)).shape
    (2, 4, 4)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class AvgPool2d(Module):
    """Mean over windows of (N, C, H, W), with PyTorch's padding/ceil_mode divisors.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.AvgPool2d(2)(mt.ones(1, 1, 4, 4)).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """Mean over windows of (N, C, L).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.AvgPool1d(2)(mt.ones(1, 1, 6)).shape
    (1, 1, 3)
    """

    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average (N, C, H, W) into a fixed `output_size` grid, whatever H and W are.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.AdaptiveAvgPool2d((2, 3))(mt.ones(1, 4, 7, 9)).shape
    (1, 4, 2, 3)
    """

    def __init__(self, output_size: int | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(Module):
    """Average (N, C, L) into `output_size` bins (1 gives global average pooling).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.AdaptiveAvgPool1d(1)(mt.ones(2, 4, 10)).shape
    (2, 4, 1)
    """

    def __init__(self, output_size: int) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size: int | Sequence[int | None], return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max of (N, C, H, W) over a fixed `output_size` grid of bins, whatever H and W are;
    with `return_indices`, also each maximum's flat index into H*W.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.AdaptiveMaxPool2d((2, None))(mt.ones(1, 4, 7, 9)).shape
    (1, 4, 2, 9)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max of (N, C, L) over `output_size` bins (see `AdaptiveMaxPool2d`).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.AdaptiveMaxPool1d(2)(mt.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]])).tolist()
    [[[5.0, 4.0]]]
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)
