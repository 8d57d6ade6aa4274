"""RNN, LSTM, GRU, their cells and nn.utils.rnn against PyTorch (skipped where torch is not
installed): a torch state dict loaded into the mytensor layer gives the same outputs,
final states, and gradients of the input, the initial states and every parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _nn_parity import BACKENDS, TOL, torch

import mytensor as mt
from mytensor import nn
from mytensor.nn.utils import rnn as rnn_utils

RNG = np.random.default_rng(7)
TORCH_RNN = torch.nn.utils.rnn
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")


def _load(ours: nn.Module, twin) -> None:
    ours.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in twin.state_dict().items()})


def _draw(shape: tuple, dtype) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def _flat(result) -> list:
    """(output, h_n) or (output, (h_n, c_n)) as a flat list; a PackedSequence as its data."""
    out, state = result
    out = out.data if isinstance(out, tuple) else out
    return [out, *(state if isinstance(state, tuple) else (state,))]


def _assert_same(ours: list, theirs: list, tol: dict, what: str) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        b = b.detach().numpy() if hasattr(b, "detach") else b
        np.testing.assert_allclose(a.numpy(), b, err_msg=f"{what} {i}", **tol)


def _run_both(ours, twin, x: np.ndarray, states: list, tol: dict, call=None) -> None:
    """Forward both on `x` (and initial `states`), then backward a random weighting of
    every result; compare results and the gradients of x, states and parameters."""
    xs = [mt.tensor(x, requires_grad=True)] + [mt.tensor(s, requires_grad=True) for s in states]
    ts = [torch.tensor(x, requires_grad=True)] + [
        torch.tensor(s, requires_grad=True) for s in states
    ]
    call = call or (lambda m, x, *s: m(x, (s[0], s[1]) if len(s) == 2 else (s[0] if s else None)))
    mine, theirs = _flat(call(ours, *xs)), _flat(call(twin, *ts))
    _assert_same(mine, theirs, tol, "result")
    weights = [_draw(tuple(t.shape), x.dtype) for t in theirs]
    loss = mt.tensor(0.0, dtype=mine[0].dtype)
    for m, w in zip(mine, weights, strict=True):
        loss = loss + (m * mt.tensor(w)).sum()
    loss.backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(theirs, weights, strict=True)).backward()
    _assert_same([v.grad for v in xs], [t.grad for t in ts], tol, "input/state grad")
    params = dict(ours.named_parameters())
    assert set(params) == {n for n, _ in twin.named_parameters()}
    for name, tp in twin.named_parameters():
        np.testing.assert_allclose(params[name].grad.numpy(), tp.grad.numpy(), err_msg=name, **tol)


LAYERS = [
    ("RNN", {}, (4, 2), False),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, (3, 2), True),
    ("RNN", {"bias": False, "batch_first": True}, (2, 4), True),
    ("LSTM", {}, (4, 3), False),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, (3, 2), True),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "batch_first": True}, (2, 3), True),
    ("LSTM", {"bias": False, "bidirectional": True, "proj_size": 3}, (5, 1), False),
    ("GRU", {}, (4, 2), True),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}, (2, 3), False),
    ("GRU", {"bias": False}, (3, 2), False),
]


def _states(name: str, kwargs: dict, batch: tuple, dtype) -> list:
    stacked = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    out = kwargs.get("proj_size", 0) or 5
    states = [_draw((stacked, *batch, out), dtype)]
    if name == "LSTM":
        states.append(_draw((stacked, *batch, 5), dtype))
    return states


@pytest.mark.parametrize("name,kwargs,dims,with_state", LAYERS)
def test_layer_matches_torch(name, kwargs, dims, with_state):
    twin = getattr(torch.nn, name)(3, 5, **kwargs)
    ours = getattr(nn, name)(3, 5, **kwargs)
    assert repr(ours) == repr(twin)
    _load(ours, twin)
    steps, batch = dims
    shape = (batch, steps, 3) if kwargs.get("batch_first") else (steps, batch, 3)
    states = _states(name, kwargs, (batch,), np.float32) if with_state else []
    _run_both(ours, twin, _draw(shape, np.float32), states, TOL)


@pytest.mark.parametrize("name,kwargs", [("LSTM", {"proj_size": 2}), ("GRU", {"num_layers": 2}),
                                         ("RNN", {"bidirectional": True})])  # fmt: skip
def test_unbatched_input_matches_torch(name, kwargs):
    twin = getattr(torch.nn, name)(3, 5, **kwargs, batch_first=True)  # ignored when unbatched
    ours = getattr(nn, name)(3, 5, **kwargs, batch_first=True)
    _load(ours, twin)
    _run_both(ours, twin, _draw((4, 3), np.float32), _states(name, kwargs, (), np.float32), TOL)
    _run_both(ours, twin, _draw((4, 3), np.float32), [], TOL)


def test_float64_matches_torch_tightly():
    kwargs = {"num_layers": 2, "bidirectional": True, "proj_size": 2}
    twin = torch.nn.LSTM(3, 5, **kwargs).double()
    ours = nn.LSTM(3, 5, **kwargs, dtype=mt.float64)
    _load(ours, twin)
    assert ours.weight_ih_l0.dtype == mt.float64
    tight = {"rtol": 1e-10, "atol": 1e-12}
    states = _states("LSTM", kwargs, (2,), np.float64)
    _run_both(ours, twin, _draw((4, 2, 3), np.float64), states, tight)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy_ref"])
def test_gru_matches_torch_on_other_cpu_backend(backend):
    kwargs = {"num_layers": 2, "bidirectional": True}
    twin = torch.nn.GRU(3, 5, **kwargs)
    with mt.use_backend(backend):
        ours = nn.GRU(3, 5, **kwargs)
        _load(ours, twin)
        assert ours.weight_hh_l1.backend == backend
        states = _states("GRU", kwargs, (2,), np.float32)
        _run_both(ours, twin, _draw((3, 2, 3), np.float32), states, TOL)


def test_parameters_init_and_names_follow_torch():
    mt.manual_seed(0)
    lstm = nn.LSTM(4, 400, num_layers=2, bidirectional=True, proj_size=3)
    twin = torch.nn.LSTM(4, 400, num_layers=2, bidirectional=True, proj_size=3)
    assert [(n, tuple(p.shape)) for n, p in lstm.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in twin.named_parameters()
    ]
    bound = 1 / math.sqrt(400)
    for name, p in lstm.named_parameters():
        values = np.abs(p.numpy())
        assert values.max() <= bound and values.max() > 0.9 * bound, name
    assert len(lstm.all_weights) == 4 and len(lstm.all_weights[0]) == 5


def test_dropout_between_layers_only_in_training():
    twin = torch.nn.GRU(3, 5, num_layers=2, dropout=1.0)  # p=1 zeroes layer 0's output
    ours = nn.GRU(3, 5, num_layers=2, dropout=1.0)
    _load(ours, twin)
    x = _draw((4, 2, 3), np.float32)
    _run_both(ours, twin, x, [], TOL)
    _run_both(ours.eval(), twin.eval(), x, [], TOL)
    half = nn.GRU(3, 5, num_layers=2, dropout=0.5)
    a, b = half(mt.tensor(x))[0].numpy(), half(mt.tensor(x))[0].numpy()
    assert not np.allclose(a, b)  # a fresh mask each call
    half.eval()
    np.testing.assert_array_equal(half(mt.tensor(x))[0].numpy(), half(mt.tensor(x))[0].numpy())


# ---- packed sequences ------------------------------------------------------------------


def _seqs(lengths: list[int], feat: int = 3) -> list[np.ndarray]:
    return [_draw((n, feat), np.float32) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_round_trip_matches_torch(batch_first):
    seqs = _seqs([2, 4, 1])
    mine = rnn_utils.pad_sequence([mt.tensor(s) for s in seqs], batch_first, -1.0)
    theirs = TORCH_RNN.pad_sequence([torch.tensor(s) for s in seqs], batch_first, -1.0)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    packed = rnn_utils.pack_padded_sequence(mine, [2, 4, 1], batch_first, enforce_sorted=False)
    tpacked = TORCH_RNN.pack_padded_sequence(theirs, [2, 4, 1], batch_first, enforce_sorted=False)
    for field in ("data", "batch_sizes", "sorted_indices", "unsorted_indices"):
        got, want = getattr(packed, field), getattr(tpacked, field)
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=field)
    padded, lengths = rnn_utils.pad_packed_sequence(packed, batch_first, 9.0, total_length=5)
    tpadded, tlengths = TORCH_RNN.pad_packed_sequence(tpacked, batch_first, 9.0, total_length=5)
    np.testing.assert_array_equal(padded.numpy(), tpadded.numpy())
    np.testing.assert_array_equal(lengths.numpy(), tlengths.numpy())
    back = rnn_utils.unpack_sequence(rnn_utils.pack_sequence([mt.tensor(s) for s in seqs], False))
    for got, want in zip(back, seqs, strict=True):
        np.testing.assert_array_equal(got.numpy(), want)


def test_pad_sequence_left_and_sorted_pack():
    seqs = _seqs([3, 1])
    left = rnn_utils.pad_sequence([mt.tensor(s) for s in seqs], True, padding_side="left")
    tleft = TORCH_RNN.pad_sequence([torch.tensor(s) for s in seqs], True, padding_side="left")
    np.testing.assert_array_equal(left.numpy(), tleft.numpy())
    packed = rnn_utils.pack_sequence([mt.tensor(s) for s in seqs])
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    assert packed.batch_sizes.tolist() == [2, 1, 1]


PACKED = [("LSTM", {"num_layers": 2, "bidirectional": True}), ("GRU", {"bidirectional": True}),
          ("RNN", {})]  # fmt: skip


@pytest.mark.parametrize("name,kwargs", PACKED)
def test_packed_input_through_layer_matches_torch(name, kwargs):
    """Unsorted lengths and initial states in the original batch order: the packed output
    and h_n (taken at each sequence's true last step) match, and so do all gradients."""
    twin = getattr(torch.nn, name)(3, 5, **kwargs)
    ours = getattr(nn, name)(3, 5, **kwargs)
    _load(ours, twin)
    lengths = [2, 4, 1]
    lib = {id(ours): rnn_utils, id(twin): TORCH_RNN}

    def call(module, x, *states):
        packed = lib[id(module)].pack_padded_sequence(x, lengths, enforce_sorted=False)
        hx = (states[0], states[1]) if len(states) == 2 else states[0]
        return module(packed, hx)

    states = _states(name, kwargs, (3,), np.float32)
    _run_both(ours, twin, _draw((4, 3, 3), np.float32), states, TOL, call)


# ---- cells -----------------------------------------------------------------------------

CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu", "bias": False}),
    ("LSTMCell", {}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("batch", [(2,), ()], ids=["batched", "unbatched"])
@pytest.mark.parametrize("name,kwargs", CELLS)
def test_cell_matches_torch(name, kwargs, batch):
    twin = getattr(torch.nn, name)(3, 4, **kwargs)
    ours = getattr(nn, name)(3, 4, **kwargs)
    assert repr(ours) == repr(twin)
    _load(ours, twin)

    def call(m, x, *s):
        out = m(x, (s[0], s[1]) if len(s) == 2 else (s[0] if s else None))
        return (out[0], out[1]) if isinstance(out, tuple) else (out, ())

    x = _draw((*batch, 3), np.float32)
    states = [_draw((*batch, 4), np.float32) for _ in range(2 if name == "LSTMCell" else 1)]
    _run_both(ours, twin, x, states, TOL, call)
    out, tout = ours(mt.tensor(x)), twin(torch.tensor(x))  # hx omitted: zeros
    pair = isinstance(out, tuple)
    _assert_same(list(out) if pair else [out], list(tout) if pair else [tout], TOL, "no hx")


# ---- errors ----------------------------------------------------------------------------


def test_layer_errors_name_layer_shapes_and_fix():
    lstm = nn.LSTM(3, 5, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: Expected input to be 2D or 3D, got 4D"):
        lstm(mt.zeros(2, 3, 4, 3))
    with pytest.raises(RuntimeError, match=r"LSTM: input.size\(-1\) .* Expected 3, got 4"):
        lstm(mt.zeros(5, 2, 4))
    h, c = mt.zeros(1, 2, 5), mt.zeros(2, 2, 5)
    with pytest.raises(RuntimeError, match=r"LSTM: expected h0 of shape \(2, 2, 5\), got \(1, 2"):
        lstm(mt.zeros(4, 2, 3), (h, c))
    batch = r"c0 of shape \(2, 3, 5\), got \(2, 2, 5\); the input's batch size is 3"
    with pytest.raises(RuntimeError, match=batch):
        lstm(mt.zeros(4, 3, 3), (mt.zeros(2, 3, 5), c))
    with pytest.raises(RuntimeError, match=r"GRU: expected h0 of shape \(1, 5\).*2-D"):
        nn.GRU(3, 5)(mt.zeros(4, 3), mt.zeros(1, 1, 5))
    with pytest.raises(TypeError, match=r"LSTM: expected hx to be a tuple"):
        lstm(mt.zeros(4, 2, 3), mt.zeros(2, 2, 5))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"RNN: dropout should be a number in range \[0, 1\]"):
            nn.RNN(3, 5, num_layers=2, dropout=bad)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 5, dropout=0.5)
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 5, proj_size=5)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 5, nonlinearity="gelu")


