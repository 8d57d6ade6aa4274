"""The backend primitives called directly on raw descriptors (offsets, negative strides,
stride 0, 0-d, size 0), against numpy_ref run on contiguous copies of the same values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mytensor.backends import spec
from mytensor.conformance import descriptors as D
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close, tolerance
from mytensor.core.dtypes import ALL_DTYPES, FLOAT_DTYPES, NUMERIC_DTYPES, DType, bool_, int64
from mytensor.core.ops.elementwise_table import BINARY, RULES, UNARY
from mytensor.core.registry import get_backend

# the core dtypes the core sends each required kernel (see the dtype rules in
# mytensor.core.ops.elementwise_table); the optional names are checked through the ops
_CORE_DTYPES = {"float": FLOAT_DTYPES, "real_float": FLOAT_DTYPES, "numeric": NUMERIC_DTYPES,
                "real_numeric": NUMERIC_DTYPES, "abs": NUMERIC_DTYPES, "predicate": ALL_DTYPES,
                "logical": (bool_,), "arith": NUMERIC_DTYPES, "true_div": FLOAT_DTYPES,
                "compare": ALL_DTYPES, "equality": ALL_DTYPES}  # fmt: skip
MAP_CASES = {s.name: (_CORE_DTYPES[s.rule], RULES[s.rule].out == "bool")
             for s in UNARY if s.name in spec.MAP_OPS}  # fmt: skip
ZIP_CASES = {s.name: (_CORE_DTYPES[s.rule], RULES[s.rule].out == "bool")
             for s in BINARY if s.name in spec.ZIP_OPS}  # fmt: skip
REDUCE_CASES = {
    "sum": ALL_DTYPES, "prod": ALL_DTYPES, "max": NUMERIC_DTYPES, "min": NUMERIC_DTYPES,
    "argmax": NUMERIC_DTYPES, "argmin": NUMERIC_DTYPES, "any": (bool_,), "all": (bool_,),
}  # fmt: skip
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 0.5, 2.5, -2.5]


def _params(table):
    """(op, dtype) params; the op name goes first so the runner's per-op table counts it."""
    return [pytest.param(op, d, id=f"{op}-{d.name}") for op, entry in table.items()
            for d in (entry if isinstance(entry[0], DType) else entry[0])]  # fmt: skip


@st.composite
def _values(draw, dtype, shape, nonzero=False, specials=True):
    if dtype.kind == "float" and specials:
        element = st.one_of(S.elements(dtype, (-3.0, 3.0), nonzero), st.sampled_from(SPECIALS))
        size = math.prod(shape)
        values = draw(st.lists(element, min_size=size, max_size=size))
        values = np.array(values, dtype=dtype.numpy).reshape(shape)
        return np.where(values == 0, 1.0, values).astype(dtype.numpy) if nonzero else values
    return draw(S.arrays(dtype, shape, (-5, 5), nonzero))


def _input(data, dtype, shape, nonzero=False, zero_strides=True, specials=True):
    layout = data.draw(D.layouts(shape, zero_strides), label="layout")
    values = data.draw(_values(dtype, shape, nonzero, specials), label="values")
    return D.constant_on_zero_strides(values, layout), layout, dtype


