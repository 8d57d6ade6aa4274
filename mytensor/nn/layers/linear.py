"""Identity, Linear and Flatten."""

from __future__ import annotations

from typing import Any

from mytensor.core.creation import empty
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn import init
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
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, backend=backend))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)
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
