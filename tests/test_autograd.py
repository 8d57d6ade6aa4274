"""The autograd engine: gradients vs hand-derived numpy values, graph lifetime, in-place rules."""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest
from _util import assert_same

import mytensor as mt
from mytensor.autograd import Function, GradcheckError, gradcheck

RNG = np.random.default_rng(1234)


def leaf(a, dtype=mt.float64) -> mt.Tensor:
    return mt.tensor(np.asarray(a), dtype=dtype, requires_grad=True)


# -- composite expressions vs hand-computed gradients --------------------------------------
def test_composite_expression_gradients():
    a = RNG.uniform(0.5, 2.0, (3, 4))
    b = RNG.uniform(-1.0, 1.0, (4,))
    x, y = leaf(a), leaf(b)
    # f = sum(sin(x) * y + x**2 / y.exp() - log(x) * tanh(y))
    f = (x.sin() * y + x**2 / y.exp() - x.log() * y.tanh()).sum()
    f.backward()
    dx = np.cos(a) * b + 2 * a / np.exp(b) - np.tanh(b) / a
    dy = (np.sin(a) - a**2 / np.exp(b) - np.log(a) * (1 - np.tanh(b) ** 2)).sum(0)
    assert_same(x.grad, dx, rtol=1e-10)
    assert_same(y.grad, dy, rtol=1e-10)
    assert_same(f, (np.sin(a) * b + a**2 / np.exp(b) - np.log(a) * np.tanh(b)).sum())


@pytest.mark.parametrize(
    ("fn", "dfn", "lo", "hi"),
    [
        (lambda t: t.exp(), np.exp, -2, 2),
        (lambda t: t.log(), lambda a: 1 / a, 0.5, 3),
        (lambda t: t.sqrt(), lambda a: 0.5 / np.sqrt(a), 0.5, 3),
        (lambda t: t.sigmoid(), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2, -3, 3),
        (lambda t: t.tanh(), lambda a: 1 - np.tanh(a) ** 2, -3, 3),
        (lambda t: t.cos(), lambda a: -np.sin(a), -3, 3),
        (lambda t: t.relu(), lambda a: (a > 0).astype(float), -3, 3),
        (lambda t: t.abs(), np.sign, -3, 3),
        (lambda t: t.reciprocal(), lambda a: -1 / a**2, 0.5, 3),
        (lambda t: mt.log1p(t), lambda a: 1 / (1 + a), 0.0, 3),
        (lambda t: mt.expm1(t), np.exp, -2, 2),
        (lambda t: 1.0 / t, lambda a: -1 / a**2, 0.5, 3),
        (lambda t: 2.0**t, lambda a: np.log(2) * 2**a, -2, 2),
        (lambda t: t**2.5, lambda a: 2.5 * a**1.5, 0.5, 3),
        (lambda t: 3.0 - t * 4.0, lambda a: -4 + 0 * a, -3, 3),
        (lambda t: t % 1.5, lambda a: 1 + 0 * a, 0.1, 3),
        (lambda t: t.clip(-1.0, 1.0), lambda a: (np.abs(a) <= 1).astype(float), -3, 3),
        (lambda t: t.mean() * t, lambda a: a.mean() + a.sum() / a.size + 0 * a, -3, 3),
        (lambda t: t.var(), lambda a: 2 * (a - a.mean()) / (a.size - 1), -3, 3),
    ],
)
def test_elementwise_gradients(fn, dfn, lo, hi):
    a = RNG.uniform(lo, hi, (5,))
    x = leaf(a)
    fn(x).sum().backward()
    assert_same(x.grad, dfn(a), rtol=1e-8, atol=1e-12)


def test_gradient_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0, 9.0]
    g = x.grad
    (x * 1.0).sum().backward()
    assert x.grad.tolist() == [6.0, 8.0, 10.0]
    assert g.tolist() == [6.0, 8.0, 10.0]  # accumulated in place into the same tensor


def test_same_leaf_used_twice_sums_paths():
    x = leaf([2.0])
    y = x * x * x + x  # d/dx = 3x^2 + 1
    y.backward()
    assert x.grad.tolist() == [13.0]


