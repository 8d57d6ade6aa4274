"""A minimal mytensor backend: the required primitives and nothing else.

A buffer is a 1-d numpy array. Every kernel works on flat element indices: it
turns each `Strided` descriptor into the buffer position of each of its logical
elements (row-major), reads them with ``buffer[index]``, computes on plain 1-d
arrays and writes the result with ``out.buffer[index] = result``. There is no
matmul, gather, scatter_add or random: the core's composites run instead.
"""

from __future__ import annotations

import math

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core.dtypes import DType


def flat_index(desc: Strided) -> np.ndarray:
    """The buffer positions of the logical elements of `desc`, row-major, as a 1-d array.

    Element ``(i0, i1, ...)`` lives at ``offset + i0 * strides[0] + i1 * strides[1] + ...``:
    one arange per axis, shaped to broadcast against the others, summed.
    """
    if desc.cache is None:
        ndim = len(desc.shape)
        index = np.asarray(desc.offset, dtype=np.intp)
        for axis, (size, stride) in enumerate(zip(desc.shape, desc.strides, strict=True)):
            steps = np.arange(size, dtype=np.intp) * stride
            index = index + steps.reshape((size,) + (1,) * (ndim - axis - 1))
        desc.cache = index.reshape(-1)  # depends on the layout only, never on the values
    return desc.cache


def read(desc: Strided) -> np.ndarray:
    """The values of `desc`, row-major, as a new 1-d array."""
    return desc.buffer[flat_index(desc)]


def write(out: Strided, values: np.ndarray) -> None:
    """Store row-major `values` into `out`, casting like numpy's ``astype``."""
    out.buffer[flat_index(out)] = values.astype(out.dtype.numpy, copy=False)


def _sigmoid(x):
    # exp of a non-positive number only, so large |x| neither overflows nor cancels
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _keep_integers(float_function):
    """floor, ceil and round leave integers and bools as they are."""
    return lambda x: x if x.dtype.kind in "biu" else float_function(x)


MAP_KERNELS = {
    "neg": np.negative,
    "abs": np.abs,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, x.dtype.type(0)),  # NaN stays NaN
    "sign": np.sign,
    "floor": _keep_integers(np.floor),
    "ceil": _keep_integers(np.ceil),
    "round": _keep_integers(np.rint),  # half to even
    "reciprocal": lambda x: np.divide(x.dtype.type(1), x),
    "erf": lambda x: np.array([math.erf(v) for v in x.tolist()], dtype=x.dtype),
    "logical_not": np.logical_not,
    "isnan": np.isnan,
    "isinf": np.isinf,
    "isfinite": np.isfinite,
}


def _pow(a, b):
    if a.dtype.kind == "f":
        return np.power(a, b)
    # Integers: a ** -n is 1 / a ** n truncated toward zero, so 0 unless a is 1 or -1
    # (and 0 ** -n is 0 too). numpy refuses negative integer exponents, so patch them in.
    result = np.power(a, np.maximum(b, 0))
    negative = b < 0
    minus_one_power = np.where(b % 2 == 0, 1, -1)
    truncated = np.where(a == 1, 1, np.where(a == -1, minus_one_power, 0))
    return np.where(negative, truncated, result)


ZIP_KERNELS = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "floor_divide": np.floor_divide,  # integer x // 0 is 0
    "remainder": np.remainder,  # takes the divisor's sign; integer x % 0 is 0
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
}

# Each reduces the last axis of a 2-d (kept, reduced) array; `dtype` is the output's.
REDUCE_KERNELS = {
    "sum": lambda x, dtype: np.sum(x, axis=-1, dtype=dtype),  # 0 when empty
    "prod": lambda x, dtype: np.prod(x, axis=-1, dtype=dtype),  # 1 when empty
    "max": lambda x, dtype: np.max(x, axis=-1),  # NaN-propagating
    "min": lambda x, dtype: np.min(x, axis=-1),
    "argmax": lambda x, dtype: np.argmax(x, axis=-1),  # the first NaN wins, like max
    "argmin": lambda x, dtype: np.argmin(x, axis=-1),
    "any": lambda x, dtype: np.any(x, axis=-1),  # False when empty
    "all": lambda x, dtype: np.all(x, axis=-1),  # True when empty
}


class MinimalBackend:
    """Buffers are 1-d numpy arrays; kernels gather, compute and scatter by flat index."""

    name = "minimal"
    device = "cpu"
    dtypes = frozenset({"bool", "int32", "int64", "float32", "float64"})
    # the op names its kernels know: exactly the required ones
    map_ops = frozenset(MAP_KERNELS)
    zip_ops = frozenset(ZIP_KERNELS)
    reduce_ops = frozenset(REDUCE_KERNELS)

    # -- memory -------------------------------------------------------------------
    def allocate(self, size: int, dtype: DType) -> np.ndarray:
        return np.empty(size, dtype.numpy)

    def from_host(self, array: np.ndarray) -> np.ndarray:
        return array.reshape(-1).copy()

    def to_host(self, src: Strided) -> np.ndarray:
        return read(src).reshape(src.shape)

    def copy(self, out: Strided, src: Strided) -> None:
        if out.size:
            with np.errstate(all="ignore"):  # NaN or inf cast to an integer
                write(out, read(src))

    # -- kernels --------------------------------------------------------------------
    # A size-0 `out` means nothing to do. Every input is read in full before `out`
    # is written, so `out` may alias an input.
    def map(self, op: str, out: Strided, a: Strided) -> None:
        if out.size:
            with np.errstate(all="ignore"):
                write(out, MAP_KERNELS[op](read(a)))

    def zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            with np.errstate(all="ignore"):
                write(out, ZIP_KERNELS[op](read(a), read(b)))

    def where(self, out: Strided, cond: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            write(out, np.where(read(cond), read(a), read(b)))

    def reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None:
        if out.size == 0:
            return
        # Move the reduced axes last, then view as (kept elements, reduced elements):
        # row i holds everything that reduces into the i-th element of `out`.
        kept = [axis for axis in range(len(a.shape)) if axis not in dims]
        values = read(a).reshape(a.shape).transpose(kept + list(dims))
        with np.errstate(all="ignore"):
            result = REDUCE_KERNELS[op](values.reshape(out.size, -1), out.dtype.numpy)
        write(out, result)
