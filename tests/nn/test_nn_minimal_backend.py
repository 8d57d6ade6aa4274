"""Layers on the `minimal` backend (required primitives only: every optional one is the
core's composite) give numpy_ref's values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt
from mytensor import nn


def _model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2), nn.GELU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.0), nn.LayerNorm(4), nn.Linear(4, 3),
    )  # fmt: skip


def _run(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple:
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(mt.tensor(x)), mt.tensor(y))
    loss.backward()
    return loss.item(), {n: p.grad.numpy() for n, p in model.named_parameters()}


def test_cnn_on_minimal_matches_numpy_ref():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 8, 8)).astype(np.float32)
    y = np.array([0, 2, 1])
    reference = _model()
    expected_loss, expected_grads = _run(reference, x, y)
    with mt.use_backend("minimal"):
        model = _model()
        model.load_state_dict(reference.state_dict())  # running stats were updated: reset
        model[1].reset_running_stats()
        loss, grads = _run(model, x, y)
        assert model[0].weight.backend == "minimal"
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    for name, grad in expected_grads.items():
        np.testing.assert_allclose(grads[name], grad, rtol=1e-4, atol=1e-6, err_msg=name)


def test_embedding_and_losses_on_minimal():
    with mt.use_backend("minimal"):
        emb = nn.Embedding(5, 3, padding_idx=0)
        out = emb(mt.tensor([[0, 4, 4]]))
        assert out.backend == "minimal"
        target = mt.tensor([[1.0, 0.0, 1.0]])
        loss = nn.BCEWithLogitsLoss(pos_weight=mt.tensor([2.0, 1.0, 1.0]))(out.sum(-1), target)
        loss.backward()
        grad = emb.weight.grad.numpy()
    assert not grad[0].any() and grad[4].any() and not grad[1:4].any()
