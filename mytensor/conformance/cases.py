"""Drawing an op's inputs from its record: shapes, values and layouts per record kind."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import mytensor as mt
from mytensor.conformance import strategies as S
from mytensor.core.dtypes import ALL_DTYPES, DType, bool_
from mytensor.core.ops import OPS, OpRecord

TABLE_KINDS = ("unary", "broadcast", "where", "matmul")


def records(kinds=TABLE_KINDS, grad: bool | None = None) -> list[OpRecord]:
    return [
        r for r in OPS.values()
        if r.shapes in kinds and (grad is None or r.grad == grad)
    ]  # fmt: skip


def op_dtype_cases(kinds=TABLE_KINDS) -> list:
    """One case per (op, core dtype), and one ``name-extra`` case (dtype None) per op that
    also takes dtypes beyond the five core ones: its test draws one of them (among those
    the backend supports), so the standard's other dtypes cost one case per op."""
    import pytest

    cases = []
    for r in records(kinds):
        cases += [pytest.param(r.name, d, id=f"{r.name}-{d.name}")
                  for d in r.dtypes if d in ALL_DTYPES]  # fmt: skip
        if any(d not in ALL_DTYPES for d in r.dtypes):
            cases.append(pytest.param(r.name, None, id=f"{r.name}-extra"))
    return cases


def extra_dtypes(record: OpRecord, backend: str) -> tuple[list[DType], list[DType]]:
    """(supported, unsupported): the record's non-core dtypes split by `backend`'s support."""
    supported = mt.__array_namespace_info__().dtypes(device=backend).values()
    extra = [d for d in record.dtypes if d not in ALL_DTYPES]
    return [d for d in extra if d in supported], [d for d in extra if d not in supported]


def input_shapes(data: st.DataObject, record: OpRecord, max_elements: int) -> tuple:
    if record.shapes == "matmul":
        small = max_elements < 24
        return data.draw(S.matmul_shapes(3 if small else 4, 2 if small else 6), label="shapes")
    out = data.draw(S.shapes(max_elements=max_elements), label="output shape")
    if record.shapes == "unary":
        return (out,)
    return data.draw(S.broadcast_inputs(out, record.arity), label="shapes")


def input_dtypes(record: OpRecord, dtype: DType) -> list[DType]:
    if record.shapes == "where":
        return [bool_, dtype, dtype]
    return [dtype] * record.arity


def elementwise(record: OpRecord) -> bool:
    """Whether `record` is an op of the elementwise table (its numpy reference defines
    every input: NaN, infinities and extremes are fair inputs, whatever its domain)."""
    from mytensor.core.primitives.elementwise import BINARY, UNARY

    return record.name in {s.name for s in (*UNARY, *BINARY)}


def draw_arrays(data, record: OpRecord, dtype: DType, shapes: tuple, smooth: bool = False):
    """One numpy array per input; `smooth` gives distinct values away from 0 (gradients);
    otherwise edge values are mixed in (`strategies.edge_values`)."""
    arrays = []
    dtypes = input_dtypes(record, dtype)
    if smooth:  # one stream for all float inputs, so no value ties across inputs either
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        floats = [s for s, dt in zip(shapes, dtypes, strict=True) if dt.kind == "float"]
        sizes = [math.prod(s) for s in floats]
        flat = S.smooth_values(seed, dtype, (sum(sizes),), record.domain, record.exclude_zero)
        pieces = iter(np.split(flat, np.cumsum(sizes)[:-1].tolist()) if sizes else [])
    for i, (shape, dt) in enumerate(zip(shapes, dtypes, strict=True)):
        exclude = record.exclude_zero and i == len(shapes) - 1
        if smooth and dt.kind == "float":
            arrays.append(next(pieces).reshape(shape))
        else:
            ieee = not smooth and elementwise(record)
            drawn = S.arrays(dt, shape, record.domain, exclude, ieee)
            arrays.append(data.draw(drawn, label=f"x{i}"))
    return arrays, dtypes


def draw_built(data, arrays, dtypes, backend, broadcast=False, requires_grad=False):
    built = []
    for a, dt in zip(arrays, dtypes, strict=True):
        grad = requires_grad and dt.kind == "float"
        built.append(data.draw(S.laid_out(a, dt, backend, broadcast, grad), label="layout"))
    return built


def draw_kwargs(data, record: OpRecord, shapes: tuple) -> dict:
    variants = record.variants(tuple(shapes))
    assume(variants)
    return data.draw(st.sampled_from(variants), label="kwargs")


def reduced_length(record: OpRecord, shapes: tuple, out_shape: tuple) -> int:
    """How many input elements at most were accumulated into one output element."""
    if record.shapes == "matmul":
        return shapes[0][-1]
    in_size = max((math.prod(s) for s in shapes), default=1)
    return max(1, in_size // max(1, math.prod(out_shape)))


def context(record: OpRecord, backend: str, built, kwargs: dict, what: str = "forward") -> str:
    inputs = "; ".join(f"input {i}: {b.describe()}" for i, b in enumerate(built))
    return f"{what} of {record.name} on backend {backend!r}, kwargs {kwargs}\n  {inputs}"


def on_reference(record: OpRecord, built, kwargs: dict) -> mt.Tensor:
    """The same call on numpy_ref with contiguous copies of the inputs."""
    tensors = [mt.tensor(b.values, b.tensor.dtype, backend="numpy_ref") for b in built]
    return record.func(*tensors, **kwargs)


def max_abs(arrays) -> float:
    """The largest magnitude among the inputs' ordinary values (the scale of absolute
    tolerances): edge values (non-finite, or beyond 1e6) do not widen tolerances."""
    sizes = []
    for a in arrays:
        if a.size and a.dtype.kind != "b":
            magnitude = np.abs(a).astype(np.float64).reshape(-1)
            ordinary = magnitude[np.isfinite(magnitude) & (magnitude <= 1e6)]
            sizes.append(float(ordinary.max()) if ordinary.size else 1.0)
    return float(max(sizes, default=1.0))
