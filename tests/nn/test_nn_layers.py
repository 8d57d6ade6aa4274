"""Every layer against a float64 numpy definition (forward), and gradcheck (backward)."""

from __future__ import annotations

import math

import _nn_numpy as R
import numpy as np
import pytest
from _nn_helpers import close, fn_gradcheck, module_gradcheck, rand64

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn

RNG = np.random.default_rng(1234)


def _double(module: nn.Module) -> nn.Module:
    return module.double()


# -- linear ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_numpy(shape, bias):
    layer = _double(nn.Linear(4, 3, bias=bias))
    x = rand64(RNG, *shape, grad=False)
    b = layer.bias.numpy() if bias else None
    close(layer(x), R.linear(x.numpy(), layer.weight.numpy(), b))


def test_linear_gradcheck():
    assert module_gradcheck(nn.Linear(3, 2), rand64(RNG, 2, 3))


@pytest.mark.parametrize("backend", ["numpy_ref", "numba_cpu"])
def test_linear_of_permuted_rows_matches_numpy_and_gradchecks(backend):
    """A (T, N, in) buffer read as (N, T, in), as an RNN's or attention's outputs are: rows
    gathered into one product (a copy), not a batched matmul over an expanded weight."""
    pytest.importorskip("numba") if backend == "numba_cpu" else None
    x = rand64(RNG, 5, 3, 4).to(backend).permute(1, 0, 2).detach().requires_grad_(True)
    w = rand64(RNG, 2, 4).to(backend).detach().requires_grad_(True)
    b = rand64(RNG, 2).to(backend).detach().requires_grad_(True)
    assert not x.is_contiguous()
    close(F.linear(x, w, b), R.linear(x.numpy(), w.numpy(), b.numpy()))
    assert fn_gradcheck(F.linear, x, w, b)


def test_linear_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match="in_features=4"):
        nn.Linear(4, 2)(mt.ones(3, 5))


# -- convolution ----------------------------------------------------------------------------
CONV2D_CASES = [
    {},
    {"stride": 2, "padding": 1},
    {"dilation": 2, "padding": (2, 1)},
    {"groups": 2, "bias": False},
    {"stride": (1, 2), "padding": (0, 1)},
    {"padding": "same"},
    {"kernel_size": 2, "padding": "same"},  # even kernel: the extra pad goes after
    {"padding": "valid"},
]


@pytest.mark.parametrize("case", CONV2D_CASES, ids=str)
def test_conv2d_matches_numpy(case):
    case = dict(case)
    k = case.pop("kernel_size", 3)
    conv = _double(nn.Conv2d(4, 6, k, **case))
    x = rand64(RNG, 2, 4, 7, 6, grad=False)
    padding = case.get("padding", 0)
    xn = x.numpy()
    if padding == "same":  # PyTorch puts the odd extra row/column after
        lo, hi = (k - 1) // 2, (k - 1) - (k - 1) // 2
        xn, padding = np.pad(xn, ((0, 0), (0, 0), (lo, hi), (lo, hi))), 0
    elif padding == "valid":
        padding = 0
    b = None if conv.bias is None else conv.bias.numpy()
    expected = R.conv2d(xn, conv.weight.numpy(), b, case.get("stride", 1), padding,
                        case.get("dilation", 1), case.get("groups", 1))  # fmt: skip
    close(conv(x), expected)


@pytest.mark.parametrize("case", [{}, {"stride": 2, "padding": 1, "groups": 2},
                                  {"dilation": 2, "padding": "same"}], ids=str)  # fmt: skip
def test_conv1d_matches_numpy(case):
    conv = _double(nn.Conv1d(2, 4, 3, **case))
    x = rand64(RNG, 3, 2, 9, grad=False)
    padding = case.get("padding", 0)
    xn = x.numpy()
    if padding == "same":
        xn, padding = np.pad(xn, ((0, 0), (0, 0), (2, 2))), 0
    expected = R.conv1d(xn, conv.weight.numpy(), conv.bias.numpy(), case.get("stride", 1),
                        padding, case.get("dilation", 1), case.get("groups", 1))  # fmt: skip
    close(conv(x), expected)


