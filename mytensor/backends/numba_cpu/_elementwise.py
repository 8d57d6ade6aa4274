"""Elementwise kernels (map, zip, where, copy, gather, scatter_add), generated from op tables.

A family is a set of ops over the same operands (``map``: out, a; ``zip``: out, a, b;
...). Each op gets its own loops, because a loop that switches on the op inside is
not vectorised; the switch runs once per contiguous run, outside the loop. Three
functions are generated per family:

``_run_F(op, o, po, so, a, pa, sa, ..., n)``
    ``n`` elements of one run: operand ``k`` at ``pk + i * sk``. Indices are cast to
    unsigned, which spares numba's negative-index wraparound (a branch per load that
    stops LLVM from vectorising); LLVM then versions the loop for unit strides. For
    ``zip`` a stride-0 operand is read once, outside the loop (``x + 2.0``).
``_chunk_F(op, o, a, ..., shape, strides, offsets, start, stop)``
    The elements ``[start, stop)`` in row-major order of the plan: an odometer over the
    outer dimensions, one `_run_F` per row of the last dimension. All index
    arithmetic is outside the inner loop.
``_par_F(op, o, a, ..., shape, strides, offsets, nchunks)``
    `_chunk_F` on ``nchunks`` equal slices in parallel (``prange``).

The generated text is compiled under this file's name, and generator, tables and scalar
helpers all live in this one file: numba's on-disk cache keys on the hash of that file,
so any change here invalidates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# the generated source below uses jit, pjit and prange
from mytensor.backends.numba_cpu._jit import inline, jit, pjit, prange  # noqa: F401

INDENT = "    "


@dataclass
class Family:
    """Ops sharing operands. `ops` maps op name to the statement storing one element:
    an expression of the loaded inputs ``x, y, z`` (stored into ``o``), or, with
    `statement`, a full statement using ``IDX_o`` / ``IDX_a`` ... for the indices."""

    name: str
    operands: tuple[str, ...]
    ops: dict[str, str]
    statement: bool = False
    hoist: bool = False  # read stride-0 inputs once per run (two-input families)
    extra: tuple[str, ...] = ()
    codes: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.codes = {op: i for i, op in enumerate(self.ops)}


def _idx(name: str, scalar: bool = False) -> str:
    return f"U(p{name})" if scalar else f"U(p{name} + i * s{name})"


def _loop(family: Family, expr: str, hoisted: str | None, depth: int) -> list[str]:
    pad = INDENT * depth
    inputs = family.operands[1:]
    loads = dict(zip(inputs, "xyz", strict=False))
    lines = []
    if hoisted is not None:
        lines.append(f"{pad}{loads[hoisted]} = {hoisted}[{_idx(hoisted, True)}]")
    lines.append(f"{pad}for i in range(n):")
    if family.statement:
        body = expr
        for operand in family.operands:
            body = body.replace(f"IDX_{operand}", _idx(operand))
        lines.append(f"{pad}{INDENT}{body}")
        return lines
    for operand in inputs:
        if operand != hoisted:
            lines.append(f"{pad}{INDENT}{loads[operand]} = {operand}[{_idx(operand)}]")
    lines.append(f"{pad}{INDENT}o[{_idx('o')}] = {expr}")
    return lines


def _run_source(family: Family) -> list[str]:
    params = ", ".join(f"{o}, p{o}, s{o}" for o in family.operands)
    extra = "".join(f", {e}" for e in family.extra)
    lines = ["@jit", f"def _run_{family.name}(op, {params}, n{extra}):"]
    for code, expr in enumerate(family.ops.values()):
        lines.append(f"{INDENT}{'if' if code == 0 else 'elif'} op == {code}:")
        if family.hoist:
            a, b = family.operands[1:3]
            lines.append(f"{INDENT * 2}if s{b} == 0:")
            lines += _loop(family, expr, b, 3)
            lines.append(f"{INDENT * 2}elif s{a} == 0:")
            lines += _loop(family, expr, a, 3)
            lines.append(f"{INDENT * 2}else:")
            lines += _loop(family, expr, None, 3)
        else:
            lines += _loop(family, expr, None, 2)
    return lines


def _chunk_source(family: Family) -> list[str]:
    ops = family.operands
    k = range(len(ops))
    arrays = ", ".join(ops)
    extra = "".join(f", {e}" for e in family.extra)
    run_args = ", ".join(f"{o}, r{j} + col * s{o}, s{o}" for j, o in enumerate(ops))
    p = INDENT
    lines = [
        "@jit",
        f"def _chunk_{family.name}(op, {arrays}, shape, strides, offsets, start, stop{extra}):",
        f"{p}last = shape.shape[0] - 1",
        f"{p}inner = shape[last]",
        *(f"{p}s{o} = strides[{j}, last]" for j, o in enumerate(ops)),
        *(f"{p}r{j} = offsets[{j}]" for j in k),
        f"{p}index = np.zeros(last + 1, np.int64)",
        f"{p}rest = start // inner",
        f"{p}col = start - rest * inner",
        f"{p}for d in range(last - 1, -1, -1):",
        f"{p * 2}q = rest // shape[d]",
        f"{p * 2}index[d] = rest - q * shape[d]",
        *(f"{p * 2}r{j} += index[d] * strides[{j}, d]" for j in k),
        f"{p * 2}rest = q",
        f"{p}pos = start",
        f"{p}while pos < stop:",
        f"{p * 2}n = min(inner - col, stop - pos)",
        f"{p * 2}_run_{family.name}(op, {run_args}, n{extra})",
        f"{p * 2}pos += n",
        f"{p * 2}col = 0",
        f"{p * 2}d = last - 1",
        f"{p * 2}while d >= 0:",
        f"{p * 3}index[d] += 1",
        *(f"{p * 3}r{j} += strides[{j}, d]" for j in k),
        f"{p * 3}if index[d] < shape[d]:",
        f"{p * 4}break",
        *(f"{p * 3}r{j} -= shape[d] * strides[{j}, d]" for j in k),
        f"{p * 3}index[d] = 0",
        f"{p * 3}d -= 1",
    ]
    return lines


def _par_source(family: Family) -> list[str]:
    arrays = ", ".join(family.operands)
    extra = "".join(f", {e}" for e in family.extra)
    p = INDENT
    return [
        "@pjit",
        f"def _par_{family.name}(op, {arrays}, shape, strides, offsets, nchunks{extra}):",
        f"{p}total = 1",
        f"{p}for d in range(shape.shape[0]):",
        f"{p * 2}total *= shape[d]",
        # `chunk`, not `c`: `c` names where's condition operand
        f"{p}for chunk in prange(nchunks):",
        f"{p * 2}_chunk_{family.name}(op, {arrays}, shape, strides, offsets, "
        f"chunk * total // nchunks, (chunk + 1) * total // nchunks{extra})",
    ]


def source(families: list[Family]) -> str:
    """The Python source of every family's three functions."""
    lines: list[str] = []
    for family in families:
        for part in (_run_source, _chunk_source, _par_source):
            lines += ["", "", *part(family)]
    return "\n".join(lines) + "\n"


