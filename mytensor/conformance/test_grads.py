"""Gradients of every differentiable table op: central differences in float64, the
numpy_ref backend's gradients, and second order on a few ops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import GradcheckError, gradcheck
from mytensor.conformance import cases as C
from mytensor.conformance.checks import assert_close, tolerance
from mytensor.conformance.strategies import suite_settings
from mytensor.core.ops import OPS

GRAD_OPS = [r.name for r in C.records(grad=True)]
SECOND_ORDER = ["exp", "sin", "tanh", "sigmoid", "log", "mul", "div", "pow", "softmax",
                "logsumexp", "matmul", "prod"]  # fmt: skip


def _draw_case(data, name, backend, max_elements):
    record = OPS[name]
    shapes = C.input_shapes(data, record, max_elements=max_elements)
    arrays, dtypes = C.draw_arrays(data, record, mt.float64, shapes, smooth=True)
    built = C.draw_built(data, arrays, dtypes, backend, requires_grad=True)
    kwargs = C.draw_kwargs(data, record, shapes)
    return record, shapes, built, kwargs


def _cotangent(shape) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(shape)


def _backward_grads(record, tensors, kwargs):
    """x.grad for every float input after backward of (out * cotangent).sum()."""
    out = record.func(*tensors, **kwargs)
    cot = mt.tensor(_cotangent(out.shape), mt.float64, backend=out.backend)
    (out * cot).sum().backward()
    return [t.grad.numpy() if t.grad is not None else None for t in tensors if t.requires_grad]


@pytest.mark.parametrize("name", GRAD_OPS)
@suite_settings(8)
@given(data=st.data())
def test_gradient(name, backend, data):
    record, shapes, built, kwargs = _draw_case(data, name, backend, max_elements=8)
    where = C.context(record, backend, built, kwargs, "gradient")
    tensors = [b.tensor for b in built]

    def func(*ts):
        return record.func(*ts, **kwargs)

    try:
        gradcheck(func, tensors, name=name)
    except GradcheckError as exc:
        raise AssertionError(f"{where}\n  {exc}") from None
    if backend == "numpy_ref":
        return
    got = _backward_grads(record, tensors, kwargs)
    refs = [mt.tensor(b.values, b.tensor.dtype, backend="numpy_ref") for b in built]
    for r, b in zip(refs, built, strict=True):
        r.requires_grad_(b.tensor.requires_grad)
    expected = _backward_grads(record, refs, kwargs)
    reduced = max(C.reduced_length(record, shapes, ()), 1)
    rtol, atol = tolerance([np.float64], reduced, C.max_abs([b.values for b in built]))
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert (g is None) == (e is None), f"{where}\n  input {i}: grad {g} vs numpy_ref {e}"
        if g is not None:
            assert_close(g, e, f"{where}\n  x.grad of input {i} vs numpy_ref", rtol, atol)


@pytest.mark.parametrize("name", SECOND_ORDER)
@suite_settings(3)
@given(data=st.data())
def test_second_order(name, backend, data):
    record, _, built, kwargs = _draw_case(data, name, backend, max_elements=6)
    where = C.context(record, backend, built, kwargs, "second-order gradient")

    def first_gradient(*ts):
        """d/d(input 0) of (op(*ts) * cotangent).sum(), itself differentiable."""
        with mt.enable_grad():
            leaves = [t if t.requires_grad else t.detach().requires_grad_() for t in ts]
            out = record.func(*leaves, **kwargs)
            cot = mt.tensor(_cotangent(out.shape), mt.float64, backend=out.backend)
            (g,) = mt.autograd.grad((out * cot).sum(), leaves[:1], create_graph=True)
            # constant in the inputs (e.g. an empty input): keep it attached to the graph
            return g if g.requires_grad else g + leaves[0] * 0.0

    try:
        gradcheck(first_gradient, [b.tensor for b in built], name=f"grad of {name}")
    except GradcheckError as exc:
        raise AssertionError(f"{where}\n  {exc}") from None