def test_conv_gradchecks():
    assert module_gradcheck(
        nn.Conv2d(2, 2, 2, stride=2, padding=1, groups=2), rand64(RNG, 1, 2, 3, 3)
    )
    assert module_gradcheck(nn.Conv2d(1, 1, 2, padding="same", dilation=1), rand64(RNG, 1, 1, 3, 3))
    assert module_gradcheck(nn.Conv1d(2, 1, 2, dilation=2, padding=1), rand64(RNG, 1, 2, 4))


def test_conv_accepts_unbatched_input():
    conv = nn.Conv2d(2, 3, 3)
    x = mt.randn(2, 5, 5)
    close(conv(x), conv(x.unsqueeze(0)).numpy()[0], rtol=1e-6)


def test_conv_rejects_bad_configuration():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")(mt.ones(1, 1, 5, 5))


# -- pooling --------------------------------------------------------------------------------
MAX_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 2, "stride": 1, "dilation": 2},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 2, "ceil_mode": True},
]


@pytest.mark.parametrize("case", MAX_CASES, ids=str)
def test_max_pool2d_matches_numpy(case):
    x = rand64(RNG, 2, 3, 7, 6, grad=False)
    expected = R.max_pool2d(x.numpy(), case["kernel_size"], case.get("stride"),
                            case.get("padding", 0), case.get("dilation", 1),
                            case.get("ceil_mode", False))  # fmt: skip
    close(nn.MaxPool2d(**case)(x), expected)


@pytest.mark.parametrize("case", MAX_CASES[:3], ids=str)
def test_max_pool2d_gradcheck(case):
    assert module_gradcheck(nn.MaxPool2d(**case), rand64(RNG, 1, 1, 4, 5))


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    x = mt.zeros(1, 1, 2, 2, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.reshape(-1).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_max_pool2d_return_indices():
    x = mt.tensor([[[[1.0, 9.0, 2.0], [3.0, 4.0, 8.0], [7.0, 5.0, 6.0]]]])
    values, indices = F.max_pool2d(x, 2, stride=1, return_indices=True)
    assert values.tolist() == [[[[9.0, 9.0], [7.0, 8.0]]]]
    assert indices.tolist() == [[[[1, 1], [6, 5]]]]


AVG_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
    {"kernel_size": 2, "ceil_mode": True},
]


@pytest.mark.parametrize("case", AVG_CASES, ids=str)
def test_avg_pool2d_matches_numpy(case):
    x = rand64(RNG, 2, 3, 7, 6, grad=False)
    expected = R.avg_pool2d(x.numpy(), case["kernel_size"], case.get("stride"),
                            case.get("padding", 0), case.get("ceil_mode", False),
                            case.get("count_include_pad", True),
                            case.get("divisor_override"))  # fmt: skip
    close(nn.AvgPool2d(**case)(x), expected)


def test_avg_pool2d_gradcheck():
    pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    assert module_gradcheck(pool, rand64(RNG, 1, 1, 4, 5))


@pytest.mark.parametrize("size", [1, (3, 2), (2, None), (5, 7)], ids=str)
def test_adaptive_avg_pool2d_matches_numpy(size):
    x = rand64(RNG, 2, 3, 5, 7, grad=False)
    target = size if isinstance(size, int) else (size[0], size[1] or 7)
    close(nn.AdaptiveAvgPool2d(size)(x), R.adaptive_avg_pool2d(x.numpy(), target))


def test_adaptive_avg_pool2d_gradcheck():
    assert module_gradcheck(nn.AdaptiveAvgPool2d((2, 3)), rand64(RNG, 1, 1, 3, 4))


def test_pool1d_layers_match_their_2d_forms():
    x = rand64(RNG, 2, 3, 9, grad=False)
    close(nn.MaxPool1d(3, stride=2, padding=1)(x), _max_pool1d_ref(x.numpy(), 3, 2, 1))
    close(nn.AvgPool1d(2)(x), x.numpy()[:, :, :8].reshape(2, 3, 4, 2).mean(-1))
    close(nn.AdaptiveAvgPool1d(1)(x), x.numpy().mean(-1, keepdims=True))
    for layer in (nn.MaxPool1d(2), nn.AvgPool1d(3, 2, 1), nn.AdaptiveAvgPool1d(3), nn.Flatten()):
        assert module_gradcheck(layer, rand64(RNG, 1, 2, 5))


