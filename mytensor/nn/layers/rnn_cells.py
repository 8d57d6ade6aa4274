"""One step of the recurrent layers: the RNN, LSTM and GRU updates and the loop of one
direction over a sequence (shared with `rnn.py`), and the single-step modules RNNCell,
LSTMCell and GRUCell.

A step receives the input-to-hidden part already computed (``gi = x @ W_ih^T + b_ih``; the
layers compute it for the whole sequence in one matmul) and adds the hidden-to-hidden part
``h @ W_hh^T + b_hh`` with one more matmul. The gates are column slices of that fused
(batch, gates * hidden) result, in PyTorch's order: i, f, g, o for the LSTM and r, z, n for
the GRU. Everything is composed from core ops, so the core's autograd differentiates it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mytensor.core.creation import empty, zeros
from mytensor.core.ops.recurrent import lstm_cell
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn import init
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter

__all__ = [
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "gru_step",
    "lstm_step",
    "rnn_step",
    "run_direction",
]

NONLINEARITIES = ("tanh", "relu")


def rnn_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, nonlinearity: str) -> Tensor:
    """``h' = act(gi + h @ W_hh^T + b_hh)`` with act tanh or relu."""
    pre = gi + F.linear(h, w_hh, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_step(
    gi: Tensor,
    h: Tensor,
    c: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    w_hr: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """One LSTM update from the fused (B, 4H) gates, through the core's fused cell (one
    graph node, the backend's `lstm_cell` kernels); `w_hr` projects h when given."""
    h_new, c_new = lstm_cell(gi + F.linear(h, w_hh, b_hh), c)
    if w_hr is not None:
        h_new = F.linear(h_new, w_hr)
    return h_new, c_new


def gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """One GRU update: r, z = sigmoid(gi_rz + gh_rz), n = tanh(gi_n + r * gh_n),
    ``h' = n + z * (h - n)`` (that is, (1 - z) * n + z * h)."""
    gh = F.linear(h, w_hh, b_hh)
    size = h.shape[-1]
    rz = (gi[:, : 2 * size] + gh[:, : 2 * size]).sigmoid()
    n = (gi[:, 2 * size :] + rz[:, :size] * gh[:, 2 * size :]).tanh()
    return n + rz[:, size:] * (h - n)


def run_direction(
    step: Callable[[Tensor, tuple], tuple],
    gi_all: Tensor,
    sizes: list[int],
    init: tuple,
    reverse: bool,
) -> tuple[Tensor, tuple]:
    """Run one direction of one layer: `gi_all` holds the input-to-hidden gates of every
    step, rows grouped by time step (``sizes[t]`` rows at step t, decreasing, as in a
    PackedSequence); `step(gi_t, state)` advances the state tuple (h,) or (h, c), whose
    first entry is the output. Returns (outputs (N, out), final state per sequence): a
    sequence's final state is taken at its own last step, and in reverse each sequence
    starts from its row of `init` at its own last step."""
    starts = [0]
    for b in sizes:
        starts.append(starts[-1] + b)
    outputs: list[Tensor] = []
    order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
    current = sizes[-1] if reverse else sizes[0]
    state = tuple(s[:current] for s in init) if current < init[0].shape[0] else init
    finished: list[tuple] = []  # forward: rows whose sequence ended, latest first
    for t in order:
        b = sizes[t]
        if b < current:  # forward: sequences b..current-1 ended at step t - 1
            finished.append(tuple(s[b:] for s in state))
            state = tuple(s[:b] for s in state)
        elif b > current:  # reverse: sequences current..b-1 start at step t
            state = tuple(cat([s, s0[current:b]], 0) for s, s0 in zip(state, init, strict=True))
        current = b
        state = step(gi_all[starts[t] : starts[t + 1]], state)
        outputs.append(state[0])
    if reverse:
        outputs.reverse()
    if finished:
        parts = [state, *reversed(finished)]
        state = tuple(cat([p[i] for p in parts], 0) for i in range(len(state)))
    return cat(outputs, 0) if len(outputs) > 1 else outputs[0], state


def reset_uniform(module: Module, hidden_size: int) -> None:
    """PyTorch's recurrent init: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def check_sizes(name: str, input_size: int, hidden_size: int) -> None:
    if input_size < 0 or hidden_size <= 0:
        raise ValueError(
            f"{name}: input_size must be >= 0 and hidden_size > 0, got input_size="
            f"{input_size}, hidden_size={hidden_size}"
        )


class _CellBase(Module):
    """The parameters, init and input checks RNNCell, LSTMCell and GRUCell share."""

    _gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        dtype: Any,
        backend: str | None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_sizes(name, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = self._gates * hidden_size
        kw = {"dtype": dtype, "backend": backend}
        self.weight_ih = Parameter(empty(rows, input_size, **kw))
        self.weight_hh = Parameter(empty(rows, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(empty(rows, **kw))
            self.bias_hh = Parameter(empty(rows, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_uniform(self, self.hidden_size)

    def _prepare(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor, bool]:
        """(2-d input, 2-d state or zeros, whether the input was unbatched)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(
                f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead "
                f"(shape {input.shape}); give (batch, {self.input_size}) or ({self.input_size},)"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size} (input shape {input.shape})"
            )
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            return (
                x,
                zeros(x.shape[0], self.hidden_size, dtype=x.dtype, backend=x.backend),
                unbatched,
            )
        return x, self._check_state("hx", hx, x.shape[0], unbatched), unbatched

    def _check_state(self, which: str, state: Tensor, batch: int, unbatched: bool) -> Tensor:
        name = type(self).__name__
        expected = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        if tuple(state.shape) != expected:
            hint = ""
            if not unbatched and state.ndim == 2 and state.shape[1] == self.hidden_size:
                hint = (
                    f": input batch size {batch} doesn't match {which} batch size {state.shape[0]}"
                )
            raise RuntimeError(
                f"{name}: expected {which} of shape {expected}, got {tuple(state.shape)}{hint}"
            )
        return state.unsqueeze(0) if unbatched else state

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(_CellBase):
    """One Elman RNN step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act tanh or
    relu. Input (batch, input_size) or (input_size,); hx of the matching (batch,
    hidden_size) shape, zeros when omitted.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> cell = nn.RNNCell(3, 4, nonlinearity="relu")
    >>> cell(mt.ones(2, 3)).shape, cell(mt.ones(3)).shape, cell.weight_hh.shape
    ((2, 4), (4,), (4, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(input_size, hidden_size, bias, dtype, backend)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, unbatched = self._prepare(input, hx)
        h_new = rnn_step(
            F.linear(x, self.weight_ih, self.bias_ih),
            h,
            self.weight_hh,
            self.bias_hh,
            self.nonlinearity,
        )
        return h_new.squeeze(0) if unbatched else h_new


class LSTMCell(_CellBase):
    """One LSTM step (gates i, f, g, o stacked in that order in the (4*hidden, ...)
    weights). Returns ``(h', c')``; hx is ``(h, c)`` or None for zeros.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> cell = nn.LSTMCell(3, 4)
    >>> h, c = cell(mt.ones(2, 3))
    >>> h.shape, c.shape, cell.weight_ih.shape
    ((2, 4), (2, 4), (16, 3))
    """

    _gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, backend)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        x, h, unbatched = self._prepare(input, None if hx is None else hx[0])
        c = h if hx is None else self._check_state("cx", hx[1], x.shape[0], unbatched)
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        h_new, c_new = lstm_step(gi, h, c, self.weight_hh, self.bias_hh, None)
        if unbatched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(_CellBase):
    """One GRU step (gates r, z, n stacked in that order), with
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and ``h' = (1 - z) * n + z * h``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> cell = nn.GRUCell(3, 4, bias=False)
    >>> cell(mt.ones(2, 3), mt.zeros(2, 4)).shape, cell.weight_hh.shape, cell.bias_ih
    ((2, 4), (12, 4), None)
    """

    _gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, backend)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, unbatched = self._prepare(input, hx)
        h_new = gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h_new.squeeze(0) if unbatched else h_new
