"""PyTorch's pointwise spellings beyond the array API: rsqrt, fmod (C's sign rule),
clamp_min / clamp_max, lerp and the optimizers' addcmul / addcdiv. Each is composed
from the elementwise ops, so gradients (and higher-order ones) come for free and every
backend runs them."""

from __future__ import annotations

import numpy as np

from mytensor.core.dtypes import FLOAT_DTYPES, NUMERIC_DTYPES, SIGNED_DTYPES
from mytensor.core.ops._base import OpRecord, check_tensor, is_scalar, register
from mytensor.core.ops.elementwise import BINARY_OPS, UNARY_OPS, clip, where
from mytensor.core.tensor import Tensor

__all__ = ["addcdiv", "addcmul", "clamp_max", "clamp_min", "fmod", "lerp", "rsqrt"]

Operand = Tensor | float


def rsqrt(input: Tensor) -> Tensor:
    """Elementwise ``1 / sqrt(input)`` (integers compute in float32; ``rsqrt(0)`` is inf,
    a negative input gives NaN).

    >>> import mytensor as mt
    >>> mt.rsqrt(mt.tensor([4.0, 0.25])).tolist()
    [0.5, 2.0]
    """
    input = check_tensor("rsqrt", input)
    return UNARY_OPS["reciprocal"](UNARY_OPS["sqrt"](input))


def fmod(input: Tensor, other: Operand) -> Tensor:
    """The remainder of C's ``fmod``: ``input - trunc(input / other) * other``, which has
    the sign of `input` (`remainder` takes the sign of `other`). Float division by 0
    gives NaN.

    >>> import mytensor as mt
    >>> mt.fmod(mt.tensor([-3, 3]), 2).tolist()
    [-1, 1]
    >>> mt.fmod(mt.tensor([-3.5, 3.5]), -2.0).tolist()
    [-1.5, 1.5]
    """
    input = check_tensor("fmod", input)
    if not (isinstance(other, Tensor) or is_scalar(other)):
        raise TypeError(f"fmod(): other must be a Tensor or a number, got {type(other).__name__}")
    for t in (input, other):
        if isinstance(t, Tensor) and t.dtype.kind not in ("int", "uint", "float"):
            raise TypeError(
                f"fmod(): not defined for {t.dtype.name} tensors (it takes integer and real "
                "floating-point tensors); convert with .astype()"
            )
    divisor = other.abs() if isinstance(other, Tensor) else abs(other)
    if _integral(input, other) and _has_zero(divisor):
        raise ZeroDivisionError(
            "fmod(): integer division by zero; make the divisor non-zero or compute in a "
            "floating-point dtype (where x fmod 0 is NaN)"
        )
    # the remainder of two magnitudes needs no sign correction, so it is exact; the
    # result then takes the dividend's sign
    magnitude = BINARY_OPS["remainder"](input.abs(), divisor)
    if magnitude.dtype.kind == "float":
        return BINARY_OPS["copysign"](magnitude, input.astype(magnitude.dtype, copy=False))
    return where(input < 0, -magnitude, magnitude)


def _integral(input: Tensor, other: Operand) -> bool:
    if isinstance(other, Tensor):
        return input.dtype.is_integral and other.dtype.is_integral
    return input.dtype.is_integral and isinstance(other, int | np.integer)


def _has_zero(divisor: Operand) -> bool:
    return bool((divisor == 0).any()) if isinstance(divisor, Tensor) else divisor == 0


def _check_bound(op: str, bound: Operand, name: str) -> None:
    if not (isinstance(bound, Tensor) or is_scalar(bound)):
        raise TypeError(f"{op}(): {name} must be a Tensor or a number, got {type(bound).__name__}")


def clamp_min(input: Tensor, min: Operand) -> Tensor:
    """`input` with every element below `min` raised to it (``clamp(input, min=min)``).

    >>> import mytensor as mt
    >>> mt.clamp_min(mt.tensor([-2.0, 0.5]), 0.0).tolist()
    [0.0, 0.5]
    """
    input = check_tensor("clamp_min", input)
    _check_bound("clamp_min", min, "min")
    return clip(input, min=min)


def clamp_max(input: Tensor, max: Operand) -> Tensor:
    """`input` with every element above `max` lowered to it (``clamp(input, max=max)``).

    >>> import mytensor as mt
    >>> mt.clamp_max(mt.tensor([-2.0, 0.5]), 0.0).tolist()
    [-2.0, 0.0]
    """
    input = check_tensor("clamp_max", input)
    _check_bound("clamp_max", max, "max")
    return clip(input, max=max)


def _require_float(op: str, *operands: Operand) -> None:
    for t in operands:
        if isinstance(t, Tensor) and t.dtype.kind != "float":
            raise TypeError(
                f"{op}(): expected floating-point tensors, got {t.dtype.name}; convert with "
                ".astype(mytensor.float32)"
            )


