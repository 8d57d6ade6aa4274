"""Tensor methods and Python operators, each a thin alias of one op function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytensor.core.autograd import needs_grad
from mytensor.core.dtypes import promote_with_scalar
from mytensor.core.layout import broadcast_shapes
from mytensor.core.ops import elementwise as ew
from mytensor.core.ops import indexing, linalg, reductions, shape
from mytensor.core.ops._base import expanded, is_scalar, scalar_tensor
from mytensor.core.tensor import Tensor

U, B = ew.UNARY_OPS, ew.BINARY_OPS


def _reflected(op: Callable) -> Callable:
    def method(self: Tensor, other: Any) -> Tensor:
        return op(other, self)

    return method


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


def _inplace(op: Callable, name: str) -> Callable:
    kernel = op.__name__ if op.__name__ in _ARITHMETIC else None

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if (
            kernel is not None
            and len(args) == 1
            and not kwargs
            and not needs_grad(self, *(a for a in args if isinstance(a, Tensor)))
            and _write_in_place(self, kernel, args[0])
        ):
            return self
        return run_inplace(self, name, op, *args, **kwargs)

    method.__name__ = name
    return method


def _forward(op: Callable) -> Callable:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return op(self, *args, **kwargs)

    method.__name__ = op.__name__
    method.__doc__ = op.__doc__
    return method


def _fill_(self: Tensor, value: float) -> Tensor:
    from mytensor.core.autograd import no_grad

    with no_grad():
        self[...] = value
    return self


def _zero_(self: Tensor) -> Tensor:
    return _fill_(self, 0)


_OPERATORS = {
    "add": ("__add__", "__radd__", "__iadd__"),
    "sub": ("__sub__", "__rsub__", "__isub__"),
    "mul": ("__mul__", "__rmul__", "__imul__"),
    "div": ("__truediv__", "__rtruediv__", "__itruediv__"),
    "floor_divide": ("__floordiv__", "__rfloordiv__", "__ifloordiv__"),
    "remainder": ("__mod__", "__rmod__", "__imod__"),
    "pow": ("__pow__", "__rpow__", "__ipow__"),
    "bitwise_and": ("__and__", "__rand__", "__iand__"),
    "bitwise_or": ("__or__", "__ror__", "__ior__"),
    "bitwise_xor": ("__xor__", "__rxor__", "__ixor__"),
    "bitwise_left_shift": ("__lshift__", "__rlshift__", "__ilshift__"),
    "bitwise_right_shift": ("__rshift__", "__rrshift__", "__irshift__"),
}
_COMPARISONS = {"lt": "__lt__", "le": "__le__", "eq": "__eq__", "ne": "__ne__",
                "gt": "__gt__", "ge": "__ge__"}  # fmt: skip

TENSOR_METHODS: dict[str, Callable] = {}
for _name, (_op, _rop, _iop) in _OPERATORS.items():
    TENSOR_METHODS[_op] = B[_name]
    TENSOR_METHODS[_rop] = _reflected(B[_name])
    TENSOR_METHODS[_iop] = _inplace(B[_name], _iop)
for _name in (*_OPERATORS, "logical_and", "logical_or", "logical_xor"):
    TENSOR_METHODS[_name + "_"] = _inplace(B[_name], _name + "_")
for _name, _dunder in _COMPARISONS.items():
    TENSOR_METHODS[_dunder] = B[_name]
for _name, _fn in {**U, **B}.items():
    TENSOR_METHODS.setdefault(_name, _forward(_fn))
for _name in ("exp", "log", "sqrt", "sigmoid", "tanh", "relu", "neg", "abs", "clip"):
    _fn = U.get(_name) or getattr(ew, _name)
    TENSOR_METHODS[_name + "_"] = _inplace(_fn, _name + "_")
TENSOR_METHODS.update(
    {
        "__neg__": U["neg"],
        "__pos__": ew.positive,
        "__abs__": U["abs"],
        "__invert__": U["bitwise_invert"],
        "__matmul__": linalg.matmul,
        "__rmatmul__": _reflected(linalg.matmul),
        "__imatmul__": _inplace(linalg.matmul, "__imatmul__"),
        "positive": _forward(ew.positive),
        "square": _forward(ew.square),
        "__getitem__": indexing.getitem,
        "__setitem__": indexing.setitem,
        "matmul": _forward(linalg.matmul),
        "where": lambda self, condition, other: ew.where(condition, self, other),
        "astype": _forward(ew.astype),
        "clip": _forward(ew.clip),
        "clamp": _forward(ew.clip),
        "fill_": _fill_,
        "zero_": _zero_,
        "gather": _forward(indexing.gather),
        "scatter_add": _forward(indexing.scatter_add),
    }
)
for _module, _names in [
    (reductions, ("sum", "prod", "max", "min", "argmax", "argmin", "any", "all", "mean",
                  "var", "std", "logsumexp", "softmax", "log_softmax")),
    (shape, ("reshape", "view", "permute", "transpose", "expand", "broadcast_to", "squeeze",
             "unsqueeze", "flip", "contiguous", "clone", "split")),
]:  # fmt: skip
    for _name in _names:
        TENSOR_METHODS[_name] = _forward(getattr(_module, _name))
TENSOR_METHODS["amax"] = TENSOR_METHODS["max"]
TENSOR_METHODS["amin"] = TENSOR_METHODS["min"]
