"""Losses against PyTorch (skipped where torch is not installed): values and input
gradients for every option and reduction (float32)."""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")

RNG = np.random.default_rng(77)
TOL = {"rtol": 1e-4, "atol": 1e-6}
REDUCTIONS = ["none", "mean", "sum"]


def _pair(array: np.ndarray, grad: bool = False):
    return mt.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def _check(loss: mt.Tensor, tloss, inputs: list) -> None:
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), **TOL)
    upstream = RNG.standard_normal(loss.shape).astype(np.float32)
    loss.backward(mt.tensor(upstream))
    tloss.backward(torch.tensor(upstream))
    for ours, theirs in inputs:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)


def _normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _probs(*shape: int) -> np.ndarray:
    e = np.exp(_normal(*shape))
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


CE_CASES = [
    {},
    {"weight": True},
    {"ignore_index": 1},
    {"label_smoothing": 0.15},
    {"weight": True, "ignore_index": 0, "label_smoothing": 0.1},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=str)
@pytest.mark.parametrize("shape", [(7, 5), (3, 5, 4)], ids=str)
def test_cross_entropy_and_nll_match_torch(shape, case, reduction):
    case = dict(case)
    weight = RNG.uniform(0.5, 2, shape[1]).astype(np.float32) if case.pop("weight", False) else None
    target = RNG.integers(0, shape[1], size=(shape[0], *shape[2:]))
    (x, tx), (t, tt) = _pair(_normal(*shape), True), _pair(target)
    w, tw = _pair(weight) if weight is not None else (None, None)
    loss = nn.CrossEntropyLoss(w, reduction=reduction, **case)(x, t)
    tloss = torch.nn.CrossEntropyLoss(tw, reduction=reduction, **case)(tx, tt)
    _check(loss, tloss, [(x, tx)])
    case.pop("label_smoothing", None)
    (lp, tlp) = _pair(_normal(*shape), True)
    _check(nn.NLLLoss(w, reduction=reduction, **case)(lp, t),
           torch.nn.NLLLoss(tw, reduction=reduction, **case)(tlp, tt), [(lp, tlp)])  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignored", ["none", "some", "all"])
@pytest.mark.parametrize("backend", ["numpy_ref", "numba_cpu"])
def test_cross_entropy_of_indices_with_ignored_targets_matches_torch(backend, ignored, reduction):
    """The (N, C) path: no ignored target (no mask at all), some, every one ("mean" is then
    0 / 0 = NaN, and the gradient 0, as in PyTorch)."""
    pytest.importorskip("numba") if backend == "numba_cpu" else None
    target = RNG.integers(0, 6, size=9)
    target[{"none": [], "some": [1, 4, 5], "all": slice(None)}[ignored]] = 3
    logits = _normal(9, 6)
    x = mt.tensor(logits, requires_grad=True, backend=backend)
    tx = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, mt.tensor(target, backend=backend), ignore_index=3,
                           reduction=reduction)  # fmt: skip
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(target), ignore_index=3,
                                              reduction=reduction)  # fmt: skip
    assert "cross_entropy" in repr(loss.grad_fn)
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), **TOL)
    upstream = RNG.standard_normal(loss.shape).astype(np.float32)
    loss.backward(mt.tensor(upstream, backend=backend))
    tloss.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("backend", ["numpy_ref", "numba_cpu"])