def test_backward_non_scalar_needs_gradient():
    x = leaf([[1.0, 2.0]])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(1, 2\)"):
        y.backward()
    y.backward(mt.tensor([[1.0, 10.0]], dtype=mt.float64))
    assert x.grad.tolist() == [[2.0, 20.0]]
    with pytest.raises(ValueError, match=r"\(3,\).*\(1, 2\)"):
        (x * 2).backward(mt.ones(3, dtype=mt.float64))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.ones(2).sum().backward()


def test_no_grad_and_enable_grad():
    x = leaf([1.0])
    with mt.no_grad():
        y = x * 2
        assert not mt.is_grad_enabled()
        with mt.enable_grad():
            z = x * 2
    assert mt.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @mt.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad


def test_detach_shares_data_and_cuts_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    assert d._storage is y._storage
    (y * d).sum().backward()  # d is a constant: grad = 3 * d
    assert x.grad.tolist() == [9.0, 18.0]


@pytest.mark.parametrize("dtype", [mt.int32, mt.int64, mt.bool_])
def test_requires_grad_on_non_float_raises(dtype):
    x = mt.zeros(2, dtype=dtype)
    with pytest.raises(TypeError, match=dtype.name):
        x.requires_grad_()
    with pytest.raises(TypeError, match=dtype.name):
        mt.tensor([1, 0], dtype=dtype, requires_grad=True)
    assert not x.requires_grad


def test_requires_grad_false_on_non_leaf_raises():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


# -- graph lifetime ---------------------------------------------------------------------
def test_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    x.grad = None
    z = (x.exp() * x).sum()
    z.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


@pytest.mark.parametrize("a", [-2.0, 0.5, 3.0])
def test_create_graph_second_derivative(a):
    x = leaf([a])
    y = (x**3).sum()
    (g,) = mt.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.numpy(), [3 * a * a])
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6 * a])


