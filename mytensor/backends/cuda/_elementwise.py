"""Elementwise kernels (map, zip, where, copy, cast, gather, scatter_add), generated from tables.

A family is a set of ops over the same operands (``map``: o, a; ``zip``: o, a, b; ...).
Every (family, op) pair gets two kernels, generated from the op's expression and
compiled lazily, once (numba then specialises each per dtype and rank, once):

``linear``, for rank-1 plans: ``o[po + i*so] = f(a[pa + i*sa], ...)``, a grid-stride
loop with no index division. Contiguous operands, same-layout operands and a
broadcast scalar (stride 0) all plan to rank 1: this is the contiguous fast path.
``strided``, for rank >= 2: each index ``i`` is unravelled over the plan's shape (a
tuple) and dotted with each operand's strides (tuples).

Metadata travels as kernel parameters: shape and strides are tuples of ints and the
offsets ints, passed by value in the launch. Nothing is copied to the device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from numba import cuda

from mytensor.backends.cuda import _scalar
from mytensor.backends.cuda._runtime import MATH

__all__ = ["FAMILIES", "Family", "kernel"]

INDENT = "    "


@dataclass(frozen=True)
class Family:
    """Ops sharing operands. `ops` maps op name to an expression of the loaded inputs
    ``x, y, z`` (stored into ``o``); with `statement` the op is a whole statement that
    uses ``i<operand>`` (``io``, ``ia``, ...) for the operands' element indices, and the
    `extra` scalar parameters."""

    name: str
    operands: tuple[str, ...]
    ops: dict[str, str]
    statement: bool = False
    extra: tuple[str, ...] = ()


MAP_FLOAT = {
    "neg": "-x", "abs": "abs(x)", "exp": "math.exp(x)", "log": "math.log(x)",
    "log1p": "math.log1p(x)", "expm1": "math.expm1(x)", "sqrt": "math.sqrt(x)",
    "sin": "math.sin(x)", "cos": "math.cos(x)", "tanh": "math.tanh(x)",
    "sigmoid": "sigmoid(x)", "relu": "x if (x > 0 or x != x) else 0.0",
    "sign": "1.0 if x > 0 else (-1.0 if x < 0 else x - x)", "floor": "safe_floor(x)",
    "ceil": "safe_ceil(x)", "round": "rint(x)", "reciprocal": "1.0 / x", "erf": "math.erf(x)",
    # optional names (spec.OPTIONAL_MAP_OPS)
    "acos": "math.acos(x)", "acosh": "math.acosh(x)", "asin": "math.asin(x)",
    "asinh": "math.asinh(x)", "atan": "math.atan(x)", "atanh": "math.atanh(x)",
    "cosh": "math.cosh(x)", "sinh": "math.sinh(x)", "tan": "math.tan(x)",
    "log2": "math.log2(x)", "log10": "math.log10(x)", "trunc": "math.trunc(x)",
}  # fmt: skip
MAP_INT = {
    "neg": "-x", "abs": "abs(x)", "relu": "x if x > 0 else x - x",
    "sign": "1 if x > 0 else (-1 if x < 0 else 0)", "floor": "x", "ceil": "x", "round": "x",
    "trunc": "x", "bitwise_invert": "~x",
}  # fmt: skip
MAP_PREDICATE_FLOAT = {"isnan": "x != x", "isinf": "math.isinf(x)",
                       "isfinite": "math.isfinite(x)", "logical_not": "x == 0",
                       "signbit": "math.copysign(1.0, x) < 0"}  # fmt: skip
MAP_PREDICATE_EXACT = {"isnan": "False", "isinf": "False", "isfinite": "True",
                       "logical_not": "x == 0", "signbit": "x < 0"}  # fmt: skip
ZIP_FLOAT = {
    "add": "x + y", "sub": "x - y", "mul": "x * y", "div": "x / y",
    "floor_divide": "fdiv_floor(x, y)", "remainder": "fremainder(x, y)", "pow": "x ** y",
    "maximum": "fmax(x, y)", "minimum": "fmin(x, y)",
    # optional names (spec.OPTIONAL_ZIP_OPS)
    "atan2": "math.atan2(x, y)", "copysign": "math.copysign(x, y)", "hypot": "math.hypot(x, y)",
    "logaddexp": "logaddexp(x, y)", "nextafter": "math.nextafter(x, y)",
}  # fmt: skip
ZIP_INT = {
    "add": "x + y", "sub": "x - y", "mul": "x * y", "floor_divide": "ifloordiv(x, y)",
    "remainder": "iremainder(x, y)", "pow": "ipow(x, y)", "maximum": "x if x >= y else y",
    "minimum": "x if x <= y else y",
    "bitwise_and": "x & y", "bitwise_or": "x | y", "bitwise_xor": "x ^ y",
    "bitwise_left_shift": "ishl(x, y)", "bitwise_right_shift": "ishr(x, y)",
}  # fmt: skip
ZIP_COMPARE = {
    "lt": "x < y", "le": "x <= y", "eq": "x == y", "ne": "x != y", "gt": "x > y", "ge": "x >= y",
    "logical_and": "(x != 0) and (y != 0)", "logical_or": "(x != 0) or (y != 0)",
    "logical_xor": "(x != 0) != (y != 0)",
}  # fmt: skip

FAMILIES = {
    family.name: family
    for family in (
        Family("map_float", ("o", "a"), MAP_FLOAT),
        Family("map_int", ("o", "a"), MAP_INT),
        Family("map_pred_float", ("o", "a"), MAP_PREDICATE_FLOAT),
        Family("map_pred_exact", ("o", "a"), MAP_PREDICATE_EXACT),
        Family("zip_float", ("o", "a", "b"), ZIP_FLOAT),
        Family("zip_int", ("o", "a", "b"), ZIP_INT),
        Family("zip_compare", ("o", "a", "b"), ZIP_COMPARE),
        Family("where", ("o", "c", "a", "b"), {"where": "y if x else z"}),
        # same dtype, or a cast (assignment converts; float to int truncates toward zero)
        Family("copy", ("o", "a"), {"copy": "x", "to_bool": "x != 0"}),
        # float to int: in range truncates toward zero; NaN and out-of-range values give
        # `bad` (the smallest integer, what numpy's astype gives on x86) on every device
        Family("cast_int", ("o", "a"), {"cast_int": "x if (x >= lo and x < hi) else bad"},
               extra=("lo", "hi", "bad")),
        Family("fill", ("o",), {"fill": "value"}, extra=("value",)),
        # gather: a's plan has stride 0 on `dim`; the index moves along it by `step`
        Family("gather", ("o", "ix", "a"),
               {"gather": "o[io] = a[ia + ix[iix] * step]"}, statement=True, extra=("step",)),
        # scatter_add: o's plan has stride 0 on `dim`; repeated indices add atomically
        Family("scatter_add", ("o", "ix", "src"),
               {"scatter_add": "cuda.atomic.add(o, io + ix[iix] * step, src[isrc])"},
               statement=True, extra=("step",)),
    )
}  # fmt: skip


def _body(family: Family, op: str, pad: str) -> list[str]:
    expr = family.ops[op]
    if family.statement:
        return [pad + expr]
    loads = [f"{pad}{v} = {o}[i{o}]" for o, v in zip(family.operands[1:], "xyz", strict=False)]
    return [*loads, f"{pad}o[io] = {expr}"]


def source(family: Family, op: str, linear: bool) -> str:
    """The Python source of one kernel (named ``kernel``)."""
    ops = family.operands
    params = ", ".join(f"{o}, p{o}, s{o}" for o in ops)
    extra = "".join(f", {e}" for e in family.extra)
    p = INDENT
    head = "n" if linear else "n, shape"
    lines = [
        f"def kernel({head}, {params}{extra}):",
        f"{p}i = cuda.grid(1)",
        f"{p}step_i = cuda.gridsize(1)",
        f"{p}while i < n:",
    ]
    if linear:
        lines += [f"{p * 2}i{o} = p{o} + i * s{o}" for o in ops]
    else:
        lines += [f"{p * 2}i{o} = p{o}" for o in ops]
        lines += [
            f"{p * 2}rest = i",
            f"{p * 2}for d in range(len(shape) - 1, -1, -1):",
            f"{p * 3}quot = rest // shape[d]",
            f"{p * 3}coord = rest - quot * shape[d]",
            *(f"{p * 3}i{o} += coord * s{o}[d]" for o in ops),
            f"{p * 3}rest = quot",
        ]
    lines += _body(family, op, p * 2)
    lines.append(f"{p * 2}i += step_i")
    return "\n".join(lines) + "\n"


_NAMESPACE = {
    "cuda": cuda,
    "math": MATH,
    **{name: getattr(_scalar, name) for name in _scalar.__all__},
}
_KERNELS: dict[tuple[str, str, bool], Callable] = {}


def kernel(family: str, op: str, linear: bool) -> Callable:
    """The compiled (lazily, once) kernel of `op` in `family`, linear or strided."""
    key = (family, op, linear)
    compiled = _KERNELS.get(key)
    if compiled is None:
        namespace = dict(_NAMESPACE)
        filename = f"<mytensor.cuda {family}.{op} {'linear' if linear else 'strided'}>"
        exec(compile(source(FAMILIES[family], op, linear), filename, "exec"), namespace)
        compiled = _KERNELS[key] = cuda.jit(namespace["kernel"])
    return compiled
