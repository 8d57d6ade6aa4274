"""The shape methods of PyTorch (flatten, view_as, chunk, narrow, select, t, diagonal,
repeat, roll, movedim, ...), as a mixin of `Tensor`.

The methods are written in the class body so that type checkers, IDEs and `help()`
see them. The op modules import `Tensor`, so each method imports its op module when
called rather than at the top of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mytensor.core.tensor import Tensor


class ShapeMethods:
    __slots__ = ()

    # -- shape ----------------------------------------------------------------------------
    def flatten(self: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions `start_dim` .. `end_dim` into one.

        >>> import mytensor as mt
        >>> mt.zeros(2, 3, 4).flatten(1).shape
        (2, 12)
        """
        from mytensor.core.ops import slicing

        return slicing.flatten(self, start_dim, end_dim)

    def unflatten(self: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
        """Split dimension `dim` into `sizes`."""
        from mytensor.core.ops import slicing

        return slicing.unflatten(self, dim, sizes)

    def view_as(self: Tensor, other: Tensor) -> Tensor:
        """``self.view(other.shape)``."""
        from mytensor.core.ops import shape

        return shape.view(self, *_shape_of("view_as", other))

    def reshape_as(self: Tensor, other: Tensor) -> Tensor:
        """``self.reshape(other.shape)``."""
        from mytensor.core.ops import shape

        return shape.reshape(self, *_shape_of("reshape_as", other))

    def expand_as(self: Tensor, other: Tensor) -> Tensor:
        """``self.expand(other.shape)``.

        >>> import mytensor as mt
        >>> mt.ones(3, 1).expand_as(mt.zeros(3, 4)).shape
        (3, 4)
        """
        from mytensor.core.ops import shape

        return shape.expand(self, *_shape_of("expand_as", other))

    def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Split into at most `chunks` equal views along `dim` (the last may be smaller)."""
        from mytensor.core.ops import slicing

        return slicing.chunk(self, chunks, dim)

    def unbind(self: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, as views."""
        from mytensor.core.ops import slicing

        return slicing.unbind(self, dim)

    def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
        """The view of `length` elements from `start` along `dim`."""
        from mytensor.core.ops import slicing

        return slicing.narrow(self, dim, start, length)

    def select(self: Tensor, dim: int, index: int) -> Tensor:
        """The view at `index` along `dim` (the dimension removed)."""
        from mytensor.core.ops import slicing

        return slicing.select(self, dim, index)

    def t(self: Tensor) -> Tensor:
        """The transpose of a matrix (0-d and 1-d tensors as they are)."""
        from mytensor.core.ops import slicing

        return slicing.t(self)

    def tril(self: Tensor, diagonal: int = 0) -> Tensor:
        """The lower triangle (elements above `diagonal` zeroed)."""
        from mytensor.core.ops import construction

        return construction.tril(self, k=diagonal)

    def triu(self: Tensor, diagonal: int = 0) -> Tensor:
        """The upper triangle (elements below `diagonal` zeroed)."""
        from mytensor.core.ops import construction

        return construction.triu(self, k=diagonal)

    def diag(self: Tensor, diagonal: int = 0) -> Tensor:
        """1-d: the matrix with self on `diagonal`; 2-d: a copy of that diagonal."""
        from mytensor.core.ops import slicing

        return slicing.diag(self, diagonal)

    def diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal `offset` over `dim1`, `dim2`, as a view in a new last dimension."""
        from mytensor.core.ops import slicing

        return slicing.diagonal(self, offset, dim1, dim2)

    def repeat(self: Tensor, *sizes: int | Sequence[int]) -> Tensor:
        """`self` tiled ``sizes[i]`` times along dimension i (a new tensor).

        >>> import mytensor as mt
        >>> mt.tensor([1, 2]).repeat(2).tolist()
        [1, 2, 1, 2]
        """
        from mytensor.core.ops import tiling

        return tiling.repeat(self, *sizes)  # type: ignore[arg-type]

    def repeat_interleave(self: Tensor, repeats: int | Tensor, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:  # fmt: skip
        """Each element (or slice along `dim`) repeated `repeats` times in place."""
        from mytensor.core.ops import tiling

        return tiling.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self: Tensor, *dims: int | Sequence[int]) -> Tensor:
        """`self` tiled ``dims[i]`` times along the trailing dimensions (a new tensor)."""
        from mytensor.core.ops import shape, tiling

        return tiling.tile(self, shape._shape_arg(dims))

    def roll(self: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
             ) -> Tensor:  # fmt: skip
        """Shift elements cyclically along `dims` (None: the flattened tensor)."""
        from mytensor.core.ops import tiling

        return tiling.roll(self, shifts, dims=dims)  # type: ignore[arg-type]

    def sum_to_size(self: Tensor, *size: int | Sequence[int]) -> Tensor:
        """Sum down to `size`, which must broadcast to self's shape."""
        from mytensor.core.ops import slicing

        return slicing.sum_to_size(self, *size)

    def movedim(self: Tensor, source: int | Sequence[int],
                destination: int | Sequence[int]) -> Tensor:  # fmt: skip
        """Move dimensions `source` to positions `destination` (a view)."""
        from mytensor.core.ops import slicing

        return slicing.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self: Tensor, axis0: int, axis1: int) -> Tensor:
        """Swap two dimensions (a view)."""
        from mytensor.core.ops import slicing

        return slicing.swapaxes(self, axis0, axis1)

    def swapdims(self: Tensor, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions (a view)."""
        from mytensor.core.ops import slicing

        return slicing.swapaxes(self, dim0, dim1)


def _shape_of(op: str, other: Any) -> tuple[int, ...]:
    from mytensor.core.ops._base import check_tensor

    return check_tensor(op, other, "other").shape
