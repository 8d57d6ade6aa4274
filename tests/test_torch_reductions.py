"""PyTorch's sorting, selection and reduction spellings against PyTorch: sort / argsort,
topk, kthvalue, median, max / min with (values, indices), aminmax, nanmean, cumsum /
cumprod / logcumsumexp, var / std with unbiased= and correction=; values, dtypes,
gradients, both calling conventions of the namespace, edge cases and errors."""

from __future__ import annotations

import numpy as np
import pytest
from _torch_parity import BACKENDS, compare, pair, same, same_grads

import mytensor as mt

torch = pytest.importorskip("torch")
by_backend = pytest.mark.parametrize("backend", BACKENDS)
RNG = np.random.default_rng(3)
X34 = RNG.standard_normal((3, 4))
TIES = np.array([[2.0, 1.0, 2.0, 1.0], [0.0, 0.0, 3.0, 3.0], [5.0, 5.0, 5.0, 5.0]])


def _both(result, reference):
    """Compare a (values, indices) result field by field."""
    same(result.values, reference.values)
    same(result.indices, reference.indices)


# -- sort / argsort -------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_indices_and_gradients(backend, dim, descending):
    compare(torch, lambda x: x.sort(dim, descending).values,
            lambda x: x.sort(dim, descending).values, X34, backend=backend)  # fmt: skip
    compare(torch, lambda x: mt.sort(x, dim=dim, descending=descending).values,
            lambda x: torch.sort(x, dim=dim, descending=descending).values, X34,
            transposed=True, backend=backend)  # fmt: skip
    ties = mt.tensor(TIES, backend=backend)
    _both(ties.sort(dim, descending, stable=True),
          torch.tensor(TIES).sort(dim=dim, descending=descending, stable=True))  # fmt: skip
    same(ties.argsort(dim, descending, stable=True),
         torch.tensor(TIES).argsort(dim=dim, descending=descending, stable=True))  # fmt: skip
    expected = torch.argsort(torch.tensor(TIES), dim=dim, descending=descending, stable=True)
    same(mt.argsort(ties, dim, descending), expected)


def test_sort_nan_edge_shapes_and_array_api_form():
    values = np.array([3.0, np.nan, 1.0, np.nan])
    for descending in (False, True):
        _both(mt.tensor(values).sort(descending=descending, stable=True),
              torch.tensor(values).sort(descending=descending, stable=True))  # fmt: skip
    _both(mt.tensor(2.0).sort(), torch.tensor(2.0).sort())
    _both(mt.zeros(0, 3).sort(0), torch.zeros(0, 3).sort(0))
    assert mt.sort(mt.tensor([[3, 1], [0, 2]]), axis=0).tolist() == [[0, 1], [3, 2]]
    assert mt.sort(mt.tensor([3, 1]), 0).indices.tolist() == [1, 0]
    with pytest.raises(TypeError, match=r"sort\(\): got dim both positionally and as a keyword"):
        mt.sort(mt.ones(2), 0, dim=0)


# -- topk / kthvalue / median ------------------------------------------------------------
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim", [0, -1])
def test_topk(largest, dim):
    compare(torch, lambda x: x.topk(2, dim, largest).values,
            lambda x: x.topk(2, dim, largest).values, X34, transposed=True)  # fmt: skip
    same(mt.topk(mt.tensor(X34), 3, dim=dim, largest=largest).indices,
         torch.topk(torch.tensor(X34), 3, dim=dim, largest=largest).indices)  # fmt: skip
    _both(mt.tensor(X34).topk(0, dim), torch.tensor(X34).topk(0, dim))
    _both(mt.tensor(1.5).topk(1), torch.tensor(1.5).topk(1))


@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(keepdim):
    for k in (1, 2, 3):
        compare(torch, lambda x, k=k: x.kthvalue(k, 0, keepdim).values,
                lambda x, k=k: x.kthvalue(k, 0, keepdim).values, X34)  # fmt: skip
        _both(mt.kthvalue(mt.tensor(X34), k, dim=-1, keepdim=keepdim),
              torch.kthvalue(torch.tensor(X34), k, dim=-1, keepdim=keepdim))  # fmt: skip
    _both(mt.tensor(7.0).kthvalue(1), torch.tensor(7.0).kthvalue(1))


