"""Scalar device functions: numpy's definitions, edge cases included, for the kernels.

Each one is written so that it means the same on a GPU and under numba's simulator,
where the body runs as plain Python on numpy scalars (``math`` is `_runtime.MATH`:
Python's math module on a GPU, numpy's IEEE scalar functions in the simulator). Non-finite
values are handled before ``floor``/``fmod`` anyway, so each helper states its own edge
cases rather than inheriting a library's.
"""

from __future__ import annotations

from numba import cuda

from mytensor.backends.cuda._runtime import MATH as math

__all__ = [
    "fdiv_floor",
    "fmax",
    "fmin",
    "fremainder",
    "ifloordiv",
    "ipow",
    "iremainder",
    "ishl",
    "ishr",
    "logaddexp",
    "rint",
    "safe_ceil",
    "safe_floor",
    "sigmoid",
]

device = cuda.jit(device=True)


@device
def safe_floor(x):
    """floor(x) for a float, inf and NaN passed through."""
    if math.isfinite(x):
        return math.floor(x)
    return x


@device
def safe_ceil(x):
    """ceil(x) for a float, inf and NaN passed through."""
    if math.isfinite(x):
        return math.ceil(x)
    return x


@device
def rint(x):
    """Round half to even, keeping the sign of zero (numpy's ``round``)."""
    if not math.isfinite(x):
        return x
    f = math.floor(x)
    d = x - f  # exact for floats
    r = f
    if d > 0.5 or (d == 0.5 and math.fmod(f, 2.0) != 0):
        r = f + 1.0
    if r == 0:
        return math.copysign(0.0, x)
    return r


@device
def fmax(x, y):
    """numpy's ``maximum``: a NaN in either wins; ties (-0.0 and 0.0) return the second."""
    return x if (x > y or x != x) else y


@device
def fmin(x, y):
    return x if (x < y or x != x) else y


@device
def fdiv_floor(x, y):
    """numpy's float ``floor_divide`` (npy_divmod's quotient)."""
    if y == 0:
        return x / y
    if not math.isfinite(x) or y != y:
        return (x - x) + (y - y)  # NaN, of x's type
    mod = math.fmod(x, y)
    div = (x - mod) / y
    if mod != 0 and (y < 0) != (mod < 0):
        div -= 1.0
    if div == 0:
        return math.copysign(0.0, x / y)
    floor = math.floor(div)
    if div - floor > 0.5:
        floor += 1.0
    return floor


@device
def fremainder(x, y):
    """numpy's float ``remainder``: the sign of the divisor; x % 0 is NaN."""
    if y == 0:
        return (x - x) / y  # NaN
    if not math.isfinite(x) or y != y:
        return (x - x) + (y - y)  # NaN
    mod = math.fmod(x, y)
    if mod != 0:
        if (y < 0) != (mod < 0):
            mod += y
        return mod
    return math.copysign(0.0, y)


@device
def ifloordiv(x, y):
    """Integer ``//`` flooring like Python; x // 0 is 0 (numpy's choice, no trap)."""
    if y == 0:
        return x - x
    if y == -1:
        return -x  # wraps for the smallest integer, where // would trap
    return x // y


@device
def iremainder(x, y):
    """Integer ``%`` with the divisor's sign; x % 0 is 0."""
    if y == 0 or y == -1:
        return x - x
    return x % y


@device
def ipow(x, y):
    """x ** y for integers (wrapping); a negative exponent truncates 1 / x**|y| toward 0."""
    if y < 0:
        if x == 1:
            return x
        if x == -1:
            return x if (y & 1) else -x
        return x - x
    result = x - x + 1
    while y > 0:
        if y & 1:
            result *= x
        x *= x
        y >>= 1
    return result


@device
def sigmoid(x):
    """1 / (1 + exp(-x)) computed from exp(-|x|) only: no overflow, no cancellation."""
    e = math.exp(-abs(x))
    if x >= 0:
        return 1.0 / (1.0 + e)
    return e / (1.0 + e)


@device
def logaddexp(x, y):
    """log(exp(x) + exp(y)) without overflow (numpy's formulation: equal infinities too)."""
    if x == y:
        return x + 0.6931471805599453  # log(2); also right for x == y == +-inf
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return d  # NaN


@device
def ishl(x, y):
    """numpy's left shift: a count past the width (or negative) gives 0."""
    if y < 0 or y >= 64:
        return x - x
    return x << y


@device
def ishr(x, y):
    """numpy's arithmetic right shift: a count past the width gives 0 or -1 (the sign)."""
    if y < 0 or y >= 64:
        return x - x - 1 if x < 0 else x - x
    return x >> y