# -- scalar helpers: numpy's definitions, edge cases included ---------------------------------
U = np.uint64


@inline
def _fmax(x, y):
    return x if (x > y or x != x) else y  # NaN in either wins; equal: y, as numpy


@inline
def _fmin(x, y):
    return x if (x < y or x != x) else y


@inline
def _fdivmod(x, y):
    """numpy's npy_divmod: (floor quotient, remainder with the divisor's sign)."""
    mod = np.fmod(x, y)
    if y == 0:
        return x / y, mod
    div = (x - mod) / y
    if mod != 0:
        if (y < 0) != (mod < 0):
            mod += y
            div -= 1.0
    else:
        mod = math.copysign(0.0, y)
    if div != 0:
        floor = np.floor(div)
        if div - floor > 0.5:
            floor += 1.0
    else:
        floor = math.copysign(0.0, x / y)
    return floor, mod


@inline
def _ffloordiv(x, y):
    return _fdivmod(x, y)[0]


@inline
def _fremainder(x, y):
    return _fdivmod(x, y)[1]


@inline
def _ifloordiv(x, y):
    if y == 0:
        return 0
    if y == -1:
        return -x  # wraps like numpy for the smallest integer, where // would trap
    return x // y


@inline
def _iremainder(x, y):
    if y == 0 or y == -1:
        return 0
    return x % y


@inline
def _ipow(x, y):
    """x ** y for integers; a negative exponent truncates 1 / x**|y| toward zero."""
    if y < 0:
        if x == 1:
            return 1
        if x == -1:
            return 1 if y % 2 == 0 else -1
        return 0
    result = 1
    while y:
        if y & 1:
            result *= x
        x *= x
        y >>= 1
    return result


@inline
def _logaddexp(x, y):
    """numpy's npy_logaddexp: exact for equal arguments (infinities included)."""
    if x == y:
        return x + math.log(2.0)
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return d  # NaN


@inline
def _sigmoid(x):
    e = math.exp(-abs(x))  # exp of a non-positive number only: no overflow
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


