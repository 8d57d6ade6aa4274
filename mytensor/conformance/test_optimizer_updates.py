"""The optimizer updates (`sgd_update`, `adam_update`) through `optim.SGD`/`Adam`/`AdamW`,
against the contract's rule written out in numpy, one rounding per operation: parameters
and every state buffer equal bit for bit (signed zeros, NaN positions) after three steps
(the first creates the state), with NaN, infinities, signed zeros and subnormals among the
gradients, on contiguous parameters (the backend's kernel, if it has one), transposed ones
(the core's composite) and, in the large tier, a large one (threaded slices)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytensor as mt
from mytensor.conformance.checks import assert_close
from mytensor.conformance.plugin import large_enabled

SGD_CASES = {
    "plain": {"lr": 0.1},
    "momentum": {"lr": 0.05, "momentum": 0.9},
    "dampening_decay": {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
    "nesterov_maximize": {"lr": 0.02, "momentum": 0.9, "nesterov": True, "maximize": True},
}
ADAM_CASES = {
    "adam": ("Adam", {"lr": 1e-3}),
    "adam_decay_amsgrad": ("Adam", {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    "adamw_maximize": ("AdamW", {"lr": 3e-3, "betas": (0.8, 0.99), "maximize": True}),
}
SHAPES = {"empty": (0, 3), "small": (5, 7), "large": (1024, 600)}  # large: threaded slices


def _values(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape).astype(dtype)
    flat = values.reshape(-1)
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, np.finfo(dtype).smallest_subnormal,
                         -np.finfo(dtype).tiny], dtype)  # fmt: skip
    if flat.size:
        where = rng.integers(0, flat.size, 3 * specials.size)
        flat[where] = np.tile(specials, 3)
    return values


def _parameter(values: np.ndarray, layout: str, backend: str) -> mt.Tensor:
    if layout == "transposed":
        return mt.tensor(np.ascontiguousarray(values.T), backend=backend).T.requires_grad_()
    return mt.tensor(values, backend=backend).requires_grad_()


def _numpy_sgd(p, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
               nesterov=False, maximize=False):  # fmt: skip
    t = p.dtype.type
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + p * t(weight_decay)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        buf = g.copy() if buf is None else buf * t(momentum) + g * t(1 - dampening)
        state["momentum_buffer"] = buf
        g = g + buf * t(momentum) if nesterov else buf
    return p - g * t(lr)


def _numpy_adam(p, g, state, decoupled, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                amsgrad=False, maximize=False):  # fmt: skip
    t = p.dtype.type
    beta1, beta2 = betas
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(p)
    g = -g if maximize else g
    if weight_decay != 0:
        if decoupled:
            p = p * t(1 - lr * weight_decay)
        else:
            g = g + p * t(weight_decay)
    state["step"] += 1
    step = state["step"]
    m = state["exp_avg"] = state["exp_avg"] + (g - state["exp_avg"]) * t(1 - beta1)
    v = state["exp_avg_sq"] = state["exp_avg_sq"] * t(beta2) + (g * g) * t(1 - beta2)
    if amsgrad:
        old = state["max_exp_avg_sq"]
        v = state["max_exp_avg_sq"] = np.where((old > v) | np.isnan(old), old, v)
    denom = np.sqrt(v) / t(math.sqrt(1 - beta2**step)) + t(eps)
    return p - (m * t(lr / (1 - beta1**step))) / denom


def _run(backend, make_optimizer, numpy_step, shape, dtype, layout):
    """Three steps on `backend` and in numpy; the final parameter and states compared."""
    start = _values(shape, dtype, 0)
    param = _parameter(start, layout, backend)
    optimizer = make_optimizer([param])
    expected, state = start.copy(), {}
    with np.errstate(all="ignore"):
        for i in range(3):
            grad = _values(shape, dtype, i + 1)
            param.grad = mt.tensor(grad, backend=backend)
            optimizer.step()
            expected = numpy_step(expected, grad, state)
    where = f"{type(optimizer).__name__} on {backend!r}, {dtype} {layout} {shape}"
    assert_close(param.detach().numpy(), expected, where, zero_signs=True)
    for key, value in optimizer.state[param].items():
        if isinstance(value, mt.Tensor):
            assert_close(value.numpy(), state[key], f"{where}: state {key!r}", zero_signs=True)


def _configs(request: pytest.FixtureRequest, backend: str, shape: str) -> None:
    if shape == "large" and not large_enabled(request.config, backend):
        pytest.skip(f"the large tier is off for {backend!r} (run with --large)")


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_update(request, backend: str, case: str, dtype: str, shape: str, layout: str):
    _configs(request, backend, shape)
    options = SGD_CASES[case]
    _run(backend, lambda params: mt.optim.SGD(params, **options),
         lambda p, g, state: _numpy_sgd(p, g, state, **options),
         SHAPES[shape], dtype, layout)  # fmt: skip


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_update(request, backend: str, case: str, dtype: str, shape: str, layout: str):
    _configs(request, backend, shape)
    name, options = ADAM_CASES[case]
    decoupled = name == "AdamW"
    defaults = {"weight_decay": 1e-2} if decoupled else {}
    _run(backend, lambda params: getattr(mt.optim, name)(params, **options),
         lambda p, g, state: _numpy_adam(p, g, state, decoupled, **{**defaults, **options}),
         SHAPES[shape], dtype, layout)  # fmt: skip
