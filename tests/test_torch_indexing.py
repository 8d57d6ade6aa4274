"""PyTorch's masking, index and scatter ops against PyTorch: masked_fill / masked_select,
index_select / index_add / index_fill, scatter / scatter_add / gather, take_along_dim,
bucketize, nonzero and unique; values, dtypes, gradients, in-place forms, edge cases
(0-d, size-0, negative dims, non-contiguous inputs, repeated indices) and errors."""

from __future__ import annotations

import numpy as np
import pytest
from _torch_parity import BACKENDS, compare, pair, same, same_grads

import mytensor as mt

torch = pytest.importorskip("torch")
by_backend = pytest.mark.parametrize("backend", BACKENDS)
RNG = np.random.default_rng(0)
X34 = RNG.standard_normal((3, 4))


def _index(values):
    return mt.tensor(values, mt.int64), torch.tensor(values, dtype=torch.int64)


# -- masked_fill / masked_select ----------------------------------------------------------
@by_backend
@pytest.mark.parametrize("transposed", [False, True])
def test_masked_fill_matches_torch(backend, transposed):
    mask = np.array([True, False, True, False])
    compare(torch, lambda x: x.masked_fill(mt.tensor(mask, backend=backend), -2.5),
            lambda x: x.masked_fill(torch.tensor(mask), -2.5), X34, transposed=transposed,
            backend=backend)  # fmt: skip
    compare(torch, lambda x: mt.masked_fill(x, x > 0, 0.0),
            lambda x: torch.masked_fill(x, x > 0, 0.0), X34, backend=backend)  # fmt: skip


def test_masked_fill_value_tensor_gets_gradient_and_int_input_truncates():
    (x, _), (tx, _) = pair(torch, X34, grad=True)
    (v, _), (tv, _) = pair(torch, np.array(1.5), grad=True)
    mask = np.array([[True], [False], [True]])
    out = x.masked_fill(mt.tensor(mask), v)
    ref = tx.masked_fill(torch.tensor(mask), tv)
    same(out, ref)
    same_grads(out, ref, [x, v], [tx, tv])
    ints = np.arange(6).reshape(2, 3)
    same(mt.tensor(ints).masked_fill(mt.tensor(ints > 2), 9.7),
         torch.tensor(ints).masked_fill(torch.tensor(ints > 2), 9.7))  # fmt: skip


def test_masked_fill_edge_shapes_and_in_place():
    same(mt.tensor(3.0).masked_fill(mt.tensor(True), 1.0),
         torch.tensor(3.0).masked_fill(torch.tensor(True), 1.0))  # fmt: skip
    same(
        mt.zeros(0, 2).masked_fill(mt.zeros(2, dtype=mt.bool), 1.0),
        torch.zeros(0, 2, dtype=torch.float32).masked_fill(torch.zeros(2, dtype=torch.bool), 1.0),
    )
    x = mt.tensor([1.0, 2.0, 3.0])
    version = x._storage.version
    assert x.masked_fill_(mt.tensor([True, False, True]), 0.0) is x
    assert x.tolist() == [0.0, 2.0, 0.0] and x._storage.version > version


def test_masked_select_broadcasts_both_and_differentiates():
    mask = RNG.standard_normal((2, 3, 4)) > 0
    compare(torch, lambda x: x.masked_select(mt.tensor(mask)),
            lambda x: x.masked_select(torch.tensor(mask)), X34)  # fmt: skip
    compare(
        torch,
        lambda x: mt.masked_select(x, mt.tensor(mask[0])),
        lambda x: torch.masked_select(x, torch.tensor(mask[0])),
        X34,
        transposed=True,
    )
    same(mt.masked_select(mt.tensor(2.0), mt.tensor(True)),
         torch.masked_select(torch.tensor(2.0), torch.tensor(True)))  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.ones(3).masked_fill(mt.tensor([1, 0, 1]), 0.0), TypeError,
         r"masked_fill\(\): mask must be a bool tensor, got int64"),
        (lambda: mt.ones(3).masked_fill(mt.ones(2, 3, dtype=mt.bool), 0.0), ValueError,
         r"masked_fill\(\): mask of shape \(2, 3\) broadcasts the input of shape \(3,\)"),
        (lambda: mt.ones(3).masked_fill(mt.ones(3, dtype=mt.bool), mt.ones(2)), ValueError,
         r"masked_fill\(\): value must be a Python scalar or a 0-d tensor"),
        (lambda: mt.ones(3).masked_select(mt.ones(2, dtype=mt.bool)), ValueError,
         r"masked_select\(\): shapes \(3,\) and \(2,\) cannot be broadcast"),
    ],
)  # fmt: skip
def test_masking_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- index_select / index_add / index_fill ------------------------------------------------
@by_backend
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_index_select_repeats_and_gradients(backend, dim):
    index = [2, 0, 2] if dim in (0, -2) else [3, 3, 1, 0]
    ours, theirs = _index(index)
    compare(torch, lambda x: x.index_select(dim, ours.to(backend)),
            lambda x: x.index_select(dim, theirs), X34, backend=backend)  # fmt: skip
    compare(torch, lambda x: mt.index_select(x, dim, ours.to(backend)),
            lambda x: torch.index_select(x, dim, theirs), X34, transposed=True,
            backend=backend)  # fmt: skip