# -- the op tables ------------------------------------------------------------------------------
# float transcendentals run through numpy's SIMD ufuncs instead (see backend.NUMPY_MAP)
MAP_FLOAT = {
    "neg": "-x", "abs": "abs(x)", "sqrt": "np.sqrt(x)", "relu": "x if (x > 0 or x != x) else 0.0",
    "sign": "1.0 if x > 0 else (-1.0 if x < 0 else x - x)", "floor": "np.floor(x)",
    "ceil": "np.ceil(x)", "round": "np.rint(x)", "reciprocal": "1.0 / x", "erf": "math.erf(x)",
    "sigmoid": "_sigmoid(x)", "trunc": "np.trunc(x)",
}  # fmt: skip
MAP_INT = {
    "neg": "-x", "abs": "abs(x)", "relu": "x if x > 0 else 0",
    "sign": "1 if x > 0 else (-1 if x < 0 else 0)", "floor": "x", "ceil": "x", "round": "x",
    "trunc": "x", "bitwise_invert": "~x",
}  # fmt: skip
MAP_PREDICATE_FLOAT = {"isnan": "x != x", "isinf": "np.isinf(x)", "isfinite": "np.isfinite(x)",
                       "logical_not": "x == 0", "signbit": "math.copysign(1.0, x) < 0"}  # fmt: skip
MAP_PREDICATE_EXACT = {"isnan": "False", "isinf": "False", "isfinite": "True",
                       "logical_not": "x == 0"}  # fmt: skip
ZIP_FLOAT = {
    "add": "x + y", "sub": "x - y", "mul": "x * y", "div": "x / y",
    "floor_divide": "_ffloordiv(x, y)", "remainder": "_fremainder(x, y)", "pow": "x ** y",
    "maximum": "_fmax(x, y)", "minimum": "_fmin(x, y)", "atan2": "math.atan2(x, y)",
    "copysign": "math.copysign(x, y)", "hypot": "math.hypot(x, y)",
    "logaddexp": "_logaddexp(x, y)",
}  # fmt: skip
ZIP_INT = {
    "add": "x + y", "sub": "x - y", "mul": "x * y", "floor_divide": "_ifloordiv(x, y)",
    "remainder": "_iremainder(x, y)", "pow": "_ipow(x, y)", "maximum": "max(x, y)",
    "minimum": "min(x, y)", "bitwise_and": "x & y", "bitwise_or": "x | y", "bitwise_xor": "x ^ y",
}  # fmt: skip
ZIP_COMPARE = {
    "lt": "x < y", "le": "x <= y", "eq": "x == y", "ne": "x != y", "gt": "x > y", "ge": "x >= y",
    "logical_and": "(x != 0) & (y != 0)", "logical_or": "(x != 0) | (y != 0)",
    "logical_xor": "(x != 0) ^ (y != 0)",
}  # fmt: skip

FAMILIES = [
    Family("map_float", ("o", "a"), MAP_FLOAT),
    Family("map_int", ("o", "a"), MAP_INT),
    Family("map_pred_float", ("o", "a"), MAP_PREDICATE_FLOAT),
    Family("map_pred_exact", ("o", "a"), MAP_PREDICATE_EXACT),
    Family("zip_float", ("o", "a", "b"), ZIP_FLOAT, hoist=True),
    Family("zip_int", ("o", "a", "b"), ZIP_INT, hoist=True),
    Family("zip_compare", ("o", "a", "b"), ZIP_COMPARE, hoist=True),
    Family("where", ("o", "c", "a", "b"), {"where": "y if x else z"}),
    Family("copy", ("o", "a"), {"copy": "x"}),
    # gather: a's plan has stride 0 on `dim`; the index moves along it by `step`
    Family(
        "gather",
        ("o", "ix", "a"),
        {"gather": "o[IDX_o] = a[U(pa + i * sa + ix[IDX_ix] * step)]"},
        statement=True,
        extra=("step",),
    ),
    # scatter_add: o's plan has stride 0 on `dim`, which the plan keeps last and whole, so
    # the parallel version splits rows and no two threads add into the same element
    Family(
        "scatter_add",
        ("o", "ix", "s"),
        {"scatter_add": "o[U(po + i * so + ix[IDX_ix] * step)] += s[IDX_s]"},
        statement=True,
        extra=("step",),
    ),
]

exec(compile(source(FAMILIES), __file__, "exec"), globals())  # defines _run_*, _chunk_*, _par_*


@pjit
def _par_rows_scatter_add(op, o, ix, s, shape, strides, offsets, nchunks, step):
    inner = shape[shape.shape[0] - 1]
    rows = 1
    for d in range(shape.shape[0] - 1):
        rows *= shape[d]
    for c in prange(nchunks):
        _chunk_scatter_add(  # noqa: F821 (generated above)
            op,
            o,
            ix,
            s,
            shape,
            strides,
            offsets,
            c * rows // nchunks * inner,
            (c + 1) * rows // nchunks * inner,
            step,
        )


KERNELS = {f.name: (f, globals()[f"_chunk_{f.name}"], globals()[f"_par_{f.name}"])
           for f in FAMILIES}  # fmt: skip
KERNELS["scatter_add"] = (*KERNELS["scatter_add"][:2], _par_rows_scatter_add)