def test_backward_create_graph_builds_grad_graph():
    x = leaf([2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = mt.autograd.grad(x.grad.sum(), x)
    assert g2.tolist() == [12.0]


def test_autograd_grad_leaves_dot_grad_untouched():
    x, y, unused = leaf([1.0, 2.0]), leaf([3.0]), leaf([5.0])
    out = (x * y).sum()
    gx, gy = mt.autograd.grad(out, [x, y], retain_graph=True)
    assert gx.tolist() == [3.0, 3.0] and gy.tolist() == [3.0]
    assert x.grad is None and y.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        mt.autograd.grad(out, [x, unused], retain_graph=True)
    gx, gu = mt.autograd.grad(out, [x, unused], allow_unused=True)
    assert gx.tolist() == [3.0, 3.0] and gu is None
    assert unused.grad is None


def test_autograd_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    (g,) = mt.autograd.grad(x * x, x, mt.tensor([1.0, -1.0], dtype=mt.float64))
    assert g.tolist() == [2.0, -4.0]


def test_saved_tensors_released_after_backward():
    x = leaf(RNG.standard_normal(100))
    h = x.exp()  # saved by exp (its output) and by the mul below
    y = (h * h).sum()
    mul_node = y.grad_fn.edges[0]
    assert mul_node.name == "mul" and len(mul_node.saved) == 2
    ref = weakref.ref(h)
    y.backward()
    assert mul_node.saved == () and mul_node.backward is None
    assert y.grad_fn.saved == ()
    del h
    gc.collect()
    assert ref() is None


def test_saved_tensor_alive_with_retain_graph():
    x = leaf([1.0])
    h = x * 2
    y = (h * h).sum()
    ref = weakref.ref(h)
    y.backward(retain_graph=True)
    del h
    gc.collect()
    assert ref() is not None  # the mul node still holds it for a second backward
    y.backward()
    assert x.grad.tolist() == [16.0]


def test_modifying_saved_tensor_in_place_raises():
    x = leaf([1.0, 2.0])
    h = x * 2
    y = (h * h).sum()  # mul saves h
    with mt.no_grad():
        h += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_in_place_on_leaf_requiring_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf"):
        x += 1.0
    with pytest.raises(RuntimeError, match="leaf"):
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 5.0
    assert x.tolist() == [1.0, 2.0]
    with mt.no_grad():
        x -= 0.5
        x[1] = 10.0
    assert x.tolist() == [0.5, 10.0]
    assert x.is_leaf and x.requires_grad


@pytest.mark.parametrize(
    ("op", "ref_value", "ref_grad"),
    [
        ("iadd", lambda a: 2 * a + 3, lambda a: 2 + 0 * a),
        ("isub", lambda a: 2 * a - a * a, lambda a: 2 - 2 * a),
        ("imul", lambda a: 2 * a * a, lambda a: 4 * a),
        ("itruediv", lambda a: 2 * a / (a + 1), lambda a: 2 / (a + 1) ** 2),
    ],
)
def test_in_place_ops_on_non_leaf(op, ref_value, ref_grad):
    a = np.array([0.5, 1.0, 2.0])
    x = leaf(a)
    y = x * 2
    storage = y._storage
    if op == "iadd":
        y += 3.0
    elif op == "isub":
        y -= x * x
    elif op == "imul":
        y *= x
    else:
        y /= x + 1
    assert y._storage is storage  # really in place
    assert_same(y, ref_value(a), rtol=1e-12)
    y.sum().backward()
    assert_same(x.grad, ref_grad(a), rtol=1e-12)


def test_in_place_self_aliasing_and_constant_target():
    x = leaf([1.0, 2.0])
    y = x * 2
    y *= y  # y = 4 x^2
    y.sum().backward()
    assert x.grad.tolist() == [8.0, 16.0]
    x.grad = None
    z = mt.ones(2, dtype=mt.float64)  # a constant that becomes part of the graph in place
    z *= x
    z *= x
    assert z.requires_grad and z.tolist() == [1.0, 4.0]
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_in_place_on_view_under_grad_raises():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    v = y[:1]
    with pytest.raises(RuntimeError, match="view"):
        v += 1.0
    assert y.tolist() == [1.0, 2.0]


def test_in_place_setitem_on_non_leaf_is_differentiable():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([10.0])
    y = x * 1.0
    y[1] = w.sum() * 2
    assert y.tolist() == [1.0, 20.0, 3.0]
    (y * mt.tensor([1.0, 2.0, 3.0], dtype=mt.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0]
    assert w.grad.tolist() == [4.0]


def test_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    other = x * 4
    (h * h).sum().backward(retain_graph=True)
    assert h.grad.tolist() == [6.0, 12.0]
    assert other.grad is None
    assert x.grad.tolist() == [18.0, 36.0]
    x.retain_grad()  # a leaf that requires grad: no-op
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.ones(2).retain_grad()


# -- broadcasting and linear algebra -----------------------------------------------------------
@pytest.mark.parametrize(
    ("sa", "sb"), [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3)),
                   ((1,), (5,)), ((2, 1, 3), (4, 1))],
)  # fmt: skip
def test_broadcasting_grads_unbroadcast(sa, sb):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    x, y = leaf(a), leaf(b)
    out = x * y + y
    assert out.shape == np.broadcast_shapes(sa, sb)
    w = RNG.standard_normal(out.shape)
    (out * mt.tensor(w)).sum().backward()
    assert x.grad.shape == sa and y.grad.shape == sb
    full_a = np.broadcast_to(a, out.shape)
    full_b = np.broadcast_to(b, out.shape)
    gx = w * full_b
    gy = w * full_a + w
    assert_same(x.grad, _sum_to(gx, sa), rtol=1e-10)
    assert_same(y.grad, _sum_to(gy, sb), rtol=1e-10)


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


@pytest.mark.parametrize(
    ("sa", "sb"),
    [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
     ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))],
)  # fmt: skip
def test_matmul_forward_and_grads(sa, sb):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    x, y = leaf(a), leaf(b)
    out = x @ y
    expected = a @ b
    assert_same(out, expected, rtol=1e-10)
    w = RNG.standard_normal(np.shape(expected))
    (out * mt.tensor(w)).sum().backward()
    # d<w, a@b>/da through numpy, with the same 1-d promotion rules
    a2 = a[None] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    w2 = np.asarray(w)
    if a.ndim == 1:
        w2 = np.expand_dims(w2, -2 if b.ndim > 1 else 0)
    if b.ndim == 1:
        w2 = np.expand_dims(w2, -1)
    ga = w2 @ np.swapaxes(b2, -1, -2)
    gb = np.swapaxes(a2, -1, -2) @ w2
    ga = _sum_to(ga, a2.shape).reshape(sa)
    gb = _sum_to(gb, b2.shape).reshape(sb)
    assert_same(x.grad, ga, rtol=1e-10, atol=1e-12)
    assert_same(y.grad, gb, rtol=1e-10, atol=1e-12)


