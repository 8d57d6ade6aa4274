"""The fused LSTM cell: one graph node per step instead of a dozen.

``lstm_cell(gates, c)`` takes the pre-activation gates (batch, 4 * hidden) in PyTorch's
order i, f, g, o and the cell state (batch, hidden), and returns ``(h', c')``::

    c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h' = sigmoid(o) * tanh(c')

Forward and backward are the backend's `lstm_cell` / `lstm_cell_backward` primitives (or the
core's composite of them, `core/fused_cells.py`); the backward reads the activations the
forward saved, so it evaluates no transcendental function. A backward that is itself
recorded (``create_graph``) or batched (vmap) runs the same formulas as ops instead.
"""

from __future__ import annotations

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core import autograd, batching
from mytensor.core.ops._base import OpRecord, check_tensor, register, same_backend, transposed
from mytensor.core.tensor import Tensor

__all__ = ["lstm_cell", "lstm_sequence"]


def lstm_cell(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM update ``(h', c')`` from pre-activation `gates` (B, 4H: i, f, g, o) and the
    cell state `c` (B, H).

    >>> import mytensor as mt
    >>> from mytensor.core.ops.recurrent import lstm_cell
    >>> h, c = lstm_cell(mt.zeros(2, 8), mt.ones(2, 2))
    >>> [round(v, 4) for v in c[0].tolist()], [round(v, 4) for v in h[0].tolist()]
    ([0.5, 0.5], [0.2311, 0.2311])
    """
    check_tensor("lstm_cell", gates, "gates")
    check_tensor("lstm_cell", c, "c")
    if batching.ACTIVE[0]:
        return _lstm_cell_ops(gates, c)
    backend = same_backend("lstm_cell", gates, c)
    if c.ndim != 2 or gates.shape != (c.shape[0], 4 * c.shape[1]):
        raise ValueError(
            f"lstm_cell(): gates must be (batch, 4 * hidden) for c of shape (batch, hidden); "
            f"got gates {gates.shape} and c {c.shape}"
        )
    if gates.dtype is not c.dtype or gates.dtype.kind != "float":
        raise TypeError(
            f"lstm_cell(): gates and c must share one real float dtype, got "
            f"{gates.dtype.name} and {c.dtype.name}; convert with .to(dtype)"
        )
    batch, hidden = c.shape
    hc = Tensor._empty(backend, (batch, 2 * hidden), c.dtype)
    saved = Tensor._empty(backend, (batch, 5 * hidden), c.dtype)  # i f g o tanh(c')
    backend.lstm_cell(hc._d, saved._d, gates._d, c._d)
    if autograd.needs_grad(gates, c):

        def backward(d_hc: Tensor) -> tuple[Tensor, Tensor]:
            if autograd.is_grad_enabled() or batching.ACTIVE[0]:
                return _backward_ops(d_hc, gates, c)
            d_gates = Tensor._empty(backend, gates.shape, c.dtype)
            d_c = Tensor._empty(backend, c.shape, c.dtype)
            backend.lstm_cell_backward(d_gates._d, d_c._d, d_hc._d, saved._d, c._d)
            return d_gates, d_c

        autograd.record(hc, "lstm_cell", (gates, c), backward, (gates, c), fresh_grads=True)
    return _columns(hc, 0, hidden), _columns(hc, hidden, 2 * hidden)


def _columns(x: Tensor, start: int, stop: int) -> Tensor:
    """``x[:, start:stop]`` of a fresh contiguous 2-d tensor, without getitem's parsing."""
    from mytensor.core.ops.indexing import _view_grad
    from mytensor.core.ops.shape import _record_view

    view = x._view((x.shape[0], stop - start), x._strides, x._offset + start)
    key = (slice(None), slice(start, stop))
    return _record_view(view, "getitem", x, lambda g: _view_grad(g, x, key))


def _lstm_cell_ops(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The same update composed of ops (what vmap batches through their rules)."""
    i, f, g, o = gates.chunk(4, 1)
    c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_new.tanh(), c_new


def _backward_ops(d_hc: Tensor, gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """`lstm_cell_backward`'s rule as ops on activations recomputed from the inputs, so
    the result is differentiable again (create_graph)."""
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tanh_c = (f * c + i * g).tanh()
    d_h, d_c_new = d_hc.chunk(2, 1)
    dc = d_c_new + (1 - tanh_c * tanh_c) * o * d_h
    d_o = (d_h * tanh_c) * (o * (1 - o))
    d_i = (dc * g) * (i * (1 - i))
    d_f = (dc * c) * (f * (1 - f))
    d_g = (dc * i) * (1 - g * g)
    from mytensor.core.ops.shape import cat

    return cat([d_i, d_f, d_g, d_o], 1), dc * f


def _np_lstm_cell(gates: np.ndarray, c: np.ndarray) -> np.ndarray:
    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    i, f, g, o = np.split(gates, 4, axis=1)
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return np.concatenate([sigmoid(o) * np.tanh(c_new), c_new], axis=1)


register(OpRecord("lstm_cell", lambda gates, c: _joined(gates, c), _np_lstm_cell,
                  arity=2, shapes="custom"))  # fmt: skip


def _joined(gates: Tensor, c: Tensor) -> Tensor:
    from mytensor.core.ops.shape import cat

    return cat(list(lstm_cell(gates, c)), 1)


# -- a whole layer direction as one node -------------------------------------------------------
def lstm_sequence(gi: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor,
                  reverse: bool = False) -> Tensor:  # fmt: skip
    """Run an LSTM over a sequence as ONE graph node: `gi` (T * B, 4H) holds every step's
    input part of the gates (rows grouped by time step, biases included), `h0`, `c0` (B, H)
    the initial state, `w_hh` (4H, H). Returns ``hc`` (T, B, 2H): ``hc[t] = [h_t, c_t]``,
    steps taken in reverse time order when `reverse`.

    Each step is one matmul, one add and the `lstm_cell` primitive on descriptors, with no
    graph node of its own. Backward runs the recurrence backwards on `lstm_cell_backward`
    and computes W_hh's gradient with ONE matmul over all steps (as fused RNN libraries
    do). A backward under create_graph recomputes the steps as ops; under vmap the steps
    are ops from the start.

    >>> import mytensor as mt
    >>> from mytensor.core.ops.recurrent import lstm_sequence
    >>> hc = lstm_sequence(mt.zeros(6, 8), mt.zeros(2, 2), mt.ones(2, 2), mt.zeros(8, 2))
    >>> hc.shape, round(hc[2, 0, 3].item(), 4)
    ((3, 2, 4), 0.125)
    """
    for name, t in (("gi", gi), ("h0", h0), ("c0", c0), ("w_hh", w_hh)):
        check_tensor("lstm_sequence", t, name)
    backend = same_backend("lstm_sequence", gi, h0, c0, w_hh)
    batch, hidden = c0.shape if c0.ndim == 2 else (0, 0)
    if (c0.ndim != 2 or h0.shape != c0.shape or w_hh.shape != (4 * hidden, hidden)
            or gi.ndim != 2 or gi.shape[1] != 4 * hidden or batch == 0
            or gi.shape[0] % batch):  # fmt: skip
        raise ValueError(
            f"lstm_sequence(): expected gi (T * B, 4H), h0 and c0 (B, H), w_hh (4H, H); got "
            f"gi {gi.shape}, h0 {h0.shape}, c0 {c0.shape}, w_hh {w_hh.shape}"
        )
    if batching.ACTIVE[0]:
        return _sequence_ops(gi, h0, c0, w_hh, reverse)
    steps = gi.shape[0] // batch
    dtype = c0.dtype
    # hc has one block more than it shows, holding [h0 | c0] before the first step taken
    # (the end, in reverse): every step's previous h is then one strided view for the
    # backward's W_hh product, without a copy per step
    states = Tensor._empty(backend, (steps + 1, batch, 2 * hidden), dtype)
    first, initial = (0, steps) if reverse else (1, 0)
    hc = states._view((steps, batch, 2 * hidden), states._strides, first * batch * 2 * hidden)
    backend.copy(_half(_block(states._d, initial), 0), h0._d)
    backend.copy(_half(_block(states._d, initial), 1), c0._d)
    saved = Tensor._empty(backend, (steps, batch, 5 * hidden), dtype)
    gates = Tensor._empty(backend, (batch, 4 * hidden), dtype)._d
    # W_hh^T copied contiguous once: every step's matmul then reads it without a transpose
    # (OpenBLAS, 16x128 @ 128x512: 47 -> 30 us)
    w_t = Tensor._empty(backend, (hidden, 4 * hidden), dtype)._d
    backend.copy(w_t, transposed(w_hh._d))
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    h_prev, c_prev = h0._d, c0._d
    for t in order:
        backend.matmul(gates, h_prev, w_t)
        backend.zip("add", gates, gates, _rows(gi._d, t * batch, batch))
        hc_t = _block(hc._d, t)
        backend.lstm_cell(hc_t, _block(saved._d, t), gates, c_prev)
        h_prev, c_prev = _half(hc_t, 0), _half(hc_t, 1)
    if autograd.needs_grad(gi, h0, c0, w_hh):

        def backward(d_hc: Tensor) -> tuple:
            if autograd.is_grad_enabled() or batching.ACTIVE[0]:
                return _recomputed_grads(d_hc, (gi, h0, c0, w_hh), reverse)
            start = (1 - first) * batch * 2 * hidden
            h_before = Strided(states._storage.buffer, (steps * batch, hidden), (2 * hidden, 1),
                               start, dtype)  # fmt: skip
            return _sequence_backward(backend, d_hc, hc, saved, (gi, h0, c0, w_hh), order,
                                      h_before)  # fmt: skip

        autograd.record(hc, "lstm_sequence", (gi, h0, c0, w_hh), backward, (gi, h0, c0, w_hh),
                        fresh_grads=True)  # fmt: skip
    return hc


def _np_lstm_sequence(gi, h0, c0, w_hh, reverse=False):
    batch, hidden = c0.shape
    steps = gi.shape[0] // batch
    out = np.empty((steps, batch, 2 * hidden), np.result_type(gi, c0))
    h, c = h0, c0
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        hc = _np_lstm_cell(gi[t * batch : (t + 1) * batch] + h @ w_hh.T, c)
        out[t], h, c = hc, hc[:, :hidden], hc[:, hidden:]
    return out


register(OpRecord("lstm_sequence", lstm_sequence, _np_lstm_sequence, arity=4,
                  shapes="custom"))  # fmt: skip


def _sequence_backward(backend, d_hc: Tensor, hc: Tensor, saved: Tensor, inputs: tuple,
                       order: range, h_before: Strided) -> tuple:  # fmt: skip
    """The recurrence backwards; `h_before` is (T * B, H): row block t holds the h that
    step t read."""
    gi, h0, c0, w_hh = inputs
    steps, batch, two_h = hc.shape
    hidden, dtype = two_h // 2, hc.dtype
    d_gates = Tensor._empty(backend, (steps * batch, 4 * hidden), dtype)
    d_h0, d_c0 = (Tensor._empty(backend, (batch, hidden), dtype) for _ in range(2))
    dh, dc = d_h0._d, d_c0._d
    carry = Tensor._empty(backend, (batch, 2 * hidden), dtype)._d
    d_hc = d_hc._d
    previous = {t: p for p, t in zip(order, list(order)[1:], strict=False)}  # step -> earlier
    for k, t in enumerate(reversed(order)):
        d_hc_t = _block(d_hc, t)
        if k:  # plus the state's gradient from the step after this one
            backend.zip("add", _half(carry, 0), _half(d_hc_t, 0), dh)
            backend.zip("add", _half(carry, 1), _half(d_hc_t, 1), dc)
        else:
            backend.copy(carry, d_hc_t)
        before = previous.get(t)
        c_prev = c0._d if before is None else _half(_block(hc._d, before), 1)
        g_t = _rows(d_gates._d, t * batch, batch)
        backend.lstm_cell_backward(g_t, dc, carry, _block(saved._d, t), c_prev)
        backend.matmul(dh, g_t, w_hh._d)
    d_w = None
    if w_hh.requires_grad:  # dW = sum_t dG_t^T h_{t-1}: one matmul over every step
        d_w = Tensor._empty(backend, w_hh.shape, dtype)
        backend.matmul(d_w._d, transposed(d_gates._d), h_before)
    return (d_gates if gi.requires_grad else None, d_h0 if h0.requires_grad else None,
            d_c0 if c0.requires_grad else None, d_w)  # fmt: skip


def _sequence_ops(gi: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, reverse: bool) -> Tensor:
    """The same recurrence composed of ops (one graph of small nodes)."""
    from mytensor.core.ops.nn_ops import linear
    from mytensor.core.ops.shape import cat, stack

    batch = c0.shape[0]
    steps = gi.shape[0] // batch
    h, c, out = h0, c0, {}
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        h, c = lstm_cell(gi[t * batch : (t + 1) * batch] + linear(h, w_hh), c)
        out[t] = cat([h, c], 1)
    return stack([out[t] for t in range(steps)], 0)


def _recomputed_grads(d_hc: Tensor, inputs: tuple, reverse: bool) -> tuple:
    """create_graph: recompute the forward as ops and differentiate that (second order)."""
    needed = [t for t in inputs if t.requires_grad]
    with autograd.enable_grad():
        hc = _sequence_ops(*inputs, reverse)
        grads = iter(autograd.grad(hc, needed, d_hc, create_graph=True, allow_unused=True))
    return tuple(next(grads) if t.requires_grad else None for t in inputs)


# descriptors of parts of contiguous operands (no Tensor, no graph node)
def _rows(d: Strided, start: int, count: int) -> Strided:
    return Strided(d.buffer, (count, d.shape[1]), d.strides, d.offset + start * d.strides[0],
                   d.dtype)  # fmt: skip


def _block(d: Strided, t: int) -> Strided:
    """Step `t` of a (T, B, K) descriptor: (B, K)."""
    return Strided(d.buffer, d.shape[1:], d.strides[1:], d.offset + t * d.strides[0], d.dtype)


def _half(d: Strided, which: int) -> Strided:
    """The h (0) or c (1) columns of a (B, 2H) descriptor."""
    width = d.shape[1] // 2
    return Strided(d.buffer, (d.shape[0], width), d.strides,
                   d.offset + which * width * d.strides[1], d.dtype)  # fmt: skip
