"""The LSTM primitives as the core's composites: the cell (`lstm_cell`,
`lstm_cell_backward`), the contract's rule (`mytensor.backends.spec`) in `map`/`zip` calls
on column views of the (batch, k * hidden) operands, one rounding per operation in the
rule's order, so a native kernel that follows the rule matches it (bit for bit in
backward, which has no transcendental functions); and a layer direction's recurrence
(`lstm_sequence`, `lstm_sequence_backward`), one matmul, one add and one cell call per
step on descriptors of the step's blocks."""

from __future__ import annotations

from typing import Any

from mytensor.backends.spec import Strided
from mytensor.core.descriptors import constants, contiguous

__all__ = ["lstm_cell", "lstm_cell_backward", "lstm_sequence", "lstm_sequence_backward"]


def _columns(desc: Strided, start: int, width: int) -> Strided:
    """Columns ``start .. start + width`` of a 2-d descriptor, as a view."""
    rows, row_step = desc.shape[0], desc.strides[0]
    col_step = desc.strides[1]
    return Strided(desc.buffer, (rows, width), (row_step, col_step),
                   desc.offset + start * col_step, desc.dtype)  # fmt: skip


def _split(desc: Strided, parts: int) -> list[Strided]:
    width = desc.shape[1] // parts
    return [_columns(desc, k * width, width) for k in range(parts)]


def lstm_cell(backend: Any, hc: Strided, saved: Strided, gates: Strided, c: Strided) -> None:
    """The contract's `lstm_cell` on `backend`'s required primitives."""
    if not hc.size:
        return
    i, f, g, o, tanh_c = _split(saved, 5)
    h_new, c_new = _split(hc, 2)
    gi, gf, gg, go = _split(gates, 4)
    for activated, pre, op in ((i, gi, "sigmoid"), (f, gf, "sigmoid"), (g, gg, "tanh"),
                               (o, go, "sigmoid")):  # fmt: skip
        backend.map(op, activated, pre)
    backend.zip("mul", c_new, f, c)
    backend.zip("mul", tanh_c, i, g)  # tanh_c's columns as scratch until the next line
    backend.zip("add", c_new, c_new, tanh_c)
    backend.map("tanh", tanh_c, c_new)
    backend.zip("mul", h_new, o, tanh_c)


def lstm_cell_backward(backend: Any, d_gates: Strided, d_c: Strided, d_hc: Strided,
                       saved: Strided, c: Strided) -> None:  # fmt: skip
    """The contract's `lstm_cell_backward` on `backend`'s required primitives."""
    if not d_c.size:
        return
    i, f, g, o, tanh_c = _split(saved, 5)
    d_h, d_c_new = _split(d_hc, 2)
    d_i, d_f, d_g, d_o = _split(d_gates, 4)
    dc, t = (contiguous(backend, d_c.shape, d_c.dtype) for _ in range(2))
    (one,) = constants(backend, (1.0,), d_c)
    # dc = d_c' + d_h * o * (1 - tanh_c^2)
    backend.zip("mul", dc, tanh_c, tanh_c)
    backend.zip("sub", dc, one, dc)
    backend.zip("mul", dc, dc, o)
    backend.zip("mul", dc, dc, d_h)
    backend.zip("add", dc, d_c_new, dc)
    # d_o = (d_h * tanh_c) * (o * (1 - o)), and likewise for i, f (sigmoid') and g (tanh')
    for out, act, upstream, factor in ((d_o, o, d_h, tanh_c), (d_i, i, dc, g),
                                       (d_f, f, dc, c)):  # fmt: skip
        backend.zip("mul", t, upstream, factor)
        backend.zip("sub", out, one, act)
        backend.zip("mul", out, act, out)
        backend.zip("mul", out, t, out)
    backend.zip("mul", t, dc, i)
    backend.zip("mul", d_g, g, g)
    backend.zip("sub", d_g, one, d_g)
    backend.zip("mul", d_g, t, d_g)
    backend.zip("mul", d_c, dc, f)


def lstm_sequence(backend: Any, states: Strided, saved: Strided, gi: Strided, w_t: Strided,
                  reverse: bool) -> None:  # fmt: skip
    """The contract's `lstm_sequence` on `backend`'s matmul, zip and lstm_cell."""
    steps, batch, two_h = states.shape[0] - 1, states.shape[1], states.shape[2]
    gates = contiguous(backend, (batch, 2 * two_h), states.dtype)
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        previous, written = (t + 1, t) if reverse else (t, t + 1)
        backend.matmul(gates, half(block(states, previous), 0), w_t)
        backend.zip("add", gates, gates, rows(gi, t * batch, batch))
        backend.lstm_cell(block(states, written), block(saved, t), gates,
                          half(block(states, previous), 1))  # fmt: skip


def lstm_sequence_backward(backend: Any, d_gates: Strided, d_h0: Strided, d_c0: Strided,
                           d_hc: Strided, states: Strided, saved: Strided, w_hh: Strided,
                           reverse: bool) -> None:  # fmt: skip
    """The contract's `lstm_sequence_backward` on `backend`'s copy, zip, matmul and
    lstm_cell_backward; `d_h0` and `d_c0` hold the running dh and dc."""
    steps, batch, two_h = d_hc.shape
    carry = contiguous(backend, (batch, two_h), d_hc.dtype)
    backward_order = range(steps) if reverse else range(steps - 1, -1, -1)
    for k, t in enumerate(backward_order):
        if k:  # plus the state's gradient from the step after this one
            backend.zip("add", half(carry, 0), half(block(d_hc, t), 0), d_h0)
            backend.zip("add", half(carry, 1), half(block(d_hc, t), 1), d_c0)
        else:
            backend.copy(carry, block(d_hc, t))
        previous = t + 1 if reverse else t
        g_t = rows(d_gates, t * batch, batch)
        backend.lstm_cell_backward(g_t, d_c0, carry, block(saved, t),
                                   half(block(states, previous), 1))  # fmt: skip
        backend.matmul(d_h0, g_t, w_hh)


# descriptors of parts of operands (no Tensor, no graph node)
def rows(d: Strided, start: int, count: int) -> Strided:
    """Rows ``start .. start + count`` of a 2-d descriptor."""
    return Strided(d.buffer, (count, d.shape[1]), d.strides, d.offset + start * d.strides[0],
                   d.dtype)  # fmt: skip


def block(d: Strided, t: int) -> Strided:
    """Block `t` of a (T, B, K) descriptor: (B, K)."""
    return Strided(d.buffer, d.shape[1:], d.strides[1:], d.offset + t * d.strides[0], d.dtype)


def half(d: Strided, which: int) -> Strided:
    """The h (0) or c (1) columns of a (B, 2H) descriptor."""
    return _columns(d, which * (d.shape[1] // 2), d.shape[1] // 2)
