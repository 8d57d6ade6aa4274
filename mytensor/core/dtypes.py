"""The five dtypes and their promotion rules.

Promotion follows the Python array API standard inside a kind (bool, integer,
floating) and PyTorch across kinds (an integer tensor meeting a float tensor
becomes that float). Python scalars are *weak*: they take the tensor's dtype
unless they belong to a higher kind (a float scalar meeting an integer tensor
gives the default float dtype).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DType",
    "bool_",
    "float32",
    "float64",
    "int32",
    "int64",
    "promote_types",
    "result_type",
    "to_dtype",
]


class DType:
    """A tensor element type: a name, a kind and the matching numpy dtype."""

    __slots__ = ("itemsize", "kind", "name", "numpy")

    def __init__(self, name: str, kind: str, numpy_dtype: type) -> None:
        self.name = name
        self.kind = kind  # "bool", "int" or "float"
        self.numpy = np.dtype(numpy_dtype)
        self.itemsize = self.numpy.itemsize

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "float"

    def __repr__(self) -> str:
        return f"mytensor.{self.name}"

    def __reduce__(self) -> tuple:
        # through to_dtype, so unpickling gives the singleton (the name "bool" is no
        # module attribute: the object is `bool_`)
        return (to_dtype, (self.name,))


bool_ = DType("bool", "bool", np.bool_)
int32 = DType("int32", "int", np.int32)
int64 = DType("int64", "int", np.int64)
float32 = DType("float32", "float", np.float32)
float64 = DType("float64", "float", np.float64)

ALL_DTYPES = (bool_, int32, int64, float32, float64)
FLOAT_DTYPES = (float32, float64)
INT_DTYPES = (int32, int64)
NUMERIC_DTYPES = (int32, int64, float32, float64)
DEFAULT_FLOAT = float32
DEFAULT_INT = int64

_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME["bool_"] = bool_
_BY_NUMPY = {d.numpy: d for d in ALL_DTYPES}
_KIND_RANK = {"bool": 0, "int": 1, "float": 2}


def to_dtype(value: object) -> DType:
    """Return the mytensor dtype named by `value` (a DType, a name, or a numpy/Python type)."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is bool:
        return bool_
    if value is int:
        return DEFAULT_INT
    if value is float:
        return DEFAULT_FLOAT
    try:
        found = _BY_NUMPY.get(np.dtype(value))
    except TypeError:
        found = None
    if found is None:
        names = ", ".join(d.name for d in ALL_DTYPES)
        raise TypeError(f"unsupported dtype {value!r}: mytensor supports {names}")
    return found


def promote_types(a: DType, b: DType) -> DType:
    """The dtype of a binary op between tensors of dtypes `a` and `b`."""
    if a is b:
        return a
    if a.kind == b.kind:
        return a if a.itemsize >= b.itemsize else b
    return a if _KIND_RANK[a.kind] > _KIND_RANK[b.kind] else b


def scalar_kind(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    raise TypeError(f"expected a tensor or a Python scalar, got {type(value).__name__}")


def promote_with_scalar(dtype: DType, value: object) -> DType:
    """Weak-scalar promotion: a scalar only changes the dtype if its kind is higher."""
    kind = scalar_kind(value)
    if _KIND_RANK[kind] <= _KIND_RANK[dtype.kind]:
        return dtype
    return DEFAULT_FLOAT if kind == "float" else DEFAULT_INT


def result_type(*operands: object) -> DType:
    """The dtype that tensors and scalars promote to, e.g. ``result_type(x, 1.5)``.

    >>> import mytensor as mt
    >>> mt.result_type(mt.int32, mt.float32)
    mytensor.float32
    """
    from mytensor.core.tensor import Tensor

    dtypes = [o.dtype if isinstance(o, Tensor) else o for o in operands]
    strong = [to_dtype(d) for d in dtypes if isinstance(d, DType | str | type | np.dtype)]
    scalars = [d for d in dtypes if not isinstance(d, DType | str | type | np.dtype)]
    if not strong:
        raise TypeError("result_type() needs at least one tensor or dtype")
    out = strong[0]
    for d in strong[1:]:
        out = promote_types(out, d)
    for s in scalars:
        out = promote_with_scalar(out, s)
    return out