def test_matmul_int():
    out = mt.tensor([[1, 2]]) @ mt.tensor([[3], [4]])
    assert out.dtype is mt.int64 and out.tolist() == [[11]]


# -- reductions -------------------------------------------------------------------------------
def test_softmax_family_is_stable_for_large_inputs():
    a = np.array([[1000.0, 1000.0, 999.0], [-1000.0, 0.0, 1000.0]])
    for dtype in (mt.float32, mt.float64):
        x = mt.tensor(a, dtype=dtype)
        e = np.exp(a - a.max(1, keepdims=True))
        soft = e / e.sum(1, keepdims=True)
        assert_same(mt.softmax(x, dim=1), soft, rtol=1e-5)
        lse = np.log(e.sum(1)) + a.max(1)
        assert_same(mt.log_softmax(x, dim=-1), a - lse[:, None], rtol=1e-5, atol=1e-4)
        assert_same(mt.logsumexp(x, dim=1), lse, rtol=1e-6)
        assert_same(mt.logsumexp(x, dim=1, keepdim=True), lse[:, None], rtol=1e-6)
        assert np.isfinite(mt.logsumexp(x).item())
    assert mt.logsumexp(mt.tensor([-math.inf, -math.inf])).item() == -math.inf


def test_softmax_family_gradients():
    a = np.array([[1000.0, 1001.0, 999.0], [0.5, -0.5, 2.0]])
    w = RNG.standard_normal(a.shape)
    e = np.exp(a - a.max(1, keepdims=True))
    s = e / e.sum(1, keepdims=True)

    x = leaf(a)
    (mt.softmax(x, 1) * mt.tensor(w)).sum().backward()
    assert_same(x.grad, s * (w - (w * s).sum(1, keepdims=True)), rtol=1e-8, atol=1e-12)

    x = leaf(a)
    (mt.log_softmax(x, 1) * mt.tensor(w)).sum().backward()
    assert_same(x.grad, w - s * w.sum(1, keepdims=True), rtol=1e-8, atol=1e-12)

    x = leaf(a)
    (mt.logsumexp(x, 1) * mt.tensor(w[:, 0])).sum().backward()
    assert_same(x.grad, s * w[:, :1], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("op", ["max", "min"])
def test_extremum_ties_split_gradient(op):
    x = leaf([1.0, 3.0, 3.0, 2.0, 3.0] if op == "max" else [1.0, 0.0, 0.0, 2.0, 5.0])
    getattr(x, op)().backward()
    want = [0, 1 / 3, 1 / 3, 0, 1 / 3] if op == "max" else [0, 0.5, 0.5, 0, 0]
    np.testing.assert_allclose(x.grad.numpy(), want)
    y = leaf([[2.0, 2.0], [1.0, 4.0]])
    getattr(y, "a" + op)(dim=1).sum().backward()  # amax / amin: along a dim, ties split too
    want = [[0.5, 0.5], [0, 1]] if op == "max" else [[0.5, 0.5], [1, 0]]
    np.testing.assert_allclose(y.grad.numpy(), want)


def test_maximum_ties_split_gradient():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 0.0])
    mt.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0]
    assert b.grad.tolist() == [0.5, 1.0, 0.0]


