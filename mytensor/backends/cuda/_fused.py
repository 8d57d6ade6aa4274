"""The fused optional primitives as native kernels (the contract: `mytensor.backends.spec`):
the optimizer updates (`sgd_update`, `adam_update`), the LSTM cell (`lstm_cell`,
`lstm_cell_backward`) and cross-entropy's backward (`cross_entropy_backward`) here, a
thread per element; softmax (both ways) and layer norm, a block per row, in
`_fused_rows` (re-exported). Each replaces a dozen or more launches of the core's
composite with one or two.

The elementwise kernels follow the contract's rule one rounding per operation, in its
order, on values of the operands' dtype (the constants arrive rounded to it), so they
match the composite bit for bit: every product is `_rounding.mul_rn`, which the GPU
compiler cannot fuse into a multiply-add (`tests/test_cuda_ptx.py` checks the PTX of the
ones without transcendentals holds no ``fma``), and sigmoid, tanh, sqrt, maximum and div
are the scalar specification's device functions (`_scalar.SCALAR`), the ones the
composite's map/zip kernels call.
"""

from __future__ import annotations

from typing import Any

from numba import cuda

from mytensor.backends.cuda._fused_rows import (
    layer_norm,
    layer_norm_backward,
    optional_operand,
    softmax,
    softmax_backward,
)
from mytensor.backends.cuda._rounding import as_type, mul_rn
from mytensor.backends.cuda._runtime import BLOCK, grid_for
from mytensor.backends.cuda._scalar import SCALAR
from mytensor.backends.spec import AdamStep, SGDStep, Strided

__all__ = [
    "PRIMITIVES", "adam_update", "cross_entropy_backward", "layer_norm", "layer_norm_backward",
    "lstm_cell", "lstm_cell_backward", "sgd_update", "softmax", "softmax_backward",
]  # fmt: skip

# the primitives cuda runs natively, for float32 and float64 (`CudaBackend.supports`)
PRIMITIVES = frozenset({"softmax", "sgd_update", "adam_update", "lstm_cell",
                        "lstm_cell_backward", "layer_norm", "layer_norm_backward",
                        "cross_entropy_backward", "softmax_backward"})  # fmt: skip
_sigmoid, _tanh, _sqrt = SCALAR["sigmoid"], SCALAR["tanh"], SCALAR["sqrt"]
_exp = SCALAR["exp"]
_div, _maximum = SCALAR["div"], SCALAR["maximum"]


@cuda.jit
def sgd(n, param, p0, grad, g0, buf, b0, lr, decay, momentum, keep, maximize, weight_decay,
        use_momentum, first, nesterov):  # fmt: skip
    # every operand C-contiguous from its offset
    i = cuda.grid(1)
    while i < n:
        g = -grad[g0 + i] if maximize else grad[g0 + i]
        if weight_decay:
            g = g + mul_rn(param[p0 + i], decay)
        if use_momentum:
            b = g if first else mul_rn(buf[b0 + i], momentum) + mul_rn(g, keep)
            buf[b0 + i] = b
            g = g + mul_rn(b, momentum) if nesterov else b
        param[p0 + i] = param[p0 + i] - mul_rn(g, lr)
        i += cuda.gridsize(1)


@cuda.jit
def adam(n, param, p0, grad, g0, exp_avg, m0, exp_avg_sq, v0, max_sq, x0, decay, wd, keep1,
         beta2, keep2, step_size, correction2, eps, maximize, decoupled, amsgrad):  # fmt: skip
    i = cuda.grid(1)
    while i < n:
        p = param[p0 + i]
        g = -grad[g0 + i] if maximize else grad[g0 + i]
        if decoupled:
            p = mul_rn(p, decay)
        elif wd != 0:
            g = g + mul_rn(p, wd)
        m = exp_avg[m0 + i] + mul_rn(g - exp_avg[m0 + i], keep1)
        v = mul_rn(exp_avg_sq[v0 + i], beta2) + mul_rn(mul_rn(g, g), keep2)
        exp_avg[m0 + i] = m
        exp_avg_sq[v0 + i] = v
        if amsgrad:
            v = _maximum(max_sq[x0 + i], v)
            max_sq[x0 + i] = v
        # the specification's sqrt types as float64 (its NaN branch): round it, as storing
        # it would, before the next operation
        root = as_type(_sqrt(v), v)
        param[p0 + i] = p - _div(mul_rn(m, step_size), _div(root, correction2) + eps)
        i += cuda.gridsize(1)


