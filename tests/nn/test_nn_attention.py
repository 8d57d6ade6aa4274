"""Attention against PyTorch (skipped where torch is not installed): scaled_dot_product_attention,
MultiheadAttention and the Transformer modules loaded from torch's state dicts give the same
outputs, attention weights and gradients (float32); their errors name the problem."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _nn_parity import BACKENDS, TOL, f32, torch

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn, optim

TF = torch.nn.functional
RNG = np.random.default_rng(7)
pytestmark = [
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning"),
    pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning"),
]


def _pair(x: np.ndarray, grad: bool = True):
    return mt.tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad)


def _close(ours, theirs, name: str = "") -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours.numpy(), theirs, err_msg=name, **TOL)


def _twin(theirs, ours):
    """`ours` holding `theirs`'s state dict; the keys must be the same."""
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    return ours


def _param_grads(ours, theirs) -> None:
    params = dict(ours.named_parameters())
    for name, tp in theirs.named_parameters():
        _close(params[name].grad, tp.grad, name)


# -- scaled_dot_product_attention -----------------------------------------------------------
def _bool_mask(*shape: int) -> np.ndarray:
    mask = RNG.random(shape) < 0.7
    mask[..., 0] = True  # no fully masked row (those are tested on their own)
    return mask


SDPA = [  # (q, k, v shapes, mask (numpy or None), kwargs)
    ((2, 3, 4), (2, 5, 4), (2, 5, 6), None, {}),
    ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), _bool_mask(3, 5), {}),
    ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), _bool_mask(2, 1, 3, 5), {"scale": 0.3}),
    ((2, 3, 4), (2, 5, 4), (2, 5, 3), f32(RNG, 2, 3, 5), {}),
    ((1, 2, 5, 4), (1, 2, 3, 4), (1, 2, 3, 4), None, {"is_causal": True}),
    ((2, 3, 4), (2, 5, 4), (2, 5, 4), None, {"is_causal": True, "scale": 2.0}),
    ((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), None, {"enable_gqa": True}),
    ((3, 4), (5, 4), (5, 2), None, {}),
]


@pytest.mark.parametrize("q_shape,k_shape,v_shape,mask,kwargs", SDPA)
def test_sdpa_matches_torch_with_grads(q_shape, k_shape, v_shape, mask, kwargs):
    (q, tq), (k, tk), (v, tv) = (_pair(f32(RNG, *s)) for s in (q_shape, k_shape, v_shape))
    if mask is not None:
        out = F.scaled_dot_product_attention(q, k, v, mt.tensor(mask), **kwargs)
        tout = TF.scaled_dot_product_attention(tq, tk, tv, torch.tensor(mask), **kwargs)
    else:
        out = F.scaled_dot_product_attention(q, k, v, **kwargs)
        tout = TF.scaled_dot_product_attention(tq, tk, tv, **kwargs)
    _close(out, tout)
    upstream = f32(RNG, *out.shape)
    out.backward(mt.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    for name, ours, theirs in (("q", q, tq), ("k", k, tk), ("v", v, tv)):
        _close(ours.grad, theirs.grad, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sdpa_fully_masked_rows_give_zeros_as_torch(backend):
    # PyTorch 2.13 returns 0 (not NaN) for a query whose keys are all masked, bool or float
    mask = _bool_mask(3, 5)
    mask[1] = False
    float_mask = np.where(mask, 0.0, -np.inf).astype(np.float32)
    with mt.use_backend(backend):
        for m in (mask, float_mask):
            (q, tq), (k, tk), (v, tv) = (_pair(f32(RNG, 2, s, 4)) for s in (3, 5, 5))
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mt.tensor(m))
            tout = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(m))
            assert np.all(out.numpy()[:, 1] == 0.0)
            _close(out, tout)
            out.sum().backward()
            tout.sum().backward()
            assert np.all(q.grad.numpy()[:, 1] == 0.0)
            for ours, theirs in ((q, tq), (k, tk), (v, tv)):
                _close(ours.grad, theirs.grad)


