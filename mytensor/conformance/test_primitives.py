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
from mytensor.core.descriptors import contiguous
from mytensor.core.dtypes import (
    ALL_DTYPES,
    STANDARD_DTYPES,
    UNSIGNED_DTYPES,
    DType,
    bool_,
    complex128,
    float32,
    float64,
    int64,
    uint64,
)
from mytensor.core.primitives.elementwise import BINARY, RULES, UNARY
from mytensor.core.registry import get_backend

# every dtype the core sends each kernel (the dtype rules of
# mytensor.core.primitives.elementwise); a case whose dtype the backend does not declare
# is skipped, so each backend is driven through every primitive in every dtype it holds
_UNSIGNED_OUT = {d: uint64 for d in UNSIGNED_DTYPES}


def _kernel_dtypes(rule: str) -> tuple[DType, ...]:
    """The dtypes a kernel of `rule` receives (inputs of "to float" rules arrive as floats)."""
    tested = RULES[rule].tested
    return tuple(d for d in tested if d.kind in ("float", "complex")) if RULES[rule].to_float \
        else tested  # fmt: skip


MAP_CASES = {s.name: (_kernel_dtypes(s.rule), RULES[s.rule].out == "bool")
             for s in UNARY if s.name in spec.MAP_OPS}  # fmt: skip
ZIP_CASES = {s.name: (_kernel_dtypes(s.rule), RULES[s.rule].out == "bool")
             for s in BINARY if s.name in spec.ZIP_OPS}  # fmt: skip
_ORDERED = tuple(d for d in STANDARD_DTYPES if d.kind != "bool" and d.kind != "complex")
REDUCE_CASES = {
    "sum": STANDARD_DTYPES, "prod": STANDARD_DTYPES, "max": _ORDERED, "min": _ORDERED,
    "argmax": _ORDERED, "argmin": _ORDERED, "any": (bool_,), "all": (bool_,),
}  # fmt: skip
NUMERIC = STANDARD_DTYPES[1:]
# casts: the core dtypes among themselves, every other dtype to and from bool, int64,
# float64 and complex128 (and itself)
_HUBS = (bool_, int64, float64, complex128)
COPY_PAIRS = list(dict.fromkeys(
    [(a, b) for a in ALL_DTYPES for b in ALL_DTYPES]
    + [pair for e in STANDARD_DTYPES for h in (*_HUBS, e) for pair in ((e, h), (h, e))]
))  # fmt: skip
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 0.5, 2.5, -2.5]
PRODUCT_SPECIALS = [0.0, -0.0, np.nan, 0.5, 2.5, -2.5]


def _params(table):
    """(op, dtype) params; the op name goes first so the runner's per-op table counts it."""
    return [pytest.param(op, d, id=f"{op}-{d.name}") for op, entry in table.items()
            for d in (entry if isinstance(entry[0], DType) else entry[0])]  # fmt: skip


def _require(backend: str, *dtypes: DType) -> None:
    """Skip (visibly) a case in a dtype the backend does not declare."""
    missing = [d.name for d in dtypes if d not in get_backend(backend).dtypes]
    if missing:
        pytest.skip(f"backend {backend!r} does not declare {', '.join(missing)}")


@st.composite
def _values(draw, dtype, shape, nonzero=False, specials=True):
    if dtype.kind == "complex":
        part = _values(float64 if dtype.name == "complex128" else float32, shape, nonzero,
                       specials)  # fmt: skip
        values = np.empty(shape, dtype.numpy)  # (x + 1j * inf would be NaN + inf j)
        values.real, values.imag = draw(part), draw(part)
        return values
    if dtype.kind == "float" and specials:
        chosen = SPECIALS if specials is True else specials
        element = st.one_of(S.elements(dtype, (-3.0, 3.0), nonzero), st.sampled_from(chosen))
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


def _check(got, expected, got_view, expected_view, where, rtol=0.0, atol=0.0,
           zero_signs=False):  # fmt: skip
    assert_close(got_view, expected_view, f"{where}\n  (the view, via to_host)", rtol, atol,
                 zero_signs)  # fmt: skip
    assert_close(got, expected, f"{where}\n  (the whole out buffer: a write outside the view "
                 "changes a sentinel)", rtol, atol)  # fmt: skip


@pytest.mark.parametrize(("op", "dtype"), _params(MAP_CASES))
@S.suite_settings(8)
@given(data=st.data())
def test_map(op, dtype, backend, data):
    _require(backend, dtype)
    shape = data.draw(S.shapes(), label="shape")
    out_dtype = bool_ if MAP_CASES[op][1] else dtype
    if op == "abs" and dtype.kind == "complex":
        out_dtype = float64 if dtype.name == "complex128" else float32
    x = _input(data, dtype, shape)
    result = _run(backend, "map", shape, out_dtype, [x], op=op, data=data)
    _check(*result, 1e-6, 1e-7, zero_signs=True)