@pytest.mark.parametrize("keepdim", [False, True])
def test_median(keepdim):
    compare(torch, lambda x: x.median(), lambda x: x.median(), X34)  # 12 values: the lower
    compare(torch, lambda x: x.median(1, keepdim).values,
            lambda x: x.median(1, keepdim).values, X34, transposed=True)  # fmt: skip
    _both(mt.median(mt.tensor(X34), 0, keepdim), torch.median(torch.tensor(X34), 0, keepdim))
    with_nan = np.array([[1.0, np.nan, 3.0, np.nan], [4.0, 2.0, 0.0, 1.0]])
    _both(mt.tensor(with_nan).median(1), torch.tensor(with_nan).median(1))
    same(mt.tensor(with_nan).median(), torch.tensor(with_nan).median())
    ints = np.array([[3, 1, 2, 2]])
    _both(mt.tensor(ints).median(-1, keepdim), torch.tensor(ints).median(-1, keepdim))
    same(mt.tensor(4.0).median(), torch.tensor(4.0).median())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.ones(3).topk(4), IndexError,
         r"topk\(\): k=4 is out of range for dimension 0 of size 3 \(expected 0..3\)"),
        (lambda: mt.ones(3).topk(1.5), TypeError, r"topk\(\): k must be an integer, got float"),
        (lambda: mt.max(mt.ones(2), mt.ones(2), 0), TypeError,
         r"max\(\): max\(input, other\) takes no dim"),
        (lambda: mt.ones(3).kthvalue(0), IndexError,
         r"kthvalue\(\): k=0 is out of range for dimension 0 of size 3 \(expected 1..3\)"),
        (lambda: mt.ones(0, 2).median(0), IndexError,
         r"median\(\): cannot reduce over dimension 0 of size 0"),
        (lambda: mt.ones(2, 3).max(2), IndexError,
         r"max\(\): dim 2 is out of range for a tensor of rank 2"),
        (lambda: mt.ones(0, 2).min(0), IndexError,
         r"min\(\): cannot reduce over dimension 0 of size 0 \(input shape \(0, 2\)\)"),
        (lambda: mt.max(mt.ones(2, 2), 1, axis=1), TypeError,
         r"max\(\): pass axis= \(the array API's form\) or dim \(PyTorch's\), not both"),
    ],
)  # fmt: skip
def test_selection_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- max / min / aminmax ---------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_a_dim_pick_the_first_extreme(backend, op):
    ties = mt.tensor(TIES, backend=backend)
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            _both(getattr(ties, op)(dim, keepdim), getattr(torch.tensor(TIES), op)(dim, keepdim))
    (x, _), (tx, _) = pair(torch, TIES, grad=True, backend=backend)
    out, ref = getattr(x, op)(dim=1), getattr(tx, op)(dim=1)
    same_grads(out.values, ref.values, [x], [tx])  # the gradient goes to the index only


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_every_form(op):
    x, tx = mt.tensor(TIES), torch.tensor(TIES)
    (leaf, _), (tleaf, _) = pair(torch, TIES, grad=True)
    out, ref = getattr(leaf, op)(), getattr(tleaf, op)()
    same(out, ref)
    same_grads(out, ref, [leaf], [tleaf])  # all of the input: ties share the gradient
    other = RNG.standard_normal((3, 4))
    same(getattr(x, op)(mt.tensor(other)), getattr(tx, op)(torch.tensor(other)))
    same(getattr(mt, op)(x, mt.tensor(other)), getattr(torch, op)(tx, torch.tensor(other)))
    _both(getattr(mt, op)(x, 1), getattr(torch, op)(tx, 1))
    _both(getattr(mt, op)(x, dim=0, keepdim=True), getattr(torch, op)(tx, dim=0, keepdim=True))
    _both(getattr(mt, op)(x, 1, True), getattr(torch, op)(tx, 1, True))
    same(getattr(mt, op)(x, axis=1), getattr(torch, "a" + op)(tx, dim=1))  # the array API's
    _both(getattr(mt.tensor(2.5), op)(0), getattr(torch.tensor(2.5), op)(0))
    nan = np.array([[1.0, np.nan, 3.0], [2.0, 0.0, -1.0]])
    _both(getattr(mt.tensor(nan), op)(1), getattr(torch.tensor(nan), op)(1))


def test_aminmax():
    for kw in ({}, {"dim": 1}, {"dim": -2, "keepdim": True}):
        got, want = mt.tensor(X34).aminmax(**kw), torch.tensor(X34).aminmax(**kw)
        same(got.min, want.min)
        same(got.max, want.max)
    got = mt.aminmax(mt.tensor([3, 1, 2]))
    assert (got.min.item(), got.max.item()) == (1, 3)


