"""Every elementwise function of the array API standard (2024.12): its signature against
array_api_strict, its values against numpy 2.x (which follows the standard's special
cases) on hypothesis-drawn inputs with NaN, +-inf and +-0.0, on every installed backend,
in each dtype the function takes that the backend supports; Python scalars as operands;
the operators; and gradients."""

from __future__ import annotations

import inspect
import math
import warnings

import array_api_strict as xp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mytensor as mt
from mytensor.conformance.checks import call_reference
from mytensor.core.dtypes import DType, real_dtype
from mytensor.core.ops import OPS

xp.set_array_api_strict_flags(api_version="2024.12")

UNARY = [
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "bitwise_invert", "ceil", "conj",
    "cos", "cosh", "exp", "expm1", "floor", "imag", "isfinite", "isinf", "isnan", "log",
    "log1p", "log2", "log10", "logical_not", "negative", "positive", "real", "reciprocal",
    "round", "sign", "signbit", "sin", "sinh", "square", "sqrt", "tan", "tanh", "trunc"
]  # fmt: skip
BINARY = [
    "add", "atan2", "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "copysign", "divide", "equal", "floor_divide", "greater", "greater_equal",
    "hypot", "less", "less_equal", "logaddexp", "logical_and", "logical_or", "logical_xor",
    "maximum", "minimum", "multiply", "nextafter", "not_equal", "pow", "remainder", "subtract"
]  # fmt: skip
BACKENDS = ["numpy_ref", "numba_cpu", "minimal"]
SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 0.5, -0.5, 1.0, -1.0, 2.5, 1e30, -1e-30]
EXAMPLES = settings(max_examples=12, deadline=None, derandomize=True, database=None)


def _record(name: str):
    func = getattr(mt, name)
    return next(r for r in OPS.values() if r.func is func)


