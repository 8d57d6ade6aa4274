"""Optimizers against float64 numpy references (no torch needed)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import mytensor as mt
from mytensor.core.ops import _base
from mytensor.optim import SGD, Adam, AdamW, RMSprop


def _problem(seed: int = 0):
    """A small linear regression: X (16, 3), targets, and a start point (w, b)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((16, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(16)
    return X, y, rng.standard_normal(3), np.array([0.0])


def _np_grads(X, y, w, b):
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), np.array([2 * r.mean()])


def _mt_run(make_opt, steps: int = 20, seed: int = 0):
    X, y, w0, b0 = _problem(seed)
    Xt, yt = mt.tensor(X), mt.tensor(y)
    w = mt.tensor(w0, requires_grad=True)
    b = mt.tensor(b0, requires_grad=True)
    opt = make_opt([w, b])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((Xt @ w + b - yt) ** 2).mean()
        loss.backward()
        opt.step()
        path.append(np.concatenate([w.numpy(), b.numpy()]))
    return np.array(path)


def _np_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, steps=20):
    X, y, w, b = _problem()
    params = [w.copy(), b.copy()]
    bufs = [None, None]
    path = []
    for _ in range(steps):
        grads = _np_grads(X, y, *params)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            g = g + weight_decay * p
            if momentum:
                bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + (1 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            params[i] = p - lr * g
        path.append(np.concatenate(params))
    return np.array(path)


def _np_adam(
    lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False, steps=20
):
    X, y, w, b = _problem()
    params = [w.copy(), b.copy()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    vmax = [np.zeros_like(p) for p in params]
    path = []
    for t in range(1, steps + 1):
        grads = _np_grads(X, y, *params)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
            m[i] = betas[0] * m[i] + (1 - betas[0]) * g
            v[i] = betas[1] * v[i] + (1 - betas[1]) * g * g
            vmax[i] = np.maximum(vmax[i], v[i])
            vhat = (vmax[i] if amsgrad else v[i]) / (1 - betas[1] ** t)
            params[i] = p - lr * m[i] / (1 - betas[0] ** t) / (np.sqrt(vhat) + eps)
        path.append(np.concatenate(params))
    return np.array(path)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"momentum": 0.9},
        {"momentum": 0.9, "dampening": 0.3},
        {"momentum": 0.8, "nesterov": True},
        {"weight_decay": 0.1, "momentum": 0.5},
    ],
)
def test_sgd_matches_numpy(options):
    got = _mt_run(lambda ps: SGD(ps, lr=0.05, **options))
    np.testing.assert_allclose(got, _np_sgd(0.05, **options), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "options", [{}, {"weight_decay": 0.1}, {"amsgrad": True}, {"betas": (0.8, 0.9), "eps": 1e-3}]
)
def test_adam_matches_numpy(options):
    got = _mt_run(lambda ps: Adam(ps, lr=0.1, **options))
    np.testing.assert_allclose(got, _np_adam(0.1, **options), rtol=1e-10, atol=1e-12)


def test_adamw_matches_numpy():
    got = _mt_run(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.2))
    np.testing.assert_allclose(got, _np_adam(0.1, weight_decay=0.2, decoupled=True), rtol=1e-10)


def test_maximize_is_descent_on_the_negated_loss():
    X, y, w0, _ = _problem()
    Xt, yt = mt.tensor(X), mt.tensor(y)
    for make in (
        lambda ps, m: SGD(ps, lr=0.05, momentum=0.9, maximize=m),
        lambda ps, m: Adam(ps, lr=0.05, maximize=m),
        lambda ps, m: RMSprop(ps, lr=0.01, centered=True, maximize=m),
    ):
        ends = []
        for maximize, sign in ((False, 1.0), (True, -1.0)):
            w = mt.tensor(w0, requires_grad=True)
            opt = make([w], maximize)
            for _ in range(5):
                opt.zero_grad()
                (sign * ((Xt @ w - yt) ** 2).mean()).backward()
                opt.step()
            ends.append(w.numpy())
        np.testing.assert_allclose(ends[0], ends[1], rtol=1e-12)


