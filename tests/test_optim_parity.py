"""Adagrad, Adadelta and the newer schedules against torch.optim (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
from _optim_trajectory import trajectory

import mytensor as mt
from mytensor import optim
from mytensor.optim import lr_scheduler as sch

torch = pytest.importorskip("torch")

OPTIMIZER_CASES = [
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.2, "initial_accumulator_value": 0.5, "eps": 1e-3, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.7, "eps": 1e-4, "weight_decay": 0.02}),
    ("Adadelta", {"lr": 2.0, "maximize": True}),
]


def _problem(dtype):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((16, 3)).astype(dtype)
    y = (X @ np.array([1.5, -2.0, 0.5]) + 0.3).astype(dtype).reshape(-1, 1)
    return X, y, rng.standard_normal((3, 1)).astype(dtype), np.full(1, 0.1, dtype)


def _trajectory(lib, name, options, dtype, steps=15):
    return trajectory(lib, name, options, _problem(dtype), steps, noncontiguous=True)


@pytest.mark.parametrize(("name", "options"), OPTIMIZER_CASES)
def test_trajectory_matches_torch_float64(name, options):
    got = _trajectory(mt, name, options, np.float64)
    want = _trajectory(torch, name, options, np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize(("name", "options"), OPTIMIZER_CASES[::2])
def test_trajectory_matches_torch_float32(name, options):
    got = _trajectory(mt, name, options, np.float32)
    want = _trajectory(torch, name, options, np.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta"])
def test_state_dict_layout_matches_torch(name):
    ours = getattr(optim, name)([mt.ones(2, 2, requires_grad=True), mt.ones(3, requires_grad=True)])
    theirs = getattr(torch.optim, name)(
        [torch.ones(2, 2, requires_grad=True), torch.ones(3, requires_grad=True)]
    )
    # Adagrad's state exists from construction on (as in PyTorch); Adadelta's after a step
    a, b = ours.state_dict(), theirs.state_dict()
    assert a["state"].keys() == b["state"].keys()
    for p, q in zip(ours.param_groups[0]["params"], theirs.param_groups[0]["params"], strict=True):
        (p * p).sum().backward()
        (q * q).sum().backward()
    ours.step()
    theirs.step()
    a, b = ours.state_dict(), theirs.state_dict()
    assert a["state"].keys() == b["state"].keys() == {0, 1}
    for i in (0, 1):
        assert a["state"][i].keys() == b["state"][i].keys()
        assert a["state"][i]["step"] == int(b["state"][i]["step"])
        for key, value in b["state"][i].items():
            if key != "step":
                np.testing.assert_allclose(a["state"][i][key].numpy(), value.numpy(), rtol=1e-6)
    assert a["param_groups"][0]["params"] == b["param_groups"][0]["params"] == [0, 1]
    shared = a["param_groups"][0].keys() & b["param_groups"][0].keys()
    assert {"lr", "eps", "weight_decay", "maximize"} <= shared
    assert all(a["param_groups"][0][k] == b["param_groups"][0][k] for k in shared)


def test_adagrad_initial_state_and_groups_added_later():
    w = mt.ones(2, requires_grad=True)
    opt = optim.Adagrad([w], lr=0.5, initial_accumulator_value=0.25)
    assert opt.state[w]["step"] == 0 and opt.state[w]["sum"].tolist() == [0.25, 0.25]
    b = mt.ones(1, requires_grad=True)
    opt.add_param_group({"params": [b], "initial_accumulator_value": 1.0})
    (w.sum() + 2 * b.sum()).backward()
    opt.step()
    assert opt.state[b]["step"] == 1 and opt.state[b]["sum"].tolist() == [5.0]
    assert b.tolist() == pytest.approx([1 - 0.5 * 2 / 5**0.5])


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("Adagrad", {"lr": -1.0}, "learning rate -1.0"),
        ("Adagrad", {"lr_decay": -0.1}, "lr_decay -0.1"),
        ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        ("Adagrad", {"eps": -1e-3}, "eps"),
        ("Adadelta", {"rho": 1.5}, r"rho 1.5 \(must be in \[0, 1\]\)"),
        ("Adadelta", {"weight_decay": -1.0}, "weight_decay -1.0"),
    ],
)
def test_bad_options_are_refused_before_anything_changes(name, options, match):
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([w], **options)
    with pytest.raises(TypeError, match="single Tensor"):
        getattr(optim, name)(w)
    opt = getattr(optim, name)([w])
    with pytest.raises(ValueError, match=match):
        opt.add_param_group({"params": [mt.ones(1, requires_grad=True)], **options})
    assert len(opt.param_groups) == 1


# -- schedules ----------------------------------------------------------------------------
def _schedule(lib, make_opt, make_sched, steps, metrics=None):
    """Learning rates (and momenta) seen by `steps` optimizer steps, one row per step."""
    tensor = mt.ones if lib is mt else torch.ones
    params = [tensor(2, requires_grad=True), tensor(1, requires_grad=True)]
    opt = make_opt(lib.optim, params)
    sched = make_sched(lib.optim.lr_scheduler, opt)
    rows = []
    for t in range(steps):
        rows.append([_knobs(group) for group in opt.param_groups])
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
    return rows, opt, sched


def _knobs(group):
    momentum = group["betas"][0] if "betas" in group else group.get("momentum", 0.0)
    return [float(group["lr"]), float(momentum)]


def _assert_same_schedule(got, want):
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-13, atol=1e-15)


def _sgd(lib_optim, params):
    return lib_optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1)


def _sgd_momentum(lib_optim, params):
    return lib_optim.SGD(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1, momentum=0.9
    )


def _adam(lib_optim, params):
    return lib_optim.Adam([{"params": params[:1]}, {"params": params[1:]}], lr=0.01)


SCHEDULES = [
    (_sgd, lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5)),
    (_sgd, lambda s, o: s.MultiStepLR(o, milestones=(3,))),
    (_sgd, lambda s, o: s.ExponentialLR(o, gamma=0.9)),
    (_sgd, lambda s, o: s.LambdaLR(o, lambda epoch: 0.95**epoch)),
    (_sgd, lambda s, o: s.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: min(1.0, (e + 1) / 4)])),
    (_sgd_momentum, lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=20)),
    (
        _sgd_momentum,
        lambda s, o: s.OneCycleLR(
            o,
            max_lr=[1.0, 0.4],
            epochs=4,
            steps_per_epoch=5,
            pct_start=0.25,
            anneal_strategy="linear",
            base_momentum=[0.8, 0.7],
            max_momentum=0.99,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
    ),
    (_sgd_momentum, lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=20, three_phase=True)),
    (_sgd, lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=20, cycle_momentum=False)),
    (_adam, lambda s, o: s.OneCycleLR(o, max_lr=0.3, total_steps=20, pct_start=0.5)),
    (
        _sgd,
        lambda s, o: s.SequentialLR(
            o,
            [s.ExponentialLR(o, 0.5), s.MultiStepLR(o, [5, 7]), s.LambdaLR(o, lambda e: 0.9**e)],
            milestones=[3, 9],
        ),
    ),
]


@pytest.mark.parametrize(("make_opt", "make_sched"), SCHEDULES)
def test_schedule_matches_torch(make_opt, make_sched):
    steps = 20
    got, opt, _ = _schedule(mt, make_opt, make_sched, steps)
    want, topt, _ = _schedule(torch, make_opt, make_sched, steps)
    _assert_same_schedule(got, want)
    _assert_same_schedule(
        [_knobs(g) for g in opt.param_groups], [_knobs(g) for g in topt.param_groups]
    )


@pytest.mark.parametrize(("make_opt", "make_sched"), SCHEDULES)
def test_schedule_continues_after_a_state_dict_round_trip(make_opt, make_sched):
    steps, cut = 20, 7
    want, *_ = _schedule(torch, make_opt, make_sched, steps)
    head, opt, sched = _schedule(mt, make_opt, make_sched, cut)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    # a fresh optimizer and scheduler, restored the way a training script resumes
    params = [mt.ones(2, requires_grad=True), mt.ones(1, requires_grad=True)]
    fresh = make_opt(optim, params)
    resumed = make_sched(sch, fresh)
    fresh.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    tail = []
    for _ in range(steps - cut):
        tail.append([_knobs(group) for group in fresh.param_groups])
        fresh.step()
        resumed.step()
    _assert_same_schedule(head + tail, want)


PLATEAUS = [
    {},
    {"factor": 0.5, "patience": 1},
    {"mode": "max", "factor": 0.3, "patience": 0, "threshold": 0.05},
    {"threshold_mode": "abs", "threshold": 0.2, "patience": 1, "cooldown": 2},
    {"mode": "max", "threshold_mode": "abs", "patience": 2, "min_lr": [0.02, 0.04]},
    {"patience": 0, "min_lr": 0.009, "eps": 1e-3},
]
METRICS = [5.0, 4.0, 4.1, 4.0, 3.99, 3.995, 4.2, 1.0, 1.0, 1.0, 1.5, 0.99, 2.0, 2.0, 2.0, 0.5]


@pytest.mark.parametrize("options", PLATEAUS)
def test_reduce_on_plateau_matches_torch(options):
    metrics = METRICS + [-m for m in METRICS]

    def make(s, o):
        return s.ReduceLROnPlateau(o, **options)

    got, _, sched = _schedule(mt, _sgd, make, len(metrics), metrics)
    want, _, tsched = _schedule(torch, _sgd, make, len(metrics), metrics)
    assert got == want
    assert sched.get_last_lr() == tsched.get_last_lr()
    for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(sched, key) == getattr(tsched, key), key


def test_reduce_on_plateau_round_trip_and_tensor_metric():
    metrics = METRICS
    want, *_ = _schedule(torch, _sgd, lambda s, o: s.ReduceLROnPlateau(o, patience=1), 16, metrics)
    head, opt, sched = _schedule(
        mt, _sgd, lambda s, o: s.ReduceLROnPlateau(o, patience=1), 6, metrics
    )
    fresh = _sgd(optim, [mt.ones(2, requires_grad=True), mt.ones(1, requires_grad=True)])
    resumed = sch.ReduceLROnPlateau(fresh, mode="max")
    fresh.load_state_dict(opt.state_dict())
    resumed.load_state_dict(sched.state_dict())
    assert resumed.mode == "min"
    tail = []
    for m in metrics[6:]:
        tail.append([_knobs(group) for group in fresh.param_groups])
        fresh.step()
        resumed.step(mt.tensor(m, dtype=mt.float64))  # a 0-d tensor works like a float
    assert head + tail == want


def test_lambda_state_dict_keeps_callable_objects_state_only():
    class Warmup:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    opt = _sgd(optim, [mt.ones(1, requires_grad=True), mt.ones(1, requires_grad=True)])
    sched = sch.LambdaLR(opt, [Warmup(4), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"steps": 4}, None]
    fresh = sch.LambdaLR(opt, [Warmup(10), lambda e: 1.0])
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].steps == 4
    assert "lr_lambdas" in state  # the caller's dict is left as it was


def test_exponential_and_multistep_resume_with_last_epoch_like_torch():
    def run(lib, make):
        p = (mt if lib is optim else torch).ones(1, requires_grad=True)
        opt = lib.SGD([p], lr=1.0)
        opt.param_groups[0]["initial_lr"] = 1.0
        sched = make(lib.lr_scheduler, opt)
        lrs = [sched.get_last_lr()[0]]
        for _ in range(4):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs

    for make in (
        lambda s, o: s.ExponentialLR(o, gamma=0.5, last_epoch=3),
        lambda s, o: s.MultiStepLR(o, milestones=[4, 6], gamma=0.5, last_epoch=3),
    ):
        assert run(optim, make) == run(torch.optim, make)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: sch.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps, or both epochs"),
        (lambda o: sch.OneCycleLR(o, 1.0, total_steps=0), ValueError, "total_steps, got 0"),
        (lambda o: sch.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=-1), ValueError, "steps_per"),
        (lambda o: sch.OneCycleLR(o, 1.0, 10, pct_start=1.5), ValueError, r"in \[0, 1\]"),
        (lambda o: sch.OneCycleLR(o, 1.0, 10, pct_start=0.1), ValueError, "phase 1 .* no steps"),
        (lambda o: sch.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError, "'exp'"),
        (lambda o: sch.OneCycleLR(o, [1.0, 2.0, 3.0], 10), ValueError, "max_lr has 3 values"),
        (lambda o: sch.OneCycleLR(None, 1.0, 10), TypeError, "expected an Optimizer"),
        (lambda o: sch.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1.0"),
        (lambda o: sch.ReduceLROnPlateau(o, mode="up"), ValueError, "'min' or 'max'"),
        (lambda o: sch.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "'rel' or 'abs'"),
        (lambda o: sch.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
        (lambda o: sch.LambdaLR(o, [lambda e: 1.0]), ValueError, "expected 2 lr_lambdas"),
        (lambda o: sch.LambdaLR(o, 0.5), TypeError, "not a callable"),
    ],
)
def test_bad_schedule_arguments_leave_the_optimizer_alone(make, error, match):
    opt = _sgd_momentum(optim, [mt.ones(2, requires_grad=True), mt.ones(1, requires_grad=True)])
    before = [dict(group) for group in opt.param_groups]
    with pytest.raises(error, match=match):
        make(opt)
    assert opt.param_groups == before


def test_one_cycle_needs_momentum_and_stops_at_total_steps():
    adagrad = optim.Adagrad([mt.ones(1, requires_grad=True)])
    with pytest.raises(ValueError, match="Adagrad has neither; pass cycle_momentum=False"):
        sch.OneCycleLR(adagrad, max_lr=1.0, total_steps=4)
    sched = sch.OneCycleLR(adagrad, max_lr=1.0, total_steps=4, cycle_momentum=False)
    for _ in range(4):
        sched.step()
    with pytest.raises(ValueError, match=r"tried to step 5 times.*total_steps=4"):
        sched.step()
    assert sched.last_epoch == 4


def test_new_names_are_exported():
    for name in ("LambdaLR", "MultiStepLR", "ExponentialLR", "OneCycleLR", "ReduceLROnPlateau"):
        assert name in sch.__all__ and isinstance(getattr(sch, name), type)
        assert issubclass(getattr(sch, name), sch.LRScheduler)
    assert {"Adagrad", "Adadelta"} <= set(optim.__all__)


def _loaded_backends():
    return [b.name for b in mt.backends() if b.status == "loaded" and b.name != "numpy_ref"]


@pytest.mark.parametrize("backend", _loaded_backends())
@pytest.mark.parametrize(("name", "options"), OPTIMIZER_CASES[1::2])
def test_updates_agree_on_every_backend(backend, name, options):
    want = _trajectory(mt, name, options, np.float64, steps=4)
    with mt.use_backend(backend):
        assert mt.tensor([1.0]).backend == backend
        got = _trajectory(mt, name, options, np.float64, steps=4)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