def _run(name, prim, out_shape, out_dtype, inputs, *extra, op=None, out_values=None,
         data=None):  # fmt: skip
    """Run `prim` on `name` with strided descriptors and on numpy_ref with contiguous ones:
    (got whole out buffer, expected whole out buffer, got view, expected view, context)."""
    lead = (op,) if op else ()
    backend, ref = get_backend(name), get_backend("numpy_ref")
    out_layout = data.draw(D.layouts(out_shape, zero_strides=False), label="out layout")
    initial = out_values if out_values is not None else np.zeros(out_shape, out_dtype.numpy)
    out = D.make(backend, initial, out_layout, out_dtype)
    if out_values is None:  # the slots the kernel must fill start as the sentinel
        out = D.make(backend, np.full(out_shape, D.sentinel(out_dtype), out_dtype.numpy),
                     out_layout, out_dtype)  # fmt: skip
    descs = [D.make(backend, v, lay, dt) for v, lay, dt in inputs]
    getattr(backend, prim)(*lead, out, *descs, *extra)
    got = D.whole_buffer(backend, out, out_layout.size)
    got_view = backend.to_host(out)

    ref_out = D.make(ref, initial, D.Layout.contiguous(out_shape), out_dtype)
    ref_descs = [D.make(ref, v, D.Layout.contiguous(v.shape), dt) for v, _, dt in inputs]
    getattr(ref, prim)(*lead, ref_out, *ref_descs, *extra)
    expected_view = ref.to_host(ref_out)
    where = (
        f"{prim}{lead}{extra} on backend {name!r}: out {out_dtype.name} shape {out_shape} strides "
        f"{out_layout.strides} offset {out_layout.offset}; "
        + "; ".join(f"input {i} {dt.name} shape {lay.shape} strides {lay.strides} offset "
                    f"{lay.offset}" for i, (_, lay, dt) in enumerate(inputs))
    )  # fmt: skip
    expected = D.host_buffer(expected_view, out_layout, out_dtype)
    return got, expected, got_view, expected_view, where


def _check(got, expected, got_view, expected_view, where, rtol=0.0, atol=0.0):
    assert_close(got_view, expected_view, f"{where}\n  (the view, via to_host)", rtol, atol)
    assert_close(got, expected, f"{where}\n  (the whole out buffer: a write outside the view "
                 "changes a sentinel)", rtol, atol)  # fmt: skip


@pytest.mark.parametrize(("op", "dtype"), _params(MAP_CASES))
@S.suite_settings(8)
@given(data=st.data())
def test_map(op, dtype, backend, data):
    shape = data.draw(S.shapes(), label="shape")
    out_dtype = bool_ if MAP_CASES[op][1] else dtype
    x = _input(data, dtype, shape)
    _check(*_run(backend, "map", shape, out_dtype, [x], op=op, data=data), 1e-6, 1e-7)


def _zip_call(backend, data, op, dtype):
    shape = data.draw(S.shapes(), label="shape")
    out_dtype = bool_ if ZIP_CASES[op][1] else dtype
    nonzero = dtype.kind == "int" and op in ("floor_divide", "remainder")
    a = _input(data, dtype, shape)
    b = _input(data, dtype, shape, nonzero=nonzero)
    return _run(backend, "zip", shape, out_dtype, [a, b], op=op, data=data)


@pytest.mark.parametrize(("op", "dtype"), _params(ZIP_CASES))
@S.suite_settings(8)
@given(data=st.data())
def test_zip(op, dtype, backend, data):
    _check(*_zip_call(backend, data, op, dtype), 1e-6, 1e-7)


@pytest.mark.parametrize(("op", "dtype"), _params(REDUCE_CASES))
@S.suite_settings(8)
@given(data=st.data())
def test_reduce(op, dtype, backend, data):
    nonempty = op in ("max", "min", "argmax", "argmin")
    shape = data.draw(S.shapes(min_rank=1, min_side=1 if nonempty else 0), label="shape")
    if op.startswith("arg"):
        dims = (data.draw(st.integers(0, len(shape) - 1), label="dim"),)
    else:
        dims = tuple(sorted(data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                               unique=True), label="dims")))  # fmt: skip
    out_shape = tuple(1 if d in dims else s for d, s in enumerate(shape))
    if op.startswith("arg"):
        out_dtype = int64
    elif op in ("sum", "prod"):
        out_dtype = dtype if dtype.kind == "float" else int64
    else:
        out_dtype = dtype
    x = _input(data, dtype, shape, specials=not op.startswith("arg"))
    reduced = math.prod(shape[d] for d in dims)
    rtol, atol = tolerance([out_dtype.numpy], reduced, 3.0) if out_dtype.kind == "float" \
        else (0.0, 0.0)  # fmt: skip
    result = _run(backend, "reduce", out_shape, out_dtype, [x], dims, op=op, data=data)
    _check(*result, rtol, atol)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=[f"where-{d.name}" for d in ALL_DTYPES])
