"""The in-place path of Tensor methods (``x.add_(y)``, ``x += y``, ``x.exp_()``, ...).

The methods themselves are written in the mixin classes of `Tensor`
(`mytensor/core/_methods_*.py`); this module holds what their in-place forms share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytensor.core.autograd import needs_grad
from mytensor.core.batching import ACTIVE
from mytensor.core.dtypes import promote_with_scalar
from mytensor.core.layout import broadcast_shapes
from mytensor.core.ops import elementwise as ew
from mytensor.core.ops import indexing
from mytensor.core.ops._base import expanded, is_scalar, scalar_tensor
from mytensor.core.tensor import Tensor

_ARITHMETIC = ("add", "sub", "mul", "div", "floor_divide", "remainder", "pow")


def _write_in_place(self: Tensor, kernel: str, other: Any) -> bool:
    """`self = kernel(self, other)` straight into self's buffer, when nothing is recorded
    and no promotion, broadcast of self, or overlap is involved (the optimizer's case).
    Returns False to send the call down the general path, which also reports errors."""
    if self.dtype.kind in ("bool", "complex") or (kernel == "div" and self.dtype.kind != "float"):
        return False
    if kernel == "floor_divide" and self.dtype.kind == "float":
        return False  # the op adds the standard's infinite-operand cases to the kernel
    backend = self._storage.backend
    if isinstance(other, Tensor):
        if other.dtype is not self.dtype or other._storage.backend is not backend:
            return False
        if other._storage is self._storage and other is not self:
            return False  # another view of the same buffer may overlap the target
        try:
            if broadcast_shapes(kernel, self.shape, other.shape) != self.shape:
                return False
        except ValueError:
            return False
    elif is_scalar(other) and promote_with_scalar(self.dtype, other) is self.dtype:
        other = scalar_tensor(other, self.dtype, backend)
    else:
        return False
    if not self.is_contiguous():
        return False
    backend.zip(kernel, self._d, self._d, expanded(other, self.shape))
    self._storage.version += 1
    return True


def run_inplace(self: Tensor, name: str, op: Callable, *args: Any, **kwargs: Any) -> Tensor:
    """``self = op(self, *args, **kwargs)`` in place, guarded as PyTorch guards it: the
    version counter moves (so a backward that saved self's old values fails loudly), and a
    leaf that requires grad may be written only under ``no_grad``."""
    source = self
    if needs_grad(self, *(a for a in args if isinstance(a, Tensor))):
        # the op's backward may read self's old values, which assign overwrites
        source = self.clone()
        args = tuple(source if a is self else a for a in args)
    return indexing.assign(self, op(source, *args, **kwargs), name)


def inplace_binary(self: Tensor, name: str, op: str, other: Any) -> Tensor:
    """``self = op(self, other)`` for a binary elementwise op: straight into self's buffer
    when nothing is recorded (the optimizers' case), else through `run_inplace`."""
    if (
        op in _ARITHMETIC
        and not ACTIVE[0]  # under vmap: the general path, whose `assign` batches
        and not needs_grad(self, *((other,) if isinstance(other, Tensor) else ()))
        and _write_in_place(self, op, other)
    ):
        return self
    return run_inplace(self, name, ew.BINARY_OPS[op], other)