def test_sdpa_dropout_is_seeded_and_unbiased():
    q, k = mt.zeros(2, 64, 4), mt.zeros(2, 64, 4)  # uniform weights 1/64
    v = mt.ones(2, 64, 3)
    mt.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    mt.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    c = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert a.shape == (2, 64, 3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    # each output is (kept keys) * 2 / 64: mean 1 over 128 rows, std 1/8 per row
    assert abs(a.numpy().mean() - 1.0) < 0.05 and a.numpy().std() > 0.05
    no_drop = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    np.testing.assert_allclose(no_drop.numpy(), 1.0, rtol=1e-6)


# -- MultiheadAttention ---------------------------------------------------------------------
def _kpm(batch: int, src: int) -> np.ndarray:
    kpm = np.zeros((batch, src), bool)
    kpm[0, -1] = True
    return kpm


MHA = [  # (constructor kwargs, forward kwargs (numpy masks), L, S, batch or None, self-attn)
    ({}, {}, 4, 4, 2, True),
    ({"batch_first": True}, {"key_padding_mask": _kpm(2, 5)}, 3, 5, 2, False),
    ({"kdim": 5, "vdim": 3}, {"average_attn_weights": False}, 3, 4, 2, False),
    ({"bias": False}, {"attn_mask": ~_bool_mask(4, 4)}, 4, 4, 1, True),
    ({}, {"attn_mask": f32(RNG, 4, 3, 5), "key_padding_mask": _kpm(2, 5)}, 3, 5, 2, False),
    (
        {"add_bias_kv": True, "add_zero_attn": True},
        {"key_padding_mask": _kpm(2, 4)},
        3,
        4,
        2,
        False,
    ),
    ({"add_zero_attn": True}, {"attn_mask": ~_bool_mask(3, 3)}, 3, 3, None, True),
    ({"batch_first": True}, {"key_padding_mask": _kpm(1, 4)[0]}, 2, 4, None, False),
]


@pytest.mark.parametrize("ctor,fwd,tgt,src,batch,self_attn", MHA)
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_matches_torch(ctor, fwd, tgt, src, batch, self_attn, need_weights):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **ctor)
    ours = _twin(theirs, nn.MultiheadAttention(8, 2, **ctor))
    first = ctor.get("batch_first", False)

    def shape(length: int, dim: int) -> tuple:
        if batch is None:
            return (length, dim)
        return (batch, length, dim) if first else (length, batch, dim)

    (q, tq) = _pair(f32(RNG, *shape(tgt, 8)))
    if self_attn:
        (k, tk), (v, tv) = (q, tq), (q, tq)
    else:
        (k, tk) = _pair(f32(RNG, *shape(src, ctor.get("kdim", 8))))
        (v, tv) = _pair(f32(RNG, *shape(src, ctor.get("vdim", 8))))
    masks = {n: m for n, m in fwd.items() if isinstance(m, np.ndarray)}
    flags = {n: f for n, f in fwd.items() if n not in masks}
    out, weights = ours(q, k, v, need_weights=need_weights, **flags,
                        **{n: mt.tensor(m) for n, m in masks.items()})  # fmt: skip
    tout, tweights = theirs(tq, tk, tv, need_weights=need_weights, **flags,
                            **{n: torch.tensor(m) for n, m in masks.items()})  # fmt: skip
    _close(out, tout)
    assert (weights is None) == (tweights is None)
    if weights is not None:
        _close(weights, tweights)
    upstream = f32(RNG, *out.shape)
    out.backward(mt.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    _param_grads(ours, theirs)
    for name, a, b in (("query", q, tq), ("key", k, tk), ("value", v, tv)):
        _close(a.grad, b.grad, name)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_batch_first_self_attention_in_its_own_layout_matches_torch(backend, causal, bias):
    """Batch-first self-attention without weights or a padding mask runs in the (N, L, E)
    layout (`self_attention_batch_first`); outputs and every gradient are PyTorch's."""
    torch.manual_seed(3)
    theirs = torch.nn.MultiheadAttention(8, 2, bias=bias, batch_first=True)
    with mt.use_backend(backend):
        ours = _twin(theirs, nn.MultiheadAttention(8, 2, bias=bias, batch_first=True))
        x, tx = _pair(f32(RNG, 3, 5, 8))
        mask = np.triu(np.full((5, 5), -np.inf, np.float32), 1) if causal else None
        kwargs = {"need_weights": False, "is_causal": causal}
        assert ours._packed_self_attention(x, x, x, None, False, mask, causal)
        out, weights = ours(x, x, x, attn_mask=None if mask is None else mt.tensor(mask), **kwargs)
        tout, _ = theirs(tx, tx, tx, attn_mask=None if mask is None else torch.tensor(mask),
                         **kwargs)  # fmt: skip
        assert weights is None
        _close(out, tout)
        upstream = f32(RNG, *out.shape)
        out.backward(mt.tensor(upstream))
        tout.backward(torch.tensor(upstream))
        _param_grads(ours, theirs)
        _close(x.grad, tx.grad, "input")


def test_multihead_attention_fully_masked_rows_follow_torch():
    # need_weights=True runs a plain softmax in PyTorch (NaN rows); need_weights=False
    # goes through scaled_dot_product_attention (0 before out_proj)
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(4, 2)
    ours = _twin(theirs, nn.MultiheadAttention(4, 2))
    x = f32(RNG, 3, 2, 4)
    kpm = np.zeros((2, 3), bool)
    kpm[1] = True
    for need in (True, False):
        out, _ = ours(*[mt.tensor(x)] * 3, key_padding_mask=mt.tensor(kpm), need_weights=need)
        tout, _ = theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm),
                         need_weights=need)  # fmt: skip
        assert np.isnan(out.numpy()[:, 1]).all() == need
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)