def _max_pool1d_ref(x, k, s, p):
    xp = np.pad(x, ((0, 0), (0, 0), (p, p)), constant_values=-np.inf)
    out = (x.shape[-1] + 2 * p - k) // s + 1
    return np.stack([xp[:, :, i * s : i * s + k].max(-1) for i in range(out)], -1)


def test_pool_rejects_too_much_padding():
    with pytest.raises(ValueError, match="half the kernel"):
        F.max_pool2d(mt.ones(1, 1, 4, 4), 2, padding=2)


def test_flatten():
    x = mt.ones(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)


# -- dropout --------------------------------------------------------------------------------
def test_dropout_training_zeroes_and_rescales():
    mt.manual_seed(0)
    x = mt.ones(4000, requires_grad=True)
    y = nn.Dropout(0.25)(x)
    values = y.numpy()
    assert set(np.unique(values).tolist()) <= {0.0, float(np.float32(1.0 / 0.75))}
    assert abs((values == 0).mean() - 0.25) < 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)  # the gradient is the mask


def test_dropout_eval_edge_probabilities_and_seed():
    x = mt.randn(50)
    drop = nn.Dropout(0.5)
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert nn.Dropout(1.0)(x).tolist() == [0.0] * 50
    drop.train()
    mt.manual_seed(3)
    first = drop(x).numpy()
    mt.manual_seed(3)
    np.testing.assert_array_equal(drop(x).numpy(), first)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# -- normalisation --------------------------------------------------------------------------
@pytest.mark.parametrize("shape,normalized", [((3, 5), 5), ((2, 3, 4), (3, 4))])
def test_layer_norm_matches_numpy(shape, normalized):
    ln = _double(nn.LayerNorm(normalized))
    with mt.no_grad():
        ln.weight[...] = rand64(RNG, *ln.weight.shape, grad=False)
        ln.bias[...] = rand64(RNG, *ln.bias.shape, grad=False)
    x = rand64(RNG, *shape, grad=False)
    k = 1 if isinstance(normalized, int) else len(normalized)
    close(ln(x), R.layer_norm(x.numpy(), k, ln.weight.numpy(), ln.bias.numpy()))


def test_layer_norm_gradcheck_and_no_affine():
    assert module_gradcheck(nn.LayerNorm(3), rand64(RNG, 2, 3))
    ln = nn.LayerNorm(4, elementwise_affine=False)
    assert list(ln.parameters()) == []
    x = rand64(RNG, 2, 4, grad=False)
    close(ln.double()(x), R.layer_norm(x.numpy(), 1))


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                       (nn.BatchNorm2d, (4, 3, 2, 3))])  # fmt: skip
def test_batch_norm_training_and_running_stats(cls, shape):
    bn = _double(cls(3, momentum=0.3))
    with mt.no_grad():
        bn.weight[...] = rand64(RNG, 3, grad=False)
        bn.bias[...] = rand64(RNG, 3, grad=False)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(2):
        x = rand64(RNG, *shape, grad=False)
        y, batch_mean, batch_var = R.batch_norm_train(x.numpy(), bn.weight.numpy(), bn.bias.numpy())
        close(bn(x), y)
        mean, var = 0.7 * mean + 0.3 * batch_mean, 0.7 * var + 0.3 * batch_var
        close(bn.running_mean, mean)
        close(bn.running_var, var)
    assert bn.num_batches_tracked.item() == 2
    bn.eval()
    x = rand64(RNG, *shape, grad=False)
    close(bn(x), R.batch_norm_eval(x.numpy(), mean, var, bn.weight.numpy(), bn.bias.numpy()))
    assert bn.num_batches_tracked.item() == 2  # eval leaves the statistics alone
    close(bn.running_mean, mean)


def test_batch_norm_cumulative_average_and_untracked():
    bn = _double(nn.BatchNorm1d(2, momentum=None))
    batches = [rand64(RNG, 5, 2, grad=False) for _ in range(3)]
    for x in batches:
        bn(x)
    close(bn.running_mean, np.mean([x.numpy().mean(0) for x in batches], axis=0))
    free = _double(nn.BatchNorm1d(2, track_running_stats=False, affine=False))
    assert free.running_mean is None and list(free.state_dict()) == []
    x = rand64(RNG, 5, 2, grad=False)
    close(free.eval()(x), R.batch_norm_train(x.numpy(), np.ones(2), np.zeros(2))[0])


