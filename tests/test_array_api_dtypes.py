"""The array API's 13 dtypes: promotion, the dtype functions, astype, and what a backend
that lacks a dtype says about it. array_api_strict is the reference for the standard's
rules; numpy for values."""

from __future__ import annotations

import itertools
import pickle

import array_api_strict as xp
import numpy as np
import pytest
from test_array_api_elementwise import signature_params

import mytensor as mt
from mytensor.core.dtypes import STANDARD_DTYPES, UnsupportedDTypeError

xp.set_array_api_strict_flags(api_version="2024.12")

NAMES = [d.name for d in STANDARD_DTYPES]
PAIRS = list(itertools.product(NAMES, NAMES))
KINDS = ["bool", "signed integer", "unsigned integer", "integral", "real floating",
         "complex floating", "numeric"]  # fmt: skip
HOST_BACKENDS = ["numpy_ref", "numba_cpu"]


def _strict(name: str):
    return getattr(xp, name)


def _strict_promotion(a: str, b: str):
    try:
        return xp.result_type(_strict(a), _strict(b)).__str__().rsplit(".", 1)[-1]
    except TypeError:
        return None


def test_the_standard_dtypes_are_exported():
    for name in NAMES:
        dtype = getattr(mt, name)
        assert dtype.name == name and dtype.numpy == np.dtype(name)
    assert mt.bool is mt.bool_ and "bool" in mt.__all__ and "bool_" in mt.__all__
    assert mt.tensor([0, 2]).bool().tolist() == [False, True]  # the torch-style method stays


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_promotion_follows_the_standard_where_it_defines_one(a, b):
    want = _strict_promotion(a, b)
    da, db = getattr(mt, a), getattr(mt, b)
    if want is not None:
        assert mt.result_type(da, db) is getattr(mt, want)
        assert mt.promote_types(da, db) is getattr(mt, want)
        return
    kinds = {da.kind, db.kind}
    if kinds == {"int", "uint"}:  # uint64 with a signed integer: no dtype holds both
        with pytest.raises(TypeError, match=r"uint64.*astype"):
            mt.result_type(da, db)
        return
    # across kinds mytensor keeps PyTorch's rule: the operand of the higher kind wins
    rank = {"bool": 0, "int": 1, "uint": 1, "float": 2, "complex": 3}
    higher = da if rank[da.kind] > rank[db.kind] else db
    assert mt.result_type(da, db) is higher


def test_promotion_of_tensors_matches_the_table():
    for a, b in [("uint8", "int8"), ("uint32", "int16"), ("float32", "complex128"),
                 ("float64", "complex64"), ("int8", "int16"), ("uint16", "uint8")]:  # fmt: skip
        x = mt.ones(2, dtype=a) + mt.ones(2, dtype=b)
        assert x.dtype is mt.result_type(getattr(mt, a), getattr(mt, b))
        np.testing.assert_array_equal(x.numpy(), np.ones(2, a) + np.ones(2, b))
    with pytest.raises(TypeError, match=r"add\(\): no dtype holds every value of both uint64"):
        mt.ones(2, dtype=mt.uint64) + mt.ones(2, dtype=mt.int8)


@pytest.mark.parametrize("backend", [*HOST_BACKENDS])
def test_uint64_compares_exactly_with_signed_integers(backend):
    u = np.array([0, 5, 2**63 + 1, 2**64 - 1, 3], np.uint64)
    s = np.array([-1, 5, 7, -(2**63), 3], np.int64)
    x, y = mt.tensor(u, mt.uint64, backend=backend), mt.tensor(s, mt.int64, backend=backend)
    for name in ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"):
        ours, ref = getattr(mt, name), getattr(np, name)
        np.testing.assert_array_equal(ours(x, y).numpy(), ref(u, s), err_msg=name)
        np.testing.assert_array_equal(ours(y[:1], x).numpy(), ref(s[:1], u), err_msg=name)


