"""Helpers shared by the core tests."""

from __future__ import annotations

import numpy as np

import mytensor as mt


def assert_same(t: mt.Tensor, expected, *, dtype=None, rtol=1e-6, atol=1e-6) -> None:
    """`t` has the shape and values of the numpy `expected` (and `dtype`, if given)."""
    expected = np.asarray(expected)
    got = t.numpy()
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if dtype is not None:
        assert t.dtype is dtype, (t.dtype, dtype)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
