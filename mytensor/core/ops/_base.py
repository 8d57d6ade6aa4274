"""What every op module shares: the op table, operand conversion, un-broadcasting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core.dtypes import FLOAT_DTYPES, DType, promote_with_scalar, scalar_kind
from mytensor.core.layout import broadcast_strides
from mytensor.core.tensor import Storage, Tensor


def _no_variants(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    return [{}]


@dataclass(frozen=True)
class OpRecord:
    """One public op as the conformance suite sees it.

    ``ref`` is a numpy function of the same arguments (numpy arrays in place of
    tensors) that defines the expected values. ``variants(shapes)`` lists the
    keyword arguments to try for inputs of those shapes. ``shapes`` names how
    inputs are drawn: "unary", "broadcast" (n-ary broadcastable), "matmul",
    or "custom" (the op has its own conformance test). ``domain`` bounds input
    values; ``grad`` says whether gradients are checked.
    """

    name: str
    func: Callable[..., Any]
    ref: Callable[..., Any] | None
    arity: int = 1
    dtypes: tuple[DType, ...] = FLOAT_DTYPES
    domain: tuple[float, float] = (-3.0, 3.0)
    grad: bool = True
    shapes: str = "unary"
    variants: Callable[[tuple[tuple[int, ...], ...]], list[dict]] = _no_variants
    exclude_zero: bool = False  # e.g. the divisor of div: keep inputs away from 0
    rtol: dict[str, float] = field(default_factory=dict)


OPS: dict[str, OpRecord] = {}


def register(record: OpRecord) -> OpRecord:
    if record.name in OPS:
        raise RuntimeError(f"op {record.name!r} is defined twice")
    OPS[record.name] = record
    return record


# -- operands ---------------------------------------------------------------------------
_SCALARS: dict[tuple, Tensor] = {}


def scalar_tensor(value: Any, dtype: DType, backend: Any) -> Tensor:
    """A cached 0-d tensor holding a Python scalar (never handed to users, never mutated)."""
    key = (backend.name, dtype.name, float(value).hex() if isinstance(value, float) else value)
    t = _SCALARS.get(key)
    if t is None:
        if dtype.is_integral and not isinstance(value, bool):
            info = np.iinfo(dtype.numpy)
            if not info.min <= value <= info.max:
                raise OverflowError(
                    f"the Python integer {value} is out of bounds for {dtype.name} "
                    f"[{info.min}, {info.max}]; convert the tensor to a wider dtype first"
                )
        array = np.array(value).astype(dtype.numpy).reshape(1)
        t = Tensor._make(Storage(backend, backend.from_host(array)), (), (), 0, dtype)
        if len(_SCALARS) > 4096:
            _SCALARS.clear()
        _SCALARS[key] = t
    return t


def is_scalar(value: Any) -> bool:
    return isinstance(value, int | float | complex | bool | np.number | np.bool_)


def check_tensor(op: str, value: Any, arg: str = "input") -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): {arg} must be a Tensor, got {type(value).__name__}")
    return value


def same_backend(op: str, *tensors: Tensor) -> Any:
    backend = tensors[0]._storage.backend
    for t in tensors[1:]:
        if t._storage.backend is not backend:
            first, other = backend.name, t._storage.backend.name
            raise RuntimeError(
                f"{op}(): tensors are on different backends ({first!r} and {other!r}); "
                f"move one with .to({first!r}) or .to({other!r})"
            )
    return backend


def promote_operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor, DType]:
    """Two operands (tensor or Python scalar) as tensors of one promoted dtype."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            same_backend(op, a, b)
            if a.dtype is b.dtype:
                return a, b, a.dtype
            from mytensor.core.dtypes import promote_types

            try:
                dtype = promote_types(a.dtype, b.dtype)
            except TypeError as exc:
                raise TypeError(f"{op}(): {exc}") from None
        else:
            dtype = _promote_scalar(op, a, b)
            b = scalar_tensor(b, dtype, a._storage.backend)
    elif isinstance(b, Tensor):
        dtype = _promote_scalar(op, b, a)
        a = scalar_tensor(a, dtype, b._storage.backend)
    else:
        raise TypeError(
            f"{op}(): expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}"
        )
    return cast(a, dtype), cast(b, dtype), dtype


def _promote_scalar(op: str, t: Tensor, value: Any) -> DType:
    try:
        scalar_kind(value)
    except TypeError:
        raise TypeError(
            f"{op}(): unsupported operand of type {type(value).__name__} "
            "(expected a Tensor or a Python scalar)"
        ) from None
    return promote_with_scalar(t.dtype, value)


def cast(t: Tensor, dtype: DType) -> Tensor:
    return t if t.dtype is dtype else t.astype(dtype)


def expanded(t: Tensor, shape: tuple[int, ...]) -> Strided:
    """`t`'s descriptor broadcast to `shape` with stride-0 axes (no copy)."""
    if t.shape == shape:
        return t._d
    strides = broadcast_strides(t.shape, t._strides, shape)
    return Strided(t._storage.buffer, shape, strides, t._offset, t.dtype)


def transposed(d: Strided) -> Strided:
    """The descriptor of a 2-d operand's transpose (the same memory, strides swapped)."""
    return Strided(d.buffer, d.shape[::-1], d.strides[::-1], d.offset, d.dtype)


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum `grad` down to `shape`: the adjoint of broadcasting."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(dim=dims, keepdim=True).reshape(shape)


def float_dtype(op: str, t: Tensor) -> DType:
    """The dtype a float-only op computes in: float stays, int/bool become float32."""
    from mytensor.core.dtypes import default_float

    return t.dtype if t.dtype.is_inexact else default_float()


def require_kind(op: str, t: Tensor, kinds: tuple[str, ...], hint: str = "") -> None:
    if t.dtype.kind not in kinds:
        wanted = {"bool": "bool", "int": "integer", "uint": "unsigned integer",
                  "float": "floating-point", "complex": "complex"}  # fmt: skip
        names = " or ".join(wanted[k] for k in kinds)
        raise TypeError(f"{op}(): expected a {names} tensor, got {t.dtype.name}{hint}")