def test_cell_and_packing_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"LSTMCell: Expected input to be 1D or 2D, got 3D"):
        cell(mt.zeros(2, 2, 3))
    with pytest.raises(
        RuntimeError, match=r"LSTMCell: .*inconsistent input_size: got 5 expected 3"
    ):
        cell(mt.zeros(2, 5))
    batch = r"expected hx of shape \(2, 4\), got \(3, 4\): input batch size 2 doesn't match"
    with pytest.raises(RuntimeError, match=batch):
        cell(mt.zeros(2, 3), (mt.zeros(3, 4), mt.zeros(3, 4)))
    x = mt.zeros(3, 2, 1)
    with pytest.raises(RuntimeError, match=r"sorted in decreasing order .*\(got \[2, 3\]\)"):
        rnn_utils.pack_padded_sequence(x, [2, 3])
    with pytest.raises(ValueError, match=r"a length 4 exceeds the sequence length 3"):
        rnn_utils.pack_padded_sequence(x, [4, 1], enforce_sorted=False)
    with pytest.raises(ValueError, match=r"got 3 lengths for a batch of 2"):
        rnn_utils.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(RuntimeError, match=r"greater than 0"):
        rnn_utils.pack_padded_sequence(x, [3, 0])
    packed = rnn_utils.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match=r"total_length=2 and max sequence length being 3"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)