@pytest.mark.parametrize(
    ("values", "want"),
    [([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]), ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),
     ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]), ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
     ([-1.5, 2.0], [2.0, -1.5])],
)  # fmt: skip
def test_prod_gradient_with_zeros(values, want):
    x = leaf(values)
    x.prod().backward()
    assert x.grad.tolist() == want


def test_prod_gradient_along_dim_with_zeros():
    a = np.array([[1.0, 0.0, 3.0], [2.0, 5.0, 4.0], [0.0, 0.0, 7.0]])
    x = leaf(a)
    x.prod(dim=1).sum().backward()
    want = [[0.0, 3.0, 0.0], [20.0, 8.0, 10.0], [0.0, 0.0, 0.0]]
    assert x.grad.tolist() == want


def test_sum_mean_grads_with_dims():
    a = RNG.standard_normal((2, 3, 4))
    x = leaf(a)
    (x.sum(dim=(0, 2)) * mt.tensor([1.0, 2.0, 3.0], dtype=mt.float64)).sum().backward()
    assert_same(x.grad, np.broadcast_to(np.array([1.0, 2.0, 3.0])[:, None], (2, 3, 4)))
    x = leaf(a)
    x.mean(dim=-1, keepdim=True).sum().backward()
    assert_same(x.grad, np.full(a.shape, 0.25))


# -- views and indexing carry gradients -------------------------------------------------------
def test_view_and_indexing_gradients():
    a = RNG.standard_normal((3, 4))
    x = leaf(a)
    out = (x.T[1:, ::-1].reshape(-1) * 2).sum() + x[np.array([0, 0, 2]), 1].sum()
    out = out + x[x > 0].sum() + x.flip(0).unsqueeze(0).expand(2, 3, 4).sum()
    out.backward()
    g = np.zeros_like(a)
    g[:, 1:] += 2  # rows 1.. of x.T are columns 1.. of x
    np.add.at(g, (np.array([0, 0, 2]), 1), 1)
    g += (a > 0)
    g += 2
    assert_same(x.grad, g)


def test_cat_stack_split_gradients():
    x, y = leaf([1.0, 2.0]), leaf([[3.0, 4.0]])
    w = mt.tensor([1.0, 2.0, 3.0, 4.0], dtype=mt.float64)
    (mt.cat([x, y.reshape(-1)]) * w).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0] and y.grad.tolist() == [[3.0, 4.0]]
    z = leaf([1.0, 2.0, 3.0])
    a, b = mt.split(z, [1, 2])
    (mt.stack([a.sum(), (b * b).sum()]) * mt.tensor([5.0, 1.0], dtype=mt.float64)).sum().backward()
    assert z.grad.tolist() == [5.0, 4.0, 6.0]


def test_where_and_astype_gradients():
    x = leaf([-1.0, 2.0, 3.0])
    mt.where(x > 0, x * x, -x).sum().backward()
    assert x.grad.tolist() == [-1.0, 4.0, 6.0]
    y = leaf([1.5])
    (y.astype(mt.float32) * 2).sum().backward()
    assert y.grad.dtype is mt.float64 and y.grad.tolist() == [2.0]


# -- custom functions and gradcheck -----------------------------------------------------------
class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * ctx.scale, None  # deliberately wrong


def test_custom_function_with_saved_tensors():
    x = leaf([1.0, -2.0])
    y = Cube.apply(x, 2.0)
    assert y.tolist() == [2.0, -16.0]
    assert repr(y.grad_fn) == "<CubeBackward>"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    with mt.no_grad():
        assert not Cube.apply(x, 1.0).requires_grad


def test_custom_function_saved_tensor_in_place_check():
    x = leaf([1.0])
    h = x * 1.0
    y = Cube.apply(h, 1.0)
    with mt.no_grad():
        h.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


