"""Optimizer trajectories, schedules and clipping against torch.optim (skipped without torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _optim_trajectory import trajectory

import mytensor as mt
from mytensor import optim
from mytensor.optim import lr_scheduler as sch

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.7), "eps": 1e-4, "maximize": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.8, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "maximize": True}),
]


def _data(dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((24, 4)).astype(dtype)
    y = (X @ np.array([2.0, -1.0, 0.5, 1.0]) - 0.5 + 0.1 * rng.standard_normal(24)).astype(dtype)
    return X, y, rng.standard_normal((4, 1)).astype(dtype), np.zeros(1, dtype)


def _trajectory(lib, name, options, dtype, steps=20):
    X, y, w0, b0 = _data(dtype)
    return trajectory(lib, name, options, (X, y.reshape(-1, 1), w0, b0), steps)


@pytest.mark.parametrize(("name", "options"), CASES)
def test_trajectory_matches_torch_float64(name, options):
    got = _trajectory(mt, name, options, np.float64)
    want = _trajectory(torch, name, options, np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "options"), CASES[::3])
def test_trajectory_matches_torch_float32(name, options):
    got = _trajectory(mt, name, options, np.float32)
    want = _trajectory(torch, name, options, np.float32)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def test_state_dict_has_torchs_layout():
    *_, w0, _ = _data(np.float64)
    w = mt.tensor(w0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    ours, theirs = optim.Adam([w], lr=0.1), torch.optim.Adam([tw], lr=0.1)
    (w * w).sum().backward()
    (tw * tw).sum().backward()
    ours.step()
    theirs.step()
    a, b = ours.state_dict(), theirs.state_dict()
    assert a["state"].keys() == b["state"].keys()
    assert a["state"][0].keys() == b["state"][0].keys()
    np.testing.assert_allclose(
        a["state"][0]["exp_avg_sq"].numpy(), b["state"][0]["exp_avg_sq"].numpy()
    )
    assert a["param_groups"][0]["params"] == b["param_groups"][0]["params"]
    shared = set(a["param_groups"][0]) & set(b["param_groups"][0])
    assert {"lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "params"} <= shared
    assert all(a["param_groups"][0][k] == b["param_groups"][0][k] for k in shared)


SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 4}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 6}),
    ("LinearLR", {}),
]


def _run_schedule(lib, make, epochs=30):
    param = mt.ones(1, requires_grad=True) if lib is optim else torch.ones(1, requires_grad=True)
    opt = lib.SGD([{"params": [param]}], lr=0.3)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return lrs


@pytest.mark.parametrize(("name", "options"), SCHEDULES)
def test_schedule_matches_torch(name, options):
    got = _run_schedule(optim, lambda o: getattr(sch, name)(o, **options))
    want = _run_schedule(
        torch.optim, lambda o: getattr(torch.optim.lr_scheduler, name)(o, **options)
    )
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_sequential_warmup_cosine_matches_torch():
    def make(lib):
        return lambda o: lib.SequentialLR(
            o,
            [lib.LinearLR(o, start_factor=0.1, total_iters=4), lib.CosineAnnealingLR(o, 10)],
            milestones=[4],
        )

    got = _run_schedule(optim, make(sch), epochs=20)
    want = _run_schedule(torch.optim, make(torch.optim.lr_scheduler), epochs=20)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.5, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
    rng = np.random.default_rng(5)
    grads = [
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal(7).astype(np.float32),
    ]
    ours = [mt.zeros(*g.shape, requires_grad=True) for g in grads]
    theirs = [torch.zeros(*g.shape, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad, q.grad = mt.tensor(g), torch.tensor(g)
    total = optim.clip_grad_norm_(ours, 0.7, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.7, norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-5)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
