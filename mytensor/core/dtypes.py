"""The array API standard's 13 dtypes, their promotion rules and the dtype functions.

Promotion follows the Python array API standard (2024.12) inside a kind and between
signed and unsigned integers (``uint8 + int8 -> int16``; ``uint64`` with a signed
integer has no defined result and raises), and between real and complex floats
(``float64 + complex64 -> complex128``). Across the remaining kinds it follows
PyTorch, as mytensor always has: an integer tensor meeting a float tensor becomes
that float, a real tensor meeting a complex one becomes that complex dtype, and bool
meets anything as the other dtype. Python scalars are *weak*: they take the tensor's
dtype unless they belong to a higher kind (a float scalar meeting an integer tensor
gives the default float dtype, a complex scalar meeting float32 gives complex64).

``ALL_DTYPES`` and friends name the five *core* dtypes every backend supports (the
conformance records of the core ops use them); ``STANDARD_DTYPES`` holds all 13.

Beside them, ``HALF_DTYPES`` holds PyTorch's 16-bit floats, which the standard lacks:
``float16`` (IEEE binary16, alias ``half``) and ``bfloat16`` (float32's exponent, 8 bits
of significand; its host representation is ``ml_dtypes.bfloat16``, the numpy extension
JAX uses). They are real floating dtypes and promote as in PyTorch: with each other to
float32, with a wider float to the wider, an integer or bool tensor meeting one becomes
it, and a Python float keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np

__all__ = [
    "DType",
    "UnsupportedDTypeError",
    "bfloat16",
    "bool_",
    "can_cast",
    "complex64",
    "complex128",
    "finfo",
    "float16",
    "float32",
    "float64",
    "half",
    "iinfo",
    "int8",
    "int16",
    "int32",
    "int64",
    "isdtype",
    "promote_types",
    "result_type",
    "to_dtype",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]

KINDS = ("bool", "int", "uint", "float", "complex")


class DType:
    """A tensor element type: a name, a kind and the matching numpy dtype.

    ``kind`` is one of "bool", "int" (signed), "uint", "float" (real) and "complex".
    Each dtype is a singleton: compare with ``is`` or ``==``; dtypes are hashable.
    """

    __slots__ = ("bits", "itemsize", "kind", "name", "numpy")

    def __init__(self, name: str, kind: str, numpy_dtype: type) -> None:
        self.name = name
        self.kind = kind
        self.numpy = np.dtype(numpy_dtype)
        self.itemsize = self.numpy.itemsize
        self.bits = 8 * self.itemsize

    @property
    def is_floating_point(self) -> bool:
        """Real floating point (float16, bfloat16, float32, float64): what autograd
        differentiates."""
        return self.kind == "float"

    @property
    def is_complex(self) -> bool:
        return self.kind == "complex"

    @property
    def is_integral(self) -> bool:
        """A signed or unsigned integer dtype (not bool)."""
        return self.kind in ("int", "uint")

    @property
    def is_inexact(self) -> bool:
        """Real or complex floating point."""
        return self.kind in ("float", "complex")

    def __repr__(self) -> str:
        return f"mytensor.{self.name}"

    def __reduce__(self) -> tuple:
        # through to_dtype, so unpickling gives the singleton (the name "bool" is no
        # module attribute here: the object is `bool_`)
        return (to_dtype, (self.name,))


class UnsupportedDTypeError(TypeError):
    """A backend was asked to hold a dtype it does not declare."""


bool_ = DType("bool", "bool", np.bool_)
int8 = DType("int8", "int", np.int8)
int16 = DType("int16", "int", np.int16)
int32 = DType("int32", "int", np.int32)
int64 = DType("int64", "int", np.int64)
uint8 = DType("uint8", "uint", np.uint8)
uint16 = DType("uint16", "uint", np.uint16)
uint32 = DType("uint32", "uint", np.uint32)
uint64 = DType("uint64", "uint", np.uint64)
float32 = DType("float32", "float", np.float32)
float64 = DType("float64", "float", np.float64)
complex64 = DType("complex64", "complex", np.complex64)
complex128 = DType("complex128", "complex", np.complex128)
float16 = DType("float16", "float", np.float16)
bfloat16 = DType("bfloat16", "float", ml_dtypes.bfloat16)
half = float16

# the five core dtypes: every backend supports them, the core ops' records use them
ALL_DTYPES = (bool_, int32, int64, float32, float64)
FLOAT_DTYPES = (float32, float64)
INT_DTYPES = (int32, int64)
NUMERIC_DTYPES = (int32, int64, float32, float64)
# the standard's full set
SIGNED_DTYPES = (int8, int16, int32, int64)
UNSIGNED_DTYPES = (uint8, uint16, uint32, uint64)
COMPLEX_DTYPES = (complex64, complex128)
STANDARD_DTYPES = (bool_, *SIGNED_DTYPES, *UNSIGNED_DTYPES, *FLOAT_DTYPES, *COMPLEX_DTYPES)
EXTRA_DTYPES = tuple(d for d in STANDARD_DTYPES if d not in ALL_DTYPES)
# PyTorch's 16-bit floats, outside the standard (and outside the conformance defaults):
# kernels compute them in float32 and round once, reductions accumulate in float32
HALF_DTYPES = (float16, bfloat16)
KNOWN_DTYPES = STANDARD_DTYPES + HALF_DTYPES
DEFAULT_INT = int64
DEFAULT_INDEX = int64
_DEFAULT_FLOAT = [float32]  # set_default_dtype's choice (a list: one mutable slot)


def default_float() -> DType:
    """The dtype of Python floats and of float creation without a dtype (float32 unless
    `set_default_dtype` chose float64)."""
    return _DEFAULT_FLOAT[0]


def default_complex() -> DType:
    """complex64, or complex128 when the default float dtype is float64 (as in PyTorch)."""
    return complex128 if _DEFAULT_FLOAT[0] is float64 else complex64


def get_default_dtype() -> DType:
    """The default floating-point dtype (PyTorch's name).

    >>> import mytensor as mt
    >>> mt.get_default_dtype()
    mytensor.float32
    """
    return _DEFAULT_FLOAT[0]


def set_default_dtype(dtype: Any) -> None:
    """Make `dtype` (float32 or float64) the dtype of Python floats, of float creation
    functions without a dtype, and of the array API's default floating dtype (complex
    follows: complex64 or complex128), for the whole process.

    >>> import mytensor as mt
    >>> mt.set_default_dtype(mt.float64)
    >>> mt.tensor([1.5]).dtype, mt.zeros(2).dtype
    (mytensor.float64, mytensor.float64)
    >>> mt.set_default_dtype(mt.float32)
    """
    chosen = to_dtype(dtype)
    if chosen not in (float32, float64):
        raise TypeError(
            f"set_default_dtype(): only float32 or float64 can be the default, got {chosen.name}"
        )
    _DEFAULT_FLOAT[0] = chosen


_BY_NAME = {d.name: d for d in KNOWN_DTYPES}
_BY_NAME["bool_"] = bool_
_BY_NAME["half"] = float16
_BY_NUMPY = {d.numpy: d for d in KNOWN_DTYPES}
_KIND_RANK = {"bool": 0, "int": 1, "uint": 1, "float": 2, "complex": 3}
_BY_KIND_BITS = {(d.kind, d.bits): d for d in STANDARD_DTYPES}


def real_dtype(dtype: DType) -> DType:
    """The real dtype of a complex one's components (other dtypes: themselves)."""
    return _BY_KIND_BITS[("float", dtype.bits // 2)] if dtype.kind == "complex" else dtype


def to_dtype(value: object) -> DType:
    """The mytensor dtype named by `value` (a DType, a name, or a numpy/Python type).

    >>> import mytensor as mt
    >>> mt.core.dtypes.to_dtype("uint8"), mt.core.dtypes.to_dtype(complex)
    (mytensor.uint8, mytensor.complex64)
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    python = {bool: bool_, int: DEFAULT_INT, float: default_float(), complex: default_complex()}
    if isinstance(value, type) and value in python:
        return python[value]
    try:
        found = _BY_NUMPY.get(np.dtype(value))  # type: ignore[call-overload]
    except TypeError:
        found = None
    if found is None:
        names = ", ".join(d.name for d in KNOWN_DTYPES)
        raise TypeError(f"unsupported dtype {value!r}: mytensor supports {names}")
    return found


# -- promotion ----------------------------------------------------------------------------
def _standard_promotion(a: DType, b: DType) -> DType | None:
    """The standard's promotion table; None where it defines no result (mixed kinds)."""
    if a is b:
        return a
    if a.kind == b.kind:
        return a if a.bits >= b.bits else b
    kinds = {a.kind, b.kind}
    if kinds == {"int", "uint"}:
        signed, unsigned = (a, b) if a.kind == "int" else (b, a)
        return _BY_KIND_BITS.get(("int", max(signed.bits, 2 * unsigned.bits)))
    if kinds == {"float", "complex"}:
        real, cplx = (a, b) if a.kind == "float" else (b, a)
        return _BY_KIND_BITS[("complex", max(cplx.bits, 2 * real.bits))]
    return None


def promote_types(a: DType, b: DType) -> DType:
    """The dtype of a binary op between tensors of dtypes `a` and `b`.

    >>> import mytensor as mt
    >>> mt.promote_types(mt.uint8, mt.int8), mt.promote_types(mt.int32, mt.float32)
    (mytensor.int16, mytensor.float32)
    """
    a, b = to_dtype(a), to_dtype(b)
    if a.bits == b.bits == 16 and a.kind == b.kind == "float" and a is not b:
        return float32  # float16 with bfloat16: neither holds the other (PyTorch)
    out = _standard_promotion(a, b)
    if out is not None:
        return out
    if {a.kind, b.kind} == {"int", "uint"}:
        raise TypeError(
            f"no dtype holds every value of both {a.name} and {b.name} (the array API "
            "standard leaves uint64 with a signed integer undefined); convert one operand "
            "first, e.g. with mytensor.astype(x, mytensor.int64) or mytensor.float64"
        )
    # across kinds (PyTorch): the operand of the higher kind wins; a real float meeting
    # a complex of fewer bits was handled by the table above
    return a if _KIND_RANK[a.kind] > _KIND_RANK[b.kind] else b


def scalar_kind(value: object) -> str:
    """The kind of a Python (or numpy) scalar: "bool", "int", "float" or "complex"."""
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, complex | np.complexfloating):
        return "complex"
    raise TypeError(f"expected a tensor or a Python scalar, got {type(value).__name__}")


def promote_with_scalar(dtype: DType, value: object) -> DType:
    """Weak-scalar promotion: a scalar only changes the dtype if its kind is higher."""
    kind = scalar_kind(value)
    if _KIND_RANK[kind] <= _KIND_RANK[dtype.kind]:
        return dtype
    if kind == "complex":
        return complex128 if dtype is float64 else default_complex()
    return default_float() if kind == "float" else DEFAULT_INT


def _as_dtype_or_scalar(operand: Any) -> DType | object:
    from mytensor.core.tensor import Tensor

    if isinstance(operand, Tensor):
        return operand.dtype
    if isinstance(operand, bool | int | float | complex):
        return operand
    return to_dtype(operand)


def result_type(*arrays_and_dtypes: object) -> DType:
    """The dtype that tensors, dtypes and Python scalars promote to together.

    >>> import mytensor as mt
    >>> mt.result_type(mt.int32, mt.float32), mt.result_type(mt.tensor([1.0]), 2j)
    (mytensor.float32, mytensor.complex64)
    """
    items = [_as_dtype_or_scalar(o) for o in arrays_and_dtypes]
    strong = [d for d in items if isinstance(d, DType)]
    scalars = [d for d in items if not isinstance(d, DType)]
    if not strong:
        raise TypeError("result_type() needs at least one tensor or dtype")
    out = strong[0]
    for d in strong[1:]:
        out = promote_types(out, d)
    for s in scalars:
        out = promote_with_scalar(out, s)
    return out


def can_cast(from_: object, to: object, /) -> bool:
    """Whether the standard's promotion rules convert `from_` (a dtype or tensor) to `to`.

    Only casts that lose no value are allowed: within a kind to at least as many bits,
    unsigned to a wider signed integer, real to complex of at least twice the bits.

    >>> import mytensor as mt
    >>> mt.can_cast(mt.uint8, mt.int16), mt.can_cast(mt.int64, mt.float32)
    (True, False)
    """
    source = _as_dtype_or_scalar(from_)
    if not isinstance(source, DType):
        raise TypeError(f"can_cast(): from_ must be a dtype or a tensor, got {from_!r}")
    return _standard_promotion(source, to_dtype(to)) is to_dtype(to)


# -- introspection ------------------------------------------------------------------------
@dataclass(frozen=True)
class finfo_object:
    """Machine limits of a floating-point dtype (for complex: of its real components)."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: DType

    @property
    def tiny(self) -> float:
        """PyTorch's name for `smallest_normal`."""
        return self.smallest_normal

    @property
    def resolution(self) -> float:
        """The approximate decimal resolution, ``10 ** -precision`` (as numpy and PyTorch)."""
        return 10.0 ** -int(np.finfo(self.dtype.numpy).precision)


@dataclass(frozen=True)
class iinfo_object:
    """Machine limits of an integer dtype."""

    bits: int
    max: int
    min: int
    dtype: DType


def _dtype_of(op: str, value: object) -> DType:
    from mytensor.core.tensor import Tensor

    return value.dtype if isinstance(value, Tensor) else to_dtype(value)


def finfo(type: object, /) -> finfo_object:
    """Machine limits of a real or complex floating-point dtype (or tensor).

    >>> import mytensor as mt
    >>> mt.finfo(mt.float32).bits, mt.finfo(mt.complex128).dtype
    (32, mytensor.float64)
    """
    dtype = _dtype_of("finfo", type)
    if not dtype.is_inexact:
        raise TypeError(f"finfo(): expected a floating-point dtype, got {dtype.name}; use iinfo")
    info = np.finfo(dtype.numpy)
    real = to_dtype(info.dtype)
    return finfo_object(info.bits, float(info.eps), float(info.max), float(info.min),
                        float(info.smallest_normal), real)  # fmt: skip


def iinfo(type: object, /) -> iinfo_object:
    """Machine limits of an integer dtype (or tensor).

    >>> import mytensor as mt
    >>> mt.iinfo(mt.uint8).max, mt.iinfo(mt.int8).min
    (255, -128)
    """
    dtype = _dtype_of("iinfo", type)
    if not dtype.is_integral:
        raise TypeError(f"iinfo(): expected an integer dtype, got {dtype.name}; use finfo")
    info = np.iinfo(dtype.numpy)
    return iinfo_object(info.bits, int(info.max), int(info.min), dtype)


_KIND_NAMES = {
    "bool": ("bool",),
    "signed integer": ("int",),
    "unsigned integer": ("uint",),
    "integral": ("int", "uint"),
    "real floating": ("float",),
    "complex floating": ("complex",),
    "numeric": ("int", "uint", "float", "complex"),
}


def isdtype(dtype: object, kind: object) -> bool:
    """Whether `dtype` is of `kind`: a dtype, one of the standard's kind names ("bool",
    "signed integer", "unsigned integer", "integral", "real floating", "complex floating",
    "numeric"), or a tuple of those (any matches).

    >>> import mytensor as mt
    >>> mt.isdtype(mt.uint8, "integral"), mt.isdtype(mt.float32, ("bool", mt.float64))
    (True, False)
    """
    if not isinstance(dtype, DType):
        raise TypeError(f"isdtype(): dtype must be a mytensor dtype, got {dtype!r}")
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, DType):
        return dtype is kind
    if isinstance(kind, str) and kind in _KIND_NAMES:
        return dtype.kind in _KIND_NAMES[kind]
    raise ValueError(
        f"isdtype(): unknown kind {kind!r}; expected a dtype, one of "
        f"{', '.join(map(repr, _KIND_NAMES))}, or a tuple of those"
    )


def check_supported(backend: Any, dtype: DType) -> None:
    """Raise `UnsupportedDTypeError` if `backend` (a loaded backend) lacks `dtype`."""
    if dtype not in backend.dtypes:
        have = ", ".join(d.name for d in KNOWN_DTYPES if d in backend.dtypes)
        raise UnsupportedDTypeError(
            f"backend {backend.name!r} does not support dtype {dtype.name} (it supports "
            f"{have}); use a backend that does (e.g. backend='numpy_ref', or "
            f"x.to('numpy_ref')) or convert to a supported dtype with mytensor.astype"
        )
