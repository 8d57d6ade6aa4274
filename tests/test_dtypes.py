"""Dtype promotion, conversion, inference and the edge cases of arithmetic."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from _util import assert_same

import mytensor as mt

B, I32, I64, F32, F64 = mt.bool_, mt.int32, mt.int64, mt.float32, mt.float64
DTYPES = [B, I32, I64, F32, F64]

# the promotion table: array API within a kind, PyTorch across kinds
PROMOTION = {
    (B, B): B, (B, I32): I32, (B, I64): I64, (B, F32): F32, (B, F64): F64,
    (I32, I32): I32, (I32, I64): I64, (I32, F32): F32, (I32, F64): F64,
    (I64, I64): I64, (I64, F32): F32, (I64, F64): F64,
    (F32, F32): F32, (F32, F64): F64,
    (F64, F64): F64,
}  # fmt: skip


def _expected(a, b):
    return PROMOTION.get((a, b)) or PROMOTION[(b, a)]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(DTYPES, DTYPES)),
                         ids=lambda d: d.name)  # fmt: skip
def test_promotion_table(a, b):
    want = _expected(a, b)
    assert mt.promote_types(a, b) is want
    assert mt.result_type(a, b) is want
    x = mt.ones(2, dtype=a)
    y = mt.ones(2, dtype=b)
    if want is B:
        assert (x & y).dtype is B
        assert (x == y).dtype is B
    else:
        out = x + y
        assert out.dtype is want
        assert out.tolist() == [2, 2]
        assert (x * y).dtype is want


@pytest.mark.parametrize(
    ("dtype", "scalar", "want"),
    [(I32, 1, I32), (I64, 1, I64), (I32, 1.5, F32), (I64, 1.5, F32), (F32, 1, F32),
     (F32, 2.5, F32), (F64, 1, F64), (F64, 2.5, F64), (I32, True, I32), (F32, True, F32)],
)  # fmt: skip
def test_python_scalars_are_weak(dtype, scalar, want):
    x = mt.tensor([1, 2], dtype=dtype)
    out = x + scalar
    assert out.dtype is want
    np.testing.assert_allclose(out.numpy(), np.array([1, 2]) + scalar)
    assert (scalar + x).dtype is want
    assert mt.result_type(x, scalar) is want


def test_int_tensor_plus_float_scalar_value():
    out = mt.tensor([1, 2]) + 1.5
    assert out.dtype is F32
    assert out.tolist() == [2.5, 3.5]


def test_bool_with_python_bool_logical_ops():
    x = mt.tensor([True, False])
    assert (x & True).dtype is B
    assert (x & True).tolist() == [True, False]
    assert (x | True).tolist() == [True, True]
    assert (x ^ True).tolist() == [False, True]
    assert (~x).tolist() == [False, True]
    assert (x + 1).dtype is I64  # an int scalar lifts bool to the default int
    with pytest.raises(TypeError, match="bool"):
        x + True


# -- astype ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "src", "dst"),
    [([1.7, -1.7, 0.5, -0.5, 2.0], F32, I64), ([1.9, -2.9], F64, I32),
     ([0.0, -0.0, 0.1, float("nan"), -3.0], F32, B), ([0, 3, -1], I64, B),
     ([True, False], B, F32), ([2**40 + 1], I64, F64), ([1.5], F64, F32), ([7, -7], I64, I32)],
)  # fmt: skip
def test_astype_matches_numpy(values, src, dst):
    a = np.array(values, dtype=src.numpy)
    out = mt.tensor(a).astype(dst)
    assert out.dtype is dst
    np.testing.assert_array_equal(out.numpy(), a.astype(dst.numpy))


def test_astype_aliases():
    x = mt.tensor([1.7, -1.7])
    assert x.long().tolist() == [1, -1]
    assert x.int().dtype is I32
    assert x.double().dtype is F64
    assert x.bool().tolist() == [True, True]
    assert x.to(mt.int64).tolist() == [1, -1]
    assert x.to("float64").dtype is F64
    assert mt.astype(x, "int32").tolist() == [1, -1]


# -- creation inference ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "want"),
    [([1.0, 2.0], F32), ([1, 2], I64), ([True, False], B), ([1, 2.5], F32), (3, I64),
     (3.0, F32), (True, B), (np.array([1.0]), F64), (np.array([1.0], np.float32), F32),
     (np.array([1], np.int32), I32), (np.array([1], np.int64), I64), (np.float64(2.0), F64),
     ([[1, 2], [3, 4]], I64), (np.array([1], np.int16), mt.int16),
     (np.array([1], np.uint8), mt.uint8)],
)  # fmt: skip
def test_creation_dtype_inference(data, want):
    t = mt.tensor(data)
    assert t.dtype is want
    np.testing.assert_array_equal(t.numpy(), np.asarray(data).astype(want.numpy))


def test_creation_explicit_dtype_and_defaults():
    assert mt.tensor([1, 2], dtype=mt.float64).dtype is F64
    assert mt.zeros(2).dtype is F32
    assert mt.ones(2, dtype=mt.int32).dtype is I32
    assert mt.full((2,), 7).dtype is I64
    assert mt.full((2,), 7.0).dtype is F32
    assert mt.full((2,), True).dtype is B
    assert mt.arange(3).dtype is I64
    assert mt.arange(0.0, 1.0, 0.5).dtype is F32
    assert mt.tensor(mt.tensor([1.0], dtype=F64)).dtype is F64
    with pytest.raises(TypeError, match="unsupported dtype"):
        mt.zeros(2, dtype="float128")
    with pytest.raises(TypeError, match="backend 'minimal' does not support dtype complex64"):
        mt.zeros(2, dtype="complex64", backend="minimal")


# -- division and friends --------------------------------------------------------------------
def test_int_division_is_float32():
    out = mt.tensor([1, 2, 7]) / mt.tensor([2, 4, 2])
    assert out.dtype is F32
    assert out.tolist() == [0.5, 0.5, 3.5]
    assert (mt.tensor([3], dtype=I32) / 2).dtype is F32
    assert (mt.tensor([3.0], dtype=F64) / 2).dtype is F64


FLOOR_PAIRS = [(a, b) for a in (7, -7, 6, -6, 0) for b in (3, -3, 2, -2)]


@pytest.mark.parametrize("dtype", [I32, I64])
def test_floor_div_and_mod_ints_like_python(dtype):
    a = mt.tensor([p[0] for p in FLOOR_PAIRS], dtype=dtype)
    b = mt.tensor([p[1] for p in FLOOR_PAIRS], dtype=dtype)
    assert (a // b).dtype is dtype
    assert (a // b).tolist() == [x // y for x, y in FLOOR_PAIRS]
    assert (a % b).tolist() == [x % y for x, y in FLOOR_PAIRS]
    assert (a % 3).tolist() == [x % 3 for x, _ in FLOOR_PAIRS]
    assert (a // -2).tolist() == [x // -2 for x, _ in FLOOR_PAIRS]


@pytest.mark.parametrize("dtype", [F32, F64])
def test_floor_div_and_mod_floats_like_python(dtype):
    pairs = [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-7.5, -2.0), (5.0, 2.5), (-1.0, 3.0)]
    a = mt.tensor([p[0] for p in pairs], dtype=dtype)
    b = mt.tensor([p[1] for p in pairs], dtype=dtype)
    np.testing.assert_allclose((a // b).numpy(), [x // y for x, y in pairs])
    np.testing.assert_allclose((a % b).numpy(), [x % y for x, y in pairs], rtol=1e-6)


def test_integer_pow():
    base = mt.tensor([2, -2, 1, -1, 0, 3])
    assert (base**2).tolist() == [4, 4, 1, 1, 0, 9]
    assert (base**2).dtype is I64
    # a negative exponent truncates 1 / a**n toward zero: 0 unless |a| == 1
    assert (base ** mt.tensor(-1)).tolist() == [0, 0, 1, -1, 0, 0]
    assert (base ** mt.tensor(-2)).tolist() == [0, 0, 1, 1, 0, 0]
    assert (base**-3).tolist() == [0, 0, 1, -1, 0, 0]
    assert (mt.tensor([2, 3]) ** 0.5).dtype is F32
    assert (2 ** mt.tensor([0, 3, 10])).tolist() == [1, 8, 1024]


# -- IEEE edge cases ----------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy_ref", "minimal"])
def test_ieee_edge_cases(backend):
    def t(values, dtype=F32):
        return mt.tensor(values, dtype=dtype, backend=backend)

    assert math.isnan(t([-1.0]).sqrt().item())
    assert t([1.0, -1.0]).__truediv__(0.0).tolist() == [math.inf, -math.inf]
    assert math.isnan((t([0.0]) / 0.0).item())
    neg_zero = -t([0.0])
    assert neg_zero.item() == 0.0
    assert math.copysign(1.0, neg_zero.item()) == -1.0
    assert math.copysign(1.0, mt.neg(t([0.0])).item()) == -1.0
    assert math.isnan(t([1.0, float("nan"), 3.0]).max().item())
    assert math.isnan(t([1.0, float("nan"), 3.0]).min().item())
    assert math.isnan(mt.maximum(t([1.0]), t([float("nan")])).item())
    assert t([1.0, float("nan"), 5.0, float("nan")]).argmax().item() == 1
    assert t([1.0, float("nan"), -5.0, float("nan")]).argmin().item() == 1
    assert t([[0.0, 2.0], [float("nan"), 1.0]]).argmax(dim=0).tolist() == [1, 0]
    assert t([0.0]).log().item() == -math.inf
    assert (t([1.0, -1.0]) / t([0.0, 0.0])).tolist() == [math.inf, -math.inf]
    assert t([float("nan"), 1.0]).isnan().tolist() == [True, False]
    assert t([float("inf"), 1.0, float("nan")]).isfinite().tolist() == [False, True, False]
    assert mt.exp(t([1000.0])).item() == math.inf
    assert t([-1000.0, 1000.0]).sigmoid().tolist() == [0.0, 1.0]


def test_integer_division_by_zero_does_not_crash():
    a = mt.tensor([5, -5])
    (a // 0).tolist()
    (a % 0).tolist()
    assert (a / 0).tolist() == [math.inf, -math.inf]


@pytest.mark.parametrize("dtype", [I32, I64, F32, F64])
def test_sum_accumulates_ints_in_int64(dtype):
    x = mt.tensor([1, 2, 3], dtype=dtype)
    out = x.sum()
    assert out.dtype is (I64 if dtype.kind == "int" else dtype)
    assert out.item() == 6
    assert mt.tensor([True, True, False]).sum().dtype is I64
    assert mt.tensor([True, True, False]).sum().item() == 2


def test_float_only_ops_promote_ints():
    out = mt.tensor([1, 4]).sqrt()
    assert out.dtype is F32
    assert out.tolist() == [1.0, 2.0]
    assert mt.tensor([1, 4], dtype=F64).sqrt().dtype is F64
    with pytest.raises(TypeError, match="mean"):
        mt.tensor([1, 2]).mean()
    assert_same(mt.tensor([0, 1]).exp(), np.exp(np.array([0, 1], np.float32)))