@cuda.jit
def lstm_forward(n, hidden, hc, h0, saved, s0, gates, g0, gr, gc, c, c0, cr, cc):
    # n = batch * hidden threads' worth; hc and saved are C-contiguous from h0 and s0
    k = cuda.grid(1)
    while k < n:
        b = k // hidden
        j = k - b * hidden
        srow, grow, hrow = s0 + b * 5 * hidden, g0 + b * gr, h0 + b * 2 * hidden
        saved[srow + j] = _sigmoid(gates[grow + j * gc])
        saved[srow + hidden + j] = _sigmoid(gates[grow + (hidden + j) * gc])
        saved[srow + 2 * hidden + j] = _tanh(gates[grow + (2 * hidden + j) * gc])
        saved[srow + 3 * hidden + j] = _sigmoid(gates[grow + (3 * hidden + j) * gc])
        # read back: the activations as stored (rounded to the dtype), as the rule uses them
        i, f, g = saved[srow + j], saved[srow + hidden + j], saved[srow + 2 * hidden + j]
        hc[hrow + hidden + j] = mul_rn(f, c[c0 + b * cr + j * cc]) + mul_rn(i, g)
        saved[srow + 4 * hidden + j] = _tanh(hc[hrow + hidden + j])
        hc[hrow + j] = mul_rn(saved[srow + 3 * hidden + j], saved[srow + 4 * hidden + j])
        k += cuda.gridsize(1)


@cuda.jit
def lstm_backward(n, hidden, d_gates, dg0, d_c, dc0, d_hc, h0, hr, hcol, saved, s0, c, c0, cr,
                  cc, one):  # fmt: skip
    # `one` is 1 in the dtype; d_gates, d_c and saved are C-contiguous from dg0, dc0, s0
    k = cuda.grid(1)
    while k < n:
        b = k // hidden
        j = k - b * hidden
        srow, grow, hrow = s0 + b * 5 * hidden, dg0 + b * 4 * hidden, h0 + b * hr
        i, f, g = saved[srow + j], saved[srow + hidden + j], saved[srow + 2 * hidden + j]
        o, t = saved[srow + 3 * hidden + j], saved[srow + 4 * hidden + j]
        d_h, d_c_new = d_hc[hrow + j * hcol], d_hc[hrow + (hidden + j) * hcol]
        dc = d_c_new + mul_rn(mul_rn(one - mul_rn(t, t), o), d_h)
        d_gates[grow + j] = mul_rn(mul_rn(dc, g), mul_rn(i, one - i))
        d_gates[grow + hidden + j] = mul_rn(mul_rn(dc, c[c0 + b * cr + j * cc]),
                                            mul_rn(f, one - f))  # fmt: skip
        d_gates[grow + 2 * hidden + j] = mul_rn(mul_rn(dc, i), one - mul_rn(g, g))
        d_gates[grow + 3 * hidden + j] = mul_rn(mul_rn(d_h, t), mul_rn(o, one - o))
        d_c[dc0 + b * hidden + j] = mul_rn(dc, f)
        k += cuda.gridsize(1)


@cuda.jit
def cross_entropy_rows(n, cols, d, d0, logp, p0, target, t0, ts, scale, s0, ss, one):
    # n = rows * cols; d and logp C-contiguous from d0 and p0; `one` is 1 in the dtype
    k = cuda.grid(1)
    while k < n:
        r = k // cols
        # the exp map's device function (the composite's values), rounded to the dtype as
        # storing it would round it (the specification's exp types as float64 for float32)
        x = logp[p0 + k]
        p = as_type(_exp(x), x)
        if k - r * cols == target[t0 + r * ts]:
            p = p - one
        d[d0 + k] = mul_rn(p, scale[s0 + r * ss])
        k += cuda.gridsize(1)


