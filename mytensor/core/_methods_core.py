"""The Tensor methods of PyTorch's everyday vocabulary that are not one elementwise op:
arithmetic with PyTorch's keywords, reductions, reshaping, conversion, creation of
like-shaped tensors, and the autograd helpers (`data`, `register_hook`, `detach_`).

Written out in the class body so that type checkers, IDEs and `help()` see them. The
op modules import `Tensor`, which inherits this class, so `bind()` (called by
`mytensor.core.ops` once they exist) puts them into this module's globals.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mytensor.core.layout import is_integer

if TYPE_CHECKING:
    from mytensor.core import creation
    from mytensor.core.dtypes import DType
    from mytensor.core.ops import elementwise as ew
    from mytensor.core.ops import indexing, linalg, methods, reductions
    from mytensor.core.ops import shape as shape_ops
    from mytensor.core.ops import softmax as _softmax
    from mytensor.core.tensor import Tensor

    Operand = Tensor | bool | int | float | complex

Dim = int | Sequence[int] | None


def bind() -> None:
    """Take the op modules (called once, after they load)."""
    from mytensor.core import creation
    from mytensor.core.ops import elementwise, indexing, linalg, methods, reductions, shape, softmax

    globals().update(creation=creation, ew=elementwise, indexing=indexing, linalg=linalg,
                     methods=methods, reductions=reductions, shape_ops=shape,
                     _softmax=softmax)  # fmt: skip


def _dim(op: str, dim: Any, axis: Any) -> Any:
    """PyTorch's `dim`, or its numpy/array-API alias `axis` (not both)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}(): pass dim= or its alias axis=, not both")
        return axis
    return dim


def _keep(keepdim: bool, keepdims: bool | None) -> bool:
    return bool(keepdim if keepdims is None else keepdims)


def _sizes(op: str, size: tuple) -> tuple[int, ...]:
    """`f(2, 3)` and `f((2, 3))` alike, as PyTorch's size arguments allow."""
    if len(size) == 1 and not is_integer(size[0]):
        size = tuple(size[0])
    return tuple(operator.index(s) for s in size)


