"""Every loss against a float64 numpy definition, for each reduction, and gradcheck."""

from __future__ import annotations

import _nn_numpy as R
import numpy as np
import pytest
from _nn_helpers import close, fn_gradcheck, rand64

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn

RNG = np.random.default_rng(99)
REDUCTIONS = ["none", "mean", "sum"]


def _labels(*shape: int, classes: int, ignore: int | None = None) -> mt.Tensor:
    values = RNG.integers(0, classes, size=shape)
    if ignore is not None:
        values.reshape(-1)[::3] = ignore
    return mt.tensor(values)


def _probs(*shape: int) -> mt.Tensor:
    return mt.tensor(R.softmax(RNG.standard_normal(shape), 1), dtype=mt.float64)


def _weights(c: int) -> mt.Tensor:
    return mt.tensor(RNG.uniform(0.5, 2.0, c), dtype=mt.float64)


# -- cross entropy and NLL ------------------------------------------------------------------
CE_CASES = [
    {},
    {"weight": True},
    {"ignore_index": 1},
    {"weight": True, "ignore_index": 0},
    {"label_smoothing": 0.2},
    {"label_smoothing": 0.1, "weight": True, "ignore_index": 2},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=str)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2)], ids=str)
def test_cross_entropy_with_indices_matches_numpy(shape, case, reduction):
    case = dict(case)
    weight = _weights(shape[1]) if case.pop("weight", False) else None
    x = rand64(RNG, *shape, grad=False)
    target = mt.tensor(RNG.integers(0, shape[1], size=(shape[0], *shape[2:])))
    loss = nn.CrossEntropyLoss(weight=weight, reduction=reduction, **case)
    expected = R.cross_entropy(x.numpy(), target.numpy(),
                               None if weight is None else weight.numpy(),
                               case.get("ignore_index", -100), reduction,
                               case.get("label_smoothing", 0.0))  # fmt: skip
    close(loss(x, target), expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", [{}, {"weight": True}, {"label_smoothing": 0.3}], ids=str)
def test_cross_entropy_with_probabilities_matches_numpy(case, reduction):
    weight = _weights(3) if case.get("weight") else None
    smoothing = case.get("label_smoothing", 0.0)
    x, target = rand64(RNG, 5, 3, grad=False), _probs(5, 3)
    loss = F.cross_entropy(x, target, weight, reduction=reduction, label_smoothing=smoothing)
    expected = R.cross_entropy(x.numpy(), target.numpy(),
                               None if weight is None else weight.numpy(),
                               reduction=reduction, smoothing=smoothing)  # fmt: skip
    close(loss, expected)


def test_cross_entropy_gradchecks():
    target = mt.tensor([0, 2, 1])
    w = _weights(3)
    for kw in ({}, {"weight": w, "ignore_index": 2, "label_smoothing": 0.2}):
        assert fn_gradcheck(lambda x, kw=kw: F.cross_entropy(x, target, **kw), rand64(RNG, 3, 3))
    probs = _probs(2, 3)
    assert fn_gradcheck(lambda x: F.cross_entropy(x, probs, label_smoothing=0.1), rand64(RNG, 2, 3))
    assert fn_gradcheck(lambda x: F.cross_entropy(x, mt.tensor(1)), rand64(RNG, 4))


def test_cross_entropy_is_stable_and_handles_edge_cases():
    x = mt.tensor([[1000.0, 0.0], [-1000.0, 0.0]])
    close(F.cross_entropy(x, mt.tensor([0, 0]), reduction="none"), [0.0, 1000.0], rtol=1e-6)
    unbatched = rand64(RNG, 4, grad=False)
    close(F.cross_entropy(unbatched, mt.tensor(2)),
          R.cross_entropy(unbatched.numpy()[None], np.array([2])))  # fmt: skip
    all_ignored = F.cross_entropy(mt.zeros(2, 3), mt.tensor([-100, -100]))
    assert np.isnan(all_ignored.item())  # 0 / 0, as in PyTorch
    with pytest.raises(IndexError, match="out of bounds for 3 classes"):
        F.cross_entropy(mt.zeros(2, 3), mt.tensor([0, 3]))
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(mt.zeros(2, 3), mt.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_numpy(weighted, reduction):
    logp = rand64(RNG, 5, 4, grad=False)
    target = mt.tensor([0, 3, 3, 1, 2])
    weight = _weights(4) if weighted else None
    loss = nn.NLLLoss(weight=weight, ignore_index=1, reduction=reduction)(logp, target)
    expected = R.nll_loss(logp.numpy(), target.numpy(),
                          None if weight is None else weight.numpy(), 1, reduction)  # fmt: skip
    close(loss, expected)
    assert fn_gradcheck(lambda x: F.nll_loss(x, target, weight, 1, reduction), rand64(RNG, 5, 4))


def test_nll_loss_wants_integer_targets():
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(mt.zeros(2, 3), mt.zeros(2))


# -- binary ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_numpy(reduction):
    p = mt.tensor(RNG.uniform(0.05, 0.95, (4, 3)), dtype=mt.float64)
    t = mt.tensor(RNG.uniform(0, 1, (4, 3)), dtype=mt.float64)
    w = mt.tensor(RNG.uniform(0.5, 2, (3,)), dtype=mt.float64)
    close(nn.BCELoss(reduction=reduction)(p, t), R.bce(p.numpy(), t.numpy(), None, reduction))
    close(
        nn.BCELoss(w, reduction=reduction)(p, t), R.bce(p.numpy(), t.numpy(), w.numpy(), reduction)
    )
    p.requires_grad_()
    assert fn_gradcheck(lambda q: F.binary_cross_entropy(q, t, w, reduction), p)


def test_bce_clamps_logs_and_keeps_gradients_finite():
    p = mt.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    t = mt.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    assert loss.tolist() == [100.0, 100.0, 0.0, 0.0]
    loss.sum().backward()
    assert bool(p.grad.isfinite().all())
    with pytest.raises(ValueError, match="target shape"):
        F.binary_cross_entropy(mt.ones(3) * 0.5, mt.ones(2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["plain", "weight", "pos_weight"])
def test_bce_with_logits_matches_numpy(case, reduction):
    x = rand64(RNG, 4, 3, grad=False)
    t = mt.tensor(RNG.uniform(0, 1, (4, 3)), dtype=mt.float64)
    w = mt.tensor(RNG.uniform(0.5, 2, (4, 1)), dtype=mt.float64) if case == "weight" else None
    pw = mt.tensor(RNG.uniform(0.5, 3, (3,)), dtype=mt.float64) if case == "pos_weight" else None
    loss = nn.BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=pw)
    expected = R.bce_with_logits(x.numpy(), t.numpy(), None if w is None else w.numpy(), reduction,
                                 None if pw is None else pw.numpy())  # fmt: skip
    close(loss(x, t), expected)
    assert fn_gradcheck(lambda z: loss(z, t), rand64(RNG, 4, 3))


def test_bce_with_logits_is_stable_with_exact_gradient_at_zero():
    x = mt.tensor([-200.0, 0.0, 200.0], dtype=mt.float64, requires_grad=True)
    t = mt.tensor([1.0, 1.0, 0.0], dtype=mt.float64)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    close(loss, [200.0, np.log(2.0), 200.0])
    loss.sum().backward()
    close(x.grad, [-1.0, -0.5, 1.0])  # sigmoid(x) - t


# -- regression -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_l1_smooth_l1_match_numpy(reduction):
    x, t = rand64(RNG, 3, 4, grad=False), rand64(RNG, 3, 4, grad=False)
    d = x.numpy() - t.numpy()
    close(nn.MSELoss(reduction)(x, t), R.reduce(d * d, reduction))
    close(nn.L1Loss(reduction)(x, t), R.reduce(np.abs(d), reduction))
    for beta in (1.0, 0.5, 0.0):
        close(
            nn.SmoothL1Loss(reduction, beta)(x, t),
            R.smooth_l1(x.numpy(), t.numpy(), reduction, beta),
        )


def test_regression_gradchecks():
    t = rand64(RNG, 2, 3, grad=False)
    for fn in (F.mse_loss, F.l1_loss, lambda x, t: F.smooth_l1_loss(x, t, beta=0.7)):
        assert fn_gradcheck(lambda x, fn=fn: fn(x, t), rand64(RNG, 2, 3))


@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_numpy(reduction, log_target):
    x = mt.tensor(R.log_softmax(RNG.standard_normal((3, 4)), 1), dtype=mt.float64)
    p = R.softmax(RNG.standard_normal((3, 4)), 1)
    if not log_target:
        p[0, 1] = 0.0  # 0 * log 0 counts as 0
    t = mt.tensor(np.log(p) if log_target else p, dtype=mt.float64)
    loss = nn.KLDivLoss(reduction, log_target)(x, t)
    close(loss, R.kl_div(x.numpy(), t.numpy(), reduction, log_target))
    assert fn_gradcheck(
        lambda z: F.kl_div(z, t, reduction, log_target), x.detach().requires_grad_()
    )


# -- embeddings -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_loss_matches_numpy(margin, reduction):
    x1, x2 = rand64(RNG, 5, 3, grad=False), rand64(RNG, 5, 3, grad=False)
    y = mt.tensor([1, -1, -1, 1, -1])
    loss = nn.CosineEmbeddingLoss(margin, reduction)(x1, x2, y)
    close(loss, R.cosine_embedding(x1.numpy(), x2.numpy(), y.numpy(), margin, reduction))
    assert fn_gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, y, -0.5, reduction),
                        rand64(RNG, 5, 3), rand64(RNG, 5, 3))  # fmt: skip
    one = F.cosine_embedding_loss(x1[0], x2[0], mt.tensor(1), reduction="none")
    close(one, R.cosine_embedding(x1.numpy()[0], x2.numpy()[0], 1, 0.0, "none"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "case", [{}, {"p": 1.0}, {"p": 3.0, "margin": 2.0}, {"swap": True}], ids=str
)
def test_triplet_margin_loss_matches_numpy(case, reduction):
    a, p, n = (rand64(RNG, 4, 3, grad=False) for _ in range(3))
    loss = nn.TripletMarginLoss(reduction=reduction, **case)(a, p, n)
    expected = R.triplet(a.numpy(), p.numpy(), n.numpy(), case.get("margin", 1.0),
                         case.get("p", 2.0), swap=case.get("swap", False),
                         reduction=reduction)  # fmt: skip
    close(loss, expected)


def test_triplet_margin_loss_gradcheck():
    a, p, n = (rand64(RNG, 3, 2) for _ in range(3))
    assert fn_gradcheck(
        lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0, swap=True), a, p, n
    )
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginLoss(margin=0.0)(a, p, n)


def test_loss_modules_hold_weights_as_buffers():
    w = mt.tensor([1.0, 2.0])
    loss = nn.CrossEntropyLoss(weight=w)
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss()) == "MSELoss()"