@S.suite_settings(8)
@given(data=st.data())
def test_where(dtype, backend, data):
    shape = data.draw(S.shapes(), label="shape")
    inputs = [_input(data, bool_, shape), _input(data, dtype, shape), _input(data, dtype, shape)]
    _check(*_run(backend, "where", shape, dtype, inputs, data=data))


@pytest.mark.parametrize(
    ("source", "target"),
    [pytest.param(a, b, id=f"copy-{a.name}-{b.name}") for a in ALL_DTYPES for b in ALL_DTYPES],
)
@S.suite_settings(6)
@given(data=st.data())
def test_copy(source, target, backend, data):
    shape = data.draw(S.shapes(), label="shape")
    specials = target.kind != "int"  # NaN and inf have no integer value
    x = _input(data, source, shape, specials=specials)
    _check(*_run(backend, "copy", shape, target, [x], data=data))


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES, ids=[f"matmul-{d.name}" for d in NUMERIC_DTYPES])
@S.suite_settings(8)
@given(data=st.data())
def test_matmul(dtype, backend, data):
    batch = data.draw(S.shapes(max_rank=2, max_side=3, max_elements=6), label="batch")
    n, k, m = (data.draw(st.integers(0, 4), label=s) for s in "nkm")
    a = _input(data, dtype, (*batch, n, k), specials=False)
    b = _input(data, dtype, (*batch, k, m), specials=False)
    rtol, atol = tolerance([dtype.numpy], k, 3.0) if dtype.kind == "float" else (0.0, 0.0)
    _check(*_run(backend, "matmul", (*batch, n, m), dtype, [a, b], data=data), rtol, atol)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=[d.name for d in ALL_DTYPES])
@pytest.mark.parametrize("op", ["gather", "scatter_add"])
@S.suite_settings(8)
@given(data=st.data())
def test_indexed(op, dtype, backend, data):
    if op == "scatter_add" and dtype.kind == "bool":
        return  # the core never scatter-adds bools
    shape = data.draw(S.shapes(min_rank=1, min_side=1, max_elements=12), label="shape")
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    index_shape = list(shape)
    index_shape[dim] = data.draw(st.integers(0, 4), label="index length")
    index_values = data.draw(S.arrays(int64, tuple(index_shape), (0, shape[dim] - 1)))
    index_layout = data.draw(D.layouts(tuple(index_shape), zero_strides=False))
    index = (index_values, index_layout, int64)
    if op == "gather":
        x = _input(data, dtype, shape, specials=False)
        result = _run(backend, "gather", tuple(index_shape), dtype, [x, index], dim, data=data)
    else:
        src = _input(data, dtype, tuple(index_shape), specials=False, zero_strides=False)
        initial = data.draw(_values(dtype, shape, specials=False), label="initial out")
        result = _run(backend, "scatter_add", shape, dtype, [index, src], dim,
                      out_values=initial, data=data)  # fmt: skip
    _check(*result, 1e-6, 1e-6)


def test_vocabulary_is_covered():
    """Every kernel name of the contract is exercised above with some dtype."""
    assert set(MAP_CASES) == set(spec.MAP_OPS), set(MAP_CASES) ^ set(spec.MAP_OPS)
    assert set(ZIP_CASES) == set(spec.ZIP_OPS), set(ZIP_CASES) ^ set(spec.ZIP_OPS)
    assert set(REDUCE_CASES) == set(spec.REDUCE_OPS), set(REDUCE_CASES) ^ set(spec.REDUCE_OPS)
