"""Every elementwise kernel against the op's scalar specification
(`mytensor.core.primitives.scalar`), on a grid of edge values: every value with every
value for binary ops. Signed zeros and NaN positions must match bit for bit; values exactly
for the ops IEEE rounds correctly (arithmetic, sqrt, rounding, comparisons, integers) and
within the float tolerance for the transcendental functions, whose last bits differ
between libraries. numpy_ref's vectorised kernels are checked here like any other backend's:
they are an implementation of the specification, not the specification."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mytensor.backends import spec
from mytensor.conformance.checks import assert_close, tolerance
from mytensor.core.dispatch import host_descriptor
from mytensor.core.dtypes import FLOAT_DTYPES, DType, bool_
from mytensor.core.primitives import scalar
from mytensor.core.primitives.elementwise import BINARY, BOOL_KERNELS, RULES, UNARY
from mytensor.core.registry import get_backend

# correctly rounded by IEEE (or exact): no tolerance at all
EXACT = frozenset({
    "neg", "abs", "sign", "relu", "floor", "ceil", "round", "trunc", "reciprocal", "sqrt",
    "add", "sub", "mul", "div", "maximum", "minimum", "floor_divide", "remainder", "copysign",
    "nextafter", "lt", "le", "eq", "ne", "gt", "ge", "logical_and", "logical_or",
    "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "signbit", "bitwise_invert",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
})  # fmt: skip
_REGULAR = [0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5, 3.0, -7.0, 0.25, 0.75, 100.0, -100.0]


def grid(dtype: DType) -> np.ndarray:
    """The edge values of `dtype` and a few ordinary ones."""
    if dtype is bool_:
        return np.array([False, True])
    if dtype.is_integral:
        info = np.iinfo(dtype.numpy)
        values = [0, 1, 2, 3, 7, 8, 63, 64, 100, int(info.max), int(info.max) - 1]
        if info.min < 0:
            values += [-1, -2, -3, -7, -8, -64, -100, int(info.min), int(info.min) + 1]
        return np.array(sorted(set(values)), dtype.numpy)
    info = np.finfo(dtype.numpy)
    tiny, sub, big = float(info.tiny), float(info.smallest_subnormal), float(info.max)
    edges = [0.0, -0.0, sub, -sub, tiny, -tiny, big, -big, np.inf, -np.inf, np.nan]
    return np.array(edges + _REGULAR, dtype.numpy)


def _kernel_dtypes(rule_name: str) -> tuple[DType, ...]:
    rule = RULES[rule_name]
    if rule.cast_bool:
        return (bool_,)
    real = tuple(d for d in rule.tested if d.kind != "complex")
    return tuple(d for d in real if d in FLOAT_DTYPES) if rule.to_float else real


def _cases(table) -> list:
    cases = []
    for record in table:
        for dtype in _kernel_dtypes(record.rule):
            kernel = BOOL_KERNELS.get(record.name, record.name) if dtype is bool_ else record.name
            if scalar.scalar_function(kernel, dtype.kind) is not None:
                cases.append(pytest.param(kernel, dtype, record.rule,
                                          id=f"{record.name}-{dtype.name}"))  # fmt: skip
    return cases


def _out_dtype(rule_name: str, dtype: DType) -> DType:
    return bool_ if RULES[rule_name].out == "bool" else dtype


def _run(backend_name: str, op: str, out_dtype: DType, *arrays: np.ndarray) -> np.ndarray:
    backend = get_backend(backend_name)
    dtype = _dtype_of(arrays[0])
    inputs = [host_descriptor(backend, a, dtype) for a in arrays]
    out = host_descriptor(backend, np.zeros(arrays[0].shape, out_dtype.numpy), out_dtype)
    if op in spec.MAP_OPS or op in spec.ZIP_OPS:
        (backend.map if len(arrays) == 1 else backend.zip)(op, out, *inputs)
    else:
        backend.elementwise(op, out, *inputs)
    return backend.to_host(out)


def _dtype_of(array: np.ndarray) -> DType:
    from mytensor.core.dtypes import to_dtype

    return to_dtype(array.dtype)


def _compare(backend: str, op: str, dtype: DType, got, expected, inputs) -> None:
    rtol, atol = (0.0, 0.0) if op in EXACT or not dtype.is_inexact else tolerance([dtype.numpy])
    assert_close(got, expected, f"{op}({dtype.name}) on backend {backend!r} against the "
                 "scalar specification", rtol, atol, zero_signs=True, inputs=inputs)  # fmt: skip


@pytest.mark.parametrize(("op", "dtype", "rule"), _cases(UNARY))
def test_unary_matches_specification(op: str, dtype: DType, rule: str, backend: str) -> None:
    if dtype not in get_backend(backend).dtypes:
        pytest.skip(f"backend {backend!r} does not declare {dtype.name}")
    x = grid(dtype)
    out_dtype = _out_dtype(rule, dtype)
    expected = scalar.evaluate(op, out_dtype.numpy, x)
    _compare(backend, op, dtype, _run(backend, op, out_dtype, x), expected, (x,))


@pytest.mark.parametrize(("op", "dtype", "rule"), _cases(BINARY))
def test_binary_matches_specification(op: str, dtype: DType, rule: str, backend: str) -> None:
    if dtype not in get_backend(backend).dtypes:
        pytest.skip(f"backend {backend!r} does not declare {dtype.name}")
    values = grid(dtype)
    if op in ("bitwise_left_shift", "bitwise_right_shift"):
        counts = np.array([0, 1, 2, 7, 8, 31, 63, 64, 65, 100], dtype.numpy)
        pairs = list(itertools.product(values, counts[counts < np.iinfo(dtype.numpy).max]))
    else:
        pairs = list(itertools.product(values, values))
    x = np.array([p[0] for p in pairs], dtype.numpy)
    y = np.array([p[1] for p in pairs], dtype.numpy)
    out_dtype = _out_dtype(rule, dtype)
    expected = scalar.evaluate(op, out_dtype.numpy, x, y)
    _compare(backend, op, dtype, _run(backend, op, out_dtype, x, y), expected, (x, y))
