"""The Python operators and the Tensor methods of the binary elementwise ops.

Written out in the class body, one method per op, so that type checkers, IDEs and
`help()` see them. The op modules import `Tensor`, which inherits this class, so
they are bound into this module by `bind()` once they exist (`mytensor.core.ops`
calls it); the methods then cost one global lookup, as a module-level import would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from mytensor.core.tensor import Tensor

    Operand = Tensor | bool | int | float | complex

# mytensor.core.ops.methods.inplace_binary, bound by bind()
_inplace: Callable[..., Tensor] = None  # type: ignore[assignment]
_B: dict[str, Callable[..., Tensor]] = {}


def bind() -> None:
    """Take the elementwise op functions (called once, after the op modules load)."""
    from mytensor.core.ops import elementwise, methods

    global _inplace
    _B.update(elementwise.BINARY_OPS)
    _inplace = methods.inplace_binary
    # the four arithmetic operators call their op without the method's frame in between
    # (a 1000-element `a + b`: 3.86 -> 3.71 us); the methods above stay as their typed,
    # documented signatures
    for method, op in (("__add__", "add"), ("__sub__", "sub"), ("__mul__", "mul"),
                       ("__truediv__", "div")):  # fmt: skip
        setattr(BinaryMethods, method, elementwise.BINARY_OPS[op])


class BinaryMethods:
    """`x + y`, `x += y`, `x.atan2(y)`, `x.mul_(y)`, ...: the operators and one method per
    binary op of `mytensor.core.ops.elementwise` (`add`, `sub` and `div`, with PyTorch's
    keywords, are in `CoreMethods`)."""

    __slots__ = ()

    def __add__(self, other: Operand) -> Tensor:
        return _B["add"](self, other)

    def __radd__(self, other: Operand) -> Tensor:
        return _B["add"](other, self)

    def __iadd__(self, other: Operand) -> Tensor:
        return _inplace(self, "__iadd__", "add", other)

    def __sub__(self, other: Operand) -> Tensor:
        return _B["sub"](self, other)

    def __rsub__(self, other: Operand) -> Tensor:
        return _B["sub"](other, self)

    def __isub__(self, other: Operand) -> Tensor:
        return _inplace(self, "__isub__", "sub", other)

    def __mul__(self, other: Operand) -> Tensor:
        return _B["mul"](self, other)

    def __rmul__(self, other: Operand) -> Tensor:
        return _B["mul"](other, self)

    def __imul__(self, other: Operand) -> Tensor:
        return _inplace(self, "__imul__", "mul", other)

    def __truediv__(self, other: Operand) -> Tensor:
        return _B["div"](self, other)

    def __rtruediv__(self, other: Operand) -> Tensor:
        return _B["div"](other, self)

    def __itruediv__(self, other: Operand) -> Tensor:
        return _inplace(self, "__itruediv__", "div", other)

    def __floordiv__(self, other: Operand) -> Tensor:
        return _B["floor_divide"](self, other)

    def __rfloordiv__(self, other: Operand) -> Tensor:
        return _B["floor_divide"](other, self)

    def __ifloordiv__(self, other: Operand) -> Tensor:
        return _inplace(self, "__ifloordiv__", "floor_divide", other)

    def __mod__(self, other: Operand) -> Tensor:
        return _B["remainder"](self, other)

    def __rmod__(self, other: Operand) -> Tensor:
        return _B["remainder"](other, self)

    def __imod__(self, other: Operand) -> Tensor:
        return _inplace(self, "__imod__", "remainder", other)

    def __pow__(self, other: Operand) -> Tensor:
        return _B["pow"](self, other)

    def __rpow__(self, other: Operand) -> Tensor:
        return _B["pow"](other, self)

    def __ipow__(self, other: Operand) -> Tensor:
        return _inplace(self, "__ipow__", "pow", other)

    def __and__(self, other: Operand) -> Tensor:
        return _B["bitwise_and"](self, other)

    def __rand__(self, other: Operand) -> Tensor:
        return _B["bitwise_and"](other, self)

    def __iand__(self, other: Operand) -> Tensor:
        return _inplace(self, "__iand__", "bitwise_and", other)

    def __or__(self, other: Operand) -> Tensor:
        return _B["bitwise_or"](self, other)

    def __ror__(self, other: Operand) -> Tensor:
        return _B["bitwise_or"](other, self)

    def __ior__(self, other: Operand) -> Tensor:
        return _inplace(self, "__ior__", "bitwise_or", other)

    def __xor__(self, other: Operand) -> Tensor:
        return _B["bitwise_xor"](self, other)

    def __rxor__(self, other: Operand) -> Tensor:
        return _B["bitwise_xor"](other, self)

    def __ixor__(self, other: Operand) -> Tensor:
        return _inplace(self, "__ixor__", "bitwise_xor", other)

    def __lshift__(self, other: Operand) -> Tensor:
        return _B["bitwise_left_shift"](self, other)

    def __rlshift__(self, other: Operand) -> Tensor:
        return _B["bitwise_left_shift"](other, self)

    def __ilshift__(self, other: Operand) -> Tensor:
        return _inplace(self, "__ilshift__", "bitwise_left_shift", other)

    def __rshift__(self, other: Operand) -> Tensor:
        return _B["bitwise_right_shift"](self, other)

    def __rrshift__(self, other: Operand) -> Tensor:
        return _B["bitwise_right_shift"](other, self)

    def __irshift__(self, other: Operand) -> Tensor:
        return _inplace(self, "__irshift__", "bitwise_right_shift", other)

    def __lt__(self, other: Operand) -> Tensor:
        return _B["lt"](self, other)

    def __le__(self, other: Operand) -> Tensor:
        return _B["le"](self, other)

    def __eq__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return _B["eq"](self, other)

    def __ne__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return _B["ne"](self, other)

    def __gt__(self, other: Operand) -> Tensor:
        return _B["gt"](self, other)

    def __ge__(self, other: Operand) -> Tensor:
        return _B["ge"](self, other)

    def atan2(self, other: Operand) -> Tensor:
        """See `mytensor.atan2`."""
        return _B["atan2"](self, other)

    def atan2_(self, other: Operand) -> Tensor:
        """`atan2` in place."""
        return _inplace(self, "atan2_", "atan2", other)

    def bitwise_and(self, other: Operand) -> Tensor:
        """See `mytensor.bitwise_and`."""
        return _B["bitwise_and"](self, other)

    def bitwise_and_(self, other: Operand) -> Tensor:
        """`bitwise_and` in place."""
        return _inplace(self, "bitwise_and_", "bitwise_and", other)

    def bitwise_left_shift(self, other: Operand) -> Tensor:
        """See `mytensor.bitwise_left_shift`."""
        return _B["bitwise_left_shift"](self, other)

    def bitwise_left_shift_(self, other: Operand) -> Tensor:
        """`bitwise_left_shift` in place."""
        return _inplace(self, "bitwise_left_shift_", "bitwise_left_shift", other)

    def bitwise_or(self, other: Operand) -> Tensor:
        """See `mytensor.bitwise_or`."""
        return _B["bitwise_or"](self, other)

    def bitwise_or_(self, other: Operand) -> Tensor:
        """`bitwise_or` in place."""
        return _inplace(self, "bitwise_or_", "bitwise_or", other)

    def bitwise_right_shift(self, other: Operand) -> Tensor:
        """See `mytensor.bitwise_right_shift`."""
        return _B["bitwise_right_shift"](self, other)

    def bitwise_right_shift_(self, other: Operand) -> Tensor:
        """`bitwise_right_shift` in place."""
        return _inplace(self, "bitwise_right_shift_", "bitwise_right_shift", other)

    def bitwise_xor(self, other: Operand) -> Tensor:
        """See `mytensor.bitwise_xor`."""
        return _B["bitwise_xor"](self, other)

    def bitwise_xor_(self, other: Operand) -> Tensor:
        """`bitwise_xor` in place."""
        return _inplace(self, "bitwise_xor_", "bitwise_xor", other)

    def copysign(self, other: Operand) -> Tensor:
        """See `mytensor.copysign`."""
        return _B["copysign"](self, other)

    def copysign_(self, other: Operand) -> Tensor:
        """`copysign` in place."""
        return _inplace(self, "copysign_", "copysign", other)

    def eq(self, other: Operand) -> Tensor:
        """See `mytensor.eq`."""
        return _B["eq"](self, other)

    def floor_divide(self, other: Operand) -> Tensor:
        """See `mytensor.floor_divide`."""
        return _B["floor_divide"](self, other)

    def floor_divide_(self, other: Operand) -> Tensor:
        """`floor_divide` in place."""
        return _inplace(self, "floor_divide_", "floor_divide", other)

    def ge(self, other: Operand) -> Tensor:
        """See `mytensor.ge`."""
        return _B["ge"](self, other)

    def gt(self, other: Operand) -> Tensor:
        """See `mytensor.gt`."""
        return _B["gt"](self, other)

    def hypot(self, other: Operand) -> Tensor:
        """See `mytensor.hypot`."""
        return _B["hypot"](self, other)

    def hypot_(self, other: Operand) -> Tensor:
        """`hypot` in place."""
        return _inplace(self, "hypot_", "hypot", other)

    def le(self, other: Operand) -> Tensor:
        """See `mytensor.le`."""
        return _B["le"](self, other)

    def logaddexp(self, other: Operand) -> Tensor:
        """See `mytensor.logaddexp`."""
        return _B["logaddexp"](self, other)

    def logical_and(self, other: Operand) -> Tensor:
        """See `mytensor.logical_and`."""
        return _B["logical_and"](self, other)

    def logical_and_(self, other: Operand) -> Tensor:
        """`logical_and` in place."""
        return _inplace(self, "logical_and_", "logical_and", other)

    def logical_or(self, other: Operand) -> Tensor:
        """See `mytensor.logical_or`."""
        return _B["logical_or"](self, other)

    def logical_or_(self, other: Operand) -> Tensor:
        """`logical_or` in place."""
        return _inplace(self, "logical_or_", "logical_or", other)

    def logical_xor(self, other: Operand) -> Tensor:
        """See `mytensor.logical_xor`."""
        return _B["logical_xor"](self, other)

    def logical_xor_(self, other: Operand) -> Tensor:
        """`logical_xor` in place."""
        return _inplace(self, "logical_xor_", "logical_xor", other)

    def lt(self, other: Operand) -> Tensor:
        """See `mytensor.lt`."""
        return _B["lt"](self, other)

    def maximum(self, other: Operand) -> Tensor:
        """See `mytensor.maximum`."""
        return _B["maximum"](self, other)

    def minimum(self, other: Operand) -> Tensor:
        """See `mytensor.minimum`."""
        return _B["minimum"](self, other)

    def mul(self, other: Operand) -> Tensor:
        """See `mytensor.mul`."""
        return _B["mul"](self, other)

    def mul_(self, other: Operand) -> Tensor:
        """`mul` in place."""
        return _inplace(self, "mul_", "mul", other)

    def ne(self, other: Operand) -> Tensor:
        """See `mytensor.ne`."""
        return _B["ne"](self, other)

    def nextafter(self, other: Operand) -> Tensor:
        """See `mytensor.nextafter`."""
        return _B["nextafter"](self, other)

    def nextafter_(self, other: Operand) -> Tensor:
        """`nextafter` in place."""
        return _inplace(self, "nextafter_", "nextafter", other)

    def pow(self, other: Operand) -> Tensor:
        """See `mytensor.pow`."""
        return _B["pow"](self, other)

    def pow_(self, other: Operand) -> Tensor:
        """`pow` in place."""
        return _inplace(self, "pow_", "pow", other)

    def remainder(self, other: Operand) -> Tensor:
        """See `mytensor.remainder`."""
        return _B["remainder"](self, other)

    def remainder_(self, other: Operand) -> Tensor:
        """`remainder` in place."""
        return _inplace(self, "remainder_", "remainder", other)
