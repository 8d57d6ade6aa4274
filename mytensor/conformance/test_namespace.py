"""The array API functions no op record can draw (several tensors, index tensors, tuple
results) and the linalg and fft extensions, on the backend under test against numpy.

They matter to backend authors because several reach optional primitives
(``searchsorted``, ``nonzero``, ``argsort``, ``linalg``, ``fft``) that a backend may
implement natively in place of the core's host fallback.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mytensor as mt
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close
from mytensor.core.dtypes import complex128, float32, float64, int64
from mytensor.core.registry import get_backend

_DTYPES = st.sampled_from([float32, float64, int64])


def _input(data, backend, dtype=None, **shape_kw):
    dtype = dtype or data.draw(_DTYPES, label="dtype")
    shape = data.draw(S.shapes(**shape_kw), label="shape")
    values = data.draw(S.arrays(dtype, shape), label="values")
    return data.draw(S.laid_out(values, dtype, backend), label="layout")


def _same(got, expected, where: str) -> None:
    if isinstance(expected, tuple | list):
        assert len(got) == len(expected), f"{where}: {len(got)} results, expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            _same(g, e, f"{where}, result {i}")
        return
    values = got.numpy()
    assert values.dtype == np.asarray(expected).dtype, (
        f"{where}: dtype {values.dtype}, expected {np.asarray(expected).dtype}"
    )
    assert_close(values, expected, where, rtol=1e-5, atol=1e-6)


# -- searching and sets: reach argsort, searchsorted, nonzero ------------------------------
@S.suite_settings(15)
@given(data=st.data())
def test_nonzero(backend, data):
    x = _input(data, backend, min_rank=1)
    _same(mt.nonzero(x.tensor), np.nonzero(x.values), f"nonzero of {x.describe()} on {backend}")


@pytest.mark.parametrize("side", ["left", "right"])
@S.suite_settings(15)
@given(data=st.data())
def test_searchsorted(backend, side, data):
    dtype = data.draw(_DTYPES, label="dtype")
    n = data.draw(st.integers(0, 8), label="n")
    haystack = np.sort(data.draw(S.arrays(dtype, (n,)), label="haystack"))
    needles = _input(data, backend, dtype=dtype, max_rank=2)
    got = mt.searchsorted(mt.asarray(haystack, backend=backend), needles.tensor, side=side)
    expected = np.searchsorted(haystack, needles.values, side=side)
    _same(got, expected.astype(np.int64), f"searchsorted({side}) of {needles.describe()}")


@pytest.mark.parametrize("name", ["unique_values", "unique_counts", "unique_inverse",
                                  "unique_all"])  # fmt: skip
@S.suite_settings(15)
@given(data=st.data())
def test_unique(backend, name, data):
    """The standard leaves the order of the unique values open: they are compared sorted,
    and the other results through what they mean."""
    x = _input(data, backend)
    got = getattr(mt, name)(x.tensor)
    where = f"{name} of {x.describe()} on {backend}"
    values = (got if name == "unique_values" else got.values).numpy()
    order = np.argsort(values, kind="stable")
    _same(mt.asarray(values[order]), np.unique(x.values), f"{where}: the values")
    flat = x.values.reshape(-1)
    if name in ("unique_counts", "unique_all"):
        counts = np.array([np.count_nonzero(flat == v) for v in values], np.int64)
        _same(got.counts, counts, f"{where}: the counts")
    if name in ("unique_inverse", "unique_all"):
        inverse = got.inverse_indices.numpy()
        assert inverse.shape == x.values.shape, f"{where}: inverse_indices shape {inverse.shape}"
        assert_close(values[inverse], x.values, f"{where}: values[inverse_indices]")
    if name == "unique_all":
        assert_close(flat[got.indices.numpy()], values, f"{where}: x[indices]")


# -- manipulation with several tensors or index tensors ------------------------------------
@S.suite_settings(15)
@given(data=st.data())
def test_take_and_take_along_axis(backend, data):
    x = _input(data, backend, min_rank=1, min_side=1)
    axis = data.draw(st.integers(-x.values.ndim, x.values.ndim - 1), label="axis")
    size = x.values.shape[axis]
    index = np.array(data.draw(st.lists(st.integers(-size, size - 1), max_size=5)), np.int64)
    got = mt.take(x.tensor, mt.asarray(index, backend=backend), axis=axis)
    _same(got, np.take(x.values, index, axis=axis), f"take(axis={axis}) of {x.describe()}")
    along_shape = list(x.values.shape)
    along_shape[axis] = data.draw(st.integers(0, 3), label="count")
    along = np.array(
        data.draw(S.arrays(int64, tuple(along_shape), domain=(0, size - 1)), label="index")
    )
    got = mt.take_along_axis(x.tensor, mt.asarray(along, backend=backend), axis=axis)
    _same(got, np.take_along_axis(x.values, along, axis=axis),
          f"take_along_axis(axis={axis}) of {x.describe()}")  # fmt: skip


@S.suite_settings(15)
@given(data=st.data())
def test_shape_functions(backend, data):
    x = _input(data, backend, min_rank=1, max_rank=3)
    ndim = x.values.ndim
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    target = data.draw(st.integers(-ndim, ndim - 1), label="target")
    where = f"of {x.describe()} on {backend}"
    _same(mt.moveaxis(x.tensor, axis, target), np.moveaxis(x.values, axis, target),
          f"moveaxis({axis}, {target}) {where}")  # fmt: skip
    _same(mt.unstack(x.tensor, axis=axis), tuple(np.moveaxis(x.values, axis, 0)),
          f"unstack(axis={axis}) {where}")  # fmt: skip
    reps = tuple(data.draw(st.lists(st.integers(0, 2), max_size=3), label="reps"))
    _same(mt.tile(x.tensor, reps), np.tile(x.values, reps), f"tile({reps}) {where}")
    repeats = data.draw(st.integers(0, 3), label="repeats")
    _same(mt.repeat(x.tensor, repeats, axis=axis), np.repeat(x.values, repeats, axis=axis),
          f"repeat({repeats}, axis={axis}) {where}")  # fmt: skip
    _same(
        mt.concat([x.tensor, x.tensor], axis=axis),
        np.concatenate([x.values, x.values], axis=axis),
        f"concat(axis={axis}) {where}",
    )


@S.suite_settings(15)
@given(data=st.data())
def test_broadcast_arrays_meshgrid_tensordot(backend, data):
    a = _input(data, backend, dtype=float64, max_rank=2)
    b = _input(data, backend, dtype=float64, max_rank=2)
    where = f"of {a.describe()} and {b.describe()} on {backend}"
    try:
        expected = np.broadcast_arrays(a.values, b.values)
    except ValueError:
        expected = None
    if expected is not None:
        _same(mt.broadcast_arrays(a.tensor, b.tensor), tuple(expected),
              f"broadcast_arrays {where}")  # fmt: skip
    if a.values.ndim == 1 and b.values.ndim == 1:
        for indexing in ("xy", "ij"):
            _same(mt.meshgrid(a.tensor, b.tensor, indexing=indexing),
                  tuple(np.meshgrid(a.values, b.values, indexing=indexing)),
                  f"meshgrid(indexing={indexing!r}) {where}")  # fmt: skip
    outer = mt.tensordot(a.tensor, b.tensor, axes=0)
    _same(outer, np.tensordot(a.values, b.values, axes=0), f"tensordot(axes=0) {where}")


# -- the linalg extension: reaches the backend's `linalg` primitive ------------------------
def _well_conditioned(data, backend, spd: bool = False):
    n = data.draw(st.integers(1, 4), label="n")
    batch = tuple(data.draw(st.lists(st.integers(1, 2), max_size=1), label="batch"))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    a = rng.standard_normal((*batch, n, n))
    a = a @ np.swapaxes(a, -1, -2) + n * np.eye(n) if spd else a + 3 * n * np.eye(n)
    return data.draw(S.laid_out(a, float64, backend), label="layout")


@S.suite_settings(10)
@given(data=st.data())
def test_linalg_decompositions(backend, data):
    x = _well_conditioned(data, backend, spd=True)
    a, t = x.values, x.tensor
    where = f"of {x.describe()} on {backend}"
    _same(mt.linalg.inv(t), np.linalg.inv(a), f"inv {where}")
    _same(mt.linalg.det(t), np.linalg.det(a), f"det {where}")
    _same(tuple(mt.linalg.slogdet(t)), tuple(np.linalg.slogdet(a)), f"slogdet {where}")
    rhs = np.ones((*a.shape[:-1], 2))
    _same(mt.linalg.solve(t, mt.asarray(rhs, backend=backend)), np.linalg.solve(a, rhs),
          f"solve {where}")  # fmt: skip
    _same(mt.linalg.cholesky(t), np.linalg.cholesky(a), f"cholesky {where}")
    _same(mt.linalg.eigvalsh(t), np.linalg.eigvalsh(a), f"eigvalsh {where}")
    _same(mt.linalg.svdvals(t), np.linalg.svd(a, compute_uv=False), f"svdvals {where}")
    q, r = mt.linalg.qr(t)  # unique up to signs: check the product and the triangle
    _same(q @ r, a, f"qr: q @ r {where}")
    _same(mt.triu(r), r.numpy(), f"qr: r is upper triangular {where}")
    w, v = mt.linalg.eigh(t)
    _same(v @ (w.unsqueeze(-1) * v.mT), a, f"eigh: v diag(w) v^T {where}")
    u, s, vh = mt.linalg.svd(t, full_matrices=False)
    _same((u * s.unsqueeze(-2)) @ vh, a, f"svd: u diag(s) vh {where}")


# -- the fft extension: reaches the backend's `fft` primitive ------------------------------
def _signal(data, backend, dtype):
    shape = data.draw(S.shapes(min_rank=1, max_rank=3, min_side=1, max_side=6), label="shape")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    values = rng.standard_normal(shape)
    if dtype.kind == "complex":
        values = values + 1j * rng.standard_normal(shape)
    return data.draw(S.laid_out(values.astype(dtype.numpy), dtype, backend), label="layout")


@S.suite_settings(10)
@given(data=st.data())
def test_fft_transforms(backend, data):
    if complex128 not in get_backend(backend).dtypes:
        pytest.skip(f"backend {backend!r} holds no complex dtypes (fft raises, saying so)")
    x = _signal(data, backend, complex128)
    r = _signal(data, backend, float64)
    norm = data.draw(st.sampled_from(["backward", "ortho", "forward"]), label="norm")
    n = data.draw(st.integers(2, 7), label="n")
    where = f"of {x.describe()} / {r.describe()} on {backend}, norm={norm!r}"
    _same(mt.fft.fftn(x.tensor, norm=norm), np.fft.fftn(x.values, norm=norm), f"fftn {where}")
    expected = np.fft.ifft(x.values, n=n, axis=0, norm=norm)
    _same(mt.fft.ifft(x.tensor, n=n, axis=0, norm=norm), expected, f"ifft(n={n}, axis=0) {where}")
    _same(mt.fft.rfftn(r.tensor, norm=norm), np.fft.rfftn(r.values, norm=norm), f"rfftn {where}")
    _same(mt.fft.irfft(x.tensor, n=n, norm=norm), np.fft.irfft(x.values, n=n, norm=norm),
          f"irfft(n={n}) {where}")  # fmt: skip
    _same(mt.fft.hfft(x.tensor, n=n, norm=norm), np.fft.hfft(x.values, n=n, norm=norm),
          f"hfft(n={n}) {where}")  # fmt: skip
    _same(mt.fft.ihfft(r.tensor, norm=norm), np.fft.ihfft(r.values, norm=norm), f"ihfft {where}")
