"""The native conv path (numpy_ref implements the conv primitives) and the composite
path (the `minimal` backend has none) agree, in values and first/second-order grads, for
1-, 2- and 3-d convolutions and the transposed convolution."""

import numpy as np
import pytest

import mytensor as mt
import mytensor.nn.functional as F

CASES = [
    # (x shape, weight shape, stride, padding, dilation, groups)
    ((2, 4, 7, 6), (6, 2, 3, 2), 2, 1, 1, 2),
    ((1, 3, 5, 5), (2, 3, 3, 3), 1, 0, 2, 1),
    ((2, 2, 4, 4), (4, 1, 1, 1), 1, 0, 1, 2),
    ((2, 3, 9), (4, 3, 3), 2, 2, 1, 1),
    ((1, 2, 4, 5, 3), (4, 1, 2, 3, 2), (1, 2, 1), (1, 0, 1), (2, 1, 1), 2),
]
FUNCTIONS = {3: mt.conv1d, 4: mt.conv2d, 5: mt.conv3d}


def _run(backend, x, w, params, order, transposed=False):
    X = mt.tensor(x, dtype=mt.float64, backend=backend, requires_grad=True)
    W = mt.tensor(w, dtype=mt.float64, backend=backend, requires_grad=True)
    if transposed:
        f = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[X.ndim - 3]
        stride, padding, dilation, groups = params
        out = f(X, W, None, stride, padding, 0, groups, dilation)
    else:
        out = FUNCTIONS[X.ndim](X, W, None, *params)
    gx, gw = mt.autograd.grad((out * out).sum(), [X, W], create_graph=order == 2)
    if order == 1:
        return [out.numpy(), gx.numpy(), gw.numpy()]
    hx, hw = mt.autograd.grad((gx * gx).sum() + (gw * gw).sum(), [X, W])
    return [hx.numpy(), hw.numpy()]


def test_numpy_ref_is_native_and_minimal_is_composite():
    assert "conv" in mt.core.registry.get_backend("numpy_ref").native
    assert "conv" not in mt.core.registry.get_backend("minimal").native


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c[0]) - 2}d-{c[0]}")
def test_native_and_composite_agree(case, order):
    x_shape, w_shape, *params = case
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    native = _run("numpy_ref", x, weight, params, order)
    composite = _run("minimal", x, weight, params, order)
    for got, expected in zip(native, composite, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c[0]) - 2}d-{c[0]}")
def test_transposed_native_and_composite_agree(case, order):
    x_shape, w_shape, *params = case
    groups = params[-1]
    # the transposed weight is (C_in, C_out/groups, *k): C_in is the input's channels
    w_shape = (x_shape[1], w_shape[0] // groups, *w_shape[2:])
    rng = np.random.default_rng(1)
    x, weight = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    native = _run("numpy_ref", x, weight, params, order, transposed=True)
    composite = _run("minimal", x, weight, params, order, transposed=True)
    for got, expected in zip(native, composite, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_native_grad_kernels_are_used_for_first_order():
    x = mt.ones(1, 1, 4, 4, requires_grad=True)
    out = mt.conv2d(x, mt.ones(1, 1, 3, 3))
    assert out.grad_fn.name == "conv"
    out.sum().backward()
    # each input pixel is covered by as many 3x3 windows as fit around it
    assert x.grad.numpy()[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2],
                                             [1, 2, 2, 1]]  # fmt: skip


def test_gradients_of_gradients_stay_on_the_primitives():
    """conv's gradients are conv_transpose and conv_grad_weight, theirs are conv again:
    a second-order graph on a native backend has no composite (im2col) nodes."""
    x = mt.randn(1, 2, 5, 5, dtype=mt.float64, requires_grad=True)
    w = mt.randn(3, 2, 3, 3, dtype=mt.float64, requires_grad=True)
    gx, gw = mt.autograd.grad(mt.conv2d(x, w).sum(), [x, w], create_graph=True)
    assert (gx.grad_fn.name, gw.grad_fn.name) == ("conv_transpose", "conv_grad_weight")
