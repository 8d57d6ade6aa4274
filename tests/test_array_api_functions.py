"""The array API functions the op table cannot draw arguments for (tensor lists,
positional-only arguments, index tensors, tuple results), against numpy on
hypothesis-drawn inputs and layouts, on every installed backend, with gradients
where they are differentiable; plus the edge cases of sorting, set functions, scans
and the creation keywords."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import gradcheck
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close
from mytensor.core.device import Device
from mytensor.core.dtypes import ALL_DTYPES, NUMERIC_DTYPES

BACKENDS = [info.name for info in mt.backends() if info.status == "loaded"]
DRAWN = settings(
    max_examples=20, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
by_backend = pytest.mark.parametrize("backend", BACKENDS)
by_dtype = pytest.mark.parametrize("dtype", ALL_DTYPES, ids=[d.name for d in ALL_DTYPES])


def _input(data, backend, dtype=mt.float64, smooth=False, **shape_kw) -> S.Built:
    shape = data.draw(S.shapes(**shape_kw), label="shape")
    if smooth:
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        values = S.smooth_values(seed, dtype, shape, (-3.0, 3.0), False)
    else:
        values = data.draw(S.arrays(dtype, shape), label="values")
    return data.draw(S.laid_out(values, dtype, backend, not smooth, smooth), label="layout")


def _same(got, expected, what: str) -> None:
    if isinstance(expected, tuple | list):
        assert len(got) == len(expected), f"{what}: {len(got)} results, expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            _same(g, e, f"{what} [{i}]")
        return
    values = got.numpy()
    assert values.dtype == np.asarray(expected).dtype, f"{what}: dtype {values.dtype}"
    assert_close(values, expected, what, 1e-6, 1e-7)


def _grad(func, *tensors, what: str) -> None:
    leaves = [t.detach().astype(mt.float64).requires_grad_() for t in tensors]
    assert gradcheck(func, leaves, name=what)


# -- manipulation -------------------------------------------------------------------------
@by_backend
@by_dtype
@DRAWN
@given(data=st.data())
def test_concat(backend, dtype, data):
    first = _input(data, backend, dtype, min_rank=1, max_elements=12)
    axis = data.draw(st.sampled_from([None, *range(-first.values.ndim, first.values.ndim)]))
    pieces = [first]
    for _ in range(data.draw(st.integers(0, 2))):
        shape = list(first.values.shape)
        if axis is not None:
            shape[axis] = data.draw(st.integers(0, 3))
        values = data.draw(S.arrays(dtype, tuple(shape)))
        pieces.append(data.draw(S.laid_out(values, dtype, backend)))
    got = mt.concat([p.tensor for p in pieces], axis=axis)
    expected = np.concatenate([p.values for p in pieces], axis=axis)
    _same(got, expected, f"concat axis={axis} on {backend}")


@by_backend
@DRAWN
@given(data=st.data())
def test_manipulation_gradients(backend, data):
    x = _input(data, backend, smooth=True, min_rank=1, min_side=1, max_elements=8).tensor
    ndim = x.ndim
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    reps = tuple(data.draw(st.lists(st.integers(0, 2), max_size=3), label="reps"))
    cases = {
        "concat": lambda t: mt.concat([t, t * 2], axis=None),
        "moveaxis": lambda t: mt.moveaxis(t, 0, axis),
        "repeat": lambda t: mt.repeat(t, 2, axis=axis),
        "tile": lambda t: mt.tile(t, reps),
        "unstack": lambda t: mt.unstack(t, axis=axis)[-1],
        "broadcast_arrays": lambda t: mt.broadcast_arrays(t, mt.ones_like(t[..., :1]))[1] * t,
        "take": lambda t: mt.take(t, mt.asarray([0, -1, 0], device=backend), axis=axis),
    }
    for name, func in cases.items():
        _grad(func, x, what=f"{name} on {backend}, shape {x.shape}, axis {axis}")


@by_backend
@by_dtype
@DRAWN
@given(data=st.data())
def test_moveaxis_tile_unstack_broadcast_arrays(backend, dtype, data):
    x = _input(data, backend, dtype, min_rank=1, max_elements=12)
    a, t, ndim = x.values, x.tensor, x.values.ndim
    src = tuple(data.draw(st.permutations(range(ndim))))[: data.draw(st.integers(1, ndim))]
    dst = tuple(data.draw(st.permutations(range(-ndim, 0))))[: len(src)]
    _same(mt.moveaxis(t, src, dst), np.moveaxis(a, src, dst), f"moveaxis {src}->{dst}")
    reps = tuple(data.draw(st.lists(st.integers(0, 3), max_size=4), label="reps"))
    _same(mt.tile(t, reps), np.tile(a, reps), f"tile {reps}")
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    _same(mt.unstack(t, axis=axis), tuple(np.moveaxis(a, axis, 0)), f"unstack axis {axis}")
    other_shape = a.shape[-1:] if data.draw(st.booleans()) else (1, 1, 1)
    other = np.ones(other_shape, dtype.numpy)
    other_t = mt.asarray(other, dtype=dtype, device=backend)
    _same(mt.broadcast_arrays(t, other_t), np.broadcast_arrays(a, other), "broadcast_arrays")


@by_backend
@by_dtype
@DRAWN
@given(data=st.data())
def test_repeat(backend, dtype, data):
    x = _input(data, backend, dtype, max_elements=12)
    a = x.values
    axis = data.draw(st.sampled_from([None, *range(-a.ndim, a.ndim)]), label="axis")
    n = a.size if axis is None else a.shape[axis]
    if data.draw(st.booleans(), label="per-element counts"):
        counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
                          dtype=np.int64)  # fmt: skip
        repeats = mt.asarray(counts, device=backend)
    else:
        counts = repeats = data.draw(st.integers(0, 3), label="repeats")
    if a.ndim == 0 and axis is not None:
        return
    _same(mt.repeat(x.tensor, repeats, axis=axis), np.repeat(a, counts, axis=axis),
          f"repeat {counts} axis {axis}")  # fmt: skip


# -- indexing and searching ---------------------------------------------------------------
@by_backend
@by_dtype
@DRAWN
@given(data=st.data())
def test_take_and_take_along_axis(backend, dtype, data):
    x = _input(data, backend, dtype, min_rank=1, min_side=1, max_elements=12)
    a = x.values
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1), label="axis")
    n = a.shape[axis]
    picks = np.array(data.draw(st.lists(st.integers(-n, n - 1), max_size=5)), dtype=np.int64)
    got = mt.take(x.tensor, mt.asarray(picks, device=backend), axis=axis)
    _same(got, np.take(a, picks, axis=axis), f"take {picks} axis {axis}")
    shape = list(a.shape)
    shape[axis] = data.draw(st.integers(0, 4))
    shape = [s if k == axis % a.ndim or data.draw(st.booleans()) else 1
             for k, s in enumerate(shape)]  # fmt: skip
    index = data.draw(S.arrays(mt.int64, tuple(shape), (-n, n - 1)), label="index")
    got = mt.take_along_axis(x.tensor, mt.asarray(index, device=backend), axis=axis)
    _same(got, np.take_along_axis(a, index, axis=axis), f"take_along_axis axis {axis}")
    if dtype.kind == "float":
        _grad(lambda t: mt.take_along_axis(t, mt.asarray(index, device=backend), axis=axis),
              x.tensor, what=f"take_along_axis on {backend}")  # fmt: skip


@by_backend
@by_dtype
@DRAWN
@given(data=st.data())
def test_nonzero(backend, dtype, data):
    x = _input(data, backend, dtype, min_rank=1)
    _same(mt.nonzero(x.tensor), np.nonzero(x.values), f"nonzero on {backend}")


@by_backend
@pytest.mark.parametrize("dtype", NUMERIC_DTYPES, ids=[d.name for d in NUMERIC_DTYPES])
@DRAWN
@given(data=st.data())
def test_searchsorted(backend, dtype, data):
    seq = data.draw(S.arrays(dtype, (data.draw(st.integers(0, 8)),)), label="x1")
    queries = _input(data, backend, dtype, max_elements=8)
    side = data.draw(st.sampled_from(["left", "right"]), label="side")
    use_sorter = data.draw(st.booleans(), label="sorter")
    order = np.argsort(seq, kind="stable")
    x1 = mt.asarray(seq if use_sorter else seq[order], device=backend)
    sorter = mt.asarray(order, device=backend) if use_sorter else None
    got = mt.searchsorted(x1, queries.tensor, side=side, sorter=sorter)
    expected = np.searchsorted(seq[order], queries.values, side=side)
    _same(got, expected, f"searchsorted side={side} sorter={use_sorter} on {backend}")
    scalar = mt.searchsorted(x1, 1, side=side, sorter=sorter)
    _same(scalar, np.searchsorted(seq[order], 1, side=side), "searchsorted of a scalar")


# -- sets and sorting -----------------------------------------------------------------------
@by_backend
@by_dtype
@DRAWN
@given(data=st.data())
def test_unique(backend, dtype, data):
    x = _input(data, backend, dtype, max_elements=16)
    a = x.values
    if dtype.kind == "float" and a.size and data.draw(st.booleans(), label="NaNs"):
        a = a.copy()
        a.reshape(-1)[:: 2] = np.nan
        x = S.Built(mt.asarray(a, device=backend), a, "contiguous")
    expected = np.unique_all(a)
    got = mt.unique_all(x.tensor)
    names = ("values", "indices", "inverse_indices", "counts")
    for name in names:
        want = getattr(expected, name)
        want = want.astype(np.int64) if name != "values" else want
        _same(getattr(got, name), want.reshape(a.shape) if name == "inverse_indices" else want,
              f"unique_all().{name} on {backend}")  # fmt: skip
    assert mt.unique_counts(x.tensor)._fields == ("values", "counts")
    assert mt.unique_inverse(x.tensor)._fields == ("values", "inverse_indices")
    _same(mt.unique_values(x.tensor), expected.values, "unique_values")


@by_backend
def test_unique_nan_each_distinct_and_signed_zero_one_value(backend):
    x = mt.asarray([np.nan, 0.0, -0.0, np.nan, 1.0], device=backend)
    r = mt.unique_all(x)
    assert r.values.shape == (4,) and np.isnan(r.values.numpy()[2:]).all()
    assert r.counts.tolist() == [2, 1, 1, 1]
    assert r.inverse_indices.tolist() == [2, 0, 0, 3, 1]


@by_backend
def test_sort_is_stable_with_nan_last_and_first(backend):
    x = mt.asarray([2.0, np.nan, 1.0, 2.0, -0.0, 0.0, 1.0], device=backend)
    assert mt.argsort(x).tolist() == [4, 5, 2, 6, 0, 3, 1]
    assert mt.argsort(x, descending=True).tolist() == [1, 0, 3, 2, 6, 4, 5]
    assert mt.argsort(x, stable=False).tolist() == [4, 5, 2, 6, 0, 3, 1]
    got = mt.sort(x, descending=True).numpy()
    assert np.isnan(got[0]) and got[1:].tolist() == [2.0, 2.0, 1.0, 1.0, -0.0, 0.0]
    empty = mt.zeros((0, 3), device=backend)
    assert mt.sort(empty, axis=0).shape == (0, 3) and mt.argsort(empty).dtype is mt.int64


@by_backend
def test_sort_gradient_follows_the_permutation(backend):
    x = mt.asarray([[3.0, 1.0, 2.0], [0.5, 0.25, 4.0]], dtype=mt.float64, device=backend)
    _grad(lambda t: mt.sort(t, axis=1, descending=True) * mt.asarray([1.0, 2.0, 3.0],
          dtype=mt.float64, device=backend), x, what="sort")  # fmt: skip


# -- scans and products ---------------------------------------------------------------------
@by_backend
def test_cumulative_prod_gradient_with_zeros(backend):
    for values in ([2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 1.5], [[1.5, 0.0], [2.0, 3.0]]):
        x = mt.asarray(values, dtype=mt.float64, device=backend)
        _grad(lambda t: mt.cumulative_prod(t, axis=-1, include_initial=True), x,
              what=f"cumulative_prod of {values}")  # fmt: skip


@by_backend
@DRAWN
@given(data=st.data())
def test_tensordot(backend, data):
    left = data.draw(S.shapes(max_rank=3, max_side=3), label="x1 shape")
    k = data.draw(st.integers(0, len(left)), label="contracted")
    right = left[len(left) - k :] + data.draw(S.shapes(max_rank=2, max_side=3))
    a = data.draw(S.arrays(mt.float64, left))
    b = data.draw(S.arrays(mt.float64, right))
    x1, x2 = mt.asarray(a, device=backend), mt.asarray(b, device=backend)
    _same(mt.tensordot(x1, x2, axes=k), np.tensordot(a, b, axes=k), f"tensordot axes={k}")
    pairs = (list(range(len(left) - k, len(left))), list(range(k)))
    _same(mt.tensordot(x1, x2, axes=pairs), np.tensordot(a, b, axes=pairs), "tensordot pairs")
    _grad(lambda s, t: mt.tensordot(s, t, axes=k), x1, x2, what=f"tensordot on {backend}")


# -- creation -------------------------------------------------------------------------------
class _Named:
    backend = "numpy_ref"


@pytest.mark.parametrize("device", [None, "numpy_ref", Device("numpy_ref"), _Named()])
def test_device_keyword_accepts_devices_names_and_objects(device):
    for make in (lambda: mt.zeros((2,), device=device), lambda: mt.arange(3, device=device),
                 lambda: mt.asarray([1], device=device), lambda: mt.eye(2, device=device),
                 lambda: mt.linspace(0, 1, 3, device=device)):  # fmt: skip
        assert make().backend == "numpy_ref"
    with pytest.raises(TypeError, match=r"zeros\(\): device must be"):
        mt.zeros((2,), device=3.5)


@by_backend
def test_creation_values_match_numpy(backend):
    _same(mt.arange(0.5, 2.0, 0.25, device=backend), np.arange(0.5, 2.0, 0.25, np.float32),
          "arange")  # fmt: skip
    _same(mt.arange(5, 0, -2, device=backend), np.arange(5, 0, -2), "arange down")
    _same(mt.linspace(0, 1, 4, endpoint=False, device=backend),
          np.linspace(0, 1, 4, endpoint=False, dtype=np.float32), "linspace")  # fmt: skip
    _same(mt.eye(3, 2, k=-1, dtype=mt.int32, device=backend), np.eye(3, 2, -1, np.int32), "eye")
    x = mt.ones((2, 3), dtype=mt.int32, device=backend)
    _same(mt.full_like(x, 7), np.full((2, 3), 7, np.int32), "full_like")
    xs = [mt.arange(3, device=backend), mt.arange(2, device=backend)]
    for indexing in ("xy", "ij"):
        expected = np.meshgrid(np.arange(3), np.arange(2), indexing=indexing)
        _same(mt.meshgrid(*xs, indexing=indexing), tuple(expected), f"meshgrid {indexing}")
    m = mt.arange(12, device=backend).reshape(3, 4)
    _same(mt.tril(m, k=1), np.tril(np.arange(12).reshape(3, 4), 1), "tril")
    _same(mt.triu(m, k=-1), np.triu(np.arange(12).reshape(3, 4), -1), "triu")


def test_asarray_copy_semantics():
    x = mt.ones(3)
    assert mt.asarray(x) is x and mt.asarray(x, copy=False) is x
    assert mt.asarray(x, copy=True)._storage is not x._storage
    with pytest.raises(ValueError, match=r"asarray\(\): copy=False, but converting"):
        mt.asarray(x, dtype=mt.float64, copy=False)
    with pytest.raises(ValueError, match=r"asarray\(\): copy=False, but a list"):
        mt.asarray([1.0], copy=False)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: mt.take(mt.ones((2, 2)), mt.asarray([0])), ValueError, r"take\(\): axis=None"),
        (lambda: mt.take(mt.ones(2), mt.asarray([2]), axis=0), IndexError,
         r"take\(\): index 2 is out of bounds for axis 0 of size 2"),
        (lambda: mt.squeeze(mt.ones((2, 1)), axis=0), ValueError, r"squeeze\(\): dimension 0"),
        (lambda: mt.searchsorted(mt.ones((2, 2)), mt.ones(1)), ValueError,
         r"searchsorted\(\): x1 must be 1-d"),
        (lambda: mt.nonzero(mt.asarray(1.0)), ValueError, r"nonzero\(\): a 0-d tensor"),
        (lambda: mt.cumulative_sum(mt.ones((2, 2))), ValueError,
         r"cumulative_sum\(\): axis=None needs a tensor of rank 0 or 1"),
        (lambda: mt.moveaxis(mt.ones((2, 2)), (0, 1), 0), ValueError, r"moveaxis\(\): source"),
        (lambda: mt.repeat(mt.ones(3), mt.asarray([1, 2])), ValueError,
         r"repeat\(\): 2 repeats for axis 0 of size 3"),
        (lambda: mt.vecdot(mt.ones(3), mt.ones(1)), ValueError, r"vecdot\(\): axis -1"),
        (lambda: mt.tensordot(mt.ones(3), mt.ones(2), axes=1), ValueError, r"tensordot\(\)"),
    ],
)  # fmt: skip
def test_errors_name_the_function_and_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_extra_dtypes_sort_unique_and_scan_where_supported():
    for name in ("int8", "uint8", "int16", "uint16"):
        a = np.array([3, 1, 3, 0], dtype=name)
        x = mt.asarray(a, dtype=name)
        assert mt.sort(x).tolist() == sorted(a.tolist()) and mt.sort(x).dtype.name == name
        assert mt.unique_values(x).tolist() == [0, 1, 3]
        expected = np.cumulative_sum(a)
        got = mt.cumulative_sum(x)
        assert got.tolist() == expected.tolist() and got.dtype.numpy == expected.dtype
        assert mt.sum(x).numpy().dtype == np.sum(a).dtype
    assert math.isclose(mt.mean(mt.asarray([1.0, 2.0])).item(), 1.5)