def test_cross_entropy_of_indices_second_order_matches_torch(backend, reduction):
    """The fused node's gradient, differentiated again (create_graph): the first backward
    must keep its scale inside the graph, not apply it to a detached buffer."""
    pytest.importorskip("numba") if backend == "numba_cpu" else None
    logits, target = _normal(5, 4).astype(np.float64), RNG.integers(0, 4, size=5)
    x = mt.tensor(logits, requires_grad=True, backend=backend)
    tx = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, mt.tensor(target, backend=backend), reduction=reduction)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction=reduction)
    upstream = RNG.standard_normal(loss.shape)
    (g,) = mt.autograd.grad(loss, x, mt.tensor(upstream, backend=backend), create_graph=True)
    (tg,) = torch.autograd.grad(tloss, tx, torch.tensor(upstream), create_graph=True)
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", [{}, {"weight": True}, {"label_smoothing": 0.2}], ids=str)
def test_cross_entropy_with_probabilities_matches_torch(case, reduction):
    weight = RNG.uniform(0.5, 2, 4).astype(np.float32) if case.get("weight") else None
    smoothing = case.get("label_smoothing", 0.0)
    (x, tx), (t, tt) = _pair(_normal(6, 4), True), _pair(_probs(6, 4))
    w, tw = _pair(weight) if weight is not None else (None, None)
    loss = F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=smoothing)
    tloss = torch.nn.functional.cross_entropy(tx, tt, tw, reduction=reduction,
                                              label_smoothing=smoothing)  # fmt: skip
    _check(loss, tloss, [(x, tx)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(reduction):
    p = RNG.uniform(0.02, 0.98, (5, 3)).astype(np.float32)
    (x, tx), (t, tt) = _pair(p, True), _pair(RNG.uniform(0, 1, (5, 3)).astype(np.float32))
    w, tw = _pair(RNG.uniform(0.5, 2, 3).astype(np.float32))
    loss = nn.BCELoss(w, reduction=reduction)(x, t)
    tloss = torch.nn.BCELoss(tw, reduction=reduction)(tx, tt)
    _check(loss, tloss, [(x, tx)])
    p[0, 0], p[1, 1] = 0.0, 1.0  # log(0) clamps to -100 in both
    (x, tx) = _pair(p)
    loss = nn.BCELoss(w, reduction=reduction)(x, t)
    tloss = torch.nn.BCELoss(tw, reduction=reduction)(tx, tt)
    np.testing.assert_allclose(loss.numpy(), tloss.numpy(), **TOL)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["plain", "weight", "pos_weight"])
def test_bce_with_logits_matches_torch(case, reduction):
    logits = _normal(5, 3) * 5
    logits[0, 0] = 0.0
    (x, tx) = _pair(logits, True)
    (t, tt) = _pair(RNG.uniform(0, 1, (5, 3)).astype(np.float32))
    kw, tkw = {}, {}
    if case == "weight":
        kw["weight"], tkw["weight"] = _pair(RNG.uniform(0.5, 2, (5, 1)).astype(np.float32))
    if case == "pos_weight":
        kw["pos_weight"], tkw["pos_weight"] = _pair(RNG.uniform(0.5, 3, 3).astype(np.float32))
    loss = nn.BCEWithLogitsLoss(reduction=reduction, **kw)(x, t)
    tloss = torch.nn.BCEWithLogitsLoss(reduction=reduction, **tkw)(tx, tt)
    _check(loss, tloss, [(x, tx)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name,kwargs",
    [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}), ("SmoothL1Loss", {"beta": 0.3}),
     ("SmoothL1Loss", {"beta": 0.0})],
)  # fmt: skip
def test_regression_losses_match_torch(name, kwargs, reduction):
    (x, tx), (t, tt) = _pair(_normal(4, 5), True), _pair(_normal(4, 5))
    loss = getattr(nn, name)(reduction=reduction, **kwargs)(x, t)
    tloss = getattr(torch.nn, name)(reduction=reduction, **kwargs)(tx, tt)
    _check(loss, tloss, [(x, tx)])


@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    (x, tx) = _pair(np.log(_probs(4, 5)), True)
    target = _probs(4, 5)
    if not log_target:
        target[0, 0] = 0.0
    (t, tt) = _pair(np.log(target) if log_target else target)
    loss = nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, t)
    tloss = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(tx, tt)
    _check(loss, tloss, [(x, tx)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.4])
def test_cosine_embedding_loss_matches_torch(margin, reduction):
    (a, ta), (b, tb) = _pair(_normal(6, 4), True), _pair(_normal(6, 4), True)
    (y, ty) = _pair(np.array([1, -1, 1, -1, -1, 1]))
    loss = nn.CosineEmbeddingLoss(margin, reduction=reduction)(a, b, y)
    tloss = torch.nn.CosineEmbeddingLoss(margin, reduction=reduction)(ta, tb, ty)
    _check(loss, tloss, [(a, ta), (b, tb)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "kwargs", [{}, {"p": 1.0, "margin": 2.0}, {"p": 3.0}, {"swap": True}], ids=str
)
def test_triplet_margin_loss_matches_torch(kwargs, reduction):
    (a, ta), (p, tp), (n, tn) = (_pair(_normal(6, 4), True) for _ in range(3))
    loss = nn.TripletMarginLoss(reduction=reduction, **kwargs)(a, p, n)
    tloss = torch.nn.TripletMarginLoss(reduction=reduction, **kwargs)(ta, tp, tn)
    _check(loss, tloss, [(a, ta), (p, tp), (n, tn)])
