"""The primitives whose default is a host fallback (argsort, cumulative), called directly
in every dtype the backend declares (unsigned and complex included), native or not,
against numpy_ref on contiguous copies of the same values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mytensor.conformance import strategies as S
from mytensor.conformance.checks import tolerance
from mytensor.conformance.test_primitives import _check, _input, _require, _run
from mytensor.core.dtypes import STANDARD_DTYPES, int64

_SCANNED = STANDARD_DTYPES[1:]  # the core scans bools as int64


@pytest.mark.parametrize(
    "dtype", STANDARD_DTYPES, ids=[f"argsort-{d.name}" for d in STANDARD_DTYPES]
)
@S.suite_settings(8)
@given(data=st.data())
def test_argsort(dtype, backend, data):
    _require(backend, dtype)
    shape = data.draw(S.shapes(min_rank=1), label="shape")
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    descending = data.draw(st.booleans(), label="descending")
    x = _input(data, dtype, shape, specials=True)
    _check(*_run(backend, "argsort", shape, int64, [x], dim, descending, data=data))


@pytest.mark.parametrize("op", ["sum", "prod"])
@pytest.mark.parametrize("dtype", _SCANNED, ids=[d.name for d in _SCANNED])
@S.suite_settings(8)
@given(data=st.data())
def test_cumulative(dtype, op, backend, data):
    _require(backend, dtype)
    shape = data.draw(S.shapes(min_rank=1), label="shape")
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    x = _input(data, dtype, shape, specials=op == "sum")
    exact = dtype.kind in ("int", "uint")
    out_dtype = dtype  # the core casts the input to the scan's dtype first
    rtol, atol = (0.0, 0.0) if exact else tolerance([np.dtype(dtype.numpy)], shape[dim], 3.0)
    if op == "prod" and not exact:
        rtol, atol = rtol * 10, atol * 10 ** min(shape[dim], 6)
    _check(*_run(backend, "cumulative", shape, out_dtype, [x], dim, op=op, data=data),
           rtol, atol)  # fmt: skip
