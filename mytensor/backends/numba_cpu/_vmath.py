"""Math functions that LLVM can vectorise, for the kernels to call in place of `math`'s.

numba lowers ``math.exp`` to a call into libm, one element at a time: a float32 exp over
256k elements took 1.0 ms where numpy's SIMD exp takes 0.15 and PyTorch's 0.06 (PyPI's
llvmlite has no SVML to vectorise the call; see docs/design.md). `exp` here computes
float32 exponentials in straight-line arithmetic instead (Cody-Waite range reduction, a
degree-7 polynomial, the power of two built in the exponent bits), which LLVM turns into
vector instructions inside any loop that calls it: 0.17 ms on the same input, within
1.01 ulp of the exact exp over the float32 range (numpy's is within 2.44), subnormal
results included. Other dtypes keep `math.exp`.

`MATH` is `math` with these substitutions: the elementwise kernels compile the scalar
specification against it (``math.exp`` there resolves to `exp` here).
"""

from __future__ import annotations

import math
import types as pytypes

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from mytensor.backends.numba_cpu._jit import CACHE_DIR

__all__ = ["MATH", "exp", "expf", "tanhf"]

f32, i32 = np.float32, np.int32

# exp(x) is +inf above the largest float32 below log(FLT_MAX), and rounds to +0.0 below
# log of half the smallest subnormal
_EXPF_MAX = f32(88.72284)
_EXPF_MIN = f32(-103.972084)
# clamping below _EXPF_MIN keeps 2**n, split in two halves, inside the normal exponents
_EXPF_CLAMP_LOW = f32(-104.0)
_LOG2E = f32(1.44269504088896341)
# ln 2 in two parts: n * _LN2_HI is exact for every n in range (Cody and Waite)
_LN2_HI = f32(0.693359375)
_LN2_LO = f32(-2.12194440e-4)
# adding and subtracting 1.5 * 2**23 rounds a float32 of magnitude < 2**22 to an integer,
# in two vectorisable additions
_ROUND = f32(12582912.0)
# the minimax polynomial for (exp(r) - 1 - r) / r**2 on |r| <= ln(2)/2 (Cephes' expf)
_P = tuple(f32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                            4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))  # fmt: skip


def _int32_bits_as_float32(bits):
    """The float32 whose bit pattern is the low 32 bits of the integer `bits` (a
    reinterpretation, not a conversion). This body runs under NUMBA_DISABLE_JIT; compiled
    code takes `_bitcast_to_float32` through the overload below."""
    return np.array(bits, np.int64).astype(np.int32).view(np.float32)[()]


@intrinsic
def _bitcast_to_float32(typingctx, bits):
    # numba widens int32 arithmetic to int64: the low 32 bits, then the bitcast
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], ir.IntType(32)) if bits.bitwidth > 32 else args[0]
        return builder.bitcast(low, ir.FloatType())

    return types.float32(bits), codegen


@overload(_int32_bits_as_float32, inline="always")
def _int32_bits_as_float32_typed(bits):
    return lambda bits: _bitcast_to_float32(bits)


@njit(inline="always")
def _pow2f(n):
    # 2**n for an integer n in [-126, 127]: the biased exponent, shifted into place
    return _int32_bits_as_float32((n + i32(127)) << i32(23))


# 'contract' lets LLVM fuse the multiply-adds into FMAs: fewer instructions, and only
# more accurate. No reassociation: it would cancel the rounding trick and the split ln 2
@njit(fastmath={"contract"}, cache=CACHE_DIR is not None, error_model="numpy")
def expf(x):
    """exp of a float32, branch-free (every case a select)."""
    xc = x if x > _EXPF_CLAMP_LOW else _EXPF_CLAMP_LOW
    xc = xc if xc < _EXPF_MAX else _EXPF_MAX
    n = (xc * _LOG2E + _ROUND) - _ROUND
    r = xc - n * _LN2_HI
    r = r - n * _LN2_LO
    p = _P[0]
    p = p * r + _P[1]
    p = p * r + _P[2]
    p = p * r + _P[3]
    p = p * r + _P[4]
    p = p * r + _P[5]
    p = p * r * r + r + f32(1.0)
    # 2**n as two factors, each a normal float32, for n from -150 to 128
    k = i32(n)
    half = k >> i32(1)
    y = p * _pow2f(half) * _pow2f(k - half)
    y = f32(np.inf) if x > _EXPF_MAX else y
    y = f32(0.0) if x < _EXPF_MIN else y
    return x if x != x else y


# tanh(x) = x + x**3 P(x**2) for |x| < 0.625, the minimax P of Cephes' tanhf
_TANH_P = tuple(f32(c) for c in (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                 1.33314422036e-1, -3.33332819422e-1))  # fmt: skip
_TANH_SMALL = f32(0.625)


# inlined into the caller by numba, not left to LLVM: as a call of its own (expf inside
# it) it is past LLVM's inlining threshold, and a loop around a call does not vectorise
# (1M elements: 8.4 ms, inlined 0.7). It rounds as the caller's fastmath flags say.
@njit(inline="always")
def tanhf(x):
    """tanh of a float32, branch-free: the odd polynomial below 0.625 in magnitude, else
    1 - 2 / (exp(2|x|) + 1) with the sign of x (it saturates to 1 where exp overflows).
    Within 1.3 ulp of the exact tanh, with FMA contraction or without (numpy's: 1.4)."""
    z = abs(x)
    s = x * x
    p = _TANH_P[0]
    p = p * s + _TANH_P[1]
    p = p * s + _TANH_P[2]
    p = p * s + _TANH_P[3]
    p = p * s + _TANH_P[4]
    small = x + (x * s) * p
    small = x if z == f32(0.0) else small  # -0.0 + 0.0 would lose the zero's sign
    large = f32(1.0) - f32(2.0) / (expf(z + z) + f32(1.0))
    large = large if x >= f32(0.0) else -large
    return small if z < _TANH_SMALL else large  # NaN: z < 0.625 is false, expf(NaN) NaN


def exp(x):
    """``math.exp``, with float32 arguments computed by `expf`."""
    return math.exp(x)


@overload(exp, inline="always")
def _exp(x):
    if x == types.float32:
        return lambda x: expf(x)
    return lambda x: math.exp(x)


MATH = pytypes.ModuleType("mytensor_numba_math", "math, with vectorisable substitutes")
MATH.__dict__.update({k: v for k, v in vars(math).items() if not k.startswith("__")})
MATH.exp = exp