def test_index_select_edge_cases():
    same(mt.index_select(mt.tensor(5.0), 0, mt.tensor([0])),
         torch.index_select(torch.tensor(5.0), 0, torch.tensor([0])))  # fmt: skip
    empty = mt.zeros(0, dtype=mt.int64), torch.zeros(0, dtype=torch.int64)
    same(mt.tensor(X34).index_select(1, empty[0]), torch.tensor(X34).index_select(1, empty[1]))
    same(mt.tensor(X34).index_select(0, mt.tensor([1], mt.int32)),
         torch.tensor(X34).index_select(0, torch.tensor([1], dtype=torch.int32)))  # fmt: skip


@pytest.mark.parametrize("alpha", [1, 2.5])
def test_index_add_repeated_indices_add_up(alpha):
    source = RNG.standard_normal((3, 5))
    ours, theirs = _index([0, 2, 0, 0, 3])
    compare(torch, lambda x, s: x.index_add(1, ours, s, alpha=alpha),
            lambda x, s: x.index_add(1, theirs, s, alpha=alpha), X34, source)  # fmt: skip
    compare(torch, lambda x, s: mt.index_add(x, -2, ours[:2], s, alpha=alpha),
            lambda x, s: torch.index_add(x, -2, theirs[:2], s, alpha=alpha), X34,
            RNG.standard_normal((2, 4)))  # fmt: skip


def test_index_add_and_fill_in_place():
    x, tx = mt.zeros(2, 3), torch.zeros(2, 3)
    ours, theirs = _index([1, 1])
    assert x.index_add_(0, ours, mt.ones(2, 3)) is x
    same(x, tx.index_add_(0, theirs, torch.ones(2, 3)))
    assert x.index_fill_(1, ours[:1], -1.0) is x
    same(x, tx.index_fill_(1, theirs[:1], -1.0))


def test_index_fill_repeated_index_and_tensor_value():
    ours, theirs = _index([0, 3, 0])
    compare(torch, lambda x: x.index_fill(1, ours, 7.0),
            lambda x: x.index_fill(1, theirs, 7.0), X34)  # fmt: skip
    (x, _), (tx, _) = pair(torch, X34, grad=True)
    (v, _), (tv, _) = pair(torch, np.array(-3.0), grad=True)
    out, ref = mt.index_fill(x, 1, ours, v), torch.index_fill(tx, 1, theirs, tv)
    same(out, ref)
    same_grads(out, ref, [x, v], [tx, tv])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.ones(3).index_select(0, mt.tensor([3])), IndexError,
         r"index_select\(\): index 3 is out of range for dimension 0 of size 3"),
        (lambda: mt.ones(3).index_select(0, mt.tensor([-1])), IndexError,
         r"index_select\(\): index -1 is out of range"),
        (lambda: mt.ones(3).index_select(0, mt.tensor([[0]])), ValueError,
         r"index_select\(\): index must be 0-d or 1-d, got shape \(1, 1\)"),
        (lambda: mt.ones(3).index_select(0, mt.tensor([0.0])), TypeError,
         r"index_select\(\): index must be an int64 or int32 tensor, got float32"),
        (lambda: mt.ones(2, 3).index_select(2, mt.tensor([0])), IndexError,
         r"index_select\(\): dim 2 is out of range for a tensor of rank 2"),
        (lambda: mt.ones(2, 3).index_add(0, mt.tensor([0]), mt.ones(1, 2)), ValueError,
         r"index_add\(\): source has shape \(1, 2\), expected \(1, 3\)"),
        (lambda: mt.ones(3).index_add(0, mt.tensor([0]), mt.ones(1, dtype=mt.float64)),
         TypeError, r"index_add\(\): source has dtype float64 but the input has float32"),
        (lambda: mt.ones(3).index_fill(0, mt.tensor([-1]), 0.0), IndexError,
         r"index_fill\(\): index -1 is out of range for dimension 0 of size 3 \(expected 0..2\)"),
    ],
)  # fmt: skip
def test_index_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- scatter / scatter_add / gather --------------------------------------------------------
def _permutation_index(shape, dim, seed=1):
    """An index with no repeats along `dim` (scatter's result is then defined)."""
    rng = np.random.default_rng(seed)
    return np.argsort(rng.standard_normal(shape), axis=dim)


