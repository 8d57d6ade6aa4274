"""`SliceGrad`: the gradient a view sends its base, kept as "zero but for one region"
until the engine adds it into the base's pending gradient (see docs/design.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mytensor.core.tensor import Tensor

__all__ = ["SliceGrad", "sum_grads"]


class SliceGrad:
    """The gradient a basic-index view (slice, select, narrow, unbind, split) sends to its
    base: zero except `values` at `key`. The engine adds it into the base's pending
    gradient in place, so T views of one tensor cost O(size) in backward, not T full-size
    zero tensors and sums (an RNN's per-step slices of its input projection). Made only
    when the backward records nothing (no create_graph, no vmap)."""

    __slots__ = ("_storage", "dtype", "key", "shape", "values")

    def __init__(self, shape: tuple[int, ...], key: tuple, values: Tensor) -> None:
        self.shape, self.key, self.values = shape, key, values
        self.dtype, self._storage = values.dtype, values._storage  # checked as a gradient's

    def _region(self, target: Tensor) -> Any:
        """The view's elements in `target`, a C-contiguous tensor of the base's shape."""
        from mytensor.backends.spec import Strided
        from mytensor.core.ops.indexing import view_geometry

        shape, strides, offset = view_geometry(self.shape, self.key)
        return Strided(target._storage.buffer, shape, strides, target._offset + offset,
                       target.dtype)  # fmt: skip

    def materialize(self) -> Tensor:
        from mytensor.core.creation import zeros

        base = zeros(self.shape, dtype=self.dtype, backend=self.values.backend)
        self._storage.backend.copy(self._region(base), self.values._d)
        return base

    def add_into(self, target: Tensor) -> None:
        if target.is_contiguous():
            region = self._region(target)
            self._storage.backend.zip("add", region, region, self.values._d)
        else:
            from mytensor.core.ops.indexing import getitem

            getitem(target, self.key).add_(self.values)


def sum_grads(pending: Any, new: Any, pending_owned: bool, in_place: bool) -> Tensor:
    """pending + new, either of which may be a `SliceGrad`; the result is the engine's own.

    A pending gradient the engine owns takes `new` in place where the engine allows it
    (`in_place`: no create_graph, no vmap): a tensor used many times (a weight shared by
    every step of an RNN, a residual input) then costs one kernel per use, not a new
    tensor each time. The engine has checked that both have the input's shape, dtype and
    backend."""
    if type(pending) is not SliceGrad and type(new) is not SliceGrad:
        if pending_owned and in_place and pending.is_contiguous():
            out = pending._d
            pending._storage.backend.zip("add", out, out, new._d)
            return pending
        return pending + new
    if type(pending) is SliceGrad:
        if type(new) is SliceGrad:
            total = pending.materialize()
            new.add_into(total)
            return total
        pending, new, pending_owned = new, pending, False
    total = pending if pending_owned else pending.clone()
    new.add_into(total)
    return total
