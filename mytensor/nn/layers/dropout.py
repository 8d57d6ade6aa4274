"""Dropout, Dropout1d and Dropout2d."""

from __future__ import annotations

from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn.module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: dropout probability has to be between 0 and 1, got {p}"
            )
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability `p` and scale the rest by
    ``1 / (1 - p)``; in eval mode, the identity. ``inplace=True`` writes into the input.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> drop = nn.Dropout(0.25)
    >>> drop.eval()(mt.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    >>> drop
    Dropout(p=0.25, inplace=False)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """In training, zero whole channels of (N, C, L) or (C, L) with probability `p` and
    scale the rest by ``1 / (1 - p)``; in eval mode, the identity.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.Dropout1d(0.5).eval()(mt.ones(2, 3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """In training, zero whole channels of (N, C, H, W) with probability `p` and scale
    the rest by ``1 / (1 - p)``; in eval mode, the identity (see `functional.dropout2d`
    for 3-d input).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> y = nn.Dropout2d(0.5)(mt.ones(4, 8, 2, 2))
    >>> sorted(set(y.reshape(-1).tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)
