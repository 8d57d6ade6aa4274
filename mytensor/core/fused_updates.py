"""The optimizer updates `sgd_update` and `adam_update` as the core's composite: the
contract's rule (see `mytensor.backends.spec`) written out in `map`/`zip` calls, one
rounding per operation in the order the rule gives, so a native kernel that follows the
rule matches it bit for bit. Any layout works here; a backend's native kernel sees only
C-contiguous operands of one shape (`contiguous_router`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytensor.backends.spec import AdamStep, SGDStep, Strided
from mytensor.core.descriptors import constants, contiguous
from mytensor.core.layout import contiguous_strides

__all__ = ["adam_update", "contiguous_router", "sgd_update"]


def _descent(backend: Any, param: Strided, grad: Strided, maximize: bool, weight_decay: float,
             decay: Strided, a: Strided, b: Strided) -> Strided:  # fmt: skip
    """``-grad`` if maximizing, plus ``param * weight_decay``; returns where it is."""
    g = grad
    if maximize:
        backend.map("neg", a, g)
        g = a
    if weight_decay != 0:
        backend.zip("mul", b, param, decay)
        backend.zip("add", a, g, b)
        g = a
    return g


def sgd_update(backend: Any, param: Strided, grad: Strided, momentum_buffer: Strided | None,
               step: SGDStep) -> None:  # fmt: skip
    """The contract's `sgd_update` on `backend`'s required primitives."""
    if not param.size:
        return
    a, b = (contiguous(backend, param.shape, param.dtype) for _ in range(2))
    lr, decay, momentum, keep = constants(
        backend, (step.lr, step.weight_decay, step.momentum, 1 - step.dampening), param
    )
    g = _descent(backend, param, grad, step.maximize, step.weight_decay, decay, a, b)
    if step.momentum != 0:
        buf = momentum_buffer
        if step.first:
            backend.copy(buf, g)
        else:
            backend.zip("mul", buf, buf, momentum)
            backend.zip("mul", b, g, keep)
            backend.zip("add", buf, buf, b)
        if step.nesterov:
            backend.zip("mul", b, buf, momentum)
            backend.zip("add", a, g, b)
            g = a
        else:
            g = buf
    backend.zip("mul", b, g, lr)
    backend.zip("sub", param, param, b)


def adam_update(backend: Any, param: Strided, grad: Strided, exp_avg: Strided,
                exp_avg_sq: Strided, max_exp_avg_sq: Strided | None,
                step: AdamStep) -> None:  # fmt: skip
    """The contract's `adam_update` on `backend`'s required primitives."""
    if not param.size:
        return
    c = step.constants()
    a, b = (contiguous(backend, param.shape, param.dtype) for _ in range(2))
    decay, wd, keep1, beta2, keep2, step_size, correction2, eps = constants(
        backend,
        (c.decay, c.weight_decay, c.one_minus_beta1, c.beta2, c.one_minus_beta2, c.step_size,
         c.bias_correction2_sqrt, c.eps),
        param,
    )  # fmt: skip
    if step.decoupled and step.weight_decay != 0:
        backend.zip("mul", param, param, decay)
        g = _descent(backend, param, grad, step.maximize, 0.0, wd, a, b)
    else:
        g = _descent(backend, param, grad, step.maximize, step.weight_decay, wd, a, b)
    backend.zip("sub", b, g, exp_avg)
    backend.zip("mul", b, b, keep1)
    backend.zip("add", exp_avg, exp_avg, b)
    backend.zip("mul", exp_avg_sq, exp_avg_sq, beta2)
    backend.zip("mul", b, g, g)
    backend.zip("mul", b, b, keep2)
    backend.zip("add", exp_avg_sq, exp_avg_sq, b)
    v = exp_avg_sq
    if step.amsgrad:
        backend.zip("maximum", max_exp_avg_sq, max_exp_avg_sq, exp_avg_sq)
        v = max_exp_avg_sq
    backend.map("sqrt", b, v)
    backend.zip("div", b, b, correction2)
    backend.zip("add", b, b, eps)
    backend.zip("mul", a, exp_avg, step_size)
    backend.zip("div", a, a, b)
    backend.zip("sub", param, param, a)


def _contiguous(desc: Strided | None, shape: tuple[int, ...]) -> bool:
    return desc is None or (desc.shape == shape and desc.strides == contiguous_strides(shape))


def contiguous_router(native: Callable, composite: Callable) -> Callable:
    """`native` for C-contiguous operands of one shape (what the contract promises a
    backend), `composite` for any other layout."""

    def call(*args: Any) -> None:
        operands = args[:-1]  # the last is the step's hyperparameters
        shape = operands[0].shape
        if all(_contiguous(d, shape) for d in operands):
            native(*args)
        else:
            composite(*args)

    return call
