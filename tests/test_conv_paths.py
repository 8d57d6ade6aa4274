"""The native conv path (numpy_ref implements the conv primitives) and the composite
path (the `minimal` backend has none) agree, in values and first/second-order grads."""

import numpy as np
import pytest

import mytensor as mt

CASES = [
    # (n, c, h, w, o, kh, kw, stride, padding, dilation, groups)
    (2, 4, 7, 6, 6, 3, 2, 2, 1, 1, 2),
    (1, 3, 5, 5, 2, 3, 3, 1, 0, 2, 1),
    (2, 2, 4, 4, 4, 1, 1, 1, 0, 1, 2),
]


def _run(backend, x, w, params, order):
    X = mt.tensor(x, dtype=mt.float64, backend=backend, requires_grad=True)
    W = mt.tensor(w, dtype=mt.float64, backend=backend, requires_grad=True)
    out = mt.conv2d(X, W, None, *params)
    gx, gw = mt.autograd.grad((out * out).sum(), [X, W], create_graph=order == 2)
    if order == 1:
        return [out.numpy(), gx.numpy(), gw.numpy()]
    (hw,) = mt.autograd.grad((gx * gx).sum(), W)
    return [hw.numpy()]


def test_numpy_ref_is_native_and_minimal_is_composite():
    assert "conv2d" in mt.core.registry.get_backend("numpy_ref").native
    assert "conv2d" not in mt.core.registry.get_backend("minimal").native


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_native_and_composite_agree(case, order):
    n, c, h, w, o, kh, kw, *params = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((o, c // params[-1], kh, kw))
    native = _run("numpy_ref", x, weight, params, order)
    composite = _run("minimal", x, weight, params, order)
    for got, expected in zip(native, composite, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_native_grad_kernels_are_used_for_first_order():
    x = mt.ones(1, 1, 4, 4, requires_grad=True)
    out = mt.conv2d(x, mt.ones(1, 1, 3, 3))
    assert out.grad_fn.name == "conv2d"
    out.sum().backward()
    # each input pixel is covered by as many 3x3 windows as fit around it
    assert x.grad.numpy()[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2],
                                             [1, 2, 2, 1]]  # fmt: skip