@by_backend
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_src_matches_torch_with_gradients(backend, dim):
    index = _permutation_index((3, 4), dim)
    ours, theirs = _index(index)
    src = RNG.standard_normal((3, 4))
    compare(torch, lambda x, s: x.scatter(dim, ours.to(backend), s),
            lambda x, s: x.scatter(dim, theirs, s), X34, src, backend=backend)  # fmt: skip
    part = (slice(0, 2), slice(0, 3))  # an index smaller than the input
    compare(torch, lambda x, s: mt.scatter(x, dim, ours[part].to(backend), s),
            lambda x, s: torch.scatter(x, dim, theirs[part], s), X34, src[part],
            transposed=True, backend=backend)  # fmt: skip
    # an index smaller than src too (PyTorch's gradient for src fails there: values only)
    compare(torch, lambda x, s: x.scatter(dim, ours[part].to(backend), s),
            lambda x, s: x.scatter(dim, theirs[part], s), X34, src, backend=backend,
            grad=False)  # fmt: skip


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_value_and_reduce_with_repeats(reduce):
    ours, theirs = _index([[0, 0, 2], [1, 1, 1]])
    src = RNG.standard_normal((2, 3))
    same(mt.tensor(X34).scatter(0, ours, 2.0), torch.tensor(X34).scatter(0, theirs, 2.0))
    same(mt.tensor(X34).scatter(1, ours, value=-1.0),
         torch.tensor(X34).scatter(1, theirs, value=-1.0))  # fmt: skip
    same(mt.tensor(X34).scatter(1, ours, mt.tensor(src), reduce=reduce),
         torch.tensor(X34).scatter(1, theirs, torch.tensor(src), reduce=reduce))  # fmt: skip
    same(mt.tensor(X34).scatter(1, ours, 3.0, reduce=reduce),
         torch.tensor(X34).scatter(1, theirs, 3.0, reduce=reduce))  # fmt: skip


def test_scatter_repeated_positions_of_one_value_and_in_place():
    ours, theirs = _index([[1, 1], [0, 0]])  # one_hot-like: repeats carry the same value
    same(mt.zeros(2, 3).scatter(1, ours, 1.0), torch.zeros(2, 3).scatter(1, theirs, 1.0))
    x, tx = mt.zeros(2, 3), torch.zeros(2, 3)
    assert x.scatter_(1, ours, mt.ones(2, 2)) is x
    same(x, tx.scatter_(1, theirs, torch.ones(2, 2)))
    same(mt.tensor(4.0).scatter(0, mt.tensor(0), 1.5),
         torch.tensor(4.0).scatter(0, torch.tensor(0), 1.5))  # fmt: skip


def test_scatter_add_method_and_in_place_with_repeats():
    ours, theirs = _index([[0, 2, 0, 0], [1, 1, 1, 2]])
    src = RNG.standard_normal((2, 4))
    compare(torch, lambda x, s: x.scatter_add(1, ours, s),
            lambda x, s: x.scatter_add(1, theirs, s), X34, src)  # fmt: skip
    x, tx = mt.zeros(3, 4), torch.zeros(3, 4, dtype=torch.float32)
    assert x.scatter_add_(1, ours, mt.ones(2, 4)) is x
    same(x, tx.scatter_add_(1, theirs, torch.ones(2, 4)))


