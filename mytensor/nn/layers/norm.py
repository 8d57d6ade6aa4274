"""LayerNorm, GroupNorm, BatchNorm1d and BatchNorm2d."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mytensor.core.autograd import no_grad
from mytensor.core.creation import ones, tensor, zeros
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn._fn_norm import _normalized_shape
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


def _register_affine(
    module: Module,
    shape: tuple[int, ...],
    affine: bool,
    bias: bool,
    dtype: Any,
    backend: str | None,
) -> None:
    """Give `module` a `weight` of ones and a `bias` of zeros of `shape` (None when off)."""
    if affine:
        module.weight = Parameter(ones(*shape, dtype=dtype, backend=backend))
        if bias:
            module.bias = Parameter(zeros(*shape, dtype=dtype, backend=backend))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module) -> None:
    """Refill `module`'s weight with ones and its bias with zeros, where it has them."""
    with no_grad():
        if module.weight is not None:
            module.weight[...] = 1.0
        if module.bias is not None:
            module.bias[...] = 0.0


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` dims, then apply a learned
    elementwise scale (ones) and shift (zeros).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> ln = nn.LayerNorm(4)
    >>> ln(mt.randn(2, 3, 4)).shape, ln
    ((2, 3, 4), LayerNorm((4,), eps=1e-05, elementwise_affine=True))
    """

    weight: Parameter
    bias: Parameter

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        shape = _normalized_shape(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        _register_affine(self, shape, elementwise_affine, bias, dtype, backend)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class _BatchNorm(Module):
    weight: Parameter
    bias: Parameter
    _ranks: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _register_affine(self, (num_features,), affine, True, dtype, backend)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, backend=backend))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, backend=backend))
            self.register_buffer("num_batches_tracked", tensor(0, backend=backend))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean[...] = 0.0
                self.running_var[...] = 1.0
                self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._ranks:
            raise ValueError(
                f"{type(self).__name__}: expected a {' or '.join(map(str, self._ranks))}"
                f"-d input, got shape {input.shape}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked[...] = self.num_batches_tracked + 1
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / self.num_batches_tracked.item()
        batch_stats = self.training or self.running_mean is None
        tracked = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) per channel C: batch statistics in
    training (updating `running_mean`/`running_var` with `momentum`, or a cumulative
    average when it is None), the running ones in eval mode.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> bn(mt.randn(8, 3)).shape, bn.num_batches_tracked.item()
    ((8, 3), 1)
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) per channel C (see `BatchNorm1d`).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.BatchNorm2d(4).eval()(mt.ones(2, 4, 3, 3)).shape
    (2, 4, 3, 3)
    """

    _ranks = (4,)


class GroupNorm(Module):
    """Normalise each of `num_groups` channel groups of every sample of (N, C, ...), then
    apply a learned per-channel scale (ones) and shift (zeros).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> gn = nn.GroupNorm(2, 6)
    >>> gn(mt.randn(4, 6, 5)).shape, gn
    ((4, 6, 5), GroupNorm(2, 6, eps=1e-05, affine=True, bias=True))
    """

    weight: Parameter
    bias: Parameter

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        bias: bool = True,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups, num_channels, eps, affine,
        )  # fmt: skip
        _register_affine(self, (num_channels,), affine, bias, dtype, backend)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
