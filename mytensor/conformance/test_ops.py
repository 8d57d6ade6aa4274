"""Forward values of every table op (unary, broadcast, where, matmul) against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mytensor.conformance import cases as C
from mytensor.conformance.checks import assert_close, call_reference, same_kind, tolerance
from mytensor.conformance.strategies import suite_settings
from mytensor.core.ops import OPS


@pytest.mark.parametrize(("name", "dtype"), C.op_dtype_cases())
@suite_settings(15)
@given(data=st.data())
def test_forward(name, dtype, backend, data):
    record = OPS[name]
    if dtype is None:  # the "extra" case: one of the standard's non-core dtypes
        dtype = _draw_extra_dtype(data, record, backend)
        if dtype is None:
            return
    shapes = C.input_shapes(data, record, max_elements=24)
    arrays, dtypes = C.draw_arrays(data, record, dtype, shapes)
    built = C.draw_built(data, arrays, dtypes, backend, broadcast=True)
    kwargs = C.draw_kwargs(data, record, shapes)
    where = C.context(record, backend, built, kwargs)

    out = record.func(*[b.tensor for b in built], **kwargs)
    got = out.numpy()
    expected = call_reference(record.ref, *[b.values for b in built], **kwargs)

    assert out.backend == backend, f"{where}\n  result is on backend {out.backend!r}"
    assert got.dtype == out.dtype.numpy, (
        f"{where}\n  to_host gave {got.dtype} for a {out.dtype.name} tensor"
    )
    assert got.shape == out.shape, f"{where}\n  to_host gave shape {got.shape} for {out.shape}"
    if backend == "numpy_ref":
        assert same_kind(got.dtype, expected.dtype), (
            f"{where}\n  dtype {got.dtype} is not of the kind of numpy's {expected.dtype}"
        )
    else:
        wanted = C.on_reference(record, built, kwargs).dtype
        assert out.dtype is wanted, f"{where}\n  dtype {out.dtype.name}, numpy_ref gives {wanted}"
    reduced = C.reduced_length(record, shapes, expected.shape)
    rtol, atol = tolerance([got.dtype, expected.dtype], reduced, C.max_abs(arrays), record.rtol)
    exact_zeros = C.elementwise(record) or record.shapes == "where"
    inputs = [b.values for b in built]
    assert_close(got, expected, where, rtol, atol, zero_signs=exact_zeros, inputs=inputs)


def _draw_extra_dtype(data, record, backend):
    """A drawn non-core dtype the backend supports; None where it supports none, after
    checking that asking for one fails clearly (the core dtypes have their own cases)."""
    import mytensor as mt
    from mytensor.core.dtypes import UnsupportedDTypeError

    supported, unsupported = C.extra_dtypes(record, backend)
    if supported:
        return data.draw(st.sampled_from(supported), label="dtype")
    dtype = data.draw(st.sampled_from(unsupported), label="unsupported dtype")
    with pytest.raises(UnsupportedDTypeError, match=f"{backend}.*{dtype.name}.*astype"):
        mt.zeros(2, dtype=dtype, backend=backend)
    return None


def test_forward_scalars(backend):
    """Python scalars are weak operands: tensor op scalar keeps the tensor's dtype."""
    import mytensor as mt

    x = mt.tensor(np.array([1.5, -2.0, 0.25], np.float32), backend=backend)
    for name in ("add", "sub", "mul", "maximum", "minimum"):
        record = OPS[name]
        got = record.func(x, 2.0)
        assert got.dtype is mt.float32, f"{name}(float32 tensor, 2.0) gave {got.dtype.name}"
        expected = record.ref(x.numpy(), np.float32(2.0))
        assert_close(got.numpy(), expected, f"{name}(x, 2.0) on {backend}", 1e-6, 1e-7)
