"""linear, cross_entropy, lstm_cell and lstm_sequence (custom records of `core/ops/`):
forward against the numpy reference on drawn layouts and sizes (0 included), gradients by
central differences in float64 and against the numpy reference backend's; the native
backward primitives against the contract's rule (the core's composite) bit for bit, the
recurrence's within its products' rounding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import GradcheckError, gradcheck
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close, call_reference, tolerance
from mytensor.core.ops import OPS


def _cases(name: str) -> list:
    # ids start with the op's name: the runner's per-op summary reads it from there
    return [pytest.param(d, id=f"{name}-{d.name}") for d in (mt.float32, mt.float64)]


def _values(data, dtype, shape, smooth: bool, label: str) -> np.ndarray:
    if smooth:
        seed = data.draw(st.integers(0, 2**32 - 1), label=f"{label} seed")
        return S.smooth_values(seed, dtype, shape, (-2.0, 2.0), False)
    return data.draw(S.arrays(dtype, shape, (-2.0, 2.0)), label=label)


def _draw_linear(data, dtype, backend, grad=False):
    """(input, weight[, bias]) as `Built`s: a 2-d input mostly (the fused path), else 1-d
    or 3-d (the composed path); sizes from 0 (1 with gradients) to 4."""
    low = 1 if grad else 0
    n, k, m = (data.draw(st.integers(low, 4), label=s) for s in ("n", "k", "m"))
    lead = data.draw(st.sampled_from([(n,), (n,), (n,), (), (2, n)]), label="input lead")
    shapes = [(*lead, k), (m, k), (m,)]
    count = 3 if data.draw(st.booleans(), label="bias") else 2
    built = []
    for shape, label in zip(shapes[:count], ("input", "weight", "bias"), strict=False):
        values = _values(data, dtype, shape, grad, label)
        built.append(data.draw(S.laid_out(values, dtype, backend, requires_grad=grad), label))
    return built


def _draw_cross_entropy(data, dtype, backend, grad=False):
    """(logits Built, int64 targets, kwargs): some targets equal to `ignore_index`."""
    n = data.draw(st.integers(1 if grad else 0, 4), label="n")
    c = data.draw(st.integers(1, 4), label="classes")
    ignore_index = data.draw(st.sampled_from([-100, 0, c - 1]), label="ignore_index")
    picks = data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), label="targets")
    ignored = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="ignored")
    targets = np.array([ignore_index if i else t for t, i in zip(picks, ignored, strict=True)],
                       dtype=np.int64)  # fmt: skip
    values = _values(data, dtype, (n, c), grad, "logits")
    built = data.draw(S.laid_out(values, dtype, backend, requires_grad=grad), label="logits")
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return built, targets, {"ignore_index": ignore_index, "reduction": reduction}


def _where(name, backend, built, kwargs, what="forward"):
    inputs = "; ".join(f"input {i}: {b.describe()}" for i, b in enumerate(built))
    return f"{what} of {name} on backend {backend!r}, kwargs {kwargs}\n  {inputs}"


def _grads_on(func, backend, built, dtype):
    """d(sum(out * cotangent)) by each input, with the inputs on `backend`."""
    ts = [mt.tensor(b.values, dtype=dtype, backend=backend, requires_grad=True) for b in built]
    if backend == built[0].tensor.backend:
        ts = [b.tensor for b in built]
    out = func(*ts)
    cotangent = np.linspace(-1.0, 1.0, out.size).reshape(out.shape)
    loss = (out * mt.tensor(cotangent, dtype=dtype, backend=backend)).sum()
    return [g.numpy() for g in mt.autograd.grad(loss, ts)]


def _check_gradients(name, func, built, backend, dtype, kwargs, reduced):
    where = _where(name, backend, built, kwargs, "gradients")
    if dtype is mt.float64:
        try:
            gradcheck(func, [b.tensor for b in built], name=name)
        except GradcheckError as exc:
            raise AssertionError(f"{where}\n  {exc}") from None
    got, expected = _grads_on(func, backend, built, dtype), _grads_on(func, "numpy_ref", built,
                                                                      dtype)  # fmt: skip
    rtol, atol = tolerance([dtype.numpy], reduced * 4, 2.0)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g.dtype == dtype.numpy, f"{where}\n  gradient {i} is {g.dtype}"
        assert_close(g, e, f"{where}\n  gradient of input {i} vs numpy_ref", rtol, atol)


@pytest.mark.parametrize("dtype", _cases("linear"))
@S.suite_settings(10)
@given(data=st.data())
def test_linear(dtype, backend, data):
    built = _draw_linear(data, dtype, backend)
    record = OPS["linear"]
    got = record.func(*[b.tensor for b in built]).numpy()
    expected = call_reference(record.ref, *[b.values for b in built])
    where = _where("linear", backend, built, {})
    assert got.dtype == dtype.numpy, f"{where}\n  dtype {got.dtype}"
    rtol, atol = tolerance([got.dtype], max(built[0].values.shape[-1], 1), 2.0)
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("dtype", _cases("linear"))
@S.suite_settings(5)
@given(data=st.data())
def test_linear_gradients(dtype, backend, data):
    built = _draw_linear(data, dtype, backend, grad=True)
    reduced = max(built[0].values.size, 1)  # the weight's gradient sums over the rows
    _check_gradients("linear", OPS["linear"].func, built, backend, dtype, {}, reduced)


@pytest.mark.parametrize("dtype", _cases("cross_entropy"))
@S.suite_settings(10)
@given(data=st.data())
def test_cross_entropy(dtype, backend, data):
    built, targets, kwargs = _draw_cross_entropy(data, dtype, backend)
    record = OPS["cross_entropy"]
    target = mt.tensor(targets, backend=backend)
    got = record.func(built.tensor, target, **kwargs).numpy()
    expected = call_reference(record.ref, built.values, targets, **kwargs)
    where = _where("cross_entropy", backend, [built], {**kwargs, "target": targets.tolist()})
    assert got.dtype == dtype.numpy, f"{where}\n  dtype {got.dtype}"
    rtol, atol = tolerance([got.dtype], max(built.values.size, 1), 2.0)
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("dtype", _cases("cross_entropy"))
@S.suite_settings(5)
@given(data=st.data())
def test_cross_entropy_gradients(dtype, backend, data):
    built, targets, kwargs = _draw_cross_entropy(data, dtype, backend, grad=True)
    if kwargs["reduction"] == "mean" and (targets == kwargs["ignore_index"]).all():
        # "mean" of no counted target is 0/0 = NaN (central differences say nothing), and
        # its gradient is exactly 0, as in PyTorch
        loss = OPS["cross_entropy"].func(built.tensor, mt.tensor(targets, backend=backend),
                                         **kwargs)  # fmt: skip
        (grad,) = mt.autograd.grad(loss, built.tensor)
        assert np.isnan(loss.item()) and (grad.numpy() == 0).all(), (
            f"{_where('cross_entropy', backend, [built], kwargs, 'gradients')}\n  every "
            f"target ignored: loss {loss.item()} (expected nan), gradient {grad.numpy()} "
            "(expected 0)"
        )
        return

    def func(logits):
        target = mt.tensor(targets, backend=logits.backend)
        return OPS["cross_entropy"].func(logits, target, **kwargs)

    kwargs_shown = {**kwargs, "target": targets.tolist()}
    reduced = max(built.values.size, 1)
    _check_gradients("cross_entropy", func, [built], backend, dtype, kwargs_shown, reduced)


@pytest.mark.parametrize("dtype", _cases("cross_entropy"))
def test_cross_entropy_backward_follows_the_rule_bit_for_bit(dtype, backend):
    """The backend's `cross_entropy_backward` equals the contract's rule (the core's
    composite on the same backend, whose exp is the backend's exp map) exactly: -inf and
    NaN log-probabilities, signed zeros, a sliced target, one scale for every row (stride
    0) and a reversed per-row scale holding -0.0, inf and NaN."""
    from mytensor.backends.spec import Strided
    from mytensor.core import fused_loss
    from mytensor.core.registry import get_backend

    dispatch = get_backend(backend)
    if "cross_entropy_backward" not in dispatch.native:
        pytest.skip(f"{backend!r} runs the core's composite, which is the rule")
    rng = np.random.default_rng(5)
    rows, cols = 6, 9
    logp = rng.normal(-2.0, 1.5, (rows, cols)).astype(dtype.numpy)
    logp[0, :4] = (-np.inf, np.nan, 0.0, -0.0)
    logp[1, 3], logp[2, 8] = -np.inf, 100.0
    target_values = rng.integers(0, cols, rows)
    target_values[:2] = (0, 3)  # a -inf and a -0.0 log-probability picked
    target = mt.tensor(np.repeat(target_values, 2), backend=backend)[1::2]  # stride 2
    per_row = np.array([0.5, -0.0, np.inf, np.nan, 3.0, -2.0], dtype.numpy)
    logp_t = mt.tensor(logp, backend=backend)
    one = mt.tensor(np.array(0.25, dtype.numpy), backend=backend)
    scales = {"one scale": Strided(one._d.buffer, (rows,), (0,), one._d.offset, one.dtype),
              "per-row scale, reversed": mt.tensor(per_row[::-1].copy(),
                                                   backend=backend).flip(0)._d}  # fmt: skip
    for label, scale in scales.items():
        results = []
        for run in (dispatch.cross_entropy_backward,
                    lambda *a: fused_loss.cross_entropy_backward(dispatch, *a)):  # fmt: skip
            d_logits = mt.empty(rows, cols, dtype=dtype, backend=backend)
            with np.errstate(all="ignore"):
                run(d_logits._d, logp_t._d, target._d, scale)
            results.append(d_logits.numpy())
        assert_close(*results, f"cross_entropy_backward on {backend!r}, {dtype.name}, {label}: "
                     "native vs the rule", zero_signs=True)  # fmt: skip


@pytest.mark.parametrize("dtype", _cases("softmax"))
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_backward_follows_the_rule(dtype, backend, log):
    """The backend's `softmax_backward` against the contract's rule (the core's composite
    on the same backend), within the rounding of sums taken in another order: rows along
    the last dim (contiguous), along a middle dim of a permuted output, a gradient
    broadcast with stride 0, and NaN, +-inf and signed zeros in both operands."""
    from mytensor.core import fused_loss
    from mytensor.core.registry import get_backend

    dispatch = get_backend(backend)
    if "softmax_backward" not in dispatch.native:
        pytest.skip(f"{backend!r} runs the core's composite, which is the rule")
    rng = np.random.default_rng(8)
    x = rng.normal(0.0, 2.0, (3, 5, 37)).astype(dtype.numpy)
    x[0, 1, :3] = (np.nan, np.inf, -np.inf)
    x[1, 2] = -np.inf  # a row of only -inf: NaN everywhere in it
    y = mt.tensor(x, backend=backend)
    y = y.log_softmax(-1) if log else y.softmax(-1)
    g_values = rng.normal(0.0, 1.0, (3, 5, 37)).astype(dtype.numpy)
    g_values[2, 0, :4] = (-0.0, 0.0, np.nan, np.inf)
    g = mt.tensor(g_values, backend=backend)
    ones = mt.ones(1, dtype=dtype, backend=backend).expand(3, 5, 37)  # stride 0 everywhere
    cases = {"last dim": (y, g, 2), "middle dim, permuted": (y.permute(2, 0, 1),
                                                            g.permute(2, 0, 1), 0),
             "broadcast gradient": (y, ones, 1)}  # fmt: skip
    # sums of 37 terms of magnitude ~1 in another order: a few units of the last place
    close = 1e-5 if dtype == mt.float32 else 1e-13
    for label, (yy, gg, dim) in cases.items():
        results = []
        for run in (dispatch.softmax_backward,
                    lambda *a: fused_loss.softmax_backward(dispatch, *a)):  # fmt: skip
            dx = mt.empty(*yy.shape, dtype=dtype, backend=backend)
            with np.errstate(all="ignore"):
                run(dx._d, yy._d, gg._d, dim, log)
            results.append(dx.numpy())
        assert_close(*results, f"softmax_backward(log={log}) on {backend!r}, {dtype.name}, "
                     f"{label}: native vs the rule", close, close)  # fmt: skip


def _draw_lstm_cell(data, dtype, backend, grad=False):
    """(gates, c) as `Built`s on drawn layouts: batch 0..3 (1.. with gradients), hidden
    1..3, values wide enough to reach the sigmoid's and tanh's flat ends."""
    batch = data.draw(st.integers(1 if grad else 0, 3), label="batch")
    hidden = data.draw(st.integers(1, 3), label="hidden")
    built = []
    for shape, label in (((batch, 4 * hidden), "gates"), ((batch, hidden), "c")):
        values = _values(data, dtype, shape, grad, label) * (1 if grad else 4)
        built.append(data.draw(S.laid_out(values, dtype, backend, requires_grad=grad), label))
    return built


@pytest.mark.parametrize("dtype", _cases("lstm_cell"))
@S.suite_settings(10)
@given(data=st.data())
def test_lstm_cell(dtype, backend, data):
    built = _draw_lstm_cell(data, dtype, backend)
    record = OPS["lstm_cell"]
    got = record.func(*[b.tensor for b in built]).numpy()
    expected = call_reference(record.ref, *[b.values for b in built])
    where = _where("lstm_cell", backend, built, {})
    assert got.dtype == dtype.numpy, f"{where}\n  dtype {got.dtype}"
    rtol, atol = tolerance([got.dtype], 4, 2.0)
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("dtype", _cases("lstm_cell"))
@S.suite_settings(5)
@given(data=st.data())
def test_lstm_cell_gradients(dtype, backend, data):
    built = _draw_lstm_cell(data, dtype, backend, grad=True)
    _check_gradients("lstm_cell", OPS["lstm_cell"].func, built, backend, dtype, {}, 4)


@pytest.mark.parametrize("dtype", _cases("lstm_cell"))
def test_lstm_cell_backward_follows_the_rule_bit_for_bit(dtype, backend):
    """The backward has no transcendental function: the backend's `lstm_cell_backward`
    equals the contract's rule (the core's composite on the same backend) exactly, signed
    zeros and NaN included, on a transposed d_hc and a sliced c."""
    from mytensor.core import fused_cells
    from mytensor.core.registry import get_backend

    dispatch = get_backend(backend)
    if "lstm_cell_backward" not in dispatch.native:
        pytest.skip(f"{backend!r} runs the core's composite, which is the rule")
    rng = np.random.default_rng(3)
    batch, hidden = 3, 4
    saved = rng.uniform(-1, 1, (batch, 5 * hidden)).astype(dtype.numpy)
    d_hc = rng.standard_normal((2 * hidden, batch)).astype(dtype.numpy)
    c = rng.standard_normal((batch, hidden + 1)).astype(dtype.numpy)
    d_hc[0, :2], saved[1, :3], c[2, 1] = (-0.0, np.nan), (np.inf, -0.0, 0.0), np.nan
    ts = [mt.tensor(a, backend=backend) for a in (saved, d_hc, c)]
    saved_t, d_hc_t, c_t = ts[0], ts[1].T, ts[2][:, 1:]
    results = []
    for run in (dispatch.lstm_cell_backward,
                lambda *a: fused_cells.lstm_cell_backward(dispatch, *a)):  # fmt: skip
        d_gates = mt.empty(batch, 4 * hidden, dtype=dtype, backend=backend)
        d_c = mt.empty(batch, hidden, dtype=dtype, backend=backend)
        with np.errstate(all="ignore"):
            run(d_gates._d, d_c._d, d_hc_t._d, saved_t._d, c_t._d)
        results.append((d_gates.numpy(), d_c.numpy()))
    for name, got, expected in zip(("d_gates", "d_c"), *results, strict=True):
        assert_close(got, expected, f"lstm_cell_backward on {backend!r}, {dtype.name}: {name} "
                     "vs the rule", zero_signs=True)  # fmt: skip


def _draw_lstm_sequence(data, dtype, backend, grad=False):
    """(gi, h0, c0, w_hh) as `Built`s: 1..3 steps, batch 1..2, hidden 1..3 (with gradients
    1..2 steps and hidden sizes: central differences run the sequence twice per element)."""
    most = 2 if grad else 3
    sizes = (("steps", most), ("batch", 2), ("hidden", most))
    steps, batch, hidden = (data.draw(st.integers(1, n), label=s) for s, n in sizes)
    shapes = {"gi": (steps * batch, 4 * hidden), "h0": (batch, hidden), "c0": (batch, hidden),
              "w_hh": (4 * hidden, hidden)}  # fmt: skip
    built = []
    for label, shape in shapes.items():
        values = _values(data, dtype, shape, grad, label)
        built.append(data.draw(S.laid_out(values, dtype, backend, requires_grad=grad), label))
    return built, data.draw(st.booleans(), label="reverse")


@pytest.mark.parametrize("dtype", _cases("lstm_sequence"))
@S.suite_settings(10)
@given(data=st.data())
def test_lstm_sequence(dtype, backend, data):
    built, reverse = _draw_lstm_sequence(data, dtype, backend)
    record = OPS["lstm_sequence"]
    got = record.func(*[b.tensor for b in built], reverse=reverse).numpy()
    expected = call_reference(record.ref, *[b.values for b in built], reverse=reverse)
    where = _where("lstm_sequence", backend, built, {"reverse": reverse})
    assert got.dtype == dtype.numpy, f"{where}\n  dtype {got.dtype}"
    rtol, atol = tolerance([got.dtype], 4 * built[3].values.shape[1] + 8, 2.0)
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("dtype", _cases("lstm_sequence"))
@S.suite_settings(3)  # central differences run the whole sequence twice per element
@given(data=st.data())
def test_lstm_sequence_gradients(dtype, backend, data):
    built, reverse = _draw_lstm_sequence(data, dtype, backend, grad=True)

    def func(*inputs):
        return OPS["lstm_sequence"].func(*inputs, reverse=reverse)

    reduced = 4 * built[0].values.shape[0] + 8
    _check_gradients("lstm_sequence", func, built, backend, dtype, {"reverse": reverse}, reduced)


@pytest.mark.parametrize("dtype", _cases("lstm_sequence"))
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_lstm_sequence_primitives_follow_the_rule(dtype, backend, reverse):
    """The backend's `lstm_sequence` and `lstm_sequence_backward` against the contract's
    rule (the core's composite on the same backend) at a size whose products are BLAS's
    (batch 16, hidden 128, 3 steps): gi with a column stride, NaN and infinities in it,
    a permuted d_hc, and W_hh row-major, transposed and with no unit stride."""
    from mytensor.core import fused_cells
    from mytensor.core.registry import get_backend

    dispatch = get_backend(backend)
    native = [p for p in ("lstm_sequence", "lstm_sequence_backward")
              if dispatch.is_native(p, dtype)]  # fmt: skip
    if not native:
        pytest.skip(f"{backend!r} runs the core's composites, which are the rule")
    steps, batch, hidden = 3, 16, 128
    rng = np.random.default_rng(5)

    def tensor(values, transform=lambda t: t):
        return transform(mt.tensor(values.astype(dtype.numpy), backend=backend))

    gi_values = rng.standard_normal((steps * batch, 8 * hidden))
    gi_values[1, 6], gi_values[batch + 2, 10], gi_values[-1, -2] = np.nan, np.inf, -np.inf
    gi = tensor(gi_values, lambda t: t[:, ::2])
    w = rng.standard_normal((4 * hidden, 2 * hidden)) * 0.1
    w_t = tensor(np.ascontiguousarray(w[:, :hidden].T))
    initial = rng.standard_normal((batch, 2 * hidden))
    d_hc = tensor(rng.standard_normal((2 * hidden, batch, steps)), lambda t: t.permute(2, 1, 0))
    layouts = {"row-major": tensor(w[:, :hidden]), "transposed": tensor(w_t.numpy(), lambda t: t.T),
               "no unit stride": tensor(w, lambda t: t[:, ::2])}  # fmt: skip
    rtol, atol = tolerance([dtype.numpy], steps * (4 * hidden + 8), 2.0)

    def forward(run, gi):
        states = mt.empty(steps + 1, batch, 2 * hidden, dtype=dtype, backend=backend)
        states[steps if reverse else 0] = tensor(initial)
        saved = mt.empty(steps, batch, 5 * hidden, dtype=dtype, backend=backend)
        run(states._d, saved._d, gi._d, w_t._d, reverse)
        return states, saved

    rule = {"lstm_sequence": lambda *a: fused_cells.lstm_sequence(dispatch, *a),
            "lstm_sequence_backward": lambda *a: fused_cells.lstm_sequence_backward(dispatch, *a)}
    where = f"on {backend!r}, {dtype.name}, {'reverse' if reverse else 'forward'}"
    if "lstm_sequence" in native:
        with np.errstate(all="ignore"):
            results = [forward(run, gi) for run in (dispatch.lstm_sequence, rule["lstm_sequence"])]
        for name, got, expected in zip(("states", "saved"), *results, strict=True):
            assert_close(got.numpy(), expected.numpy(), f"lstm_sequence {where}: {name}",
                         rtol, atol)  # fmt: skip
    if "lstm_sequence_backward" in native:
        finite = tensor(np.nan_to_num(gi.numpy(), posinf=3.0, neginf=-3.0))
        states, saved = forward(dispatch.lstm_sequence, finite)
        for layout, w_hh in layouts.items():
            results = []
            for run in (dispatch.lstm_sequence_backward, rule["lstm_sequence_backward"]):
                d_gates = mt.empty(steps * batch, 4 * hidden, dtype=dtype, backend=backend)
                d_h0, d_c0 = (mt.empty(batch, hidden, dtype=dtype, backend=backend)
                              for _ in range(2))  # fmt: skip
                run(d_gates._d, d_h0._d, d_c0._d, d_hc._d, states._d, saved._d, w_hh._d,
                    reverse)  # fmt: skip
                results.append((d_gates.numpy(), d_h0.numpy(), d_c0.numpy()))
            for name, got, expected in zip(("d_gates", "d_h0", "d_c0"), *results, strict=True):
                assert_close(got, expected, f"lstm_sequence_backward {where}, W_hh {layout}: "
                             f"{name}", rtol, atol)  # fmt: skip


def _draw_layer_norm(data, dtype, backend, grad=False):
    """(input, weight?, bias?) as `Built`s and the normalized shape: 1 or 2 trailing dims
    of sizes 1..4 after 0..2 leading ones (1.. with gradients), drawn layouts."""
    low = 1 if grad else 0
    lead = tuple(data.draw(st.lists(st.integers(low, 3), max_size=2), label="leading dims"))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2), label="shape"))
    built = [data.draw(S.laid_out(_values(data, dtype, lead + shape, grad, "input"), dtype,
                                  backend, requires_grad=grad), "input")]  # fmt: skip
    for label in ("weight", "bias"):
        if data.draw(st.booleans(), label=f"with {label}"):
            values = _values(data, dtype, shape, grad, label)
            built.append(data.draw(S.laid_out(values, dtype, backend, requires_grad=grad),
                                   label))  # fmt: skip
        else:
            built.append(None)
    return built, shape


def _layer_norm_call(shape, present):
    def func(x, *params):
        given = iter(params)
        weight, bias = (next(given) if p else None for p in present)
        return OPS["layer_norm"].func(x, shape, weight, bias)

    return func


@pytest.mark.parametrize("dtype", _cases("layer_norm"))
@S.suite_settings(10)
@given(data=st.data())
def test_layer_norm(dtype, backend, data):
    built, shape = _draw_layer_norm(data, dtype, backend)
    present = [b is not None for b in built[1:]]
    given_built = [b for b in built if b is not None]
    got = _layer_norm_call(shape, present)(*[b.tensor for b in given_built]).numpy()
    params = [b.values if b is not None else None for b in built[1:]]
    expected = call_reference(OPS["layer_norm"].ref, built[0].values, shape, *params)
    where = _where("layer_norm", backend, given_built, {"normalized_shape": shape})
    assert got.dtype == dtype.numpy, f"{where}\n  dtype {got.dtype}"
    rtol, atol = tolerance([got.dtype], 4 * int(np.prod(shape)), 4.0)
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize("dtype", _cases("layer_norm"))
@S.suite_settings(5)
@given(data=st.data())
def test_layer_norm_gradients(dtype, backend, data):
    built, shape = _draw_layer_norm(data, dtype, backend, grad=True)
    present = [b is not None for b in built[1:]]
    given_built = [b for b in built if b is not None]
    reduced = max(built[0].values.size, 1)
    _check_gradients("layer_norm", _layer_norm_call(shape, present), given_built, backend,
                     dtype, {"normalized_shape": shape}, reduced)  # fmt: skip
