"""PyTorch's counting, NaN-skipping and running-extreme methods (bincount, histc, nansum,
cummax, cummin, mode), as a mixin of `Tensor`.

The methods are written in the class body so that type checkers, IDEs and `help()`
see them. The op modules import `Tensor`, so each method imports its op module when
called rather than at the top of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mytensor.core.ops.ranking import ValuesIndices
    from mytensor.core.tensor import Tensor


class ExtraMethods:
    """Counting, `nansum` and running extremes (see the op modules `counting`,
    `summaries` and `running`)."""

    __slots__ = ()

    def bincount(self: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        """The count (or summed `weights`) of each value of this 1-d non-negative integer
        tensor (see `mytensor.bincount`).

        >>> import mytensor as mt
        >>> mt.tensor([1, 1, 3]).bincount().tolist()
        [0, 2, 0, 1]
        """
        from mytensor.core.ops import counting

        return counting.bincount(self, weights, minlength)

    def histc(self: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
        """A histogram of `bins` equal-width bins over [min, max] (see `mytensor.histc`).

        >>> import mytensor as mt
        >>> mt.tensor([0.0, 0.5, 1.0]).histc(bins=2).tolist()
        [1.0, 2.0]
        """
        from mytensor.core.ops import counting

        return counting.histc(self, bins, min, max)

    def nansum(self: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False,
               *, dtype: Any = None) -> Tensor:  # fmt: skip
        """The sum over `dim` counting NaN as zero (see `mytensor.nansum`).

        >>> import mytensor as mt
        >>> mt.tensor([[1.0, float("nan")], [2.0, 3.0]]).nansum(1).tolist()
        [1.0, 5.0]
        """
        from mytensor.core.ops import summaries

        return summaries.nansum(self, dim, keepdim, dtype=dtype)  # type: ignore[arg-type]

    def cummax(self: Tensor, dim: int) -> ValuesIndices:
        """The named tuple (values, indices) of the largest element so far along `dim`
        (see `mytensor.cummax`).

        >>> import mytensor as mt
        >>> mt.tensor([2, 1, 3]).cummax(0).values.tolist()
        [2, 2, 3]
        """
        from mytensor.core.ops import running

        return running.cummax(self, dim)

    def cummin(self: Tensor, dim: int) -> ValuesIndices:
        """The named tuple (values, indices) of the smallest element so far along `dim`
        (see `mytensor.cummin`).

        >>> import mytensor as mt
        >>> mt.tensor([2, 1, 3]).cummin(0).indices.tolist()
        [0, 1, 1]
        """
        from mytensor.core.ops import running

        return running.cummin(self, dim)

    def mode(self: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
        """The named tuple (values, indices) of the most frequent value along `dim` (see
        `mytensor.mode`).

        >>> import mytensor as mt
        >>> mt.tensor([2, 7, 7, 2, 7]).mode().values.item()
        7
        """
        from mytensor.core.ops import running

        return running.mode(self, dim, keepdim)