# -- nanmean ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}])
def test_nanmean(kw):
    values = X34.copy()
    values[0, 1] = values[2, 3] = np.nan
    compare(torch, lambda x: x.nanmean(**kw), lambda x: x.nanmean(**kw), values)
    all_nan = np.full((2, 2), np.nan)
    same(mt.nanmean(mt.tensor(all_nan), 0), torch.nanmean(torch.tensor(all_nan), 0))
    same(mt.tensor(values).nanmean(dtype=mt.float32),
         torch.tensor(values).nanmean(dtype=torch.float32))  # fmt: skip


# -- scans ------------------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("op", ["cumsum", "cumprod", "logcumsumexp"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scans_match_torch(backend, op, dim):
    compare(torch, lambda x: getattr(x, op)(dim), lambda x: getattr(x, op)(dim), X34,
            transposed=True, backend=backend)  # fmt: skip
    compare(torch, lambda x: getattr(mt, op)(x, dim=dim), lambda x: getattr(torch, op)(x, dim),
            X34, backend=backend)  # fmt: skip


def test_scan_dtypes_edge_cases_and_in_place():
    ints = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    same(mt.tensor(ints).cumsum(1), torch.tensor(ints).cumsum(1))  # int32 sums in int64
    same(mt.tensor(ints).cumprod(0, dtype=mt.float64),
         torch.tensor(ints).cumprod(0, dtype=torch.float64))  # fmt: skip
    same(mt.tensor([True, True, False]).cumsum(0), torch.tensor([True, True, False]).cumsum(0))
    same(mt.tensor(3.0).cumsum(0), torch.tensor(3.0).cumsum(0))
    same(mt.zeros(2, 0).cumprod(1), torch.zeros(2, 0).cumprod(1))
    with_zero = np.array([2.0, 0.0, 3.0, 0.5])
    compare(torch, lambda x: x.cumprod(0), lambda x: x.cumprod(0), with_zero)
    extreme = np.array([-1000.0, 0.0, 1000.0, -np.inf])
    compare(torch, lambda x: x.logcumsumexp(0), lambda x: x.logcumsumexp(0), extreme,
            grad=False)  # fmt: skip
    x, tx = mt.tensor(ints), torch.tensor(ints)
    assert x.cumsum_(1) is x
    same(x, tx.cumsum_(1))
    y, ty = mt.tensor(X34), torch.tensor(X34)
    assert y.cumprod_(0) is y
    same(y, ty.cumprod_(0))


# -- var / std ----------------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize(
    "kw",
    [{}, {"dim": 1}, {"dim": 0, "unbiased": False}, {"dim": (0, 1), "keepdim": True},
     {"dim": -1, "correction": 0}, {"correction": 2}, {"unbiased": True}],
)  # fmt: skip
def test_var_std_methods(backend, op, kw):
    compare(torch, lambda x: getattr(x, op)(**kw), lambda x: getattr(x, op)(**kw), X34,
            transposed=True, backend=backend)  # fmt: skip


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_namespace_both_conventions(op):
    x, tx = mt.tensor(X34), torch.tensor(X34)
    fn, tfn = getattr(mt, op), getattr(torch, op)
    same(fn(x, 1), tfn(tx, 1))
    same(fn(x, 1, False), tfn(tx, 1, False))
    same(fn(x, 1, True, True), tfn(tx, 1, True, True))
    same(fn(x, dim=0), tfn(tx, dim=0))
    same(fn(x, dim=0, correction=0), tfn(tx, dim=0, correction=0))
    same(fn(x, unbiased=False), tfn(tx, unbiased=False))
    same(fn(x, dim=[0, 1], keepdim=True), tfn(tx, dim=[0, 1], keepdim=True))
    # the array API's calls keep its default correction=0
    same(fn(x), tfn(tx, correction=0))
    same(fn(x, axis=1, keepdims=True), tfn(tx, dim=1, correction=0, keepdim=True))
    same(fn(x, axis=0, correction=1), tfn(tx, dim=0))
    with pytest.raises(TypeError, match=rf"{op}\(\): pass unbiased= or correction=, not both"):
        fn(x, 1, unbiased=True, correction=1)
    with pytest.raises(TypeError, match=rf"{op}\(\): pass axis="):
        fn(x, 1, axis=1)
