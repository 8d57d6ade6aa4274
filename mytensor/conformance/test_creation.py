"""Creation functions and seeded random numbers on each backend."""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt
from mytensor.conformance.checks import assert_close
from mytensor.core.registry import get_backend


def _check(t, expected, what: str, backend: str) -> None:
    where = f"{what} on backend {backend!r}"
    assert t.backend == backend, f"{where}: the result is on {t.backend!r}"
    got = t.numpy()
    assert got.dtype == np.asarray(expected).dtype, f"{where}: dtype {got.dtype}"
    assert_close(got, np.asarray(expected), where, 1e-7, 1e-7)


def test_filled(backend):
    _check(mt.zeros(2, 3, backend=backend), np.zeros((2, 3), np.float32), "zeros", backend)
    _check(mt.zeros(0, dtype=mt.int32, backend=backend), np.zeros(0, np.int32), "zeros", backend)
    _check(mt.ones((), dtype=mt.bool_, backend=backend), np.ones((), bool), "ones", backend)
    _check(mt.ones(4, dtype=mt.float64, backend=backend), np.ones(4), "ones", backend)
    _check(mt.full((2, 2), 7, backend=backend), np.full((2, 2), 7), "full", backend)
    _check(mt.full((3,), -1.5, dtype=mt.float64, backend=backend), np.full(3, -1.5), "full",
           backend)  # fmt: skip


def test_ranges(backend):
    _check(mt.arange(5, backend=backend), np.arange(5), "arange", backend)
    _check(mt.arange(1, 7, 2, backend=backend), np.arange(1, 7, 2), "arange", backend)
    _check(mt.arange(3, 0, -1, dtype=mt.int32, backend=backend), np.arange(3, 0, -1, np.int32),
           "arange", backend)  # fmt: skip
    _check(mt.arange(0.0, 1.0, 0.25, backend=backend), np.arange(0, 1, 0.25, np.float32),
           "arange", backend)  # fmt: skip
    _check(mt.linspace(0, 1, 5, backend=backend), np.linspace(0, 1, 5, dtype=np.float32),
           "linspace", backend)  # fmt: skip
    _check(mt.linspace(2, 3, 0, dtype=mt.float64, backend=backend), np.linspace(2, 3, 0),
           "linspace", backend)  # fmt: skip
    _check(mt.eye(3, backend=backend), np.eye(3, dtype=np.float32), "eye", backend)
    _check(mt.eye(2, 4, k=1, dtype=mt.int64, backend=backend), np.eye(2, 4, 1, dtype=np.int64),
           "eye", backend)  # fmt: skip


def _draws(backend: str, seed: int) -> list[np.ndarray]:
    mt.manual_seed(seed)
    return [
        mt.rand(3, 4, backend=backend).numpy(),
        mt.randn(5, dtype=mt.float64, backend=backend).numpy(),
        mt.randint(-3, 9, (2, 6), backend=backend).numpy(),
        mt.rand(0, backend=backend).numpy(),
    ]


def test_random_reproducible(backend):
    first, again, other = _draws(backend, 123), _draws(backend, 123), _draws(backend, 124)
    for name, a, b in zip(["rand", "randn", "randint", "rand(0)"], first, again, strict=True):
        assert_close(a, b, f"{name} after manual_seed(123) twice on backend {backend!r}")
    assert not np.array_equal(first[0], other[0]), f"rand ignores the seed on {backend!r}"
    rand, randn, randint, _ = first
    assert rand.dtype == np.float32 and ((rand >= 0) & (rand < 1)).all(), f"rand on {backend}"
    assert randn.dtype == np.float64 and np.isfinite(randn).all(), f"randn on {backend}"
    assert randint.dtype == np.int64 and ((randint >= -3) & (randint < 9)).all(), (
        f"randint on {backend}: {randint}"
    )


def test_random_matches_reference(backend):
    """Without a native `random`, a backend uses the core's sampler: numpy_ref's numbers."""
    if "random" in get_backend(backend).native:
        pytest.skip(f"{backend!r} has a native random: its own stream (test_random_reproducible)")
    for name, got, expected in zip(["rand", "randn", "randint"], _draws(backend, 7),
                                   _draws("numpy_ref", 7), strict=False):  # fmt: skip
        assert_close(got, expected, f"{name} on {backend!r} vs numpy_ref, same seed")
