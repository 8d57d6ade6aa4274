"""The Tensor methods of the unary elementwise ops and their in-place forms.

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

_U: dict[str, Callable[..., Tensor]] = {}
# mytensor.core.ops.methods.run_inplace, bound by bind()
_inplace: Callable[..., Tensor] = None  # type: ignore[assignment]


def bind() -> None:
    """Take the elementwise op functions (called once, after the op modules load)."""
    from mytensor.core.ops import elementwise, methods

    global _inplace
    _U.update(elementwise.UNARY_OPS)
    _inplace = methods.run_inplace


class UnaryMethods:
    """`x.exp()`, `x.exp_()`, ...: one per unary op of `mytensor.core.ops.elementwise`."""

    __slots__ = ()

    def abs(self) -> Tensor:
        """See `mytensor.abs`."""
        return _U["abs"](self)

    def abs_(self) -> Tensor:
        """`abs` in place."""
        return _inplace(self, "abs_", _U["abs"])

    def acos(self) -> Tensor:
        """See `mytensor.acos`."""
        return _U["acos"](self)

    def acos_(self) -> Tensor:
        """`acos` in place."""
        return _inplace(self, "acos_", _U["acos"])

    def acosh(self) -> Tensor:
        """See `mytensor.acosh`."""
        return _U["acosh"](self)

    def acosh_(self) -> Tensor:
        """`acosh` in place."""
        return _inplace(self, "acosh_", _U["acosh"])

    def asin(self) -> Tensor:
        """See `mytensor.asin`."""
        return _U["asin"](self)

    def asin_(self) -> Tensor:
        """`asin` in place."""
        return _inplace(self, "asin_", _U["asin"])

    def asinh(self) -> Tensor:
        """See `mytensor.asinh`."""
        return _U["asinh"](self)

    def asinh_(self) -> Tensor:
        """`asinh` in place."""
        return _inplace(self, "asinh_", _U["asinh"])

    def atan(self) -> Tensor:
        """See `mytensor.atan`."""
        return _U["atan"](self)

    def atan_(self) -> Tensor:
        """`atan` in place."""
        return _inplace(self, "atan_", _U["atan"])

    def atanh(self) -> Tensor:
        """See `mytensor.atanh`."""
        return _U["atanh"](self)

    def atanh_(self) -> Tensor:
        """`atanh` in place."""
        return _inplace(self, "atanh_", _U["atanh"])

    def bitwise_invert(self) -> Tensor:
        """See `mytensor.bitwise_invert`."""
        return _U["bitwise_invert"](self)

    def bitwise_invert_(self) -> Tensor:
        """`bitwise_invert` in place."""
        return _inplace(self, "bitwise_invert_", _U["bitwise_invert"])

    def ceil(self) -> Tensor:
        """See `mytensor.ceil`."""
        return _U["ceil"](self)

    def ceil_(self) -> Tensor:
        """`ceil` in place."""
        return _inplace(self, "ceil_", _U["ceil"])

    def conj(self) -> Tensor:
        """See `mytensor.conj`."""
        return _U["conj"](self)

    def cos(self) -> Tensor:
        """See `mytensor.cos`."""
        return _U["cos"](self)

    def cos_(self) -> Tensor:
        """`cos` in place."""
        return _inplace(self, "cos_", _U["cos"])

    def cosh(self) -> Tensor:
        """See `mytensor.cosh`."""
        return _U["cosh"](self)

    def cosh_(self) -> Tensor:
        """`cosh` in place."""
        return _inplace(self, "cosh_", _U["cosh"])

    def erf(self) -> Tensor:
        """See `mytensor.erf`."""
        return _U["erf"](self)

    def erf_(self) -> Tensor:
        """`erf` in place."""
        return _inplace(self, "erf_", _U["erf"])

    def exp(self) -> Tensor:
        """See `mytensor.exp`."""
        return _U["exp"](self)

    def exp_(self) -> Tensor:
        """`exp` in place."""
        return _inplace(self, "exp_", _U["exp"])

    def expm1(self) -> Tensor:
        """See `mytensor.expm1`."""
        return _U["expm1"](self)

    def expm1_(self) -> Tensor:
        """`expm1` in place."""
        return _inplace(self, "expm1_", _U["expm1"])

    def floor(self) -> Tensor:
        """See `mytensor.floor`."""
        return _U["floor"](self)

    def floor_(self) -> Tensor:
        """`floor` in place."""
        return _inplace(self, "floor_", _U["floor"])

    @property
    def imag(self) -> Tensor:
        """The imag part, a property as in PyTorch (see `mytensor.imag`)."""
        return _U["imag"](self)

    def isfinite(self) -> Tensor:
        """See `mytensor.isfinite`."""
        return _U["isfinite"](self)

    def isinf(self) -> Tensor:
        """See `mytensor.isinf`."""
        return _U["isinf"](self)

    def isnan(self) -> Tensor:
        """See `mytensor.isnan`."""
        return _U["isnan"](self)

    def log(self) -> Tensor:
        """See `mytensor.log`."""
        return _U["log"](self)

    def log_(self) -> Tensor:
        """`log` in place."""
        return _inplace(self, "log_", _U["log"])

    def log10(self) -> Tensor:
        """See `mytensor.log10`."""
        return _U["log10"](self)

    def log10_(self) -> Tensor:
        """`log10` in place."""
        return _inplace(self, "log10_", _U["log10"])

    def log1p(self) -> Tensor:
        """See `mytensor.log1p`."""
        return _U["log1p"](self)

    def log1p_(self) -> Tensor:
        """`log1p` in place."""
        return _inplace(self, "log1p_", _U["log1p"])

    def log2(self) -> Tensor:
        """See `mytensor.log2`."""
        return _U["log2"](self)

    def log2_(self) -> Tensor:
        """`log2` in place."""
        return _inplace(self, "log2_", _U["log2"])

    def logical_not(self) -> Tensor:
        """See `mytensor.logical_not`."""
        return _U["logical_not"](self)

    def neg(self) -> Tensor:
        """See `mytensor.neg`."""
        return _U["neg"](self)

    def neg_(self) -> Tensor:
        """`neg` in place."""
        return _inplace(self, "neg_", _U["neg"])

    @property
    def real(self) -> Tensor:
        """The real part, a property as in PyTorch (see `mytensor.real`)."""
        return _U["real"](self)

    def reciprocal(self) -> Tensor:
        """See `mytensor.reciprocal`."""
        return _U["reciprocal"](self)

    def reciprocal_(self) -> Tensor:
        """`reciprocal` in place."""
        return _inplace(self, "reciprocal_", _U["reciprocal"])

    def relu(self) -> Tensor:
        """See `mytensor.relu`."""
        return _U["relu"](self)

    def relu_(self) -> Tensor:
        """`relu` in place."""
        return _inplace(self, "relu_", _U["relu"])

    def round(self) -> Tensor:
        """See `mytensor.round`."""
        return _U["round"](self)

    def round_(self) -> Tensor:
        """`round` in place."""
        return _inplace(self, "round_", _U["round"])

    def sigmoid(self) -> Tensor:
        """See `mytensor.sigmoid`."""
        return _U["sigmoid"](self)

    def sigmoid_(self) -> Tensor:
        """`sigmoid` in place."""
        return _inplace(self, "sigmoid_", _U["sigmoid"])

    def sign(self) -> Tensor:
        """See `mytensor.sign`."""
        return _U["sign"](self)

    def sign_(self) -> Tensor:
        """`sign` in place."""
        return _inplace(self, "sign_", _U["sign"])

    def signbit(self) -> Tensor:
        """See `mytensor.signbit`."""
        return _U["signbit"](self)

    def sin(self) -> Tensor:
        """See `mytensor.sin`."""
        return _U["sin"](self)

    def sin_(self) -> Tensor:
        """`sin` in place."""
        return _inplace(self, "sin_", _U["sin"])

    def sinh(self) -> Tensor:
        """See `mytensor.sinh`."""
        return _U["sinh"](self)

    def sinh_(self) -> Tensor:
        """`sinh` in place."""
        return _inplace(self, "sinh_", _U["sinh"])

    def sqrt(self) -> Tensor:
        """See `mytensor.sqrt`."""
        return _U["sqrt"](self)

    def sqrt_(self) -> Tensor:
        """`sqrt` in place."""
        return _inplace(self, "sqrt_", _U["sqrt"])

    def tan(self) -> Tensor:
        """See `mytensor.tan`."""
        return _U["tan"](self)

    def tan_(self) -> Tensor:
        """`tan` in place."""
        return _inplace(self, "tan_", _U["tan"])

    def tanh(self) -> Tensor:
        """See `mytensor.tanh`."""
        return _U["tanh"](self)

    def tanh_(self) -> Tensor:
        """`tanh` in place."""
        return _inplace(self, "tanh_", _U["tanh"])

    def trunc(self) -> Tensor:
        """See `mytensor.trunc`."""
        return _U["trunc"](self)

    def trunc_(self) -> Tensor:
        """`trunc` in place."""
        return _inplace(self, "trunc_", _U["trunc"])
