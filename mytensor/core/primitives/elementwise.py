"""The elementwise records: one row per op, the op's single block. A row holds the name
(public and kernel), the dtype rule, the backward rule, slots for a forward-mode rule and a
batching rule, a vectorised numpy reference and the conformance metadata (domain, zero
exclusion); the op's meaning for one element is its function in `scalar`, under the same
name. `mytensor.core.ops.elementwise` builds the public functions from these rows: each
checks and promotes its operands, broadcasts, allocates, calls the kernel and records the
backward rule in one place, and the autograd engine checks what a rule returns.

A dtype rule says which input kinds an op takes, whether bool/integer inputs are
first converted to the default float ("float" functions such as exp), and what the
output dtype is ("same", "bool", or "real": a complex input gives its real dtype).
Backward rules are written with mytensor ops, so they run on every backend. A complex
tensor computed from real leaves (by `astype`, `fft`, ...) carries the graph, so an op
that takes complex input also has a rule for it (`complex_grads`: PyTorch's convention,
``g * conj(f'(z))`` for a holomorphic f, derived from the real rule unless the row names
one). An op picks its complex rule only when its input is complex.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mytensor.backends.spec import OPTIONAL_MAP_OPS, OPTIONAL_ZIP_OPS
from mytensor.core.batching import broadcast_rule
from mytensor.core.dtypes import (
    COMPLEX_DTYPES,
    FLOAT_DTYPES,
    SIGNED_DTYPES,
    STANDARD_DTYPES,
    UNSIGNED_DTYPES,
    DType,
    bool_,
)
from mytensor.core.primitives.complex_grads import (
    complex_div_grad,
    complex_mul_grad,
    complex_pow_grad,
    conj_grad,
    holomorphic,
    imag_grad,
    real_grad,
    sgn_grad,
)
from mytensor.core.tensor import Tensor

REAL = ("int", "uint", "float")
NUMERIC = (*REAL, "complex")
INTEGRAL = ("int", "uint")
EVERY = ("bool", *NUMERIC)
_INTEGERS = SIGNED_DTYPES + UNSIGNED_DTYPES


@dataclass(frozen=True)
class Rule:
    """Which input kinds an op takes and what it computes in and returns."""

    accepts: tuple[str, ...]
    to_float: bool = False  # bool/int/uint inputs compute in the default float dtype
    out: str = "same"  # "same", "bool", or "real" (complex -> its real counterpart)
    tested: tuple[DType, ...] = ()  # the dtypes the conformance suite draws
    cast_bool: bool = False  # inputs are converted to bool (logical ops)


RULES = {
    "float": Rule(EVERY, True, tested=FLOAT_DTYPES + COMPLEX_DTYPES),
    "real_float": Rule(("bool", *REAL), True, tested=FLOAT_DTYPES),
    "float_predicate": Rule(("bool", *REAL), True, "bool", FLOAT_DTYPES),
    "numeric": Rule(NUMERIC, tested=STANDARD_DTYPES[1:]),
    "real_numeric": Rule(REAL, tested=_INTEGERS + FLOAT_DTYPES),
    "abs": Rule(NUMERIC, out="real", tested=STANDARD_DTYPES[1:]),
    "complex_part": Rule(NUMERIC, out="real", tested=FLOAT_DTYPES + COMPLEX_DTYPES),
    "conj": Rule(NUMERIC, tested=FLOAT_DTYPES + COMPLEX_DTYPES),
    "predicate": Rule(EVERY, out="bool", tested=STANDARD_DTYPES),
    "logical": Rule(EVERY, out="bool", tested=STANDARD_DTYPES, cast_bool=True),
    "bitwise": Rule(("bool", *INTEGRAL), tested=(bool_, *_INTEGERS)),
    "shift": Rule(INTEGRAL, tested=_INTEGERS),
    # binary only
    "arith": Rule(NUMERIC, tested=STANDARD_DTYPES[1:]),
    "true_div": Rule(NUMERIC, True, tested=FLOAT_DTYPES + COMPLEX_DTYPES + SIGNED_DTYPES),
    "compare": Rule(("bool", *REAL), out="bool", tested=(bool_, *_INTEGERS, *FLOAT_DTYPES)),
    "equality": Rule(EVERY, out="bool", tested=STANDARD_DTYPES),
}

_KIND_WORDS = {"bool": "bool", "int": "signed integer", "uint": "unsigned integer",
               "float": "real floating-point", "complex": "complex floating-point"}  # fmt: skip


def describe_kinds(kinds: tuple[str, ...]) -> str:
    return ", ".join(_KIND_WORDS[k] for k in kinds)


def _where(condition: Tensor, a: Tensor | float, b: Tensor | float) -> Tensor:
    from mytensor.core.ops.elementwise import where

    return where(condition, a, b)


@dataclass(frozen=True)
class Unary:
    name: str  # the public name and the kernel name
    rule: str
    grad: Callable[[Tensor, Tensor, Tensor], Tensor] | None  # (grad, x, out) -> grad_x
    saves: str  # which values the backward reads: "x", "out", "" (neither)
    ref: Callable[[np.ndarray], np.ndarray]
    domain: tuple[float, float] = (-3.0, 3.0)
    doc: str = ""
    # for real inputs of a complex-only kernel (real, imag, conj): a composite
    real_input: Callable[[Tensor], Tensor] | None = None
    # the rule for a complex input; None: `grad` is g * f'(x) for a holomorphic f
    complex_grad: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None
    complex_saves: str | None = None  # what the complex rule reads, if not `saves`
    # forward mode, (tangent, x, out) -> tangent of out; None: not written yet
    jvp: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None
    # vmap, (batch, *physical args) -> physical out, batch dim in front (core/batching.py);
    # elementwise ops batch by broadcasting: the ranks aligned behind the batch dim
    batch: Callable = broadcast_rule

    @property
    def optional(self) -> bool:
        return self.name in OPTIONAL_MAP_OPS

    def complex_rule(self) -> Callable[[Tensor, Tensor, Tensor], Tensor] | None:
        """The backward rule for a complex input (PyTorch's convention)."""
        if self.complex_grad is not None or self.grad is None or self.grad is zero_grad:
            return self.complex_grad or self.grad
        return holomorphic(self.grad)


def zero_grad(g: Tensor, x: Tensor, out: Tensor) -> Tensor:
    # zeros, not g * 0.0: an infinite upstream gradient must still give 0, as in PyTorch
    from mytensor.core.creation import zeros_like

    return zeros_like(g)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _sigmoid_ref(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def expm1_ref(x: np.ndarray) -> np.ndarray:
    """numpy's expm1, with exp(x) - 1 at complex infinities and zeros (where numpy gives
    NaN, and -0 for -0+0j)."""
    out = np.asarray(np.expm1(x))
    if out.dtype.kind == "c":
        bad = ~np.isfinite(x) | (x == 0)
        out = np.where(bad, np.exp(x) - 1, out).astype(out.dtype)
    return out


def _zeros_like(x: Tensor) -> Tensor:
    from mytensor.core.creation import zeros

    return zeros(x.shape, dtype=x.dtype, backend=x.backend)


def _imag_ref(x: np.ndarray) -> np.ndarray:
    return np.imag(x) if np.iscomplexobj(x) else np.zeros_like(x)


def _negated(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    return -g


def _relu_grad(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    # PyTorch's threshold_backward: 0 where x <= 0, else g as it is (NaN x passes g on; an
    # infinite g at x <= 0 gives 0, not inf * 0). Two kernels, where g * (x > 0) took three
    from mytensor.core.ops.elementwise import where

    return where(x <= 0, 0.0, g)


def _times_sign(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    return g * x.sign()


UNARY = [
    Unary("neg", "numeric", _negated, "", np.negative, doc="-x", complex_grad=_negated),
    # for complex z, sign(z) = z / |z| (0 at 0): the gradient of |z|
    Unary("abs", "abs", _times_sign, "x", np.abs, doc="|x|", complex_grad=_times_sign),
    Unary("exp", "float", lambda g, x, y: g * y, "out", np.exp, doc="e**x"),
    Unary("log", "float", lambda g, x, y: g / x, "x", np.log, (0.1, 5.0), "natural log"),
    Unary("log1p", "float", lambda g, x, y: g / (x + 1.0), "x", np.log1p, (-0.9, 5.0),
          "log(1 + x), accurate near 0"),
    Unary("expm1", "float", lambda g, x, y: g * (y + 1.0), "out", expm1_ref,
          doc="e**x - 1, accurate near 0"),
    Unary("sqrt", "float", lambda g, x, y: g / (y * 2.0), "out", np.sqrt, (0.1, 5.0)),
    Unary("sin", "float", lambda g, x, y: g * x.cos(), "x", np.sin),
    Unary("cos", "float", lambda g, x, y: -g * x.sin(), "x", np.cos),
    Unary("tanh", "float", lambda g, x, y: g * (1.0 - y * y), "out", np.tanh),
    Unary("sigmoid", "real_float", lambda g, x, y: g * y * (1.0 - y), "out", _sigmoid_ref,
          doc="1 / (1 + e**-x), stable for large |x|"),
    Unary("relu", "real_numeric", _relu_grad, "x",
          lambda x: np.maximum(x, 0), doc="max(x, 0)"),
    Unary("sign", "numeric", zero_grad, "", np.sign,
          doc="-1, 0 or 1 (NaN stays NaN; x / |x| for complex)", complex_grad=sgn_grad,
          complex_saves="x"),
    Unary("floor", "real_numeric", zero_grad, "", np.floor),
    Unary("ceil", "real_numeric", zero_grad, "", np.ceil),
    Unary("round", "numeric", zero_grad, "", np.round, doc="to nearest, ties to even"),
    Unary("reciprocal", "float", lambda g, x, y: -g * y * y, "out", np.reciprocal,
          (0.2, 3.0), "1 / x"),
    Unary("erf", "real_float", lambda g, x, y: g * (-x * x).exp() * _TWO_OVER_SQRT_PI, "x",
          np.vectorize(math.erf, otypes=[np.float64]), doc="the error function (for GELU)"),
    Unary("logical_not", "logical", None, "", np.logical_not),
    Unary("isnan", "predicate", None, "", np.isnan),
    Unary("isinf", "predicate", None, "", np.isinf),
    Unary("isfinite", "predicate", None, "", np.isfinite),
    # the array API's names beyond the core vocabulary (optional kernels)
    Unary("acos", "float", lambda g, x, y: -g / (1.0 - x * x).sqrt(), "x", np.arccos,
          (-0.9, 0.9), "inverse cosine"),
    Unary("acosh", "float", lambda g, x, y: g / (x * x - 1.0).sqrt(), "x", np.arccosh,
          (1.1, 5.0), "inverse hyperbolic cosine"),
    Unary("asin", "float", lambda g, x, y: g / (1.0 - x * x).sqrt(), "x", np.arcsin,
          (-0.9, 0.9), "inverse sine"),
    Unary("asinh", "float", lambda g, x, y: g / (x * x + 1.0).sqrt(), "x", np.arcsinh,
          doc="inverse hyperbolic sine"),
    Unary("atan", "float", lambda g, x, y: g / (x * x + 1.0), "x", np.arctan,
          doc="inverse tangent"),
    Unary("atanh", "float", lambda g, x, y: g / (1.0 - x * x), "x", np.arctanh, (-0.9, 0.9),
          "inverse hyperbolic tangent"),
    Unary("cosh", "float", lambda g, x, y: g * x.sinh(), "x", np.cosh, doc="hyperbolic cosine"),
    Unary("sinh", "float", lambda g, x, y: g * x.cosh(), "x", np.sinh, doc="hyperbolic sine"),
    Unary("tan", "float", lambda g, x, y: g * (y * y + 1.0), "out", np.tan, (-1.2, 1.2)),
    Unary("log2", "float", lambda g, x, y: g / (x * _LN2), "x", np.log2, (0.1, 5.0),
          "base-2 log"),
    Unary("log10", "float", lambda g, x, y: g / (x * _LN10), "x", np.log10, (0.1, 5.0),
          "base-10 log"),
    Unary("trunc", "real_numeric", zero_grad, "", np.trunc, doc="rounded toward zero"),
    Unary("signbit", "float_predicate", None, "", np.signbit,
          doc="whether the sign bit is set (True for -0.0)"),
    Unary("bitwise_invert", "bitwise", None, "", np.invert, doc="~x (logical not for bool)"),
    # a real input takes the composite (imag's: a constant 0), so only the complex rules run
    Unary("real", "complex_part", real_grad, "", np.real, doc="the real part",
          real_input=lambda x: x.clone(), complex_grad=real_grad),
    Unary("imag", "complex_part", zero_grad, "", _imag_ref,
          doc="the imaginary part (0 for real input)", real_input=_zeros_like,
          complex_grad=imag_grad),
    Unary("conj", "conj", conj_grad, "", np.conj, doc="the complex conjugate",
          real_input=lambda x: x.clone(), complex_grad=conj_grad),
]  # fmt: skip


class PerInput:
    """A binary op's backward as one rule per input, ``(g, a, b, out) -> gradient``: the op
    calls only the rules of the inputs that require grad (``x * 0.5`` computes no
    gradient for the constant, PyTorch's ``should_compute_output``). Called whole, it
    returns both, like a pair rule.

    >>> import mytensor as mt
    >>> rule = PerInput(lambda g, a, b, out: g * b, lambda g, a, b, out: g * a)
    >>> [t.tolist() for t in rule(mt.ones(1), mt.tensor([2.0]), mt.tensor([3.0]), None)]
    [[3.0], [2.0]]
    """

    __slots__ = ("a", "b")

    def __init__(self, a: Callable, b: Callable) -> None:
        self.a, self.b = a, b

    def __call__(self, g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple:
        return self.a(g, a, b, out), self.b(g, a, b, out)


@dataclass(frozen=True)
class Binary:
    name: str
    rule: str
    # (g, a, b, out) -> (grad_a, grad_b), or a PerInput pair of rules
    grad: Callable[[Tensor, Tensor, Tensor, Tensor], tuple] | None
    saves: str  # "ab", "abo", ""
    ref: Callable[[np.ndarray, np.ndarray], np.ndarray]
    symbol: str = ""
    domain: tuple[float, float] = (-3.0, 3.0)
    exclude_zero: bool = False
    # (out, a, b) -> out for real floats: the standard's special cases the kernel lacks
    float_fix: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None
    # the rule for complex operands (required of an op whose rule accepts complex)
    complex_grad: Callable[[Tensor, Tensor, Tensor, Tensor], tuple] | None = None
    # forward mode, (tangent_a, tangent_b, a, b, out) -> tangent of out; None: not yet
    jvp: Callable | None = None
    batch: Callable = broadcast_rule  # as Unary.batch

    @property
    def optional(self) -> bool:
        return self.name in OPTIONAL_ZIP_OPS


_pow_grad = PerInput(
    lambda g, a, b, out: g * _where(b == 0, 0.0, b * a ** (b - 1.0)),
    lambda g, a, b, out: g * _where((a == 0) & (b >= 0), 0.0, out * a.log()),
)


def _extremum_grad(pick: str) -> Callable:
    def grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple:
        wins = (a > b) if pick == "max" else (a < b)
        share_a = _where(a == b, 0.5, wins.astype(g.dtype))
        return g * share_a, g * (1.0 - share_a)

    return grad


def _floor_divide_fix(q: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """The standard's floor(a / b) where exactly one operand is infinite (the kernel, like
    numpy and Python, gives NaN for inf // 2 and -1 for 1 // -inf)."""
    special = (a.isinf() & b.isfinite()) | (a.isfinite() & b.isinf())
    return _where(special, (a / b).floor(), q)


def floor_divide_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy's floor_divide with the standard's infinite-operand cases."""
    q = np.asarray(np.floor_divide(a, b))
    if q.dtype.kind != "f":
        return q
    special = (np.isinf(a) & np.isfinite(b)) | (np.isfinite(a) & np.isinf(b))
    return np.where(special, np.floor(np.true_divide(a, b)), q).astype(q.dtype)


def _atan2_grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple:
    scale = g / (a * a + b * b)
    return scale * b, -scale * a


def _copysign_grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple:
    from mytensor.core.ops.elementwise import UNARY_OPS

    signbit = UNARY_OPS["signbit"]
    return _where(signbit(a) == signbit(out), g, -g), zero_grad(g, b, out)


def _added(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple:
    return g, g


_subtracted = PerInput(lambda g, a, b, out: g, lambda g, a, b, out: -g)


BINARY = [
    Binary("add", "arith", _added, "", np.add, "+", complex_grad=_added),
    Binary("sub", "arith", _subtracted, "", np.subtract, "-", complex_grad=_subtracted),
    Binary("mul", "arith", PerInput(lambda g, a, b, y: g * b, lambda g, a, b, y: g * a), "ab",
           np.multiply, "*", complex_grad=complex_mul_grad),
    Binary("div", "true_div", PerInput(lambda g, a, b, y: g / b, lambda g, a, b, y: -g * y / b),
           "abo", np.true_divide, "/", exclude_zero=True, complex_grad=complex_div_grad),
    Binary("floor_divide", "real_numeric", None, "", floor_divide_ref, "//", exclude_zero=True,
           float_fix=_floor_divide_fix),
    Binary("remainder", "real_numeric",
           PerInput(lambda g, a, b, y: g, lambda g, a, b, y: -g * (a // b)), "ab",
           np.remainder, "%", exclude_zero=True),
    Binary("pow", "arith", _pow_grad, "abo", np.power, "**", domain=(0.2, 2.0),
           complex_grad=complex_pow_grad),
    Binary("maximum", "real_numeric", _extremum_grad("max"), "ab", np.maximum),
    Binary("minimum", "real_numeric", _extremum_grad("min"), "ab", np.minimum),
    Binary("lt", "compare", None, "", np.less, "<"),
    Binary("le", "compare", None, "", np.less_equal, "<="),
    Binary("eq", "equality", None, "", np.equal, "=="),
    Binary("ne", "equality", None, "", np.not_equal, "!="),
    Binary("gt", "compare", None, "", np.greater, ">"),
    Binary("ge", "compare", None, "", np.greater_equal, ">="),
    Binary("logical_and", "logical", None, "", np.logical_and),
    Binary("logical_or", "logical", None, "", np.logical_or),
    Binary("logical_xor", "logical", None, "", np.logical_xor),
    # the array API's names beyond the core vocabulary (optional kernels)
    Binary("atan2", "real_float", _atan2_grad, "ab", np.arctan2),
    Binary("copysign", "real_float", _copysign_grad, "abo", np.copysign),
    Binary("hypot", "real_float",
           PerInput(lambda g, a, b, y: g * a / y, lambda g, a, b, y: g * b / y), "abo", np.hypot),
    Binary("logaddexp", "real_float",
           PerInput(lambda g, a, b, y: g * (a - y).exp(), lambda g, a, b, y: g * (b - y).exp()),
           "abo", np.logaddexp),
    Binary("nextafter", "real_float", None, "", np.nextafter),
    Binary("bitwise_and", "bitwise", None, "", np.bitwise_and, "&"),
    Binary("bitwise_or", "bitwise", None, "", np.bitwise_or, "|"),
    Binary("bitwise_xor", "bitwise", None, "", np.bitwise_xor, "^"),
    Binary("bitwise_left_shift", "shift", None, "", np.left_shift, "<<", domain=(0.0, 3.0)),
    Binary("bitwise_right_shift", "shift", None, "", np.right_shift, ">>", domain=(0.0, 3.0)),
]  # fmt: skip

# bool inputs of the bitwise ops run the logical kernels (the same truth table)
BOOL_KERNELS = {"bitwise_and": "logical_and", "bitwise_or": "logical_or",
                "bitwise_xor": "logical_xor", "bitwise_invert": "logical_not"}  # fmt: skip
