"""conv1d / conv2d (custom records with a numpy reference): forward on drawn layouts,
strides, padding, dilation and groups, and gradcheck in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import GradcheckError, gradcheck
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close, call_reference, tolerance
from mytensor.core.ops import OPS

CASES = [pytest.param(n, d, id=f"{n}-{d.name}") for n in ("conv1d", "conv2d")
         for d in (mt.float32, mt.float64)]  # fmt: skip


def _draw(data, name, dtype, backend, grad=False):
    spatial = 1 if name == "conv1d" else 2
    groups = data.draw(st.sampled_from([1, 2]), label="groups")
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    kernel = tuple(data.draw(st.integers(1, 2)) for _ in range(spatial))
    stride = data.draw(st.integers(1, 2), label="stride")
    padding = data.draw(st.integers(0, 1), label="padding")
    dilation = data.draw(st.integers(1, 2), label="dilation")
    size = tuple(
        data.draw(st.integers(max(1, dilation * (k - 1) + 1 - 2 * padding), 4)) for k in kernel
    )  # fmt: skip
    batch = data.draw(st.integers(1 if grad else 0, 2), label="batch")
    shapes = [(batch, cin, *size), (cout, cin // groups, *kernel), (cout,)]
    use_bias = data.draw(st.booleans(), label="bias")
    built = []
    for shape in shapes[: 3 if use_bias else 2]:
        if grad:
            seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
            values = S.smooth_values(seed, dtype, shape, (-2.0, 2.0), False)
        else:
            values = data.draw(S.arrays(dtype, shape, (-2.0, 2.0)), label="values")
        built.append(data.draw(S.laid_out(values, dtype, backend, requires_grad=grad)))
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return built, kwargs


def _where(name, backend, built, kwargs, what="forward"):
    inputs = "; ".join(f"input {i}: {b.describe()}" for i, b in enumerate(built))
    return f"{what} of {name} on backend {backend!r}, kwargs {kwargs}\n  {inputs}"


@pytest.mark.parametrize(("name", "dtype"), CASES)
@S.suite_settings(8)
@given(data=st.data())
def test_conv(name, dtype, backend, data):
    record = OPS[name]
    built, kwargs = _draw(data, name, dtype, backend)
    where = _where(name, backend, built, kwargs)
    got = record.func(*[b.tensor for b in built], **kwargs).numpy()
    expected = call_reference(record.ref, *[b.values for b in built], **kwargs)
    reduced = int(np.prod(built[1].values.shape[1:]))
    rtol, atol = tolerance([got.dtype], reduced, 2.0)
    assert got.dtype == dtype.numpy, f"{where}\n  dtype {got.dtype}"
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("name", ["conv1d", "conv2d"])
@S.suite_settings(3)
@given(data=st.data())
def test_conv_gradient(name, backend, data):
    built, kwargs = _draw(data, name, mt.float64, backend, grad=True)
    try:
        gradcheck(lambda *ts: OPS[name].func(*ts, **kwargs), [b.tensor for b in built])
    except GradcheckError as exc:
        raise AssertionError(
            f"{_where(name, backend, built, kwargs, 'gradient')}\n  {exc}"
        ) from None
