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
from mytensor.core.descriptors import constants
from mytensor.core.fused_cells import block, half
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

    The steps are the backend's `lstm_sequence` primitive (its composite: one matmul, one
    add and one `lstm_cell` per step on descriptors, with no graph node of their own).
    Backward runs the recurrence backwards (`lstm_sequence_backward`) and computes W_hh's
    gradient with ONE matmul over all steps (as fused RNN libraries do). A backward under
    create_graph recomputes the steps as ops; under vmap the steps are ops from the start.

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
    dtypes = {t.dtype for t in (gi, h0, c0, w_hh)}
    if len(dtypes) > 1 or gi.dtype.kind != "float":
        operands = {"gi": gi, "h0": h0, "c0": c0, "w_hh": w_hh}
        names = ", ".join(f"{n} {t.dtype.name}" for n, t in operands.items())
        raise TypeError(
            f"lstm_sequence(): gi, h0, c0 and w_hh must share one real float dtype, got "
            f"{names}; convert with .to(dtype)"
        )
    if batching.ACTIVE[0]:
        return _sequence_ops(gi, h0, c0, w_hh, reverse)
    steps = gi.shape[0] // batch
    dtype = c0.dtype
    # the initial [h0 | c0] is one block more than hc shows (the first, or the last in
    # reverse): every step's previous h is then one strided view for the backward's W_hh
    # product, without a copy per step
    states = Tensor._empty(backend, (steps + 1, batch, 2 * hidden), dtype)
    first, initial = (0, steps) if reverse else (1, 0)
    hc = states._view((steps, batch, 2 * hidden), states._strides, first * batch * 2 * hidden)
    backend.copy(half(block(states._d, initial), 0), h0._d)
    backend.copy(half(block(states._d, initial), 1), c0._d)
    saved = Tensor._empty(backend, (steps, batch, 5 * hidden), dtype)
    if steps and hidden:
        # W_hh^T copied contiguous once: every step's matmul then reads it without a
        # transpose (OpenBLAS, 16x128 @ 128x512: 47 -> 30 us)
        w_t = Tensor._empty(backend, (hidden, 4 * hidden), dtype)._d
        backend.copy(w_t, transposed(w_hh._d))
        backend.lstm_sequence(states._d, saved._d, gi._d, w_t, reverse)
    if autograd.needs_grad(gi, h0, c0, w_hh):

        def backward(d_hc: Tensor) -> tuple:
            if autograd.is_grad_enabled() or batching.ACTIVE[0]:
                return _recomputed_grads(d_hc, (gi, h0, c0, w_hh), reverse)
            return _sequence_backward(backend, d_hc, states, saved, (gi, h0, c0, w_hh),
                                      reverse)  # fmt: skip

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


def _sequence_backward(backend, d_hc: Tensor, states: Tensor, saved: Tensor, inputs: tuple,
                       reverse: bool) -> tuple:  # fmt: skip
    """The recurrence backwards (`lstm_sequence_backward`), then W_hh's gradient as one
    product over every step: dW = sum_t dG_t^T h_{t-1}, the h each step read being one
    strided (T * B, H) view of `states`."""
    gi, h0, c0, w_hh = inputs
    steps, batch, two_h = d_hc.shape
    hidden, dtype = two_h // 2, states.dtype
    d_gates = Tensor._empty(backend, (steps * batch, 4 * hidden), dtype)
    d_h0, d_c0 = (Tensor._empty(backend, (batch, hidden), dtype) for _ in range(2))
    if steps and hidden:
        backend.lstm_sequence_backward(d_gates._d, d_h0._d, d_c0._d, d_hc._d, states._d,
                                       saved._d, w_hh._d, reverse)  # fmt: skip
    else:  # nothing flows back through no step
        for d in (d_h0, d_c0):
            backend.copy(d._d, constants(backend, (0.0,), d._d)[0])
    d_w = None
    if w_hh.requires_grad:
        start = batch * two_h if reverse else 0
        h_before = Strided(states._storage.buffer, (steps * batch, hidden), (two_h, 1),
                           states._offset + start, dtype)  # fmt: skip
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