class CoreMethods:
    """PyTorch's Tensor methods that are not a single elementwise op (see the module)."""

    __slots__ = ()
    if TYPE_CHECKING:
        dtype: DType

    # -- arithmetic with PyTorch's keywords -----------------------------------------------
    def add(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """``self + alpha * other``.

        >>> import mytensor as mt
        >>> mt.tensor([1.0, 2.0]).add(mt.tensor([1.0, 1.0]), alpha=10).tolist()
        [11.0, 12.0]
        """
        return ew.BINARY_OPS["add"](self, other if alpha == 1 else other * alpha)

    def sub(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """``self - alpha * other``."""
        return ew.BINARY_OPS["sub"](self, other if alpha == 1 else other * alpha)

    def div(self, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
        """``self / other``; `rounding_mode` "trunc" or "floor" rounds the quotient."""
        return _divide(self, other, rounding_mode)

    def add_(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """`add` in place."""
        return methods.inplace_binary(self, "add_", "add", other if alpha == 1 else other * alpha)

    def sub_(self, other: Operand, *, alpha: float = 1) -> Tensor:
        """`sub` in place."""
        return methods.inplace_binary(self, "sub_", "sub", other if alpha == 1 else other * alpha)

    def div_(self, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
        """`div` in place."""
        if rounding_mode is None:
            return methods.inplace_binary(self, "div_", "div", other)
        return methods.run_inplace(self, "div_", _divide, other, rounding_mode)

    def subtract(self, other: Operand, *, alpha: float = 1) -> Tensor:
        return self.sub(other, alpha=alpha)

    def multiply(self, other: Operand) -> Tensor:
        return ew.BINARY_OPS["mul"](self, other)

    def divide(self, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
        return _divide(self, other, rounding_mode)

    def true_divide(self, other: Operand) -> Tensor:
        return ew.BINARY_OPS["div"](self, other)

    def clamp(self, min: Operand | None = None, max: Operand | None = None) -> Tensor:
        """Limit to [min, max] (either may be None); see `mytensor.clip`."""
        return ew.clip(self, min, max)  # type: ignore[arg-type]

    clip = clamp

    def clamp_(self, min: Operand | None = None, max: Operand | None = None) -> Tensor:
        """`clamp` in place."""
        return methods.run_inplace(self, "clamp_", ew.clip, min, max)

    clip_ = clamp_

    def positive(self) -> Tensor:
        return ew.positive(self)

    def square(self) -> Tensor:
        return ew.square(self)

    def where(self, condition: Tensor, other: Operand) -> Tensor:
        """`self` where `condition`, else `other` (PyTorch's ``x.where(cond, y)``)."""
        return ew.where(condition, self, other)

    def astype(self, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Tensor:
        """This tensor converted to `dtype` (the array API's name; see `to`)."""
        return ew.astype(self, dtype, copy=copy, device=device)

    def __neg__(self) -> Tensor:
        return ew.UNARY_OPS["neg"](self)

    def __pos__(self) -> Tensor:
        return ew.positive(self)

    def __abs__(self) -> Tensor:
        return ew.UNARY_OPS["abs"](self)

    def __invert__(self) -> Tensor:
        return ew.UNARY_OPS["bitwise_invert"](self)

    def __matmul__(self, other: Tensor) -> Tensor:
        return linalg.matmul(self, other)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return linalg.matmul(other, self)

    def __imatmul__(self, other: Tensor) -> Tensor:
        return methods.run_inplace(self, "__imatmul__", linalg.matmul, other)

    def matmul(self, other: Tensor) -> Tensor:
        """The matrix product; see `mytensor.matmul`."""
        return linalg.matmul(self, other)

    def __getitem__(self, key: Any) -> Tensor:
        return indexing.getitem(self, key)

    def __setitem__(self, key: Any, value: Operand) -> None:
        indexing.setitem(self, key, value)

    # -- reductions ----------------------------------------------------------------------
    def sum(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None,
            axis: Dim = None, keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """Sum over `dim` (None: all); `dtype` converts the input first.

        >>> import mytensor as mt
        >>> mt.tensor([[1, 2], [3, 4]]).sum(1).tolist()
        [3, 7]
        """
        x = self if dtype is None else ew.astype(self, dtype)
        return reductions.sum(x, _dim("sum", dim, axis), _keep(keepdim, keepdims))

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None,
             axis: int | None = None, keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """Product over `dim` (None: all); `dtype` converts the input first."""
        x = self if dtype is None else ew.astype(self, dtype)
        return reductions.prod(x, _dim("prod", dim, axis), _keep(keepdim, keepdims))

    def mean(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None,
             axis: Dim = None, keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """Mean over `dim` (None: all) of a floating-point tensor."""
        x = self if dtype is None else ew.astype(self, dtype)
        return reductions.mean(x, _dim("mean", dim, axis), _keep(keepdim, keepdims))

    def amax(self, dim: Dim = (), keepdim: bool = False, *, axis: Dim = None,
             keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """The largest value over `dim` (``()`` or None: all); NaN propagates."""
        d = _dim("amax", dim, axis)
        return reductions.max(self, None if d == () else d, _keep(keepdim, keepdims))

    def amin(self, dim: Dim = (), keepdim: bool = False, *, axis: Dim = None,
             keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """The smallest value over `dim` (``()`` or None: all); NaN propagates."""
        d = _dim("amin", dim, axis)
        return reductions.min(self, None if d == () else d, _keep(keepdim, keepdims))

    def argmax(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
               keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """Index of the largest value (over the flattened tensor when `dim` is None)."""
        return reductions.argmax(self, _dim("argmax", dim, axis), _keep(keepdim, keepdims))

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
               keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """Index of the smallest value (over the flattened tensor when `dim` is None)."""
        return reductions.argmin(self, _dim("argmin", dim, axis), _keep(keepdim, keepdims))

    def any(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
            keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """Whether any element over `dim` is nonzero."""
        return reductions.any(self, _dim("any", dim, axis), _keep(keepdim, keepdims))

    def all(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
            keepdims: bool | None = None) -> Tensor:  # fmt: skip
        """Whether every element over `dim` is nonzero."""
        return reductions.all(self, _dim("all", dim, axis), _keep(keepdim, keepdims))

    def logsumexp(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        """``log(sum(exp(self)))`` over `dim`, computed stably."""
        return reductions.logsumexp(self, dim, keepdim)

    def softmax(self, dim: int) -> Tensor:
        """See `mytensor.softmax`."""
        return _softmax.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        """See `mytensor.log_softmax`."""
        return _softmax.log_softmax(self, dim)

    # -- shape ---------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (a view when the layout allows; -1 is inferred)."""
        return shape_ops.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        """A view with a new shape; fails where the layout needs a copy (use `reshape`)."""
        return shape_ops.view(self, *shape)

    def permute(self, *dims: Any) -> Tensor:
        """A view with the dims reordered."""
        return shape_ops.permute(self, *dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """A view with two dims swapped."""
        return shape_ops.transpose(self, dim0, dim1)

    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view to `sizes` (-1 keeps a dim)."""
        return shape_ops.expand(self, *sizes)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return shape_ops.broadcast_to(self, shape)

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """A view without the size-1 dims, or without those of `dim` (an int or a tuple)
        that have size 1: as in PyTorch, a named dim of another size stays."""
        return shape_ops.squeeze(self, _size_one_dims(self, dim))

    def unsqueeze(self, dim: int) -> Tensor:
        """A view with a new size-1 dim at `dim`."""
        return shape_ops.unsqueeze(self, dim)

    def squeeze_(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """`squeeze` in place: this tensor takes the squeezed shape."""

        def squeeze(x: Tensor) -> Tensor:
            return shape_ops.squeeze(x, _size_one_dims(x, dim))

        return _take_layout(self, squeeze)

    def unsqueeze_(self, dim: int) -> Tensor:
        """`unsqueeze` in place: this tensor takes the new shape."""

        def unsqueeze(x: Tensor) -> Tensor:
            return shape_ops.unsqueeze(x, dim)

        return _take_layout(self, unsqueeze)

    def flip(self, dims: int | Sequence[int] | None = None) -> Tensor:
        return shape_ops.flip(self, dims)

    def contiguous(self) -> Tensor:
        """Itself if row-major contiguous, else a contiguous copy."""
        return shape_ops.contiguous(self)

    def clone(self) -> Tensor:
        """A copy with its own memory (differentiable)."""
        return shape_ops.clone(self)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
        """Views of consecutive pieces along `dim`."""
        return shape_ops.split(self, split_size_or_sections, dim)

    # -- creation of like tensors --------------------------------------------------------
    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:  # fmt: skip
        """Zeros of `size`, with this tensor's dtype and device unless given.

        >>> import mytensor as mt
        >>> mt.ones(2, dtype=mt.float64).new_zeros(3).dtype
        mytensor.float64
        """
        return self.new_full(_sizes("new_zeros", size), 0, dtype=dtype, device=device,
                             requires_grad=requires_grad)  # fmt: skip

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:  # fmt: skip
        """Ones of `size`, with this tensor's dtype and device unless given."""
        return self.new_full(_sizes("new_ones", size), 1, dtype=dtype, device=device,
                             requires_grad=requires_grad)  # fmt: skip

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:  # fmt: skip
        """An uninitialised tensor of `size`, with this tensor's dtype and device."""
        return self.new_full(_sizes("new_empty", size), 0, dtype=dtype, device=device,
                             requires_grad=requires_grad)  # fmt: skip

    def new_full(self, size: Sequence[int], fill_value: Any, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
        """`fill_value` in `size`, with this tensor's dtype and device unless given."""
        out = creation.full(tuple(size), fill_value, dtype=dtype or self.dtype,
                            device=_device_or(self, device))  # fmt: skip
        return out.requires_grad_() if requires_grad else out

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:  # fmt: skip
        """A copy of `data`, with this tensor's dtype and device unless given."""
        return creation.asarray(data, dtype=dtype or self.dtype, copy=True,
                                device=_device_or(self, device),
                                requires_grad=requires_grad)  # fmt: skip


def _divide(x: Any, other: Any, rounding_mode: str | None) -> Tensor:
    if rounding_mode is None:
        return ew.BINARY_OPS["div"](x, other)
    if rounding_mode == "floor":
        return ew.BINARY_OPS["floor_divide"](x, other)
    if rounding_mode == "trunc":
        if not _both_integral(x, other):
            return ew.UNARY_OPS["trunc"](ew.BINARY_OPS["div"](x, other))
        # exact for every integer: floor, then one up where the quotient was negative
        floor = ew.BINARY_OPS["floor_divide"](x, other)
        inexact = ew.BINARY_OPS["remainder"](x, other) != 0
        negative = (x < 0) != (other < 0)
        return ew.where(inexact & negative, floor + 1, floor)
    raise ValueError(
        f"div(): rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
    )


def _both_integral(x: Any, other: Any) -> bool:
    from mytensor.core.tensor import Tensor

    def integral(v: Any) -> bool:
        return v.dtype.is_integral if isinstance(v, Tensor) else isinstance(v, int)

    return integral(x) and integral(other)


def _size_one_dims(t: Any, dim: int | Sequence[int] | None) -> int | tuple[int, ...] | None:
    """The dims of `dim` that have size 1 (all of them for None), checked for range."""
    if dim is None:
        return None
    from mytensor.core.layout import normalize_dims

    return tuple(d for d in normalize_dims("squeeze", dim, t.ndim) if t.shape[d] == 1)


def _device_or(t: Any, device: Any) -> Any:
    return t.device if device is None else device


def _take_layout(t: Any, make_view: Callable[[Tensor], Tensor]) -> Tensor:
    """Give `t` the layout of ``make_view(t)`` in place, as PyTorch's in-place shape
    methods do. In a graph, the view is taken of an alias that keeps t's old node, so
    the view's backward still sees the old shape."""
    from mytensor.core.autograd import is_grad_enabled
    from mytensor.core.ops.indexing import _check_inplace_grad

    if t._node is None:
        if t.requires_grad and is_grad_enabled():
            _check_inplace_grad(make_view.__name__ + "_", t)
        view = make_view(t)
    else:
        alias = t._view(t.shape, t._strides, t._offset)
        alias._node, alias.requires_grad = t._node, True
        view = make_view(alias)
        t._node = view._node
    t.shape, t._strides, t._desc = view.shape, view._strides, None
    return t