def _zip_call(backend, data, op, dtype):
    shape = data.draw(S.shapes(), label="shape")
    out_dtype = bool_ if ZIP_CASES[op][1] else dtype
    nonzero = dtype.kind in ("int", "uint") and op in ("floor_divide", "remainder")
    a = _input(data, dtype, shape)
    b = _input(data, dtype, shape, nonzero=nonzero)
    return _run(backend, "zip", shape, out_dtype, [a, b], op=op, data=data)


@pytest.mark.parametrize(("op", "dtype"), _params(ZIP_CASES))
@S.suite_settings(8)
@given(data=st.data())
def test_zip(op, dtype, backend, data):
    _require(backend, dtype)
    _check(*_zip_call(backend, data, op, dtype), 1e-6, 1e-7, zero_signs=True)


@pytest.mark.parametrize(("op", "dtype"), _params(REDUCE_CASES))
@S.suite_settings(8)
@given(data=st.data())
def test_reduce(op, dtype, backend, data):
    _require(backend, dtype)
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
        out_dtype = dtype if dtype.kind in ("float", "complex") else _UNSIGNED_OUT.get(dtype, int64)
    else:
        out_dtype = dtype
    # (no infinities in a product: where it underflows to 0 depends on the order, and
    # inf * 0 is NaN where inf * tiny is inf)
    specials = False if op.startswith("arg") else PRODUCT_SPECIALS if op == "prod" else True
    x = _input(data, dtype, shape, specials=specials)
    reduced = math.prod(shape[d] for d in dims)
    rtol, atol = tolerance([out_dtype.numpy], reduced, 3.0) \
        if out_dtype.kind in ("float", "complex") else (0.0, 0.0)  # fmt: skip
    result = _run(backend, "reduce", out_shape, out_dtype, [x], dims, op=op, data=data)
    _check(*result, rtol, atol)


@pytest.mark.parametrize("dtype", STANDARD_DTYPES, ids=[f"where-{d.name}" for d in STANDARD_DTYPES])
@S.suite_settings(8)
@given(data=st.data())
def test_where(dtype, backend, data):
    _require(backend, dtype)
    shape = data.draw(S.shapes(), label="shape")
    inputs = [_input(data, bool_, shape), _input(data, dtype, shape), _input(data, dtype, shape)]
    _check(*_run(backend, "where", shape, dtype, inputs, data=data), zero_signs=True)


@pytest.mark.parametrize(
    ("source", "target"),
    [pytest.param(a, b, id=f"copy-{a.name}-{b.name}") for a, b in COPY_PAIRS],
)
@S.suite_settings(6)
@given(data=st.data())
def test_copy(source, target, backend, data):
    _require(backend, source, target)
    shape = data.draw(S.shapes(), label="shape")
    specials = target.kind not in ("int", "uint")  # NaN and inf have no integer value
    x = _input(data, source, shape, specials=specials)
    _check(*_run(backend, "copy", shape, target, [x], data=data))


def _fill_values(dtype: DType) -> list:
    """The values a fill must keep bit for bit: signed zeros, NaN and infinities, the
    extremes of an integer type."""
    if dtype.kind == "bool":
        return [True, False]
    if dtype.kind in ("int", "uint"):
        info = np.iinfo(dtype.numpy)
        return [info.min, info.max, 0, 1]
    values = [-0.0, 0.0, np.nan, np.inf, -np.inf, 1.5]
    return [*values, complex(-0.0, np.inf)] if dtype.kind == "complex" else values


@pytest.mark.parametrize("dtype", STANDARD_DTYPES, ids=[f"fill-{d.name}" for d in STANDARD_DTYPES])
@pytest.mark.parametrize("shape", [(), (1,), (5, 7), (3, 1, 4)], ids=str)
def test_copy_of_one_value_everywhere(dtype, shape, backend):
    """``copy`` from a one-element source broadcast with stride 0 on every dim into a
    C-contiguous output (how ``zeros``, ``full`` and a broadcast scalar are filled), which
    a backend may run as a memset: every value's bits everywhere."""
    _require(backend, dtype)
    impl = get_backend(backend)
    for value in _fill_values(dtype):
        with np.errstate(all="ignore"):
            one = np.array([value]).astype(dtype.numpy)
        src = spec.Strided(impl.from_host(one), shape, (0,) * len(shape), 0, dtype)
        out = contiguous(impl, shape, dtype)
        impl.copy(out, src)
        got = impl.to_host(out)
        expected = np.broadcast_to(one.reshape(()), shape)
        assert got.tobytes() == np.ascontiguousarray(expected).tobytes(), (
            f"copy of {value!r} ({dtype.name}) to every element of a {shape} output on "
            f"backend {backend!r}: got {got.reshape(-1)[:4].tolist()}"
        )


