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