@pytest.mark.parametrize(
    ("dtype", "scalar", "want"),
    [("int8", 3, "int8"), ("uint8", 3, "uint8"), ("uint16", 2.5, "float32"),
     ("float32", 1j, "complex64"), ("float64", 1j, "complex128"), ("complex64", 2.0, "complex64"),
     ("complex128", 1, "complex128"), ("int16", 1j, "complex64"), ("bool", 1j, "complex64"),
     ("uint32", True, "uint32")],
)  # fmt: skip
def test_python_scalars_are_weak(dtype, scalar, want):
    x = mt.tensor(np.array([1, 2]).astype(dtype), dtype=dtype)
    assert mt.result_type(x, scalar) is getattr(mt, want)
    for out in (x * scalar, scalar * x):
        assert out.dtype is getattr(mt, want)
        np.testing.assert_allclose(out.numpy(), np.array([1, 2]).astype(dtype) * scalar)


def test_a_scalar_out_of_range_of_the_dtype_raises():
    with pytest.raises(OverflowError, match="300 is out of bounds for uint8"):
        mt.ones(2, dtype=mt.uint8) + 300
    with pytest.raises(OverflowError, match="-1 is out of bounds for uint16"):
        mt.ones(2, dtype=mt.uint16) * -1


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_can_cast_matches_the_standard(a, b):
    assert mt.can_cast(getattr(mt, a), getattr(mt, b)) == xp.can_cast(_strict(a), _strict(b))


def test_can_cast_takes_a_tensor():
    assert mt.can_cast(mt.ones(2, dtype=mt.int8), mt.int16)
    assert not mt.can_cast(mt.ones(2), mt.int64)


@pytest.mark.parametrize("name", NAMES)
def test_isdtype_matches_the_standard(name):
    for kind in [*KINDS, ("bool", "real floating"), ("unsigned integer", "complex floating")]:
        assert mt.isdtype(getattr(mt, name), kind) == xp.isdtype(_strict(name), kind), kind
    for other in NAMES:
        assert mt.isdtype(getattr(mt, name), getattr(mt, other)) == (name == other)


def test_isdtype_rejects_unknown_kinds():
    with pytest.raises(ValueError, match=r"unknown kind 'integer'.*'integral'"):
        mt.isdtype(mt.int8, "integer")
    with pytest.raises(TypeError, match="mytensor dtype"):
        mt.isdtype("int8", "integral")


@pytest.mark.parametrize("name", ["float32", "float64", "complex64", "complex128"])
def test_finfo(name):
    info, ref = mt.finfo(getattr(mt, name)), np.finfo(name)
    assert (info.bits, info.eps, info.max, info.min, info.smallest_normal) == (
        ref.bits,
        float(ref.eps),
        float(ref.max),
        float(ref.min),
        float(ref.smallest_normal),
    )
    assert info.dtype is mt.core.dtypes.real_dtype(getattr(mt, name))
    assert mt.finfo(mt.ones(1, dtype=name)) == info


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                                  "uint64"])  # fmt: skip
def test_iinfo(name):
    info, ref = mt.iinfo(getattr(mt, name)), np.iinfo(name)
    assert (info.bits, info.max, info.min, info.dtype) == (ref.bits, ref.max, ref.min,
                                                          getattr(mt, name))  # fmt: skip


def test_finfo_and_iinfo_refuse_the_wrong_kind():
    with pytest.raises(TypeError, match=r"finfo.*int8; use iinfo"):
        mt.finfo(mt.int8)
    with pytest.raises(TypeError, match=r"iinfo.*float32; use finfo"):
        mt.iinfo(mt.float32)


@pytest.mark.parametrize("name", ["astype", "can_cast", "finfo", "iinfo", "isdtype",
                                  "result_type"])  # fmt: skip
def test_signatures_match_the_standard(name):
    ours, theirs = signature_params(getattr(mt, name)), signature_params(getattr(xp, name))
    if name == "astype":  # array_api_strict's device default is a private sentinel
        theirs = [(n, k, None if n == "device" else d) for n, k, d in theirs]
    assert ours == theirs