def test_rmsprop_reduces_the_loss_and_keeps_its_state():
    for options in ({}, {"momentum": 0.9}, {"centered": True}, {"weight_decay": 0.01}):
        path = _mt_run(lambda ps, o=options: RMSprop(ps, lr=0.01, **o), steps=50)
        X, y, *_ = _problem()
        losses = [np.mean((X @ p[:3] + p[3] - y) ** 2) for p in path]
        assert losses[-1] < losses[0], options
    w = mt.ones(2, requires_grad=True)
    opt = RMSprop([w], momentum=0.9, centered=True)
    (w * w).sum().backward()
    opt.step()
    assert set(opt.state[w]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


def test_param_groups_have_their_own_options():
    a, b = mt.ones(2, requires_grad=True), mt.ones(2, requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": b, "lr": 1.0, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["momentum"] == 0.0 and opt.param_groups[1]["momentum"] == 0.5
    (a.sum() + b.sum()).backward()
    opt.step()
    assert a.tolist() == pytest.approx([0.9, 0.9]) and b.tolist() == [0.0, 0.0]
    assert opt.state[a] == {} and "momentum_buffer" in opt.state[b]


def test_bad_arguments_are_reported():
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        Adam([w], lr=-1)
    with pytest.raises(ValueError, match="beta2"):
        Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        SGD([{"params": {w}}], lr=0.1)
    opt = SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(ValueError, match="invalid momentum"):
        opt.add_param_group({"params": [mt.ones(1)], "momentum": -1})


def test_zero_grad_to_none_or_zeros():
    w = mt.ones(3, requires_grad=True)
    opt = SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_closure_is_evaluated_with_grad():
    w = mt.tensor([3.0], requires_grad=True)
    opt = SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == 0.0


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
        lambda ps: Adam(ps, lr=0.05, amsgrad=True),
        lambda ps: RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    ],
)
def test_state_dict_round_trip_continues_the_same_trajectory(make):
    X, y, w0, _ = _problem()
    Xt, yt = mt.tensor(X), mt.tensor(y)

    def run(w, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            ((Xt @ w - yt) ** 2).mean().backward()
            opt.step()

    w = mt.tensor(w0, requires_grad=True)
    opt = make([w])
    run(w, opt, 10)
    reference = w.numpy()

    w2 = mt.tensor(w0, requires_grad=True)
    opt2 = make([w2])
    run(w2, opt2, 5)
    state = opt2.state_dict()
    assert state["param_groups"][0]["params"] == [0] and 0 in state["state"]
    w3 = mt.tensor(w2.numpy(), requires_grad=True)
    opt3 = make([w3])
    opt3.load_state_dict(state)
    for key, value in opt3.state[w3].items():  # loading copies, never aliases
        if isinstance(value, mt.Tensor):
            assert value._storage is not opt2.state[w2][key]._storage
    run(w3, opt3, 5)
    np.testing.assert_allclose(w3.numpy(), reference, rtol=1e-12)


def test_load_state_dict_checks_the_groups():
    a, b = mt.ones(1, requires_grad=True), mt.ones(1, requires_grad=True)
    sd = SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 2 parameters in the state dict but 1"):
        SGD([a], lr=0.1).load_state_dict(sd)


def test_state_dict_step_may_be_a_tensor_as_in_pytorch():
    w = mt.ones(2, requires_grad=True)
    opt = Adam([w])
    sd = {
        "state": {
            0: {
                "step": mt.tensor(4.0),
                "exp_avg": mt.zeros(2, dtype=mt.float64),
                "exp_avg_sq": mt.zeros(2),
            }
        },
        "param_groups": [{**opt.state_dict()["param_groups"][0], "lr": 0.5}],
    }
    opt.load_state_dict(sd)
    assert opt.state[w]["step"] == 4 and opt.state[w]["exp_avg"].dtype is mt.float32
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is w


def _live_tensors() -> int:
    """Live tensors, less the core's bounded cache of scalar operands (Adam's step size
    is a new Python float every step)."""
    gc.collect()
    cached = {id(t) for t in _base._SCALARS.values()}
    return sum(issubclass(type(o), mt.Tensor) and id(o) not in cached for o in gc.get_objects())


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.01, momentum=0.9),
        lambda ps: AdamW(ps, lr=0.01, amsgrad=True),
        lambda ps: RMSprop(ps, lr=0.001, centered=True, momentum=0.5),
    ],
)
def test_1000_steps_grow_no_graph_and_no_tensors(make):
    x = mt.randn(8, 4)
    w = mt.randn(4, 1, requires_grad=True)
    b = mt.zeros(1, requires_grad=True)
    opt = make([w, b])

    def train(steps):
        for _ in range(steps):
            opt.zero_grad()
            ((x @ w + b) ** 2).mean().backward()
            opt.step()

    train(10)
    before = _live_tensors()
    train(1000)
    assert w.is_leaf and b.is_leaf and w.grad_fn is None and b.grad_fn is None
    assert w.grad.grad_fn is None and not w.grad.requires_grad
    assert _live_tensors() <= before
    assert all(s._node is None for s in opt.state[w].values() if isinstance(s, mt.Tensor))


def test_updates_write_into_the_parameter_buffer():
    w = mt.ones(3, requires_grad=True)
    storage = w._storage
    opt = Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w._storage is storage and w._storage.version > 0


def test_float32_parameters_stay_float32():
    w = mt.ones(3, requires_grad=True)
    for opt in (SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1), Adam([w]), RMSprop([w])):
        (w * w).sum().backward()
        opt.step()
        assert w.dtype is mt.float32
        assert all(v.dtype is mt.float32 for v in opt.state[w].values() if isinstance(v, mt.Tensor))


def test_repr_lists_the_groups():
    text = repr(SGD([mt.ones(1, requires_grad=True)], lr=0.1))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.1" in text