def test_multihead_attention_init_and_keys_match_torch():
    for ctor in ({}, {"kdim": 3, "vdim": 5, "add_bias_kv": True}, {"bias": False}):
        ours, theirs = (
            nn.MultiheadAttention(8, 2, **ctor),
            torch.nn.MultiheadAttention(8, 2, **ctor),
        )
        state, tstate = ours.state_dict(), theirs.state_dict()
        assert list(state) == list(tstate)
        for key, value in tstate.items():
            assert state[key].shape == tuple(value.shape), key
        if ours.in_proj_bias is not None:
            assert np.all(ours.in_proj_bias.numpy() == 0) and np.all(
                ours.out_proj.bias.numpy() == 0
            )
    big = nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 192))  # xavier_uniform_ of the (3E, E) in_proj_weight
    w = big.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert type(big.out_proj).__name__ == "NonDynamicallyQuantizableLinear"


# -- Transformer layers ---------------------------------------------------------------------
def _torch_eval(module):
    return module.eval()  # inputs that require grad keep PyTorch off its fused fast path


LAYERS = [
    ({}, False),
    ({"norm_first": True, "activation": "gelu"}, False),
    ({"batch_first": True, "norm_first": True}, True),
    ({"batch_first": True, "activation": TF.gelu, "bias": False}, True),
]


@pytest.mark.parametrize(
    "kwargs,first,backend",
    [(*case, "numpy_ref") for case in LAYERS]
    + [(*LAYERS[0], b) for b in BACKENDS if b != "numpy_ref"],
)
def test_encoder_layer_matches_torch(kwargs, first, backend):
    with mt.use_backend(backend):
        _check_encoder_layer(kwargs, first)


def _check_encoder_layer(kwargs, first):
    torch.manual_seed(1)
    theirs = _torch_eval(torch.nn.TransformerEncoderLayer(8, 2, 12, **kwargs))
    ours_kwargs = {**kwargs, "activation": F.gelu} if callable(kwargs.get("activation")) else kwargs
    ours = _twin(theirs, nn.TransformerEncoderLayer(8, 2, 12, **ours_kwargs)).eval()
    x, tx = _pair(f32(RNG, 2, 4, 8) if first else f32(RNG, 4, 2, 8))
    kpm, mask = _kpm(2, 4), ~_bool_mask(4, 4)
    out = ours(x, src_mask=mt.tensor(mask), src_key_padding_mask=mt.tensor(kpm))
    tout = theirs(tx, src_mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(kpm))
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(x.grad, tx.grad)
    _param_grads(ours, theirs)


