"""Learning-rate schedules and gradient clipping, against closed forms and numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytensor as mt
from mytensor.optim import SGD, clip_grad_norm_, clip_grad_value_
from mytensor.optim import lr_scheduler as sch


# -- schedules ----------------------------------------------------------------------------
def _lrs(make_sched, epochs=12, lr=0.5):
    opt = SGD([mt.ones(1, requires_grad=True)], lr=lr)
    sched = make_sched(opt)
    out = []
    for _ in range(epochs):
        out.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == out[-1]
        opt.step()
        sched.step()
    return out


def test_steplr_is_base_times_gamma_power():
    got = _lrs(lambda o: sch.StepLR(o, step_size=3, gamma=0.1))
    assert got == pytest.approx([0.5 * 0.1 ** (t // 3) for t in range(12)])


def test_cosine_follows_the_closed_form_and_returns():
    T, eta = 5, 0.01
    got = _lrs(lambda o: sch.CosineAnnealingLR(o, T_max=T, eta_min=eta), epochs=16)
    expected = [eta + (0.5 - eta) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(16)]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_linear_warmup():
    got = _lrs(lambda o: sch.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=4))
    expected = [0.5 * (0.1 + 0.9 * min(t, 4) / 4) for t in range(12)]
    assert got == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="start_factor"):
        _lrs(lambda o: sch.LinearLR(o, start_factor=0))


def test_warmup_then_cosine():
    def make(o):
        warm = sch.LinearLR(o, start_factor=0.2, total_iters=3)
        cos = sch.CosineAnnealingLR(o, T_max=6)
        return sch.SequentialLR(o, [warm, cos], milestones=[3])

    got = _lrs(make, epochs=10)
    expected = [0.5 * (0.2 + 0.8 * t / 3) for t in range(3)]
    expected += [0.5 * (1 + math.cos(math.pi * t / 6)) / 2 for t in range(7)]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_scheduler_state_dict_resumes():
    opt = SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    sched = sch.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    opt2 = SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    sched2 = sch.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(state)
    opt2.param_groups[0]["lr"] = sched.get_last_lr()[0]
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())


# -- clipping -----------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
def test_clip_grad_norm_matches_numpy(norm_type):
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = [mt.zeros(*g.shape, dtype=mt.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = mt.tensor(g)
    p_ = float(norm_type)
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.abs(flat).max() if p_ == math.inf else (np.abs(flat) ** p_).sum() ** (1 / p_)
    got = clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    assert got.shape == () and got.item() == pytest.approx(total, rel=1e-12)
    coef = min(1.0, 0.5 / (total + 1e-6))
    for p, g in zip(params, grads, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-12)


def test_clip_grad_norm_leaves_small_gradients_alone_and_checks_finiteness():
    w = mt.zeros(2, requires_grad=True)
    w.grad = mt.tensor([0.3, 0.4])
    assert clip_grad_norm_(w, 10.0).item() == pytest.approx(0.5)
    assert w.grad.tolist() == pytest.approx([0.3, 0.4])
    w.grad = mt.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([mt.zeros(1, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_value():
    w = mt.zeros(4, requires_grad=True)
    w.grad = mt.tensor([-3.0, -0.1, 0.2, 5.0])
    clip_grad_value_(w, 0.5)
    assert w.grad.tolist() == pytest.approx([-0.5, -0.1, 0.2, 0.5])
