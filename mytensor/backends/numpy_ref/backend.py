"""The numpy reference backend.

A buffer is a 1-d numpy array; a `Strided` descriptor becomes a numpy view of
it with the same shape and (byte-scaled) strides, and every kernel is one
vectorised numpy call. This file is the executable definition of every op
name in the contract, so it favours the obviously-correct formulation, and
spells out the edge cases (NaN, inf, -0.0, integer corner cases) numpy alone
would leave to chance or to a warning.
"""

from __future__ import annotations

import math

import numpy as np

from mytensor.backends.numpy_ref import _conv
from mytensor.backends.spec import OPTIONAL_MAP_OPS, OPTIONAL_ZIP_OPS, Strided
from mytensor.core.dtypes import STANDARD_DTYPES, DType
from mytensor.core.layout import contiguous_strides


def as_array(desc: Strided) -> np.ndarray:
    """The numpy view a descriptor names (cached on the descriptor)."""
    view = desc.cache
    if view is None:
        itemsize = desc.dtype.itemsize
        buffer = desc.buffer
        if 0 in desc.shape:
            view = np.empty(desc.shape, desc.dtype.numpy)
        elif (
            desc.offset == 0
            and desc.strides == contiguous_strides(desc.shape)
            and buffer.size == desc.size
        ):
            view = buffer.reshape(desc.shape)  # a whole fresh buffer: the cheap path
        else:
            view = np.ndarray(
                desc.shape,
                desc.dtype.numpy,
                buffer=desc.buffer,
                offset=desc.offset * itemsize,
                strides=tuple(s * itemsize for s in desc.strides),
            )
        desc.cache = view
    return view


def _sigmoid(x, out):
    # exp of a non-positive number only, so large |x| neither overflows nor cancels
    e = np.exp(-np.abs(x))
    np.copyto(out, np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def _relu(x, out):
    np.maximum(x, x.dtype.type(0), out=out)  # NaN stays NaN


def _reciprocal(x, out):
    if x.dtype.kind == "c":
        np.reciprocal(x, out=out)  # numpy's complex 1/0 is nan+nanj, not 1/x's inf+nanj
    else:
        np.divide(x.dtype.type(1), x, out=out)


_scalar_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; libm's is the reference


def _erf(x, out):
    np.copyto(out, np.asarray(_scalar_erf(x), dtype=np.float64), casting="same_kind")


def _expm1(x, out):
    np.expm1(x, out=out)
    if x.dtype.kind == "c":
        # numpy's complex expm1 is NaN at every infinity and -0 at -0+0j; exp(x) - 1 has
        # the standard's values there, and loses nothing when x is not finite or zero
        bad = ~np.isfinite(x) | (x == 0)
        if bad.any():
            out[bad] = np.exp(x[bad]) - 1


def _int_aware(float_ufunc):
    """Floor/ceil/round of an integer are the integer itself."""

    def kernel(x, out):
        if x.dtype.kind in "iub":
            np.copyto(out, x)
        else:
            float_ufunc(x, out=out)

    return kernel


MAP_KERNELS = {
    "neg": np.negative,
    "abs": np.absolute,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": _expm1,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "sign": np.sign,
    "floor": _int_aware(np.floor),
    "ceil": _int_aware(np.ceil),
    "round": _int_aware(np.round),  # half to even
    "reciprocal": _reciprocal,
    "erf": _erf,
    "logical_not": np.logical_not,
    # predicates write a temporary first: numpy 2.4's isfinite writes wrong values into
    # a strided bool `out` of 16+ elements
    "isnan": lambda x, out: np.copyto(out, np.isnan(x)),
    "isinf": lambda x, out: np.copyto(out, np.isinf(x)),
    "isfinite": lambda x, out: np.copyto(out, np.isfinite(x)),
    # the optional names (spec.OPTIONAL_MAP_OPS)
    "acos": np.arccos,
    "acosh": np.arccosh,
    "asin": np.arcsin,
    "asinh": np.arcsinh,
    "atan": np.arctan,
    "atanh": np.arctanh,
    "cosh": np.cosh,
    "sinh": np.sinh,
    "tan": np.tan,
    "log2": np.log2,
    "log10": np.log10,
    "trunc": _int_aware(np.trunc),
    "signbit": lambda x, out: np.copyto(out, np.signbit(x)),
    "bitwise_invert": np.invert,
    "real": lambda x, out: np.copyto(out, x.real),
    "imag": lambda x, out: np.copyto(out, x.imag),
    "conj": np.conjugate,
}


def _pow(a, b, out):
    if out.dtype.kind in "fc":
        np.power(a, b, out=out)
        return
    # Integer powers: a negative exponent gives 1 / a**|b| truncated toward zero,
    # which is 0 unless |a| == 1 (0 ** negative is defined as 0 here).
    np.power(a, np.maximum(b, 0), out=out)
    negative = b < 0
    if np.any(negative):
        odd = (b % 2) != 0
        truncated = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
        np.copyto(out, truncated, where=negative, casting="unsafe")


ZIP_KERNELS = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "floor_divide": np.floor_divide,  # integer x // 0 is 0
    "remainder": np.remainder,  # sign of the divisor, like Python; integer x % 0 is 0
    "pow": _pow,
    "maximum": np.maximum,  # NaN-propagating
    "minimum": np.minimum,
    "lt": np.less,
    "le": np.less_equal,
    "eq": np.equal,
    "ne": np.not_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
    # the optional names (spec.OPTIONAL_ZIP_OPS)
    "atan2": np.arctan2,
    "copysign": np.copysign,
    "hypot": np.hypot,
    "logaddexp": np.logaddexp,
    "nextafter": np.nextafter,
    "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor,
    "bitwise_left_shift": np.left_shift,  # a shift by the width or more gives 0
    "bitwise_right_shift": np.right_shift,
}


