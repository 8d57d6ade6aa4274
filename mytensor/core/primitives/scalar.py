"""The elementwise ops' specification: one plain-Python function of scalars per op.

Each function *is* the definition of its op: what every backend must compute for one
element, edge cases (NaN, infinities, signed zeros, integer corners) written out here and
nowhere else. The functions are ordinary Python that runs three ways:

- on numpy scalars of the op's dtype (`evaluate`): the reference the conformance suite
  checks every backend against, bit for bit on signed zeros and NaN positions;
- compiled by numba for the CPU (numba_cpu jits each one into its loop skeletons);
- compiled by numba-cuda as device functions (the cuda backend does the same).

So they use arithmetic, comparisons and the `math` module only, and guard every input for
which Python's `math` raises instead of returning the IEEE value (``log(0)``, ``exp(1000)``,
``sin(inf)``...). Arithmetic on numpy scalars is already IEEE (``1.0 / 0.0`` is inf). The
decorator above a function registers it under its op's name (`unary` / `binary`); where
integer and floating-point semantics differ, it names the integer function too
(``floor_divide`` and ``floor_divide_int``). The decorators return the function unchanged.
Complex dtypes are not covered here: their definition is numpy's (the records' ``ref``).

>>> import numpy as np
>>> float(sign(np.float32(-0.0))), float(relu(np.float64(-0.0)))
(0.0, 0.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# the largest x whose exp (or expm1) is finite in float64, and the same for cosh/sinh;
# above them Python's math raises OverflowError where IEEE arithmetic gives inf
_EXP_MAX = 709.782712893384
_COSH_MAX = 710.4758600739439
# from 2**52 up every float64 is an integer: floor/ceil/round/trunc return it unchanged
_INTEGRAL = 4503599627370496.0
_LN2 = 0.6931471805599453
_NAN = math.nan
_INF = math.inf

# -- the registry: op name -> (floating-point function, integer/bool function) ----------
UNARY: dict[str, tuple] = {}
BINARY: dict[str, tuple] = {}
_SAME = object()


def _registrar(table: dict, op: str | None, integer: Any, floating: bool):
    def register(fn):
        name = op or fn.__name__
        if name in table:
            raise RuntimeError(f"the scalar specification of {name!r} is written twice")
        table[name] = (fn if floating else None, fn if integer is _SAME else integer)
        return fn  # unchanged: the plain function is the specification

    return register


def unary(op: str | None = None, *, integer: Any = _SAME, floating: bool = True):
    """Register the function below as the definition of the unary op `op` (default: its
    own name) for floating-point inputs, and for integer/bool inputs `integer` (default:
    the same function; None: the op takes no integers). ``floating=False``: integers only."""
    return _registrar(UNARY, op, integer, floating)


def binary(op: str | None = None, *, integer: Any = _SAME, floating: bool = True):
    """As `unary`, for a binary op."""
    return _registrar(BINARY, op, integer, floating)



# -- unary, integer (and bool) ------------------------------------------------------------
def relu_int(x):
    return x if x > 0 else x - x


def sign_int(x):
    return int(x > 0) - int(x < 0)


def identity(x):
    return x  # floor, ceil, round, trunc of an integer


def never(x):
    return False  # isnan, isinf of an integer


def always(x):
    return True  # isfinite of an integer


@unary(floating=False)
def bitwise_invert(x):
    return ~x


# -- unary, floating point ---------------------------------------------------------------
@unary()
def neg(x):
    return -x


@unary("abs")
def abs_(x):
    return abs(x)  # -0.0 -> 0.0; NaN stays NaN


@unary(integer=None)
def exp(x):
    return _INF if x > _EXP_MAX else math.exp(x)


@unary(integer=None)
def expm1(x):
    return _INF if x > _EXP_MAX else math.expm1(x)


@unary(integer=None)
def log(x):
    if x < 0:
        return _NAN
    return -_INF if x == 0 else math.log(x)


@unary(integer=None)
def log1p(x):
    if x < -1.0:
        return _NAN
    return -_INF if x == -1.0 else math.log1p(x)


@unary(integer=None)
def log2(x):
    if x < 0:
        return _NAN
    return -_INF if x == 0 else math.log2(x)


@unary(integer=None)
def log10(x):
    if x < 0:
        return _NAN
    return -_INF if x == 0 else math.log10(x)


@unary(integer=None)
def sqrt(x):
    return _NAN if x < 0 else math.sqrt(x)  # sqrt(-0.0) is -0.0


@unary(integer=None)
def sin(x):
    return _NAN if math.isinf(x) else math.sin(x)


@unary(integer=None)
def cos(x):
    return _NAN if math.isinf(x) else math.cos(x)


@unary(integer=None)
def tan(x):
    return _NAN if math.isinf(x) else math.tan(x)


@unary(integer=None)
def tanh(x):
    return math.tanh(x)


@unary(integer=None)
def sigmoid(x):
    e = math.exp(-abs(x))  # exp of a non-positive number only: no overflow, no cancelling
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


@unary(integer=relu_int)
def relu(x):
    return x if (x > 0 or x != x) else 0.0  # NaN stays NaN; -0.0 gives 0.0


@unary(integer=sign_int)
def sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else x - x)  # +-0 -> 0.0; NaN stays NaN


@unary(integer=identity)
def floor(x):
    if not abs(x) < _INTEGRAL:  # NaN, infinities and large floats are their own floor
        return x
    return math.copysign(float(math.floor(x)), x)  # floor(-0.0) is -0.0


@unary(integer=identity)
def ceil(x):
    if not abs(x) < _INTEGRAL:
        return x
    return math.copysign(float(math.ceil(x)), x)  # ceil(-0.5) is -0.0


@unary(integer=identity)
def trunc(x):
    if not abs(x) < _INTEGRAL:
        return x
    return math.copysign(float(int(x)), x)  # int() truncates toward zero


@unary("round", integer=identity)
def round_(x):
    """To the nearest integer, ties to even; the sign of zero kept (numpy's ``round``)."""
    if not abs(x) < _INTEGRAL:
        return x
    f = float(math.floor(x))
    d = x - f  # exact
    if d > 0.5 or (d == 0.5 and _fmod(f, 2.0) != 0):
        f += 1.0
    return math.copysign(f, x)


@unary(integer=None)
def reciprocal(x):
    return 1.0 / x


@unary(integer=None)
def erf(x):
    return math.erf(x)


@unary(integer=None)
def acos(x):
    return _NAN if abs(x) > 1.0 else math.acos(x)


@unary(integer=None)
def asin(x):
    return _NAN if abs(x) > 1.0 else math.asin(x)


@unary(integer=None)
def atan(x):
    return math.atan(x)


@unary(integer=None)
def acosh(x):
    return _NAN if x < 1.0 else math.acosh(x)


@unary(integer=None)
def asinh(x):
    return math.asinh(x)


@unary(integer=None)
def atanh(x):
    if abs(x) >= 1.0:
        return math.copysign(_INF, x) if abs(x) == 1.0 else _NAN
    return math.atanh(x)


@unary(integer=None)
def cosh(x):
    return _INF if abs(x) > _COSH_MAX else math.cosh(x)


@unary(integer=None)
def sinh(x):
    return math.copysign(_INF, x) if abs(x) > _COSH_MAX else math.sinh(x)


@unary(integer=never)
def isnan(x):
    return x != x


@unary(integer=never)
def isinf(x):
    return math.isinf(x)


@unary(integer=always)
def isfinite(x):
    return math.isfinite(x)


@unary(integer=None)
def signbit(x):
    return math.copysign(1.0, x) < 0  # True for -0.0 and for a NaN with its sign bit set


@unary()
def logical_not(x):
    return x == 0


# -- binary, integer (and bool) -----------------------------------------------------------
def floor_divide_int(x, y):
    if y == 0:
        return x - x  # numpy's 0 (with a warning numpy gives and we don't)
    if y == -1:
        return -x  # wraps for the smallest integer, where // would trap
    return x // y


def remainder_int(x, y):
    if y == 0 or y == -1:
        return x - x
    return x % y  # the divisor's sign


def pow_int(x, y):
    """x ** y, wrapping; a negative exponent truncates 1 / x**|y| toward zero."""
    if y < 0:
        if x == 1:
            return x
        if x == -1:
            return x if y % 2 != 0 else -x
        return x - x
    result = x - x + 1
    while y:
        if y & 1:
            result *= x
        x *= x
        y >>= 1
    return result


@binary(floating=False)
def bitwise_and(x, y):
    return x & y


@binary(floating=False)
def bitwise_or(x, y):
    return x | y


@binary(floating=False)
def bitwise_xor(x, y):
    return x ^ y


@binary("bitwise_left_shift", floating=False)
def left_shift(x, y):
    """numpy's left shift: a count past 63 (or negative) gives 0."""
    if y < 0 or y > 63:
        return x - x
    return x << y


@binary("bitwise_right_shift", floating=False)
def right_shift(x, y):
    """numpy's arithmetic right shift: a count past 63 gives 0, or -1 for negative x."""
    if y < 0 or y > 63:
        return x - x - 1 if x < 0 else x - x
    return x >> y


# -- binary, floating point ---------------------------------------------------------------
@binary()
def add(x, y):
    return x + y


@binary()
def sub(x, y):
    return x - y


@binary()
def mul(x, y):
    return x * y


@binary(integer=None)
def div(x, y):
    return x / y  # IEEE: x / 0 is +-inf, 0 / 0 is NaN


@binary("pow", integer=pow_int)
def pow_(x, y):
    return x**y  # IEEE pow: (-8) ** (1/3) is NaN, 0 ** -1 is inf


def _fmod(x, y):
    if math.isinf(x) or y == 0 or x != x or y != y:
        return _NAN
    return math.fmod(x, y)  # exact; fmod(x, inf) is x


def _divmod(x, y):
    """numpy's floor division and remainder together (``npy_divmod``): the remainder
    takes the divisor's sign, and the quotient is snapped to the integer it must be."""
    mod = _fmod(x, y)
    if y == 0:
        return x / y, mod
    quotient = (x - mod) / y
    if mod != 0:
        if (y < 0) != (mod < 0):
            mod += y
            quotient -= 1.0
    else:
        mod = math.copysign(0.0, y)
    if quotient != 0:
        floor_q = float(math.floor(quotient)) if abs(quotient) < _INTEGRAL else quotient
        if quotient - floor_q > 0.5:
            floor_q += 1.0
    else:
        floor_q = math.copysign(0.0, x / y)
    return floor_q, mod


@binary(integer=floor_divide_int)
def floor_divide(x, y):
    return _divmod(x, y)[0]


@binary(integer=remainder_int)
def remainder(x, y):
    return _divmod(x, y)[1]


@binary()
def maximum(x, y):
    return x if (x > y or x != x) else y  # NaN in either wins; equal (+-0): y


@binary()
def minimum(x, y):
    return x if (x < y or x != x) else y


@binary(integer=None)
def atan2(x, y):
    return math.atan2(x, y)


@binary(integer=None)
def copysign(x, y):
    return math.copysign(x, y)


@binary(integer=None)
def hypot(x, y):
    return math.hypot(x, y)  # an infinity wins over NaN


@binary(integer=None)
def logaddexp(x, y):
    """log(e**x + e**y) without overflow; exact for equal arguments (infinities too)."""
    if x == y:
        return x + _LN2
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return d  # NaN


@binary(integer=None)
def nextafter(x, y):
    return np.nextafter(x, y)  # in x's own precision


# -- comparisons and logic (every kind) ---------------------------------------------------
@binary()
def lt(x, y):
    return x < y


@binary()
def le(x, y):
    return x <= y


@binary()
def eq(x, y):
    return x == y


@binary()
def ne(x, y):
    return x != y


@binary()
def gt(x, y):
    return x > y


@binary()
def ge(x, y):
    return x >= y


@binary()
def logical_and(x, y):
    return x != 0 and y != 0


@binary()
def logical_or(x, y):
    return x != 0 or y != 0


@binary()
def logical_xor(x, y):
    return (x != 0) != (y != 0)


def scalar_function(op: str, kind: str):
    """The specification of `op` for inputs of dtype kind `kind` ("float", "int", "uint",
    "bool"), or None where the op has no scalar definition for that kind (complex, or a
    kind the op does not take)."""
    table = UNARY if op in UNARY else BINARY
    if op not in table or kind == "complex":
        return None
    return table[op][0 if kind == "float" else 1]


def evaluate(op: str, out_dtype: np.dtype, *arrays: np.ndarray) -> np.ndarray:
    """`op` applied element by element to numpy arrays of one dtype, by its scalar
    specification, the result cast to `out_dtype`: the conformance suite's expected values.

    >>> evaluate("maximum", np.dtype("float64"), np.array([-0.0, 1.0]), np.array([0.0, np.nan]))
    array([ 0., nan])
    """
    kind = {"f": "float", "i": "int", "u": "uint", "b": "bool"}[arrays[0].dtype.kind]
    fn = scalar_function(op, kind)
    if fn is None:
        raise KeyError(f"{op} has no scalar specification for {arrays[0].dtype} inputs")
    arrays = np.broadcast_arrays(*arrays)
    out = np.empty(arrays[0].shape, out_dtype)
    flat = [a.reshape(-1) for a in arrays]
    with np.errstate(all="ignore"):
        for i in range(out.size):
            out.reshape(-1)[i] = fn(*(a[i] for a in flat))
    return out
