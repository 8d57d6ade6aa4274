"""The recurrent layers RNN, LSTM and GRU, as `torch.nn` defines them.

A layer runs `num_layers` stacked layers, each in one or two directions. Per layer and
direction the input-to-hidden part of every time step is ONE matmul over the whole
sequence (the time steps are rows of a (steps * batch, features) matrix); the recurrence
then takes one (batch, hidden) @ W_hh^T matmul per step plus the gate nonlinearities
(`rnn_cells.py`). A padded batch and a `PackedSequence` run the same loop: the packed
layout is rows grouped by time step, ``batch_sizes[t]`` rows at step t, and a padded
(T, B) batch is the packed layout with every batch size B.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

from mytensor.core.creation import empty, zeros
from mytensor.core.ops.recurrent import lstm_sequence
from mytensor.core.ops.shape import cat, stack
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn.layers.rnn_cells import (
    NONLINEARITIES,
    check_sizes,
    gru_step,
    lstm_step,
    reset_uniform,
    rnn_step,
    run_direction,
)
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter
from mytensor.nn.utils.rnn import PackedSequence

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters (PyTorch's names and order), the
    checks of input and states, and the loop over layers, directions and time steps.

    >>> from mytensor import nn
    >>> [name for name, _ in nn.GRU(3, 4, bidirectional=True).named_parameters()][4:6]
    ['weight_ih_l0_reverse', 'weight_hh_l0_reverse']
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_sizes(name, input_size, hidden_size)
        if num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
        if isinstance(dropout, bool) or not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                f"probability of an element being zeroed, got dropout={dropout}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout option adds dropout after all but last recurrent layer, so "
                "non-zero dropout expects num_layers greater than 1, but got "
                f"dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        if proj_size < 0 or proj_size >= hidden_size:
            raise ValueError(
                f"{name}: proj_size must be 0 (no projection) or in 1..hidden_size-1 = "
                f"1..{hidden_size - 1}, got proj_size={proj_size}"
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        out_size = proj_size or hidden_size
        rows = _GATES[mode] * hidden_size
        kw = {"dtype": dtype, "backend": backend}
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: list[tuple[str, tuple[int, ...]]] = [
                    ("weight_ih", (rows, layer_input)),
                    ("weight_hh", (rows, out_size)),
                ]
                if bias:
                    shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for base, shape in shapes:
                    setattr(self, base + suffix, Parameter(empty(*shape, **kw)))
                    self._flat_weights_names.append(base + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_uniform(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch compatibility (there is no cuDNN weight buffer)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        per = len(self._flat_weights_names) // (self.num_layers * self._directions)
        params = [getattr(self, n) for n in self._flat_weights_names]
        return [params[i : i + per] for i in range(0, len(params), per)]

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(
            getattr(self, base + suffix, None)
            for base in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- input and states -------------------------------------------------------------

    def _flatten_input(self, input: Any) -> tuple[Tensor, list[int], bool, Any]:
        """(rows (N, input_size) grouped by time step, batch sizes per step, unbatched,
        the PackedSequence or None)."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            data, sizes = input.data, [int(b) for b in input.batch_sizes.tolist()]
            if data.ndim != 2:
                raise ValueError(
                    f"{name}: a PackedSequence's data must be 2-d (rows, {self.input_size}), "
                    f"got shape {data.shape}"
                )
            self._check_features(data)
            return data, sizes, False, input
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor or PackedSequence, got {type(input)}")
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead (shape "
                f"{input.shape}); give (seq, batch, {self.input_size}) "
                f"{'(batch_first: (batch, seq, ...))' if self.batch_first else ''}"
                f" or unbatched (seq, {self.input_size})".replace("  ", " ")
            )
        self._check_features(input)
        unbatched = input.ndim == 2
        if unbatched:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if self.batch_first else input
        steps, batch = x.shape[0], x.shape[1]
        return x.reshape(steps * batch, self.input_size), [batch] * steps, unbatched, None

    def _check_features(self, x: Tensor) -> None:
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{type(self).__name__}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]} (input shape {x.shape})"
            )

    def _state(
        self, which: str, hx: Any, batch: int, size: int, unbatched: bool, packed: Any, like: Tensor
    ) -> Tensor:
        """The initial state `which` as (layers * directions, batch, size), zeros if None."""
        name = type(self).__name__
        stacked = self.num_layers * self._directions
        if hx is None:
            return zeros(stacked, batch, size, dtype=like.dtype, backend=like.backend)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: expected {which} to be a Tensor, got {type(hx)}")
        expected = (stacked, size) if unbatched else (stacked, batch, size)
        if tuple(hx.shape) != expected:
            hint = ""
            if unbatched and hx.ndim != 2:
                hint = f"; for unbatched 2-D input, {which} should also be 2-D"
            elif hx.ndim == 3 and hx.shape[0] == stacked and hx.shape[2] == size:
                hint = (
                    f"; the input's batch size is {batch} but {which}'s is {hx.shape[1]}: "
                    "give one state row per sequence"
                )
            else:
                hint = f" (num_layers * num_directions, batch, {size})"
            raise RuntimeError(
                f"{name}: expected {which} of shape {expected}, got {tuple(hx.shape)}{hint}"
            )
        if unbatched:
            return hx.unsqueeze(1)
        if packed is not None and packed.sorted_indices is not None:
            return hx.index_select(1, packed.sorted_indices)
        return hx

    # ---- the recurrence ---------------------------------------------------------------

    def _step(self, weights: tuple, gi: Tensor, state: tuple) -> tuple:
        _, w_hh, _, b_hh, w_hr = weights
        if self.mode == "LSTM":
            return lstm_step(gi, state[0], state[1], w_hh, b_hh, w_hr)
        if self.mode == "GRU":
            return (gru_step(gi, state[0], w_hh, b_hh),)
        return (rnn_step(gi, state[0], w_hh, b_hh, self.nonlinearity),)

    def _lstm_direction(self, x: Tensor, weights: tuple, init: tuple, steps: int,
                        reverse: bool) -> tuple[Tensor, tuple]:  # fmt: skip
        """An LSTM direction over equal-length sequences as one graph node (the core's
        `lstm_sequence`): both biases folded into the input projection, one matmul."""
        w_ih, w_hh, b_ih, b_hh, _ = weights
        bias = b_ih + b_hh if b_ih is not None else None
        hc = lstm_sequence(F.linear(x, w_ih, bias), init[0], init[1], w_hh, reverse)
        hidden = self.hidden_size
        last = 0 if reverse else steps - 1
        out = hc[:, :, :hidden].reshape(-1, hidden)
        return out, (hc[last, :, :hidden], hc[last, :, hidden:])

    def _run(self, input: Any, hx: Any) -> tuple[Any, tuple]:
        x, sizes, unbatched, packed = self._flatten_input(input)
        batch = sizes[0] if sizes else 0
        if not sizes or batch == 0:
            raise ValueError(
                f"{type(self).__name__}: got an empty input (shape {x.shape}); the recurrence "
                "needs at least one time step and one sequence"
            )
        out_size = self.proj_size or self.hidden_size
        lstm = self.mode == "LSTM"
        if lstm and hx is not None and not (isinstance(hx, tuple | list) and len(hx) == 2):
            raise TypeError(f"LSTM: expected hx to be a tuple (h0, c0), got {type(hx)}")
        h_in, c_in = (hx if hx is not None else (None, None)) if lstm else (hx, None)
        h0 = self._state("h0", h_in, batch, out_size, unbatched, packed, x)
        c0 = (
            self._state("c0", c_in, batch, self.hidden_size, unbatched, packed, x) if lstm else None
        )
        finals: list[tuple] = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self._directions):
                k = layer * self._directions + direction
                init = (h0[k], c0[k]) if c0 is not None else (h0[k],)
                weights = self._weights(layer, direction)
                if lstm and not self.proj_size and sizes.count(batch) == len(sizes):
                    out, state = self._lstm_direction(x, weights, init, len(sizes),
                                                      bool(direction))  # fmt: skip
                else:
                    gi_all = F.linear(x, weights[0], weights[2])  # every step in one matmul
                    step = partial(self._step, weights)
                    out, state = run_direction(step, gi_all, sizes, init, bool(direction))
                outs.append(out)
                finals.append(state)
            x = cat(outs, 1) if len(outs) > 1 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        states = tuple(stack([f[i] for f in finals], 0) for i in range(len(finals[0])))
        if packed is not None:
            if packed.unsorted_indices is not None:
                states = tuple(s.index_select(1, packed.unsorted_indices) for s in states)
            return packed._replace(data=x), states
        output = x.reshape(len(sizes), batch, x.shape[-1])
        if unbatched:
            return output.squeeze(1), tuple(s.squeeze(1) for s in states)
        return (output.transpose(0, 1) if self.batch_first else output), states


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or
    relu, stacked `num_layers` deep, optionally bidirectional. Input (seq, batch,
    input_size) ((batch, seq, ...) with `batch_first`), unbatched (seq, input_size), or a
    PackedSequence; returns ``(output, h_n)`` as PyTorch shapes them.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> rnn = nn.RNN(3, 4, num_layers=2, bidirectional=True)
    >>> out, h_n = rnn(mt.ones(5, 2, 3))
    >>> out.shape, h_n.shape, rnn.weight_ih_l1_reverse.shape
    ((5, 2, 8), (4, 2, 4), (4, 8))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
            backend=backend,
        )
        self.nonlinearity = nonlinearity

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        output, (h_n,) = self._run(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o stacked in that order in each weight):
    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``, then ``h_t = h_t W_hr^T`` when
    `proj_size` > 0. Returns ``(output, (h_n, c_n))``; hx is ``(h0, c0)`` or None.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> lstm = nn.LSTM(3, 4, proj_size=2, batch_first=True)
    >>> out, (h_n, c_n) = lstm(mt.ones(2, 5, 3))
    >>> out.shape, h_n.shape, c_n.shape, lstm.weight_hr_l0.shape
    ((2, 5, 2), (1, 2, 2), (1, 2, 4), (2, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            dtype=dtype,
            backend=backend,
        )

    def forward(
        self, input: Any, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Any, tuple[Tensor, Tensor]]:
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n stacked in that order):
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    Returns ``(output, h_n)``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> gru = nn.GRU(3, 4)
    >>> out, h_n = gru(mt.ones(5, 3))  # unbatched
    >>> out.shape, h_n.shape, gru.weight_ih_l0.shape
    ((5, 4), (1, 4), (12, 3))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
            backend=backend,
        )

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        output, (h_n,) = self._run(input, hx)
        return output, h_n