# -- launches (the backend's methods call these with its stream) -----------------------------
def _per_element(kernel: Any, stream: Any, n: int, *args: Any) -> None:
    """`kernel` over `n` elements (its first argument), a thread each; nothing when n is 0."""
    if n:
        kernel[grid_for(n), BLOCK, stream](n, *args)


def sgd_update(stream: Any, param: Strided, grad: Strided, buf: Strided | None,
               step: SGDStep) -> None:  # fmt: skip
    """`spec` ``sgd_update`` on C-contiguous operands: one launch."""
    t = param.dtype.numpy.type
    lr, decay, momentum, keep = (t(c) for c in (step.lr, step.weight_decay, step.momentum,
                                                1 - step.dampening))  # fmt: skip
    b, b0, _ = optional_operand(buf, param)
    _per_element(
        sgd, stream, param.size, param.buffer, param.offset, grad.buffer, grad.offset, b, b0,
        lr, decay, momentum, keep, step.maximize, step.weight_decay != 0, step.momentum != 0,
        step.first, step.nesterov,
    )  # fmt: skip


def adam_update(stream: Any, param: Strided, grad: Strided, exp_avg: Strided,
                exp_avg_sq: Strided, vmax: Strided | None, step: AdamStep) -> None:  # fmt: skip
    """`spec` ``adam_update`` on C-contiguous operands: one launch."""
    t = param.dtype.numpy.type
    decay, keep1, beta2, keep2, step_size, correction2, eps, wd = map(t, step.constants())
    operands = [(d.buffer, d.offset) for d in (param, grad, exp_avg, exp_avg_sq)]
    operands.append(optional_operand(vmax, param)[:2])
    _per_element(
        adam, stream, param.size, *(x for pair in operands for x in pair), decay, wd, keep1,
        beta2, keep2, step_size, correction2, eps, step.maximize,
        step.decoupled and step.weight_decay != 0, step.amsgrad,
    )  # fmt: skip


def lstm_cell(stream: Any, hc: Strided, saved: Strided, gates: Strided, c: Strided) -> None:
    """`spec` ``lstm_cell``: a thread per (batch, hidden) element."""
    batch, hidden = c.shape
    _per_element(
        lstm_forward, stream, batch * hidden, hidden, hc.buffer, hc.offset, saved.buffer,
        saved.offset, gates.buffer, gates.offset, *gates.strides, c.buffer, c.offset,
        *c.strides,
    )  # fmt: skip


def lstm_cell_backward(stream: Any, d_gates: Strided, d_c: Strided, d_hc: Strided,
                       saved: Strided, c: Strided) -> None:  # fmt: skip
    """`spec` ``lstm_cell_backward``: a thread per (batch, hidden) element."""
    batch, hidden = c.shape
    _per_element(
        lstm_backward, stream, batch * hidden, hidden, d_gates.buffer, d_gates.offset,
        d_c.buffer, d_c.offset, d_hc.buffer, d_hc.offset, *d_hc.strides, saved.buffer,
        saved.offset, c.buffer, c.offset, *c.strides, c.dtype.numpy.type(1),
    )  # fmt: skip


def cross_entropy_backward(stream: Any, d_logits: Strided, logp: Strided, target: Strided,
                           scale: Strided) -> None:  # fmt: skip
    """`spec` ``cross_entropy_backward``: a thread per element."""
    rows, cols = logp.shape
    _per_element(
        cross_entropy_rows, stream, rows * cols, cols, d_logits.buffer, d_logits.offset,
        logp.buffer, logp.offset, target.buffer, target.offset, target.strides[0],
        scale.buffer, scale.offset, scale.strides[0], logp.dtype.numpy.type(1),
    )  # fmt: skip