def test_batch_norm_gradcheck_and_errors():
    assert module_gradcheck(nn.BatchNorm1d(2), rand64(RNG, 3, 2))
    assert module_gradcheck(nn.BatchNorm2d(2).eval(), rand64(RNG, 2, 2, 1, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mt.ones(1, 3))
    with pytest.raises(ValueError, match="4-d input"):
        nn.BatchNorm2d(3)(mt.ones(2, 3))


# -- embedding ------------------------------------------------------------------------------
def test_embedding_lookup_matches_numpy():
    emb = nn.Embedding(7, 3)
    idx = mt.tensor([[0, 6, 2], [2, 2, 5]])
    close(emb(idx), emb.weight.numpy()[idx.numpy()])
    assert emb(mt.tensor([], dtype=mt.int64)).shape == (0, 3)


def test_embedding_gradient_accumulates_repeats_and_skips_padding():
    emb = nn.Embedding(5, 2, padding_idx=1)
    assert emb.weight[1].tolist() == [0.0, 0.0]
    emb(mt.tensor([1, 3, 3, 0, 1])).sum().backward()
    assert emb.weight.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0], [2.0, 2.0], [0.0, 0.0]]


def test_embedding_scale_grad_by_freq():
    emb = nn.Embedding(4, 2, scale_grad_by_freq=True)
    emb(mt.tensor([3, 3, 3, 0])).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), [[1, 1], [0, 0], [0, 0], [1, 1]])


def test_embedding_max_norm_renormalises_used_rows_in_place():
    weight = mt.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    emb = nn.Embedding.from_pretrained(weight, freeze=False, max_norm=1.0)
    out = emb(mt.tensor([0, 1]))
    np.testing.assert_allclose(emb.weight.numpy(), [[0.6, 0.8], [0.3, 0.4], [6.0, 8.0]], rtol=1e-6)
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    assert out.requires_grad


def test_embedding_gradcheck_and_errors():
    emb = nn.Embedding(4, 2, scale_grad_by_freq=False)
    idx = mt.tensor([[0, 3], [2, 3]])
    assert module_gradcheck(emb, idx)
    with pytest.raises(TypeError, match="integer"):
        emb(mt.ones(2))
    with pytest.raises(IndexError):
        emb(mt.tensor([4]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


# -- activations ----------------------------------------------------------------------------
ACTIVATIONS = [
    (nn.ReLU(), R.relu),
    (nn.GELU(), R.gelu),
    (nn.GELU(approximate="tanh"), lambda x: R.gelu(x, "tanh")),
    (nn.Sigmoid(), R.sigmoid),
    (nn.Tanh(), np.tanh),
    (nn.Softmax(dim=1), lambda x: R.softmax(x, 1)),
    (nn.LogSoftmax(dim=-1), lambda x: R.log_softmax(x, -1)),
    (nn.Softmax(dim=0), lambda x: R.softmax(x, 0)),
]


@pytest.mark.parametrize(
    "layer,ref", ACTIVATIONS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else ""
)
def test_activation_matches_numpy_and_gradchecks(layer, ref):
    x = rand64(RNG, 3, 4, grad=False)
    close(layer(x), ref(x.numpy()), rtol=1e-7, atol=1e-12)
    assert module_gradcheck(layer, rand64(RNG, 2, 3))


def test_activations_with_extreme_inputs_stay_finite():
    x = mt.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    for layer in (nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU("tanh"), nn.LogSoftmax(0)):
        assert bool(layer(x).isfinite().all()), layer
    assert F.gelu(mt.tensor([-1000.0])).item() == 0.0
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_functional_pad():
    x = mt.arange(6.0).reshape(2, 3)
    assert F.pad(x, (1, 0, 0, 1)).tolist() == [[0, 0, 1, 2], [0, 3, 4, 5], [0, 0, 0, 0]]
    assert F.pad(x, (-1, 1), value=9.0).tolist() == [[1, 2, 9], [4, 5, 9]]
    assert fn_gradcheck(lambda t: F.pad(t, (2, 1, 1, 0)), rand64(RNG, 2, 2))


def test_gelu_at_known_points():
    x = mt.tensor([-2.0, 1.0], dtype=mt.float64)
    expected = [
        -2.0 * 0.5 * (1 + math.erf(-2 / math.sqrt(2))),
        0.5 * (1 + math.erf(1 / math.sqrt(2))),
    ]
    close(F.gelu(x), expected)