@pytest.mark.parametrize("dtype", NUMERIC, ids=[f"matmul-{d.name}" for d in NUMERIC])
@S.suite_settings(8)
@given(data=st.data())
def test_matmul(dtype, backend, data):
    _require(backend, dtype)
    batch = data.draw(S.shapes(max_rank=2, max_side=3, max_elements=6), label="batch")
    n, k, m = (data.draw(st.integers(0, 4), label=s) for s in "nkm")
    a = _input(data, dtype, (*batch, n, k), specials=False)
    b = _input(data, dtype, (*batch, k, m), specials=False)
    rtol, atol = tolerance([dtype.numpy], k, 3.0) if dtype.kind in "float complex" \
        else (0.0, 0.0)  # fmt: skip
    _check(*_run(backend, "matmul", (*batch, n, m), dtype, [a, b], data=data), rtol, atol)


@pytest.mark.parametrize("dtype", STANDARD_DTYPES, ids=[d.name for d in STANDARD_DTYPES])
@pytest.mark.parametrize("op", ["gather", "scatter_add"])
@S.suite_settings(8)
@given(data=st.data())
def test_indexed(op, dtype, backend, data):
    if op == "scatter_add" and dtype.kind == "bool":
        pytest.skip("the core never scatter-adds bools")
    _require(backend, dtype)
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


def _edge_grid(dtype: DType) -> np.ndarray:
    """Every edge value of `dtype` once: ±0, ±1, 0.5, 2.5, NaN, ±inf, subnormals, tiny and
    the extremes for floats (complex: their pairs); 0, ±1, max and min + 1 for integers."""
    if dtype.kind == "bool":
        return np.array([False, True])
    if dtype.kind in ("int", "uint"):
        info = np.iinfo(dtype.numpy)
        values = [0, 1, 2, 3, int(info.max)] + ([-1, -3, int(info.min) + 1] if info.min else [])
        return np.array(values, dtype.numpy)
    real = float64 if dtype.name in ("float64", "complex128") else float32
    info = np.finfo(real.numpy)
    values = [0.0, -0.0, 1.0, -1.0, 0.5, 2.5, -2.5, np.nan, np.inf, -np.inf,
              float(info.smallest_subnormal), -float(info.tiny), float(info.max)]  # fmt: skip
    if dtype.kind == "complex":
        parts = np.array(values[:10])
        grid = np.empty((parts.size, parts.size), dtype.numpy)  # (x + 1j * inf is NaN + inf j)
        grid.real, grid.imag = parts[:, None], parts[None, :]
        return grid.reshape(-1)
    return np.array(values, dtype.numpy)


def _edge_run(backend: str, prim: str, op: str, out_dtype: DType, arrays: list[np.ndarray]):
    """`prim` on every combination of edge values, on `backend` and on numpy_ref."""
    results = []
    for name in (backend, "numpy_ref"):
        impl = get_backend(name)
        descs = [D.make(impl, a, D.Layout.contiguous(a.shape), _dtype_of(a)) for a in arrays]
        out = D.make(impl, np.zeros(arrays[0].shape, out_dtype.numpy),
                     D.Layout.contiguous(arrays[0].shape), out_dtype)  # fmt: skip
        getattr(impl, prim)(op, out, *descs)
        results.append(impl.to_host(out))
    return results


def _dtype_of(array: np.ndarray) -> DType:
    from mytensor.core.dtypes import _BY_NUMPY

    return _BY_NUMPY[array.dtype]


@pytest.mark.parametrize(("op", "dtype"), _params(MAP_CASES))
def test_map_edges(op, dtype, backend):
    """Every edge value of the dtype through the kernel at once: zero signs, NaN and
    infinities exactly as numpy_ref (sign(nan) is nan, sign(-0.0) is 0.0, ...)."""
    _require(backend, dtype)
    out_dtype = bool_ if MAP_CASES[op][1] else dtype
    if op == "abs" and dtype.kind == "complex":
        out_dtype = float64 if dtype.name == "complex128" else float32
    x = _edge_grid(dtype)
    got, expected = _edge_run(backend, "map", op, out_dtype, [x])
    where = f"map({op!r}) of {dtype.name} edge values on backend {backend!r}"
    assert_close(got, expected, where, 1e-6, 1e-7, zero_signs=True, inputs=[x])


@pytest.mark.parametrize(("op", "dtype"), _params(ZIP_CASES))
def test_zip_edges(op, dtype, backend):
    """Every pair of edge values through the kernel (remainder(-0.0, 1.0) is 0.0, maximum
    of ±0 and NaN, ...); integer division by zero, the backend's choice, is left out."""
    _require(backend, dtype)
    out_dtype = bool_ if ZIP_CASES[op][1] else dtype
    grid = _edge_grid(dtype)
    a, b = (g.reshape(-1) for g in np.meshgrid(grid, grid, indexing="ij"))
    if dtype.kind in ("int", "uint") and op in ("floor_divide", "remainder", "pow"):
        keep = (b != 0) if op != "pow" else (b >= 0) & (b <= 3)
        a, b = a[keep], b[keep]
    got, expected = _edge_run(backend, "zip", op, out_dtype, [a.copy(), b.copy()])
    where = f"zip({op!r}) of {dtype.name} edge values on backend {backend!r}"
    assert_close(got, expected, where, 1e-6, 1e-7, zero_signs=True, inputs=[a, b])
