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

from mytensor.core import autograd, batching
from mytensor.core.ops._base import OpRecord, check_tensor, register, same_backend
from mytensor.core.tensor import Tensor

__all__ = ["lstm_cell"]


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