def test_gather_method_and_take_along_dim():
    ours, theirs = _index([[0, 0], [3, 1], [2, 2]])
    compare(torch, lambda x: x.gather(1, ours), lambda x: x.gather(1, theirs), X34)
    compare(torch, lambda x: x.take_along_dim(ours, 1),
            lambda x: x.take_along_dim(theirs, 1), X34, transposed=False)  # fmt: skip
    row = mt.tensor([[1, 3]]), torch.tensor([[1, 3]])  # broadcast along the other dim
    compare(torch, lambda x: mt.take_along_dim(x, row[0], dim=-1),
            lambda x: torch.take_along_dim(x, row[1], dim=-1), X34)  # fmt: skip
    flat = mt.tensor([11, 0, 5]), torch.tensor([11, 0, 5])
    compare(torch, lambda x: mt.take_along_dim(x, flat[0]),
            lambda x: torch.take_along_dim(x, flat[1]), X34)  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.zeros(3).scatter(0, mt.tensor([0]), mt.ones(1, dtype=mt.float64)),
         TypeError, r"scatter\(\): src has dtype float64 but the input has float32"),
        (lambda: mt.zeros(3).scatter(0, mt.tensor([3]), 1.0), IndexError,
         r"scatter\(\): index 3 is out of bounds for dimension 0 with size 3"),
        (lambda: mt.zeros(3).scatter(0, mt.tensor([0, 1]), mt.ones(1)), ValueError,
         r"scatter\(\): index of shape \(2,\) does not fit in src of shape \(1,\)"),
        (lambda: mt.zeros(3).scatter(0, mt.tensor([0]), 1.0, reduce="max"), ValueError,
         r"scatter\(\): reduce must be 'add' or 'multiply', got 'max'"),
        (lambda: mt.zeros(3).scatter(0, mt.tensor([0])), TypeError,
         r"scatter\(\): missing the values to scatter"),
        (lambda: mt.zeros(3).take_along_dim(mt.tensor([0.0])), TypeError,
         r"take_along_dim\(\): indices must be an integer tensor, got float32"),
    ],
)  # fmt: skip
def test_scatter_errors_leave_the_input_alone(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_in_place_forms_guard_leaves_that_require_grad():
    leaf = mt.ones(3, requires_grad=True)
    mask, index = mt.tensor([True, False, True]), mt.tensor([0])
    for call in (
        lambda: leaf.masked_fill_(mask, 0.0),
        lambda: leaf.index_fill_(0, index, 0.0),
        lambda: leaf.scatter_(0, index, 2.0),
        lambda: leaf.index_add_(0, index, leaf[:1]),
    ):
        with pytest.raises(RuntimeError, match=r"a leaf tensor that requires grad cannot be"):
            call()
    with mt.no_grad():
        leaf.masked_fill_(mask, 0.0)
    assert leaf.tolist() == [0.0, 1.0, 0.0]


def test_in_place_forms_record_gradients_on_non_leaves():
    (x, _), (tx, _) = pair(torch, X34, grad=True)
    out, ref = x * 2, tx * 2
    out.index_add_(1, mt.tensor([0, 0]), x[:, :2])
    ref.index_add_(1, torch.tensor([0, 0]), tx[:, :2])
    out.masked_fill_(mt.tensor([True, False, False, True]), 0.5)
    ref.masked_fill_(torch.tensor([True, False, False, True]), 0.5)
    same(out, ref)
    same_grads(out, ref, [x], [tx])


def test_failed_in_place_scatter_mutates_nothing():
    x = mt.tensor([1.0, 2.0])
    with pytest.raises(IndexError):
        x.scatter_(0, mt.tensor([5]), 0.0)
    assert x.tolist() == [1.0, 2.0] and x._storage.version == 0


# -- bucketize / nonzero / unique ----------------------------------------------------------
@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("out_int32", [False, True])
def test_bucketize(right, out_int32):
    boundaries = [1.0, 3.0, 5.0, 7.0]
    values = np.array([[0.0, 1.0, 3.0], [4.0, 7.0, 9.0]])
    kw = {"right": right, "out_int32": out_int32}
    same(mt.bucketize(mt.tensor(values), mt.tensor(boundaries), **kw),
         torch.bucketize(torch.tensor(values), torch.tensor(boundaries), **kw))  # fmt: skip
    same(mt.bucketize(3, mt.tensor(boundaries), **kw),
         torch.bucketize(3, torch.tensor(boundaries), **kw))  # fmt: skip


def test_nonzero_torch_forms_and_array_api_form():
    values = np.array([[0, 2, 0], [1, 0, 3]])
    x, tx = mt.tensor(values), torch.tensor(values)
    same(x.nonzero(), tx.nonzero())
    same(mt.nonzero(x, as_tuple=False), torch.nonzero(tx))
    for got, want in zip(x.nonzero(as_tuple=True), tx.nonzero(as_tuple=True), strict=True):
        same(got, want)
    assert [t.tolist() for t in mt.nonzero(x)] == [[0, 1, 1], [1, 0, 2]]  # the array API's
    same(mt.tensor(5).nonzero(), torch.tensor(5).nonzero())
    same(mt.tensor(0.0).nonzero(), torch.tensor(0.0).nonzero())
    same(mt.tensor(7).nonzero(as_tuple=True)[0], torch.tensor(7).nonzero(as_tuple=True)[0])
    same(mt.zeros(0, 3).nonzero(), torch.zeros(0, 3).nonzero())
    same(x.T.nonzero(), tx.T.nonzero())


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_unique_matches_torch(dim):
    values = np.array([[3, 1, 3], [1, 1, 2], [3, 1, 3]])
    kw = {"return_inverse": True, "return_counts": True, "dim": dim}
    got = mt.tensor(values).unique(**kw)
    want = torch.unique(torch.tensor(values), **kw)
    for g, w in zip(got, want, strict=True):
        same(g, w)
    same(mt.unique(mt.tensor(values), dim=dim), torch.unique(torch.tensor(values), dim=dim))
    inverse_only = mt.unique(mt.tensor([2.0, 0.5, 2.0]), return_inverse=True)
    same(inverse_only[1], torch.unique(torch.tensor([2.0, 0.5, 2.0]), return_inverse=True)[1])
