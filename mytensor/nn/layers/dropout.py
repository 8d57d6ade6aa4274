"""Dropout."""

from __future__ import annotations

from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn.module import Module


class Dropout(Module):
    """In training, zero each element with probability `p` and scale the rest by
    ``1 / (1 - p)``; in eval mode, the identity. `inplace` is accepted for PyTorch
    compatibility; the result is always a new tensor.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> drop = nn.Dropout(0.25)
    >>> drop.eval()(mt.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    >>> drop
    Dropout(p=0.25, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