@pytest.mark.parametrize("kwargs,first", LAYERS[:3])
def test_decoder_layer_matches_torch(kwargs, first):
    torch.manual_seed(2)
    theirs = _torch_eval(torch.nn.TransformerDecoderLayer(8, 2, 12, **kwargs))
    ours = _twin(theirs, nn.TransformerDecoderLayer(8, 2, 12, **kwargs)).eval()
    tgt, ttgt = _pair(f32(RNG, 2, 3, 8) if first else f32(RNG, 3, 2, 8))
    mem, tmem = _pair(f32(RNG, 2, 5, 8) if first else f32(RNG, 5, 2, 8))
    causal = nn.Transformer.generate_square_subsequent_mask(3)
    tcausal = torch.nn.Transformer.generate_square_subsequent_mask(3)
    mkpm = _kpm(2, 5)
    out = ours(
        tgt, mem, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=mt.tensor(mkpm)
    )
    tout = theirs(ttgt, tmem, tgt_mask=tcausal, tgt_is_causal=True,
                  memory_key_padding_mask=torch.tensor(mkpm))  # fmt: skip
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(tgt.grad, ttgt.grad)
    _close(mem.grad, tmem.grad)
    _param_grads(ours, theirs)


def test_transformer_end_to_end_from_torch_state_dict():
    torch.manual_seed(3)
    kwargs = {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 1,
              "dim_feedforward": 12, "batch_first": True}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's nested-tensor notice
        theirs = torch.nn.Transformer(**kwargs).eval()
    ours = _twin(theirs, nn.Transformer(**kwargs)).eval()
    assert "encoder.layers.1.self_attn.in_proj_weight" in ours.state_dict()
    src, tgt = f32(RNG, 2, 5, 8), f32(RNG, 2, 4, 8)
    skpm = _kpm(2, 5)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
    ttgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(tgt_mask.numpy(), ttgt_mask.numpy())
    out = ours(
        mt.tensor(src),
        mt.tensor(tgt),
        tgt_mask=tgt_mask,
        src_key_padding_mask=mt.tensor(skpm),
        memory_key_padding_mask=mt.tensor(skpm),
    )
    with torch.no_grad():
        tout = theirs(torch.tensor(src), torch.tensor(tgt), tgt_mask=ttgt_mask,
                      src_key_padding_mask=torch.tensor(skpm),
                      memory_key_padding_mask=torch.tensor(skpm))  # fmt: skip
    _close(out, tout)


def test_encoder_stack_copies_layers_and_applies_norm():
    layer = nn.TransformerEncoderLayer(8, 2, 12, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    assert (
        encoder.layers[0] is not layer
        and encoder.layers[0].linear1.weight is not layer.linear1.weight
    )
    np.testing.assert_array_equal(
        encoder.layers[1].linear1.weight.numpy(), layer.linear1.weight.numpy()
    )
    x = mt.randn(5, 2, 8)
    expected = encoder.norm(encoder.layers[1](encoder.layers[0](x)))
    np.testing.assert_allclose(encoder(x).numpy(), expected.numpy(), rtol=1e-6)


def test_one_layer_encoder_learns_to_reverse():
    mt.manual_seed(0)
    vocab, length, d = 5, 4, 16
    embed, pos = nn.Embedding(vocab, d), nn.Parameter(mt.randn(length, d) * 0.5)
    layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0, batch_first=True)
    head = nn.Linear(d, vocab)
    params = [*embed.parameters(), pos, *layer.parameters(), *head.parameters()]
    opt = optim.Adam(params, lr=0.02)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(40):
        seq = rng.integers(0, vocab, size=(16, length))
        logits = head(layer(embed(mt.tensor(seq)) + pos))
        target = mt.tensor(seq[:, ::-1].copy())
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