@pytest.mark.parametrize(
    "fn",
    [lambda t: (t * t).exp(), lambda t: t.sin() @ t.T, lambda t: mt.softmax(t, -1),
     lambda t: t.prod(dim=0), lambda t: Cube.apply(t, 1.5), lambda t: t[t > 0.0] * 2,
     lambda t: mt.logsumexp(t, dim=1), lambda t: t.amax(dim=1)],
)  # fmt: skip
def test_gradcheck_passes_on_correct_functions(fn):
    x = leaf(RNG.standard_normal((2, 3)))
    assert gradcheck(fn, [x])


def test_gradcheck_two_inputs():
    x, y = leaf(RNG.standard_normal((2, 3))), leaf(RNG.uniform(0.5, 2, (3,)))
    assert gradcheck(lambda a, b: a / b + b.log(), [x, y])


def test_gradcheck_detects_wrong_backward():
    x = leaf([[1.0, 2.0], [0.5, -1.0]])
    with pytest.raises(GradcheckError, match=r"input 0 .*element \(0, 0\)"):
        gradcheck(lambda t: WrongCube.apply(t, 1.0), [x])


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [mt.ones(2, requires_grad=True)])


# -- a long chain -----------------------------------------------------------------------------
def test_long_chain_backward_without_recursion_error():
    x = mt.tensor([1.0], dtype=mt.float64, requires_grad=True)
    y = x
    n = 100_000
    for _ in range(n // 2):
        y = y * 1.0001
        y = y + x
    y.sum().backward()
    # y_k = 1.0001 * y_{k-1} + x  =>  dy_k/dx = 1.0001 * dy_{k-1}/dx + 1, dy_0/dx = 1
    r, k = 1.0001, n // 2
    expected = r**k + (r**k - 1) / (r - 1)
    np.testing.assert_allclose(x.grad.numpy(), [expected], rtol=1e-9)


@pytest.mark.parametrize("backend", ["numpy_ref", "numba_cpu"])
def test_gradients_of_many_views_of_one_tensor_add_up_as_in_pytorch(backend):
    """Views' gradients reach their base as regions added in place (SliceGrad): overlapping
    slices, negative steps, ints, None, a transposed base, views mixed with whole-tensor
    uses, and every order of arrival give PyTorch's gradient, also under create_graph."""
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(5).standard_normal((6, 5)).astype(np.float32)

    def program(lib, x):
        y = x.T if lib is torch else x.mT  # a non-contiguous base
        # PyTorch has no negative steps: flip, then step, picks the same rows
        backwards = y.flip(0)[::2, 1] if lib is torch else y[::-2, 1]
        parts = [y[1:4], backwards, y[2], y[None, :, 3:], y[1:3, ::2] * 3.0, y * 0.5, y[-1]]
        return sum((p * (k + 1)).sum() for k, p in enumerate(parts)) + (y[0:2] ** 2).sum()

    theirs = torch.tensor(values, requires_grad=True)
    program(torch, theirs).backward()
    ours = mt.tensor(values, backend=backend, requires_grad=True)
    program(mt, ours).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
    # second order: the views' backward is recorded, so it must stay differentiable
    ours2 = mt.tensor(values, backend=backend, requires_grad=True)
    (g,) = mt.autograd.grad(program(mt, ours2), ours2, create_graph=True)
    (g * g).sum().backward()
    theirs2 = torch.tensor(values, requires_grad=True)
    (tg,) = torch.autograd.grad(program(torch, theirs2), theirs2, create_graph=True)
    (tg * tg).sum().backward()
    np.testing.assert_allclose(ours2.grad.numpy(), theirs2.grad.numpy(), rtol=1e-5)


def test_a_trained_parameter_dies_with_its_model_without_the_cyclic_collector():
    """A leaf and its graph edge must not form a reference cycle: PyTorch frees a deleted
    model's weights at once, and so must we (with the collector off, a cycle never goes)."""
    model = mt.nn.Linear(4, 3)
    model(mt.ones(2, 4)).sum().backward()
    weight = weakref.ref(model.weight)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        del model
        assert weight() is None
    finally:
        if was_enabled:
            gc.enable()