def _reduce_arg(func):
    def kernel(a, dims, out):
        (axis,) = dims
        np.copyto(out, func(a, axis=axis, keepdims=True))  # first NaN wins, like the max

    return kernel


REDUCE_KERNELS = {
    "sum": lambda a, dims, out: np.sum(a, axis=dims, keepdims=True, dtype=out.dtype, out=out),
    "prod": lambda a, dims, out: np.prod(a, axis=dims, keepdims=True, dtype=out.dtype, out=out),
    "max": lambda a, dims, out: np.max(a, axis=dims, keepdims=True, out=out),
    "min": lambda a, dims, out: np.min(a, axis=dims, keepdims=True, out=out),
    "argmax": _reduce_arg(np.argmax),
    "argmin": _reduce_arg(np.argmin),
    "any": lambda a, dims, out: np.any(a, axis=dims, keepdims=True, out=out),
    "all": lambda a, dims, out: np.all(a, axis=dims, keepdims=True, out=out),
}


_quiet = np.errstate(all="ignore")


class NumpyBackend:
    """Buffers are 1-d numpy arrays; kernels are vectorised numpy calls."""

    name = "numpy_ref"
    device = "cpu"
    dtypes = frozenset(d.name for d in STANDARD_DTYPES)
    ops = frozenset(OPTIONAL_MAP_OPS + OPTIONAL_ZIP_OPS)
    host_buffers = True  # buffers are 1-d numpy arrays: DLPack imports can share memory

    # -- memory -------------------------------------------------------------------
    def allocate(self, size: int, dtype: DType) -> np.ndarray:
        return np.empty(size, dtype.numpy)

    def from_host(self, array: np.ndarray) -> np.ndarray:
        return np.array(array, copy=True, order="C").reshape(-1)

    def to_host(self, src: Strided) -> np.ndarray:
        return np.array(as_array(src), copy=True)

    # errstate as a decorator: the kernels are the spec for NaN/inf results, so numpy's
    # floating-point warnings are noise here (and the decorator form is the cheap one)
    @_quiet
    def copy(self, out: Strided, src: Strided) -> None:
        if out.size:
            np.copyto(as_array(out), as_array(src), casting="unsafe")

    # -- elementwise ----------------------------------------------------------------
    @_quiet
    def map(self, op: str, out: Strided, a: Strided) -> None:
        if out.size:
            MAP_KERNELS[op](as_array(a), out=as_array(out))

    @_quiet
    def zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            ZIP_KERNELS[op](as_array(a), as_array(b), out=as_array(out))

    def where(self, out: Strided, cond: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            np.copyto(as_array(out), np.where(as_array(cond), as_array(a), as_array(b)))

    @_quiet
    def reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None:
        if out.size:
            REDUCE_KERNELS[op](as_array(a), dims, as_array(out))

    # -- optional primitives ----------------------------------------------------------
    def matmul(self, out: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            np.matmul(as_array(a), as_array(b), out=as_array(out))

    def gather(self, out: Strided, a: Strided, index: Strided, dim: int) -> None:
        if out.size:
            np.copyto(as_array(out), np.take_along_axis(as_array(a), as_array(index), axis=dim))

    def scatter_add(self, out: Strided, index: Strided, src: Strided, dim: int) -> None:
        if src.size:
            idx = as_array(index)
            where = list(np.indices(idx.shape, sparse=True))
            where[dim] = idx
            np.add.at(as_array(out), tuple(where), as_array(src))

    # -- convolution, any number of spatial dims: one einsum per kernel tap and group ----
    def conv(self, out, x, weight, stride, padding, dilation, groups) -> None:
        _conv.conv(as_array(out), as_array(x), as_array(weight), stride, padding, dilation,
                   groups)  # fmt: skip

    def conv_grad_input(self, grad_x, grad_out, weight, stride, padding, dilation, groups):
        _conv.conv_grad_input(as_array(grad_x), as_array(grad_out), as_array(weight), stride,
                              padding, dilation, groups)  # fmt: skip

    def conv_grad_weight(self, grad_weight, x, grad_out, stride, padding, dilation, groups):
        _conv.conv_grad_weight(as_array(grad_weight), as_array(x), as_array(grad_out), stride,
                               padding, dilation, groups)  # fmt: skip