# -- errors ---------------------------------------------------------------------------------
_Q, _K = mt.randn(2, 3, 4), mt.randn(2, 5, 4)
_X, _MHA = mt.randn(3, 2, 4), nn.MultiheadAttention(4, 2)
_MODEL = nn.Transformer(4, 2, 1, 1, 8)
_SDPA = F.scaled_dot_product_attention


def _mask(*shape: int, dtype=mt.bool):
    return mt.zeros(*shape, dtype=dtype)


ERRORS = [  # (call, exception, message pattern)
    (lambda: _SDPA(_Q, _K, _K, attn_mask=_mask(3, 5), is_causal=True), RuntimeError,
     r"scaled_dot_product_attention\(\): pass either attn_mask or is_causal"),
    (lambda: _SDPA(_Q, _K, _K, attn_mask=_mask(3, 5, dtype=mt.int64)), TypeError,
     r"scaled_dot_product_attention\(\): attn_mask must be bool .* got int64"),
    (lambda: _SDPA(_Q, _K, _K, attn_mask=_mask(4, 5)), RuntimeError,
     r"attn_mask of shape \(4, 5\) does not broadcast .*\(2, 3, 5\)"),
    (lambda: _SDPA(_Q, mt.randn(2, 5, 3), _K), RuntimeError,
     r"got shapes \(2, 3, 4\), \(2, 5, 3\) and \(2, 5, 4\)"),
    (lambda: nn.MultiheadAttention(6, 4), ValueError,
     r"MultiheadAttention: embed_dim 6 must be divisible by num_heads 4"),
    (lambda: _MHA(_X, mt.randn(3, 2, 5), _X), RuntimeError,
     r"MultiheadAttention: expected query, key and value .*\(3, 2, 5\)"),
    (lambda: _MHA(_X, _X, mt.randn(4, 2, 4)), RuntimeError,
     r"key and value must share .* key \(3, 2, 4\), value \(4, 2, 4\)"),
    (lambda: _MHA(_X, mt.randn(3, 4), _X), RuntimeError, r"all be 3-d .* or all 2-d"),
    (lambda: _MHA(_X, _X, _X, attn_mask=_mask(3, 4, dtype=mt.float32)), RuntimeError,
     r"2-d attn_mask has shape \(3, 4\), but should be \(3, 3\)"),
    (lambda: _MHA(_X, _X, _X, attn_mask=_mask(2, 3, 3)), RuntimeError,
     r"3-d attn_mask has shape \(2, 3, 3\), but should be \(4, 3, 3\)"),
    (lambda: _MHA(_X, _X, _X, attn_mask=_mask(3, 3, dtype=mt.int64)), TypeError,
     r"attn_mask must be bool .* got int64"),
    (lambda: _MHA(_X, _X, _X, key_padding_mask=_mask(2, 4)), RuntimeError,
     r"key_padding_mask must be \(N, S\) = \(2, 3\).*got shape \(2, 4\)"),
    (lambda: _MHA(_X, _X, _X, key_padding_mask=_mask(3)), RuntimeError,
     r"key_padding_mask must be 2-d"),
    (lambda: _MHA(_X, _X, _X, is_causal=True), RuntimeError, r"is_causal=True .* needs the mask"),
    (lambda: nn.TransformerEncoderLayer(4, 2, 8, activation="tanh"), ValueError,
     r"activation should be 'relu', 'gelu' or a callable, not 'tanh'"),
    (lambda: _MODEL(mt.randn(3, 2, 4), mt.randn(3, 1, 4)), RuntimeError,
     r"Transformer: src and tgt must have the same batch size"),
    (lambda: _MODEL(mt.randn(3, 2, 4), mt.randn(3, 2, 5)), RuntimeError,
     r"last dim of src and tgt must be d_model=4"),
]  # fmt: skip


@pytest.mark.parametrize("call,error,pattern", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_name_the_problem(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
