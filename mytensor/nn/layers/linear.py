"""Identity, Linear, Bilinear, Flatten and Unflatten."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

from mytensor.core.layout import is_integer
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn import init
from mytensor.nn.layers._parameters import register_weight_and_bias
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed head).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Identity()(mt.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with weight (out_features, in_features), initialised as
    PyTorch does: kaiming_uniform_(a=sqrt(5)) weight, U(-1/sqrt(in), 1/sqrt(in)) bias.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer(mt.ones(5, 3)).shape, layer.weight.shape, layer.bias.shape
    ((5, 2), (2, 3), (2,))
    """

    weight: Parameter
    bias: Parameter

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bias_size = out_features if bias else None
        register_weight_and_bias(self, (out_features, in_features), bias_size, dtype, backend)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_linear_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Flatten(Module):
    """Merge dims `start_dim`..`end_dim` (by default all but the batch dim).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Flatten()(mt.ones(2, 3, 4, 5)).shape
    (2, 60)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size` (which may hold one -1), the inverse of
    `Flatten`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Unflatten(1, (2, 5))(mt.ones(3, 10)).shape, nn.Unflatten(-1, (2, -1))(mt.ones(4)).shape
    ((3, 2, 5), (2, 2))
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if is_integer(unflattened_size) or not all(is_integer(v) for v in unflattened_size):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}"
            )
        self.dim, self.unflattened_size = dim, tuple(operator.index(v) for v in unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        ndim = input.ndim
        if not -ndim <= self.dim < ndim:
            raise IndexError(
                f"Unflatten: dim {self.dim} is out of range for a {ndim}-d input "
                f"(expected {-ndim}..{ndim - 1})"
            )
        d = self.dim % ndim
        sizes, size = list(self.unflattened_size), input.shape[d]
        if sizes.count(-1) == 1:
            known = math.prod(v for v in sizes if v != -1)
            if known and size % known == 0:
                sizes[sizes.index(-1)] = size // known
        if math.prod(sizes) != size or any(v < 0 for v in sizes):
            raise ValueError(
                f"Unflatten: unflattened_size {self.unflattened_size} does not multiply to "
                f"the size {size} of dim {self.dim} (input shape {input.shape})"
            )
        return input.reshape(*input.shape[:d], *sizes, *input.shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Bilinear(Module):
    """``y = x1^T A x2 + b`` with weight (out_features, in1_features, in2_features), weight
    and bias both U(-1/sqrt(in1), 1/sqrt(in1)) as in PyTorch.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> layer = nn.Bilinear(3, 4, 5)
    >>> layer(mt.ones(2, 3), mt.ones(2, 4)).shape, layer.weight.shape
    ((2, 5), (5, 3, 4))
    """

    weight: Parameter
    bias: Parameter

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        shape = (out_features, in1_features, in2_features)
        register_weight_and_bias(self, shape, out_features if bias else None, dtype, backend)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
