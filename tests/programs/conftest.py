"""Every program runs on every loaded backend: `mytensor_modules` hands a test mytensor's
modules with that backend selected for the duration of the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _frameworks import Frameworks, mytensor

import mytensor as mt

LOADED = [info.name for info in mt.backends() if info.status == "loaded"]


@pytest.fixture(params=LOADED)
def mytensor_modules(request) -> Iterator[Frameworks]:
    """`mytensor, mytensor.nn, mytensor.optim, mytensor.data`, on one loaded backend."""
    with mt.use_backend(request.param):
        yield mytensor()