def signature_params(fn) -> list[tuple]:
    """(name, kind, default) of each parameter: what the standard's signatures fix."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", [*UNARY, *BINARY, "clip", "where"])
def test_signature_matches_the_standard(name):
    ours = signature_params(getattr(mt, name))
    if name == "where":  # x1 and x2 may be left out for PyTorch's where(condition)
        assert [p[2] for p in ours[1:]] == [None, None]
        ours = [ours[0]] + [(n, kind, inspect.Parameter.empty) for n, kind, _ in ours[1:]]
    assert ours == signature_params(getattr(xp, name))


# -- values against numpy -------------------------------------------------------------------
def _real_values(dtype: DType):
    if dtype.kind == "bool":
        return st.booleans()
    if dtype.kind == "uint":
        return st.integers(0, 9)
    if dtype.kind == "int":
        return st.integers(-9, 9)
    width = 32 if dtype.bits == 32 else 64
    return st.one_of(st.sampled_from(SPECIALS), st.floats(-10, 10, width=width))


def _values(dtype: DType):
    if dtype.kind == "complex":
        part = _real_values(real_dtype(dtype))
        return st.builds(complex, part, part)
    return _real_values(dtype)


@st.composite
def _array(draw, dtype: DType, shape: tuple[int, ...]):
    size = math.prod(shape)
    values = draw(st.lists(_values(dtype), min_size=size, max_size=size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1e30 in float32 is inf: still a fine input
        return np.array(values, dtype=dtype.numpy).reshape(shape)


def _supported(name: str, backend: str) -> list[DType]:
    have = mt.__array_namespace_info__().dtypes(device=backend).values()
    return [d for d in _record(name).dtypes if d in have]


def _fix_operands(name: str, dtype: DType, arrays: list[np.ndarray]) -> None:
    """Keep integer inputs where the standard defines the result (and numpy agrees)."""
    if dtype.kind not in ("int", "uint"):
        return
    if name in ("floor_divide", "remainder"):
        arrays[1][arrays[1] == 0] = 1
    if name == "pow":
        arrays[1] = np.abs(arrays[1]) % 4
    if name.startswith("bitwise_") and name.endswith("shift"):
        arrays[1] = np.abs(arrays[1]) % dtype.bits


def _assert_matches(got: np.ndarray, expected: np.ndarray, context: str) -> None:
    assert got.shape == expected.shape, f"{context}: shape {got.shape} vs {expected.shape}"
    if got.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected, err_msg=context)
        return
    rtol = 1e-5 if got.dtype in (np.float32, np.complex64) else 1e-12
    for part in (np.real, np.imag):
        g, e = part(got).astype(np.float64), part(expected).astype(np.float64)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(e), err_msg=f"{context}: NaNs")
        both = ~np.isnan(e)
        np.testing.assert_allclose(g[both], e[both], rtol=rtol, atol=0, err_msg=context)
        zeros = both & (e == 0)
        np.testing.assert_array_equal(np.signbit(g[zeros]), np.signbit(e[zeros]),
                                      err_msg=f"{context}: the sign of zero")  # fmt: skip


def _check_dtype(got: mt.Tensor, expected: np.ndarray, inputs_inexact: bool, context: str):
    if inputs_inexact:
        assert got.dtype.numpy == expected.dtype, (
            f"{context}: dtype {got.dtype} vs {expected.dtype}"
        )
    else:  # integer inputs of float functions compute in float32 (PyTorch), numpy in float64
        assert got.dtype.numpy.kind == expected.dtype.kind, f"{context}: dtype {got.dtype}"


def _reference(name: str, *args):
    """numpy's function (the op record's reference: numpy, plus the standard's special
    cases where numpy departs from them, for floor_divide and complex expm1)."""
    return call_reference(_record(name).ref, *args)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", UNARY)
@EXAMPLES
@given(data=st.data())
def test_unary_matches_numpy(name, backend, data):
    dtype = data.draw(st.sampled_from(_supported(name, backend)), label="dtype")
    shape = data.draw(st.sampled_from([(), (3,), (2, 3)]), label="shape")
    x = data.draw(_array(dtype, shape), label="x")
    got = getattr(mt, name)(mt.tensor(x, dtype, backend=backend))
    expected = _reference(name, x)
    context = f"{name}({x!r}) on {backend}"
    assert got.backend == backend
    _check_dtype(got, expected, dtype.is_inexact or dtype.kind == "bool", context)
    _assert_matches(got.numpy(), expected, context)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", BINARY)
@EXAMPLES
@given(data=st.data())
def test_binary_matches_numpy(name, backend, data):
    dtype = data.draw(st.sampled_from(_supported(name, backend)), label="dtype")
    shapes = data.draw(st.sampled_from([((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)),
                                        ((0, 3), (3,))]), label="shapes")  # fmt: skip
    arrays = [data.draw(_array(dtype, s), label=f"x{i}") for i, s in enumerate(shapes)]
    _fix_operands(name, dtype, arrays)
    operands: list = [mt.tensor(a, dtype, backend=backend) for a in arrays]
    scalar = data.draw(st.sampled_from([None, 0, 1]), label="scalar operand")
    if scalar is not None:  # a Python scalar of the dtype's kind in place of one operand
        value = arrays[scalar].reshape(-1)[:1]
        value = value[0].item() if value.size else (dtype.numpy.type(1).item())
        arrays[scalar] = value
        operands[scalar] = value
    got = getattr(mt, name)(*operands)
    expected = _reference(name, *arrays)
    context = f"{name}({arrays[0]!r}, {arrays[1]!r}) on {backend}"
    _check_dtype(got, expected, name != "divide" or dtype.is_inexact, context)
    _assert_matches(got.numpy(), expected, context)


@pytest.mark.parametrize("backend", BACKENDS)
@EXAMPLES
@given(data=st.data())
def test_clip_matches_numpy(backend, data):
    dtype = data.draw(st.sampled_from([mt.float32, mt.float64, mt.int32]), label="dtype")
    x = data.draw(_array(dtype, (5,)), label="x")
    low = data.draw(st.one_of(st.none(), st.integers(-3, 0)), label="min")
    high = data.draw(st.one_of(st.none(), st.integers(1, 4)), label="max")
    got = mt.clip(mt.tensor(x, dtype, backend=backend), min=low, max=high)
    assert got.dtype is dtype
    _assert_matches(got.numpy(), np.clip(x, low, high), f"clip({x}, {low}, {high})")


# -- the dtype rules ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda: mt.floor(mt.ones(2, dtype=mt.complex64)),
      r"floor\(\): not defined for a tensor of dtype complex64 \(it takes signed integer"),
     (lambda: mt.bitwise_and(mt.ones(2), mt.ones(2)), r"bitwise_and\(\): .* float32"),
     (lambda: mt.bitwise_left_shift(mt.ones(2, dtype=mt.bool), mt.ones(2, dtype=mt.bool)),
      r"bitwise_left_shift\(\).*bool"),
     (lambda: mt.less(mt.ones(2, dtype=mt.complex128), 1.0), r"less|lt"),
     (lambda: mt.atan2(mt.ones(2, dtype=mt.complex64), 1.0), r"atan2\(\).*real / imag / abs"),
     (lambda: mt.positive(mt.ones(2, dtype=mt.bool)), r"positive\(\): .* bool")],
)  # fmt: skip
def test_functions_refuse_dtypes_the_standard_excludes(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_abs_of_complex_is_real_and_real_imag_conj():
    z = mt.tensor(np.array([3 + 4j, -1 - 0j]), mt.complex128)
    assert mt.abs(z).dtype is mt.float64 and mt.abs(z).tolist() == [5.0, 1.0]
    assert mt.real(z).tolist() == [3.0, -1.0] and mt.imag(z).tolist() == [4.0, -0.0]
    assert mt.conj(z).tolist() == [3 - 4j, -1 + 0j]
    x = mt.tensor([1.5, -2.0])
    assert mt.real(x).tolist() == [1.5, -2.0] and mt.imag(x).tolist() == [0.0, 0.0]


def test_bool_bitwise_ops_are_logical():
    a, b = mt.tensor([True, True, False]), mt.tensor([True, False, False])
    assert (a & b).tolist() == [True, False, False] and (a | b).tolist() == [True, True, False]
    assert (a ^ b).tolist() == [False, True, False] and (~a).tolist() == [False, False, True]


# -- operators ------------------------------------------------------------------------------
_OPERATORS = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
    "floor_divide": lambda a, b: a // b, "remainder": lambda a, b: a % b,
    "pow": lambda a, b: a ** b, "bitwise_and": lambda a, b: a & b,
    "bitwise_or": lambda a, b: a | b, "bitwise_xor": lambda a, b: a ^ b,
    "bitwise_left_shift": lambda a, b: a << b, "bitwise_right_shift": lambda a, b: a >> b,
}  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(_OPERATORS))
def test_operators_reflected_and_in_place(name, backend):
    op = _OPERATORS[name]
    a_np, b_np = np.array([7, -6, 5, 0], np.int32), np.array([2, 3, 1, 2], np.int32)
    a, b = mt.tensor(a_np, backend=backend), mt.tensor(b_np, backend=backend)
    np.testing.assert_array_equal(op(a, b).numpy(), op(a_np, b_np))
    np.testing.assert_array_equal(op(7, b).numpy(), op(7, b_np))  # reflected
    np.testing.assert_array_equal(op(a, 2).numpy(), op(a_np, 2))
    target, target_np = a.clone(), a_np.copy()
    before = target
    target = _in_place(name, target, b)
    assert target is before
    np.testing.assert_array_equal(target.numpy(), op(target_np, b_np))


def _in_place(name, target, other):
    dunder = {"add": "__iadd__", "subtract": "__isub__", "multiply": "__imul__",
              "floor_divide": "__ifloordiv__", "remainder": "__imod__", "pow": "__ipow__",
              "bitwise_and": "__iand__", "bitwise_or": "__ior__", "bitwise_xor": "__ixor__",
              "bitwise_left_shift": "__ilshift__",
              "bitwise_right_shift": "__irshift__"}[name]  # fmt: skip
    return getattr(target, dunder)(other)


def test_unary_operators():
    x = mt.tensor([1, -2], dtype=mt.int8)
    assert (~x).tolist() == [-2, 1] and (-x).tolist() == [-1, 2] and abs(x).tolist() == [1, 2]
    assert (+x).tolist() == [1, -2] and (+x) is not x


def test_true_division_in_place_keeps_a_float_dtype():
    x = mt.tensor([1.0, 2.0], dtype=mt.float64)
    x /= 2
    assert x.dtype is mt.float64 and x.tolist() == [0.5, 1.0]


# -- gradients ------------------------------------------------------------------------------
DIFFERENTIABLE = [
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "exp", "expm1",
    "log", "log1p", "log2", "log10", "negative", "reciprocal", "sin", "sinh", "sqrt", "tan",
    "tanh", "real", "conj", "add", "subtract", "multiply", "divide", "pow", "maximum",
    "minimum", "remainder", "atan2", "copysign", "hypot", "logaddexp", "positive", "square",
    "clip"
]  # fmt: skip


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_differentiable_functions_are_gradchecked_by_the_conformance_suite(name):
    assert _record(name).grad, f"{name}'s record does not ask for gradient checks"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_few_gradients_by_formula(backend):
    a = mt.tensor([0.5, -1.5], dtype=mt.float64, backend=backend, requires_grad=True)
    b = mt.tensor([2.0, 0.25], dtype=mt.float64, backend=backend, requires_grad=True)
    (mt.atan2(a, b) + mt.hypot(a, b) + mt.logaddexp(a, b)).sum().backward()
    an, bn = a.numpy(), b.numpy()
    r2 = an**2 + bn**2
    lse = np.logaddexp(an, bn)
    np.testing.assert_allclose(a.grad.numpy(), bn / r2 + an / np.sqrt(r2) + np.exp(an - lse))
    np.testing.assert_allclose(b.grad.numpy(), -an / r2 + bn / np.sqrt(r2) + np.exp(bn - lse))