def test_dtypes_are_hashable_singletons():
    assert len({mt.int8, mt.int8, mt.uint8}) == 2
    assert mt.int8 == mt.int8 and mt.int8 != mt.uint8
    for dtype in STANDARD_DTYPES:
        assert pickle.loads(pickle.dumps(dtype)) is dtype


# -- astype -------------------------------------------------------------------------------
_VALUES = np.array([0, 1, 2, 3, 100, 5])


@pytest.mark.parametrize("backend", [*HOST_BACKENDS, "minimal"])
@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_astype_matches_numpy(src, dst, backend):
    supported = mt.__array_namespace_info__().dtypes(device=backend)
    source = _VALUES.astype(src)
    if src not in supported:
        with pytest.raises(UnsupportedDTypeError, match=rf"'{backend}'.*{src}"):
            mt.tensor(source, dtype=src, backend=backend)
        return
    x = mt.tensor(source, dtype=src, backend=backend)
    if dst not in supported:
        with pytest.raises(UnsupportedDTypeError, match=f"'{backend}'.*{dst}.*supports"):
            mt.astype(x, getattr(mt, dst))
        return
    if src.startswith("complex") and not dst.startswith("complex") and dst != "bool":
        with pytest.raises(TypeError, match="imaginary part"):
            mt.astype(x, getattr(mt, dst))
        return
    out = mt.astype(x, getattr(mt, dst))
    assert out.dtype is getattr(mt, dst) and out.backend == backend
    np.testing.assert_array_equal(out.numpy(), source.astype(dst))


def test_astype_copy_and_device():
    x = mt.ones(3, dtype=mt.int16)
    assert mt.astype(x, mt.int16, copy=False) is x
    copied = mt.astype(x, mt.int16)
    assert copied is not x and copied.tolist() == [1, 1, 1]
    moved = mt.astype(x, mt.float64, device=mt.Device("numba_cpu"))
    assert moved.backend == "numba_cpu" and moved.dtype is mt.float64
    assert x.astype(mt.uint8).dtype is mt.uint8  # the method form


# -- a backend that lacks dtypes --------------------------------------------------------------
def test_unsupported_dtype_errors_name_backend_dtype_and_fix():
    message = r"backend 'minimal' does not support dtype uint8 \(it supports bool, int32, " \
              r"int64, float32, float64\); use a backend that does.*astype"  # fmt: skip
    with pytest.raises(UnsupportedDTypeError, match=message):
        mt.zeros(3, dtype=mt.uint8, backend="minimal")
    x = mt.tensor([1, 2], dtype=mt.int32, backend="minimal")
    with pytest.raises(UnsupportedDTypeError, match="complex64"):
        x * 1j  # the promoted dtype
    with pytest.raises(UnsupportedDTypeError, match="int8"):
        mt.from_dlpack(np.ones(2, np.int8), device="minimal")
    with pytest.raises(TypeError, match="'minimal' does not support dtype uint16"):
        mt.tensor([1], dtype=mt.uint16, backend="numpy_ref").to("minimal")


def test_a_failed_call_leaves_the_tensor_unchanged():
    x = mt.tensor([1, 2], dtype=mt.int32, backend="minimal")
    with pytest.raises(UnsupportedDTypeError):
        x += 1j
    with pytest.raises(UnsupportedDTypeError):
        x[0] = 2j
    assert x.tolist() == [1, 2] and x.dtype is mt.int32


def test_namespace_info_lists_each_backends_dtypes():
    info = mt.__array_namespace_info__()
    assert list(info.dtypes(device="numpy_ref")) == NAMES
    assert list(info.dtypes(device="minimal")) == ["bool", "int32", "int64", "float32", "float64"]
    assert list(info.dtypes(device="numpy_ref", kind="unsigned integer")) == [
        "uint8", "uint16", "uint32", "uint64"]  # fmt: skip
    assert list(info.dtypes(device="minimal", kind=("complex floating", "bool"))) == ["bool"]
