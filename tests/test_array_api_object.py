"""The array object of the array API standard: the namespace protocol and inspection
namespace, device and to_device, attributes, scalar conversions, and __getitem__ /
__setitem__ against numpy on hypothesis-drawn keys, on every installed backend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mytensor as mt

BACKENDS = ["numpy_ref", "numba_cpu", "minimal"]
EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True, database=None)


# -- the namespace ----------------------------------------------------------------------------
def test_array_namespace():
    x = mt.ones(2)
    assert x.__array_namespace__() is mt
    assert x.__array_namespace__(api_version="2024.12") is mt
    assert x.__array_namespace__(api_version="2023.12") is mt
    assert mt.__array_api_version__ == "2024.12"
    with pytest.raises(ValueError, match=r"api_version '2030\.12' is not supported"):
        x.__array_namespace__(api_version="2030.12")


def test_namespace_info():
    info = mt.__array_namespace_info__()
    assert info.capabilities() == {"boolean indexing": True, "data-dependent shapes": True,
                                   "max dimensions": None}  # fmt: skip
    assert info.default_device() == mt.Device("numpy_ref")
    assert set(BACKENDS) <= {d.backend for d in info.devices()}
    defaults = info.default_dtypes(device=mt.Device("minimal"))
    assert defaults == {"real floating": mt.float32, "complex floating": mt.complex64,
                        "integral": mt.int64, "indexing": mt.int64}  # fmt: skip
    with mt.use_backend("numba_cpu"):
        assert info.default_device() == mt.Device("numba_cpu")
    with pytest.raises(TypeError, match="device must be"):
        info.dtypes(device=3.5)
    for name in ("capabilities", "default_device", "default_dtypes", "devices", "dtypes"):
        assert getattr(mt, name)() == getattr(info, name)()  # also top-level names


def test_the_standard_constants():
    assert (mt.e, mt.pi, mt.inf, mt.newaxis) == (math.e, math.pi, math.inf, None)
    assert math.isnan(mt.nan)


# -- device -----------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_device_and_to_device(backend):
    x = mt.tensor([1.0, 2.0], backend=backend)
    assert x.device == mt.Device(backend) and hash(x.device) == hash(mt.Device(backend))
    assert x.to_device(x.device) is x
    other = "numpy_ref" if backend != "numpy_ref" else "minimal"
    y = x.to_device(mt.Device(other))
    assert y.device == mt.Device(other) and y.tolist() == [1.0, 2.0]
    assert x.to_device(other).backend == other  # a backend name works too
    assert mt.zeros(2, backend=x.device.backend).device == x.device
    with pytest.raises(ValueError, match="stream"):
        x.to_device(x.device, stream=1)


def test_to_device_is_differentiable():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x.to_device(mt.Device("minimal")) * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# -- attributes ---------------------------------------------------------------------------
def test_attributes():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = mt.tensor(a)
    assert (x.ndim, x.size, x.shape, x.dtype) == (3, 24, (2, 3, 4), mt.float64)
    np.testing.assert_array_equal(x.mT.numpy(), np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(x[0].T.numpy(), a[0].T)
    with pytest.raises(ValueError, match="mT"):
        _ = mt.ones(3).mT


# -- scalar conversions -------------------------------------------------------------------
def test_scalar_conversions():
    assert bool(mt.tensor([0.5])) is True and int(mt.tensor(3.9)) == 3
    assert float(mt.tensor(2, dtype=mt.int8)) == 2.0
    assert complex(mt.tensor(1.5)) == 1.5 + 0j
    assert complex(mt.tensor(np.array(1 + 2j), mt.complex64)) == 1 + 2j
    assert [10, 20, 30][mt.tensor(1, dtype=mt.uint8)] == 20
    assert math.isnan(float(mt.tensor(math.nan)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [(lambda: bool(mt.ones(2)), ValueError, "ambiguous"),
     (lambda: int(mt.ones((2, 2))), ValueError, "one element"),
     (lambda: float(mt.tensor(np.array([1j]), mt.complex64)), TypeError, "complex64"),
     (lambda: int(mt.tensor(np.array([1j]), mt.complex128)), TypeError, "complex128"),
     (lambda: [1, 2][mt.tensor(1.0)], TypeError, "float32"),
     (lambda: [1, 2][mt.tensor(True)], TypeError, "bool"),
     (lambda: int(mt.tensor(math.inf)), OverflowError, None),
     (lambda: int(mt.tensor(math.nan)), ValueError, None)],
)  # fmt: skip
def test_scalar_conversion_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_matmul_operators():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    x, y = mt.tensor(a), mt.tensor(b)
    np.testing.assert_allclose((x @ y).numpy(), a @ b)
    np.testing.assert_allclose(y.__rmatmul__(x).numpy(), a @ b)
    square = mt.tensor(np.eye(3) * 2.0)
    target = mt.tensor(a)
    target @= square
    np.testing.assert_allclose(target.numpy(), a @ (np.eye(3) * 2.0))


# -- indexing -----------------------------------------------------------------------------
@st.composite
def _keys(draw, shape: tuple[int, ...]):
    """A numpy-style key for `shape`: ints, slices, None, an ellipsis, or one advanced
    index (a boolean mask or integer arrays) among basic ones."""
    kind = draw(st.sampled_from(["basic", "mask", "integer arrays"]))
    if kind == "mask" and shape:
        return draw(st.lists(st.booleans(), min_size=math.prod(shape),
                             max_size=math.prod(shape))), "mask"  # fmt: skip
    items: list = []
    for size in shape:
        choice = draw(st.sampled_from(["int", "slice", "all", "array"]))
        if choice == "int" and size:
            items.append(draw(st.integers(-size, size - 1)))
        elif choice == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
            step = draw(st.one_of(st.none(), st.sampled_from([1, 2, -1, -3])))
            items.append(slice(draw(bound), draw(bound), step))
        elif choice == "array" and size and kind == "integer arrays":
            items.append(draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=3)))
        else:
            items.append(slice(None))
    arrays = [i for i in items if isinstance(i, list)]
    if arrays:  # equal lengths, so they broadcast
        n = min(len(a) for a in arrays)
        items = [i[:n] if isinstance(i, list) else i for i in items]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    if draw(st.booleans()) and items:
        start = draw(st.integers(0, len(items) - 1))
        stop = draw(st.integers(start, len(items)))
        if not any(isinstance(i, list) for i in items[start:stop]):
            items[start:stop] = [Ellipsis]
    return tuple(items), "tuple"


def _as_keys(key, kind, shape, backend):
    """The same key for numpy and for mytensor (index arrays become tensors)."""
    if kind == "mask":
        mask = np.array(key, bool).reshape(shape)
        return mask, mt.tensor(mask, backend=backend)
    ours = tuple(mt.tensor(np.array(i), backend=backend) if isinstance(i, list) else i
                 for i in key)  # fmt: skip
    theirs = tuple(np.array(i) if isinstance(i, list) else i for i in key)
    return theirs, ours


_shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


@pytest.mark.parametrize("backend", BACKENDS)
@EXAMPLES
@given(data=st.data())
def test_getitem_matches_numpy(backend, data):
    shape = data.draw(_shapes, label="shape")
    a = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    key, kind = data.draw(_keys(shape), label="key")
    np_key, mt_key = _as_keys(key, kind, shape, backend)
    got = mt.tensor(a, backend=backend)[mt_key]
    expected = a[np_key]
    assert got.shape == expected.shape, f"x[{key}] on shape {shape}"
    np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("backend", BACKENDS)
@EXAMPLES
@given(data=st.data())
def test_setitem_matches_numpy(backend, data):
    shape = data.draw(_shapes, label="shape")
    a = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    key, kind = data.draw(_keys(shape), label="key")
    np_key, mt_key = _as_keys(key, kind, shape, backend)
    slot = a[np_key].shape
    if data.draw(st.booleans(), label="scalar value"):
        value_np, value = -1.5, -1.5
    else:
        value_np = -np.arange(math.prod(slot), dtype=np.float64).reshape(slot) - 100
        value = mt.tensor(value_np, backend=backend)
    x = mt.tensor(a, backend=backend)
    x[mt_key] = value
    a[np_key] = value_np
    np.testing.assert_array_equal(x.numpy(), a, err_msg=f"x[{key}] = value on shape {shape}")


def test_setitem_with_integer_arrays_is_differentiable():
    x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = mt.tensor([10.0, 20.0], requires_grad=True)
    y = x * 2.0
    y[mt.tensor([3, 0])] = v * v
    y.sum().backward()
    assert y.tolist() == [400.0, 4.0, 6.0, 100.0]
    assert x.grad.tolist() == [0.0, 2.0, 2.0, 0.0] and v.grad.tolist() == [20.0, 40.0]


def test_setitem_with_repeated_indices_keeps_the_last_write():
    x = mt.zeros(3)
    x[mt.tensor([1, 1, 2])] = mt.tensor([5.0, 6.0, 7.0])
    assert x.tolist() == [0.0, 6.0, 7.0]


def test_indexing_errors():
    x = mt.zeros(2, 3)
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 2"):
        x[5]
    with pytest.raises(IndexError, match="setitem"):
        x[mt.tensor([0, 7])] = 1.0
    with pytest.raises(ValueError, match=r"setitem\(\): shapes \(4,\) and \(2, 3\) cannot be"):
        x[mt.tensor([0, 1])] = mt.zeros(4)
