"""Shared fixtures for the core tests: every test starts on the numpy reference backend."""

from __future__ import annotations

import pytest

import mytensor as mt
from mytensor.core import registry


@pytest.fixture(autouse=True)
def _reference_backend():
    """Run each test with numpy_ref as the process default, and restore the choice after."""
    previous = registry._global_choice[0]
    mt.set_backend("numpy_ref")
    try:
        yield
    finally:
        registry._global_choice[0] = previous


# The longest tests (each runs a test suite in a subprocess, minutes under the CUDA
# simulator) start first, so that with `pytest -n auto` they overlap the rest of the
# run instead of ending it.
_LONGEST_FIRST = ("test_conformance_under_simulator", "test_kernels_under_simulator")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.name not in _LONGEST_FIRST)