def lerp(input: Tensor, end: Tensor, weight: Operand) -> Tensor:
    """Linear interpolation ``input + weight * (end - input)``, broadcasting all three;
    for ``|weight| >= 0.5`` it is computed from `end` (as PyTorch does) so that
    ``weight = 1`` gives `end` exactly.

    >>> import mytensor as mt
    >>> mt.lerp(mt.tensor([0.0, 10.0]), mt.tensor([1.0, 20.0]), 0.25).tolist()
    [0.25, 12.5]
    """
    input = check_tensor("lerp", input)
    end = check_tensor("lerp", end, "end")
    _check_bound("lerp", weight, "weight")
    _require_float("lerp", input, end, weight)
    step = end - input
    from_start = input + weight * step
    from_end = end - step * (1.0 - weight)
    if isinstance(weight, Tensor):
        return where(weight.abs() < 0.5, from_start, from_end)
    return from_start if abs(weight) < 0.5 else from_end


def _addc_operands(
    op: str, input: Tensor, tensor1: Tensor, tensor2: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """addcmul's / addcdiv's three operands, each checked to be a tensor."""
    return (
        check_tensor(op, input),
        check_tensor(op, tensor1, "tensor1"),
        check_tensor(op, tensor2, "tensor2"),
    )


def _scaled(op: str, input: Tensor, product: Tensor, value: float) -> Tensor:
    if not is_scalar(value):
        raise TypeError(f"{op}(): value must be a number, got {type(value).__name__}")
    integral = input.dtype.is_integral and product.dtype.is_integral
    if integral and not isinstance(value, int | np.integer):
        raise TypeError(
            f"{op}(): for integer tensors value must be an integer, got {value!r}; convert the "
            "tensors to a floating-point dtype first"
        )
    return product if value == 1 else product * value


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """``input + value * tensor1 * tensor2``, broadcasting all three.

    >>> import mytensor as mt
    >>> mt.addcmul(mt.ones(2), mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0]), value=0.5).tolist()
    [2.5, 5.0]
    """
    input, tensor1, tensor2 = _addc_operands("addcmul", input, tensor1, tensor2)
    return input + _scaled("addcmul", input, tensor1 * tensor2, value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """``input + value * tensor1 / tensor2``, broadcasting all three (floating-point
    tensor1 / tensor2 only, as in PyTorch).

    >>> import mytensor as mt
    >>> mt.addcdiv(mt.ones(2), mt.tensor([1.0, 2.0]), mt.tensor([4.0, 4.0]), value=2).tolist()
    [1.5, 2.0]
    """
    input, tensor1, tensor2 = _addc_operands("addcdiv", input, tensor1, tensor2)
    if tensor1.dtype.is_integral and tensor2.dtype.is_integral:
        raise TypeError(
            f"addcdiv(): integer division of {tensor1.dtype.name} by {tensor2.dtype.name} is "
            "not supported; convert tensor1 or tensor2 to a floating-point dtype (or use "
            "addcmul with the reciprocal)"
        )
    return input + _scaled("addcdiv", input, tensor1 / tensor2, value)


# -- conformance records ------------------------------------------------------------------
def _np_fmod(a, b):
    with np.errstate(all="ignore"):
        return np.fmod(a, b)


def _np_lerp(a, b, w):
    return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1.0 - w))


def _values(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    return [{}, {"value": 3}, {"value": -2}]  # ints: integer tensors take integer values


register(OpRecord("rsqrt", rsqrt, lambda x: 1.0 / np.sqrt(x), domain=(0.1, 5.0)))
register(OpRecord("fmod", fmod, _np_fmod, arity=2, dtypes=SIGNED_DTYPES + FLOAT_DTYPES,
                  shapes="broadcast", exclude_zero=True))  # fmt: skip
register(OpRecord("clamp_min", clamp_min, np.maximum, arity=2, dtypes=NUMERIC_DTYPES,
                  shapes="broadcast"))  # fmt: skip
register(OpRecord("clamp_max", clamp_max, np.minimum, arity=2, dtypes=NUMERIC_DTYPES,
                  shapes="broadcast"))  # fmt: skip
register(OpRecord("lerp", lerp, _np_lerp, arity=3, shapes="broadcast"))
register(OpRecord("addcmul", addcmul, lambda a, b, c, value=1: a + value * (b * c), arity=3,
                  dtypes=NUMERIC_DTYPES, shapes="broadcast", variants=_values))  # fmt: skip
register(OpRecord("addcdiv", addcdiv, lambda a, b, c, value=1: a + value * (b / c), arity=3,
                  shapes="broadcast", variants=_values, exclude_zero=True))  # fmt: skip
