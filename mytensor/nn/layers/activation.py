"""Activation layers: ReLU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax."""

from __future__ import annotations

from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn.module import Module


class ReLU(Module):
    """``max(x, 0)`` elementwise.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.ReLU()(mt.tensor([-1.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class GELU(Module):
    """``x * Phi(x)`` (exact, with erf), or its tanh approximation (``approximate="tanh"``).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.GELU("tanh")
    GELU(approximate='tanh')
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Sigmoid()(mt.zeros(2)).tolist()
    [0.5, 0.5]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent elementwise.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Tanh()(mt.zeros(2)).tolist()
    [0.0, 0.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Softmax(Module):
    """Softmax along `dim`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Softmax(dim=1)(mt.zeros(1, 4)).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log of the softmax along `dim`, computed stably.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> [round(v, 4) for v in nn.LogSoftmax(dim=0)(mt.zeros(2)).tolist()]
    [-0.6931, -0.6931]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
