"""PyTorch's products, norms and distances against PyTorch itself: values, dtypes,
shapes, first- and second-order gradients, edge cases (0-d, size-0, broadcasting,
non-contiguous inputs) and errors, on every loaded backend."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mytensor as mt

torch = pytest.importorskip("torch")

BACKENDS = [info.name for info in mt.backends() if info.status == "loaded"]
by_backend = pytest.mark.parametrize("backend", BACKENDS)


def _arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _both(arrays, backend, grad=True):
    """The arrays as float64 mytensor tensors on `backend` and as torch tensors."""
    ours = [mt.tensor(a, mt.float64, backend=backend, requires_grad=grad) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=grad) for a in arrays]
    return ours, theirs


def _close(got, expected, tol=1e-10):
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    got_np = got.numpy()
    assert got_np.shape == np.shape(expected), (got_np.shape, np.shape(expected))
    np.testing.assert_allclose(got_np, expected, rtol=tol, atol=tol)


def _compare(fn_mt, fn_torch, arrays, backend, tol=1e-10):
    """Forward values and the gradient of every input against PyTorch."""
    ours, theirs = _both(arrays, backend)
    out, ref = fn_mt(*ours), fn_torch(*theirs)
    _close(out, ref, tol)
    cotangent = np.random.default_rng(7).standard_normal(ref.shape)
    (out * mt.tensor(cotangent, mt.float64, backend=backend)).sum().backward()
    (ref * torch.tensor(cotangent)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        expected = b.grad if b.grad is not None else torch.zeros_like(b)
        if a.grad is None:  # an input the result does not depend on (addmm's with beta=0)
            assert not expected.any(), f"input {i} got no gradient, PyTorch's is {expected}"
            continue
        _close(a.grad, expected, tol)


def _second_order(fn_mt, fn_torch, arrays, backend, tol=1e-9):
    """d/dx of (sum of the first gradient * v): the Hessian-vector product, vs PyTorch."""
    ours, theirs = _both(arrays, backend)
    v = np.random.default_rng(3).standard_normal(arrays[0].shape)
    (g,) = mt.autograd.grad(fn_mt(*ours).sum(), ours[:1], create_graph=True)
    (hv,) = mt.autograd.grad((g * mt.tensor(v, mt.float64, backend=backend)).sum(), ours[:1])
    (tg,) = torch.autograd.grad(fn_torch(*theirs).sum(), theirs[:1], create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), theirs[:1])
    _close(hv, thv, tol)


# -- mm, bmm, addmm -------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize(("n", "k", "m"), [(2, 3, 4), (1, 1, 1), (0, 3, 2), (3, 0, 2)])
def test_mm_matches_torch(backend, n, k, m):
    _compare(mt.mm, torch.mm, _arrays((n, k), (k, m)), backend)
    # methods, and a transposed (non-contiguous) operand
    _compare(lambda a, b: a.T.mm(b), lambda a, b: a.T.mm(b), _arrays((k, n), (k, m)), backend)


@by_backend
def test_bmm_matches_torch(backend):
    _compare(mt.bmm, torch.bmm, _arrays((3, 2, 4), (3, 4, 5)), backend)
    _compare(lambda a, b: a.bmm(b.transpose(1, 2)), lambda a, b: a.bmm(b.transpose(1, 2)),
             _arrays((2, 3, 4), (2, 5, 4)), backend)  # fmt: skip
    _compare(mt.bmm, torch.bmm, _arrays((0, 2, 4), (0, 4, 5)), backend)


@by_backend
@pytest.mark.parametrize("input_shape", [(2, 3), (3,), (1, 3), (2, 1), ()])
@pytest.mark.parametrize(("beta", "alpha"), [(1, 1), (0.5, -2.0), (0, 3)])
def test_addmm_matches_torch(backend, input_shape, beta, alpha):
    _compare(lambda c, a, b: mt.addmm(c, a, b, beta=beta, alpha=alpha),
             lambda c, a, b: torch.addmm(c, a, b, beta=beta, alpha=alpha),
             _arrays(input_shape, (2, 4), (4, 3)), backend)  # fmt: skip


def test_addmm_with_beta_zero_ignores_nan_in_input():
    out = mt.addmm(mt.full((2, 2), math.nan), mt.eye(2), mt.ones(2, 2), beta=0)
    assert out.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_addmm_in_place_writes_self_and_obeys_the_guard():
    c = mt.ones(2, 3)
    storage, version = c._storage, c._storage.version
    assert c.addmm_(mt.ones(2, 4), mt.ones(4, 3), alpha=0.5) is c
    assert c._storage is storage and c._storage.version == version + 1
    assert c.tolist() == [[3.0] * 3] * 2
    leaf = mt.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"addmm_.*leaf tensor that requires grad"):
        leaf.addmm_(mt.ones(2, 4), mt.ones(4, 3))
    with pytest.raises(ValueError, match=r"addmm_\(\).*shape"):
        mt.ones(3).addmm_(mt.ones(2, 4), mt.ones(4, 3))


def test_product_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"mm\(\): input must be a 2-d tensor.*\(3,\).*matmul"):
        mt.mm(mt.ones(3), mt.ones(3, 2))
    with pytest.raises(ValueError, match=r"mm\(\).*\(2x3 and 4x5\)"):
        mt.mm(mt.ones(2, 3), mt.ones(4, 5))
    with pytest.raises(ValueError, match=r"bmm\(\).*\(2, 2, 3\) and \(3, 3, 4\)"):
        mt.bmm(mt.ones(2, 2, 3), mt.ones(3, 3, 4))
    with pytest.raises(ValueError, match=r"bmm\(\): mat2 must be a 3-d tensor"):
        mt.bmm(mt.ones(2, 2, 3), mt.ones(3, 4))
    with pytest.raises(ValueError, match=r"addmm\(\): input of shape \(3, 3\).*\(2, 3\)"):
        mt.addmm(mt.ones(3, 3), mt.ones(2, 4), mt.ones(4, 3))
    with pytest.raises(TypeError, match=r"addmm\(\): beta must be a number"):
        mt.addmm(mt.ones(2, 3), mt.ones(2, 4), mt.ones(4, 3), beta=mt.ones(1))
    with pytest.raises(TypeError, match=r"mm\(\): input must be a Tensor"):
        mt.mm([[1.0]], mt.ones(1, 1))


# -- outer, kron, cross, trace --------------------------------------------------------------
@by_backend
def test_outer_and_ger_match_torch(backend):
    _compare(mt.outer, torch.outer, _arrays((3,), (4,)), backend)
    _compare(lambda a, b: a.ger(b), lambda a, b: a.outer(b), _arrays((2,), (0,)), backend)
    ints = mt.outer(mt.tensor([1, 2], backend=backend), mt.tensor([3, 4, 5], backend=backend))
    assert ints.dtype is mt.int64 and ints.tolist() == [[3, 4, 5], [6, 8, 10]]
    with pytest.raises(ValueError, match=r"outer\(\): needs two 1-d tensors.*\(2, 2\)"):
        mt.outer(mt.ones(2, 2), mt.ones(2))


@by_backend
@pytest.mark.parametrize(("a", "b"), [((2, 3), (4, 5)), ((3,), (2, 2)), ((2, 1, 3), (2,)),
                                      ((), (3,)), ((), ()), ((0, 2), (3, 1))])  # fmt: skip
def test_kron_matches_torch(backend, a, b):
    _compare(mt.kron, torch.kron, _arrays(a, b), backend)
    _compare(lambda x, y: x.kron(y), lambda x, y: x.kron(y), _arrays(a, b, seed=1), backend)


@by_backend
def test_cross_matches_torch(backend):
    _compare(lambda a, b: mt.cross(a, b, dim=-1), lambda a, b: torch.cross(a, b, dim=-1),
             _arrays((4, 3), (4, 3)), backend)  # fmt: skip
    _compare(lambda a, b: a.cross(b, dim=0), lambda a, b: a.cross(b, dim=0),
             _arrays((3, 2), (3, 1)), backend)  # fmt: skip
    # no dim: the first dim of size 3 (PyTorch's deprecated default)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation of the default
        expected = torch.cross(*[torch.tensor(a) for a in _arrays((3, 3), (3, 3))])
    _close(mt.cross(*[mt.tensor(a, backend=backend) for a in _arrays((3, 3), (3, 3))]), expected)
    # a non-contiguous operand
    a, b = _arrays((3, 5), (5, 3))
    _close(
        mt.cross(mt.tensor(a).T, mt.tensor(b), dim=1),
        torch.cross(torch.tensor(a).T, torch.tensor(b), dim=1),
    )


def test_cross_errors():
    with pytest.raises(ValueError, match=r"cross\(\): dim 0 must have size 3.*\(2, 3\)"):
        mt.cross(mt.ones(2, 3), mt.ones(2, 3), dim=0)
    with pytest.raises(ValueError, match=r"cross\(\): no dimension of size 3"):
        mt.cross(mt.ones(2, 2), mt.ones(2, 2))
    with pytest.raises(ValueError, match=r"cross\(\): .*same number of dimensions"):
        mt.cross(mt.ones(3), mt.ones(2, 3))
    with pytest.raises(IndexError, match=r"cross\(\): dim 2 is out of range"):
        mt.cross(mt.ones(2, 3), mt.ones(2, 3), dim=2)


@by_backend
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (0, 3), (1, 1)])
def test_trace_matches_torch(backend, shape):
    _compare(mt.trace, torch.trace, _arrays(shape), backend)
    ints = np.arange(math.prod(shape), dtype=np.int32).reshape(shape)
    got = mt.tensor(ints, backend=backend).trace()
    expected = torch.tensor(ints).trace()
    assert got.dtype is mt.int64 and expected.dtype == torch.int64
    assert got.item() == expected.item()


def test_trace_rejects_other_ranks():
    with pytest.raises(ValueError, match=r"trace\(\): expected a 2-d tensor, got shape \(2, 2"):
        mt.trace(mt.ones(2, 2, 2))


# -- einsum -----------------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bjk", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,j", [(2,), (3,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("...ij->ij", [(2, 3, 4)]),
    ("ij,ij->ij", [(2, 1), (1, 3)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
    ("Ba,aB", [(2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 0), (0, 2)]),
    (",->", [(), ()]),
    ("i,->i", [(3,), ()]),
]


@by_backend
@pytest.mark.parametrize(("equation", "shapes"), EINSUM_CASES)
def test_einsum_matches_torch(backend, equation, shapes):
    def theirs(*ts):
        return torch.einsum(equation, *ts)

    _compare(lambda *ts: mt.einsum(equation, *ts), theirs, _arrays(*shapes), backend)


def test_einsum_takes_a_list_of_operands_and_non_contiguous_inputs():
    a, b = _arrays((3, 2), (4, 3))
    got = mt.einsum("ji,kj->ik", [mt.tensor(a).T.T, mt.tensor(b)[:, ::-1]])
    expected = torch.einsum("ji,kj->ik", [torch.tensor(a), torch.tensor(b).flip(1)])
    _close(got, expected)


def test_einsum_second_order_matches_torch():
    _second_order(lambda a, b: mt.einsum("ij,jk->ik", a * a, b),
                  lambda a, b: torch.einsum("ij,jk->ik", a * a, b),
                  _arrays((2, 3), (3, 2)), "numpy_ref")  # fmt: skip


def test_einsum_keeps_integer_dtypes():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    got = mt.einsum("ij,ij->i", mt.tensor(a), mt.tensor(a))
    expected = torch.einsum("ij,ij->i", torch.tensor(a), torch.tensor(a))
    assert got.dtype is mt.int32 and expected.dtype == torch.int32
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize(("equation", "shapes", "message"), [
    ("ij,jk", [(2, 3)], r"the equation 'ij,jk' has 2 operand\(s\) but 1 were given"),
    ("ijk", [(2, 3)], r"the subscripts 'ijk' of operand 0 name 3 dimension\(s\).*\(2, 3\)"),
    ("ij->k", [(2, 3)], r"output subscript 'k' does not appear"),
    ("ij->ii", [(2, 2)], r"output subscript 'i' appears more than once"),
    ("ii", [(2, 3)], r"subscript 'i' is repeated for operand 0 but the sizes don't match"),
    ("ij,jk", [(2, 3), (4, 5)], r"subscript 'j' has size 4 in operand 1"),
    ("i1->i", [(2, 2)], r"invalid subscript '1'"),
    ("....i->i", [(2,)], r"invalid subscript '\.'.*at most one '\.\.\.'"),
])  # fmt: skip
def test_einsum_errors(equation, shapes, message):
    with pytest.raises(ValueError, match=r"einsum\(\): " + message):
        mt.einsum(equation, *[mt.ones(*s) for s in shapes])


# -- norm, dist, cdist ------------------------------------------------------------------------
NORM_CASES = [
    {}, {"p": 1}, {"p": 3}, {"p": 0.5}, {"p": math.inf}, {"p": -math.inf}, {"p": 0},
    {"dim": 1}, {"dim": -1, "keepdim": True}, {"p": 1, "dim": (0, 2)}, {"p": "fro", "dim": (1, 2)},
    {"p": "fro", "dim": 0, "keepdim": True}, {"p": None}, {"p": "nuc", "dim": (0, 2)},
    {"p": "nuc", "dim": (2, 1), "keepdim": True},
]  # fmt: skip


@by_backend
@pytest.mark.parametrize("kwargs", NORM_CASES, ids=str)
def test_norm_matches_torch(backend, kwargs):
    _compare(lambda x: mt.norm(x, **kwargs), lambda x: torch.norm(x, **kwargs),
             _arrays((2, 3, 4)), backend, tol=1e-9)  # fmt: skip

    def reversed_then_norm(x):  # a non-contiguous input, through the method
        return x.permute(2, 1, 0).norm(**kwargs)

    _compare(reversed_then_norm, reversed_then_norm, _arrays((4, 3, 2), seed=2), backend, 1e-9)


def test_norm_edge_cases_match_torch():
    for shape in [(), (0,), (3, 0)]:
        for p in (2, 1, 3):
            _compare(lambda x, p=p: mt.norm(x, p), lambda x, p=p: torch.norm(x, p),
                     _arrays(shape), "numpy_ref")  # fmt: skip
    _close(mt.norm(mt.tensor([[3.0, 4.0]]), "nuc"), torch.norm(torch.tensor([[3.0, 4.0]]), "nuc"))
    got = mt.norm(mt.tensor([1, 2], dtype=mt.int64), dtype=mt.float64)
    assert got.dtype is mt.float64 and got.item() == pytest.approx(math.sqrt(5))
    assert mt.norm(mt.ones(3, dtype=mt.float32)).dtype is mt.float32


@pytest.mark.parametrize("p", [2, 1, 3, math.inf])
def test_norm_gradient_at_zero_is_zero_like_torch(p):
    x = mt.zeros(3, dtype=mt.float64, requires_grad=True)
    mt.norm(x, p).backward()
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    torch.norm(t, p).backward()
    _close(x.grad, t.grad)


def test_norm_second_order_matches_torch():
    for p in (2, 3):
        _second_order(lambda x, p=p: mt.norm(x, p, dim=1), lambda x, p=p: torch.norm(x, p, dim=1),
                      _arrays((2, 3)), "numpy_ref")  # fmt: skip


def test_norm_errors():
    with pytest.raises(TypeError, match=r"norm\(\): expected a floating-point.*int64"):
        mt.norm(mt.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"norm\(\): p must be a number, 'fro' or 'nuc'"):
        mt.norm(mt.ones(2, 2), "max")
    with pytest.raises(ValueError, match=r"norm\(\): p='nuc' needs two dims"):
        mt.norm(mt.ones(2, 2, 2), "nuc")
    with pytest.raises(ValueError, match=r"norm\(\): cannot compute the inf norm.*size 0"):
        mt.norm(mt.ones(0), math.inf)
    with pytest.raises(IndexError, match=r"norm\(\): dim 3 is out of range"):
        mt.norm(mt.ones(2, 2), 2, dim=3)


@by_backend
@pytest.mark.parametrize("p", [2, 1, 0, 3, math.inf])
@pytest.mark.parametrize(("a", "b"), [((2, 3), (2, 3)), ((2, 3), (3,)), ((), (4,))])
def test_dist_matches_torch(backend, p, a, b):
    if p != 0:
        _compare(lambda x, y: mt.dist(x, y, p), lambda x, y: torch.dist(x, y, p), _arrays(a, b),
                 backend)  # fmt: skip
        return
    # PyTorch's dist has no backward for p=0 (the count's gradient is 0)
    (x, y), (tx, ty) = _both(_arrays(a, b), backend)
    out = mt.dist(x, y, 0)
    _close(out, torch.dist(tx, ty, 0))
    out.backward()
    assert not x.grad.numpy().any() and not y.grad.numpy().any()


def test_dist_gradient_at_equal_inputs_is_zero_like_torch():
    for p in (2, 3):
        x = mt.ones(3, dtype=mt.float64, requires_grad=True)
        x.dist(mt.ones(3, dtype=mt.float64), p).backward()
        t = torch.ones(3, dtype=torch.float64, requires_grad=True)
        t.dist(torch.ones(3, dtype=torch.float64), p).backward()
        _close(x.grad, t.grad)


@by_backend
@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, math.inf])
@pytest.mark.parametrize(("a", "b"), [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)),
                                      ((2, 1, 4, 3), (3, 5, 3)), ((0, 3), (2, 3))])  # fmt: skip
def test_cdist_matches_torch(backend, p, a, b):
    _compare(lambda x, y: mt.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p), _arrays(a, b),
             backend, tol=1e-9)  # fmt: skip


def test_cdist_gradient_is_finite_at_coincident_points_like_torch():
    points = np.array([[0.0, 1.0], [2.0, 3.0]])
    for p in (2.0, 1.0, 3.0):
        x = mt.tensor(points, mt.float64, requires_grad=True)
        mt.cdist(x, x, p).sum().backward()
        t = torch.tensor(points, requires_grad=True)
        torch.cdist(t, t, p).sum().backward()
        assert np.isfinite(x.grad.numpy()).all()
        _close(x.grad, t.grad)


def test_cdist_second_order_matches_torch():
    # PyTorch's cdist has no double backward: its composite spelling is the oracle
    def theirs(x, y):
        return (x[:, None] - y[None]).norm(dim=-1)

    _second_order(lambda x, y: mt.cdist(x, y), theirs, _arrays((3, 2), (4, 2)), "numpy_ref")


def test_cdist_without_features_and_errors():
    assert mt.cdist(mt.ones(2, 0), mt.ones(3, 0)).tolist() == [[0.0] * 3] * 2
    with pytest.raises(ValueError, match=r"cdist\(\): x1 and x2 need at least 2 dimensions"):
        mt.cdist(mt.ones(3), mt.ones(2, 3))
    with pytest.raises(ValueError, match=r"cdist\(\): .*same number of columns.*\(2, 4\)"):
        mt.cdist(mt.ones(2, 3), mt.ones(2, 4))
    with pytest.raises(ValueError, match=r"cdist\(\): p must be a non-negative number"):
        mt.cdist(mt.ones(2, 3), mt.ones(2, 3), p=-1)
    with pytest.raises(TypeError, match=r"cdist\(\): only floating-point.*int64"):
        mt.cdist(mt.ones(2, 3, dtype=mt.int64), mt.ones(2, 3))
    with pytest.raises(ValueError, match=r"cdist\(\): compute_mode must be one of"):
        mt.cdist(mt.ones(2, 3), mt.ones(2, 3), compute_mode="fast")
