"""Activation layers: ReLU, LeakyReLU, ELU, GELU, SiLU, Mish, Softplus, Hardtanh, PReLU,
Sigmoid, Tanh, Softmax, LogSoftmax."""

from __future__ import annotations

from typing import Any

from mytensor.core.creation import full
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


def _inplace_repr(inplace: bool, prefix: str = "") -> str:
    if not inplace:
        return prefix
    return f"{prefix}, inplace=True" if prefix else "inplace=True"


class ReLU(Module):
    """``max(x, 0)`` elementwise (written into the input when ``inplace=True``).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.ReLU()(mt.tensor([-1.0, 1.0])).tolist()
    [0.0, 1.0]
    >>> nn.ReLU(inplace=True)
    ReLU(inplace=True)
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """``x`` where ``x > 0``, else ``negative_slope * x``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.LeakyReLU(0.5)(mt.tensor([-2.0, 2.0])).tolist()
    [-1.0, 2.0]
    >>> nn.LeakyReLU()
    LeakyReLU(negative_slope=0.01)
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"negative_slope={self.negative_slope}")


class ELU(Module):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.ELU()(mt.tensor([0.0, 2.0])).tolist()
    [0.0, 2.0]
    >>> nn.ELU(alpha=0.5)
    ELU(alpha=0.5)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class SiLU(Module):
    """``x * sigmoid(x)`` elementwise.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.SiLU()(mt.zeros(2)).tolist()
    [0.0, 0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Mish(Module):
    """``x * tanh(softplus(x))`` elementwise.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Mish()(mt.zeros(2)).tolist()
    [0.0, 0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Softplus(beta=2.0)(mt.tensor([30.0])).tolist()
    [30.0]
    >>> nn.Softplus()
    Softplus(beta=1.0, threshold=20.0)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """`x` clamped to ``[min_val, max_val]``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Hardtanh(-2.0, 2.0)(mt.tensor([-3.0, 1.0, 3.0])).tolist()
    [-2.0, 1.0, 2.0]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if not max_val > min_val:
            raise ValueError(
                f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"min_val={self.min_val}, max_val={self.max_val}")


class PReLU(Module):
    """``x`` where ``x > 0``, else ``weight * x`` with a learned slope: one shared
    (``num_parameters=1``) or one per input channel, all starting at `init`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> act = nn.PReLU(3)
    >>> act(mt.full((2, 3), -4.0)).tolist()[0], act.weight.shape
    ([-1.0, -1.0, -1.0], (3,))
    """

    def __init__(
        self,
        num_parameters: int = 1,
        init: float = 0.25,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), init, dtype=dtype, backend=backend))

    def reset_parameters(self) -> None:
        self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


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
