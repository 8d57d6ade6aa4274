"""PyTorch's pointwise extras (rsqrt, fmod, clamp_min/max, lerp, addcmul, addcdiv), its
closeness tests (isclose, allclose, Tensor.equal) and broadcast_tensors against
PyTorch: values, dtypes, gradients, in-place forms and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytensor as mt

torch = pytest.importorskip("torch")

BACKENDS = [info.name for info in mt.backends() if info.status == "loaded"]
by_backend = pytest.mark.parametrize("backend", BACKENDS)


def _arrays(*shapes, seed=0, low=-3.0, high=3.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, s) for s in shapes]


def _close(got, expected, tol=1e-10):
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    assert got.shape == tuple(np.shape(expected)), (got.shape, np.shape(expected))
    np.testing.assert_allclose(got.numpy(), expected, rtol=tol, atol=tol)


def _compare(fn_mt, fn_torch, arrays, backend, tol=1e-10):
    """Forward values and every input's gradient against PyTorch (float64)."""
    ours = [mt.tensor(a, mt.float64, backend=backend, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn_mt(*ours), fn_torch(*theirs)
    _close(out, ref, tol)
    cotangent = np.random.default_rng(5).standard_normal(ref.shape)
    (out * mt.tensor(cotangent, mt.float64, backend=backend)).sum().backward()
    (ref * torch.tensor(cotangent)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        _close(a.grad, b.grad, tol)


# -- rsqrt ------------------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("shape", [(2, 3), (), (0,)])
def test_rsqrt_matches_torch(backend, shape):
    _compare(mt.rsqrt, torch.rsqrt, _arrays(shape, low=0.1, high=4.0), backend)
    _compare(lambda x: x.rsqrt(), lambda x: x.rsqrt(), _arrays(shape, low=0.1, high=4.0), backend)


def test_rsqrt_edges_dtypes_and_second_order():
    special = [0.0, -1.0, math.inf, 4.0]
    with np.errstate(all="ignore"):
        _close(mt.rsqrt(mt.tensor(special)), torch.rsqrt(torch.tensor(special)))
    got, expected = mt.rsqrt(mt.tensor([4, 16])), torch.rsqrt(torch.tensor([4, 16]))
    assert got.dtype is mt.float32 and expected.dtype == torch.float32
    _close(got, expected, 1e-6)
    x = mt.tensor([0.5, 2.0], mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(x.rsqrt().sum(), [x], create_graph=True)
    (h,) = mt.autograd.grad(g.sum(), [x])
    t = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(t.rsqrt().sum(), [t], create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), [t])
    _close(h, th)


# -- fmod -------------------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize(("a", "b"), [((2, 3), (2, 3)), ((2, 3), (3,)), ((), (4,))])
def test_fmod_matches_torch(backend, a, b):
    x, y = _arrays(a, b)
    y = np.where(np.abs(y) < 0.3, 1.5, y)  # keep divisors away from 0
    _compare(mt.fmod, torch.fmod, [x, y], backend)
    _compare(lambda p, q: p.fmod(q), lambda p, q: p.fmod(q), [x, y], backend)


def test_fmod_sign_rules_match_torch_for_ints_floats_and_scalars():
    ints = [-7, -3, 0, 3, 7]
    for divisor in (2, -2, 3):
        got = mt.fmod(mt.tensor(ints), divisor)
        expected = torch.fmod(torch.tensor(ints), divisor)
        assert got.dtype is mt.int64 and got.tolist() == expected.tolist()
    floats = [-3.5, -0.0, 0.0, 2.25, 7.5, math.inf]
    for divisor in (2.0, -2.0, 0.0, math.inf):
        got = mt.fmod(mt.tensor(floats, mt.float64), divisor)
        expected = torch.fmod(torch.tensor(floats, dtype=torch.float64), divisor)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
        numbers = ~np.isnan(expected.numpy())  # a NaN's sign bit means nothing
        np.testing.assert_array_equal(np.signbit(got.numpy()[numbers]),
                                      np.signbit(expected.numpy()[numbers]))  # fmt: skip
    got = mt.fmod(mt.tensor([5, -5], dtype=mt.int32), mt.tensor([3, 3], dtype=mt.int32))
    assert got.dtype is mt.int32 and got.tolist() == [2, -2]
    mixed = mt.fmod(mt.tensor([5, -5]), 1.5)
    assert mixed.dtype is mt.float32 and mixed.tolist() == [0.5, -0.5]


def test_fmod_errors_and_in_place():
    with pytest.raises(ZeroDivisionError, match=r"fmod\(\): integer division by zero"):
        mt.fmod(mt.tensor([1, 2]), mt.tensor([1, 0]))
    with pytest.raises(TypeError, match=r"fmod\(\): other must be a Tensor or a number"):
        mt.fmod(mt.tensor([1.0]), "2")
    with pytest.raises(TypeError, match=r"fmod\(\): not defined for complex64 tensors"):
        mt.fmod(mt.tensor([1j]), 2.0)
    x = mt.tensor([-3.5, 3.5])
    version = x._storage.version
    assert x.fmod_(2.0) is x and x.tolist() == [-1.5, 1.5]
    assert x._storage.version == version + 1


# -- clamp_min / clamp_max --------------------------------------------------------------------
@by_backend
def test_clamp_min_and_max_match_torch(backend):
    _compare(lambda x: mt.clamp_min(x, 0.5), lambda x: torch.clamp_min(x, 0.5), _arrays((2, 3)),
             backend)  # fmt: skip
    _compare(lambda x: x.clamp_max(-0.5), lambda x: x.clamp_max(-0.5), _arrays((4,)), backend)
    _compare(mt.clamp_min, torch.clamp_min, _arrays((2, 3), (3,)), backend)
    _compare(lambda x, m: x.clamp_max(m), lambda x, m: x.clamp_max(m), _arrays((2, 3), (2, 1)),
             backend)  # fmt: skip
    ints = mt.tensor([-2, 0, 5])
    assert mt.clamp_min(ints, 0).tolist() == [0, 0, 5] and mt.clamp_max(ints, 1).dtype is mt.int64


def test_clamp_in_place_and_errors():
    x = mt.tensor([-1.0, 0.5, 2.0])
    assert x.clamp_min_(0.0) is x and x.clamp_max_(1.0) is x
    assert x.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(TypeError, match=r"clamp_min\(\): min must be a Tensor or a number"):
        mt.clamp_min(x, "0")
    with pytest.raises(TypeError, match=r"clamp_max\(\): input must be a Tensor"):
        mt.clamp_max([1.0], 0.0)


# -- lerp -------------------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("weight", [0.25, 0.75, 1.0, -0.5])
def test_lerp_with_a_number_matches_torch(backend, weight):
    _compare(lambda a, b: mt.lerp(a, b, weight), lambda a, b: torch.lerp(a, b, weight),
             _arrays((2, 3), (3,)), backend)  # fmt: skip


@by_backend
def test_lerp_with_a_tensor_weight_matches_torch(backend):
    start, end = _arrays((2, 3), (2, 3))
    (weight,) = _arrays((2, 1), low=-0.2, high=1.2)
    _compare(mt.lerp, torch.lerp, [start, end, weight], backend)
    _compare(lambda a, b, w: a.lerp(b, w), lambda a, b, w: a.lerp(b, w), [start, end, weight],
             backend)  # fmt: skip


def test_lerp_in_place_exact_ends_and_errors():
    avg = mt.tensor([0.0, 10.0])
    assert avg.lerp_(mt.tensor([1.0, 20.0]), 0.5) is avg and avg.tolist() == [0.5, 15.0]
    end = mt.tensor([0.1, 1e8])
    assert mt.lerp(mt.tensor([3.0, -7.0]), end, 1.0).tolist() == end.tolist()
    with pytest.raises(TypeError, match=r"lerp\(\): expected floating-point.*int64"):
        mt.lerp(mt.tensor([1, 2]), mt.tensor([3, 4]), 0.5)


# -- addcmul / addcdiv ------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("value", [1, 0.5, -2.0])
def test_addcmul_and_addcdiv_match_torch(backend, value):
    arrays = _arrays((2, 3), (3,), (2, 1))
    _compare(lambda a, b, c: mt.addcmul(a, b, c, value=value),
             lambda a, b, c: torch.addcmul(a, b, c, value=value), arrays, backend)  # fmt: skip
    arrays[2] = np.where(np.abs(arrays[2]) < 0.3, 1.0, arrays[2])
    _compare(lambda a, b, c: a.addcdiv(b, c, value=value),
             lambda a, b, c: a.addcdiv(b, c, value=value), arrays, backend)  # fmt: skip


def test_addcmul_and_addcdiv_in_place_follow_the_guard():
    p = mt.ones(3, requires_grad=True)
    m, v = mt.tensor([1.0, 2.0, 3.0]), mt.tensor([4.0, 4.0, 4.0])
    with pytest.raises(RuntimeError, match=r"addcdiv_\(\).*leaf tensor that requires grad"):
        p.addcdiv_(m, v, value=-0.5)
    with mt.no_grad():
        assert p.addcdiv_(m, v, value=-0.5) is p
    assert p.tolist() == [0.875, 0.75, 0.625] and p.is_leaf
    s = mt.zeros(3)
    assert s.addcmul_(m, m, value=0.5) is s and s.tolist() == [0.5, 2.0, 4.5]
    ints = mt.tensor([1, 2])
    assert mt.addcmul(ints, ints, ints, value=2).tolist() == [3, 10]
    with pytest.raises(TypeError, match=r"addcdiv\(\): integer division of int64 by int64"):
        mt.addcdiv(ints, ints, ints)
    with pytest.raises(TypeError, match=r"addcmul\(\): value must be a number"):
        mt.addcmul(s, s, s, value=mt.ones(1))
    with pytest.raises(TypeError, match=r"addcmul\(\): for integer tensors value must be an int"):
        mt.addcmul(ints, ints, ints, value=0.5)  # (PyTorch truncates the value to 0)
    mixed = mt.addcmul(mt.ones(1), mt.tensor([3]), mt.tensor([1]), value=0.5)
    expected = torch.addcmul(torch.ones(1), torch.tensor([3]), torch.tensor([1]), value=0.5)
    assert mixed.dtype is mt.float32 and mixed.tolist() == expected.tolist() == [2.5]


# -- isclose, allclose, equal -----------------------------------------------------------------
CLOSE_VALUES = ([1.0, 1.0 + 1e-6, 1.0, math.inf, -math.inf, math.nan, 0.0, 1e-9],
                [1.0, 1.0, 1.1, math.inf, math.inf, math.nan, 1e-9, 0.0])  # fmt: skip


CLOSE_KWARGS = [{}, {"rtol": 0.2}, {"atol": 1e-8, "rtol": 0}, {"rtol": 0, "atol": 0},
                {"equal_nan": True}]  # fmt: skip


@by_backend
@pytest.mark.parametrize("kwargs", CLOSE_KWARGS, ids=str)
def test_isclose_matches_torch(backend, kwargs):
    a, b = CLOSE_VALUES
    got = mt.isclose(mt.tensor(a, mt.float64, backend=backend), mt.tensor(b, mt.float64,
                     backend=backend), **kwargs)  # fmt: skip
    expected = torch.isclose(torch.tensor(a, dtype=torch.float64),
                             torch.tensor(b, dtype=torch.float64), **kwargs)  # fmt: skip
    assert got.dtype is mt.bool_ and got.tolist() == expected.tolist()
    method = mt.tensor(a, backend=backend).isclose(mt.tensor(b, backend=backend), **kwargs)
    assert method.tolist() == torch.tensor(a).isclose(torch.tensor(b), **kwargs).tolist()


def test_isclose_broadcasts_and_takes_integers():
    got = mt.isclose(mt.ones(2, 1), mt.tensor([1.0, 1.5, 1.0 + 1e-7]))
    assert got.shape == (2, 3) and got.tolist() == [[True, False, True]] * 2
    ints = mt.isclose(mt.tensor([100, 101, 2**40]), mt.tensor([100, 100, 2**40 + 1]), rtol=0.001)
    expected = torch.isclose(torch.tensor([100, 101, 2**40]), torch.tensor([100, 100, 2**40 + 1]),
                             rtol=0.001)  # fmt: skip
    assert ints.tolist() == expected.tolist()
    with pytest.raises(ValueError, match=r"isclose\(\): rtol must be greater than or equal"):
        mt.isclose(mt.ones(1), mt.ones(1), rtol=-1)
    with pytest.raises(TypeError, match=r"isclose\(\): other must be a Tensor"):
        mt.isclose(mt.ones(1), 1.0)


def test_allclose_returns_a_python_bool_like_torch():
    a, b = CLOSE_VALUES
    for kwargs in ({}, {"equal_nan": True}):
        got = mt.allclose(mt.tensor(a[:2]), mt.tensor(b[:2]), **kwargs)
        assert got is torch.allclose(torch.tensor(a[:2]), torch.tensor(b[:2]), **kwargs) is True
        got = mt.tensor(a).allclose(mt.tensor(b), **kwargs)
        assert got is torch.tensor(a).allclose(torch.tensor(b), **kwargs) is False
    assert mt.allclose(mt.ones(0), mt.ones(0)) is True


def test_equal_method_is_torch_equal_and_the_namespace_stays_elementwise():
    cases = [
        ([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0]), ([1.0], [1.0, 1.0]),
        ([math.nan], [math.nan]), ([], []), ([[1.0, 2.0]], [1.0, 2.0]),
    ]  # fmt: skip
    for a, b in cases:
        got = mt.tensor(a).equal(mt.tensor(b))
        assert type(got) is bool and got == torch.equal(torch.tensor(a), torch.tensor(b)), (a, b)
    assert mt.tensor([1, 2]).equal(mt.tensor([1.0, 2.0])) is True
    assert mt.tensor(3).equal(mt.tensor(3)) is True
    elementwise = mt.equal(mt.tensor([1, 2]), mt.tensor([1, 3]))  # the array API's ==
    assert elementwise.tolist() == [True, False]
    with pytest.raises(TypeError, match=r"equal\(\): other must be a Tensor"):
        mt.ones(1).equal([1.0])


# -- broadcast_tensors ------------------------------------------------------------------------
def test_broadcast_tensors_matches_torch_and_returns_views():
    a, b, c = mt.ones(3), mt.zeros(2, 1), mt.tensor(5.0)
    got = mt.broadcast_tensors(a, b, c)
    expected = torch.broadcast_tensors(torch.ones(3), torch.zeros(2, 1), torch.tensor(5.0))
    assert isinstance(got, tuple)
    assert [t.shape for t in got] == [tuple(t.shape) for t in expected]
    assert all(g._storage is s._storage for g, s in zip(got, (a, b, c), strict=True))
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (y, _) = mt.broadcast_tensors(x, mt.ones(3, 1))
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert mt.broadcast_tensors() == ()
    with pytest.raises(ValueError, match=r"broadcast_tensors\(\): shapes \(2,\) and \(3,\)"):
        mt.broadcast_tensors(mt.ones(2), mt.ones(3))


@by_backend
def test_relu_gradient_at_edge_values_is_torchs_threshold_backward(backend):
    # 0 where x <= 0 (even for an infinite or NaN cotangent, and +0.0 for a negative one),
    # the cotangent as it is elsewhere, NaN inputs included
    x = [float("nan"), -1.0, 0.0, -0.0, 2.0, 3.0, -4.0]
    g = [1.0, float("inf"), float("nan"), 1.0, float("nan"), -2.0, -3.0]
    ours = mt.tensor(x, backend=backend, requires_grad=True)
    mt.relu(ours).backward(mt.tensor(g, backend=backend))
    theirs = torch.tensor(x, requires_grad=True)
    torch.relu(theirs).backward(torch.tensor(g))
    got, expected = ours.grad.numpy(), theirs.grad.numpy()
    assert np.array_equal(got, expected, equal_nan=True), (got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
