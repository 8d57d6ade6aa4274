"""Code written against the array API standard only (``xp = x.__array_namespace__()``)
runs on mytensor tensors on every backend, gives numpy's (array_api_strict's) answers,
and differentiates."""

from __future__ import annotations

import array_api_strict
import numpy as np
import pytest

import mytensor as mt
from mytensor.autograd import gradcheck

BACKENDS = [info.name for info in mt.backends() if info.status == "loaded"]


def standardized_ranks(x):
    """Per column: values minus the mean over the std, in sorted order, plus ranks."""
    xp = x.__array_namespace__()
    z = (x - xp.mean(x, axis=0, keepdims=True)) / xp.std(x, axis=0, correction=1, keepdims=True)
    ranks = xp.argsort(xp.argsort(x, axis=0), axis=0)
    return xp.sort(z, axis=0, descending=True), ranks


def least_squares(a, b):
    """Solve the normal equations and report the residual norm and the cumulative error."""
    xp = a.__array_namespace__()
    gram = xp.matmul(xp.matrix_transpose(a), a)
    coef = xp.linalg.solve(gram, xp.vecdot(xp.matrix_transpose(a), b[None, :], axis=-1))
    residual = b - xp.tensordot(a, coef, axes=1)
    return coef, xp.linalg.vector_norm(residual), xp.cumulative_sum(residual * residual)


def summary(x):
    """unique values, counts, clipped by a take/where combination."""
    xp = x.__array_namespace__()
    values, counts = xp.unique_counts(xp.round(x))
    top = xp.take(values, xp.argmax(counts, keepdims=True), axis=0)
    return values, counts, xp.where(x > top, top, x), xp.concat([xp.flip(x), xp.roll(x, 1)])


def _to_numpy(result):
    if isinstance(result, tuple | list):
        return [_to_numpy(r) for r in result]
    return np.asarray(result)


def _run_both(func, *arrays, backend):
    ours = func(*(mt.asarray(a, device=backend) for a in arrays))
    reference = func(*(array_api_strict.asarray(a) for a in arrays))
    for got, want in zip(_to_numpy(ours), _to_numpy(reference), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_generic_code_gives_the_reference_answers(backend):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3))
    _run_both(standardized_ranks, x, backend=backend)
    _run_both(least_squares, x, rng.standard_normal(6), backend=backend)
    _run_both(summary, np.array([1.2, 3.1, 0.9, 1.1, 3.4, 1.0]), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_generic_code_differentiates(backend):
    rng = np.random.default_rng(1)
    a = mt.asarray(rng.standard_normal((5, 2)), device=backend).requires_grad_()
    b = mt.asarray(rng.standard_normal(5), device=backend).requires_grad_()
    assert gradcheck(lambda s, t: least_squares(s, t)[1], [a, b], name="least squares")
    assert gradcheck(lambda s: standardized_ranks(s)[0], [a], name="standardized sort")
