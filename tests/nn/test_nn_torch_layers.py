"""Layers against PyTorch (skipped where torch is not installed): the same weights, the
same input and upstream gradient give the same output, input gradient and parameter
gradients (float32)."""

from __future__ import annotations

import numpy as np
import pytest
from _nn_parity import TOL, compare, torch, torch_twin

import mytensor as mt
from mytensor import nn

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

RNG = np.random.default_rng(2024)


def _input(shape: tuple, kind: str) -> np.ndarray:
    x = RNG.standard_normal(shape).astype(np.float32)
    if kind == "relu":  # many exact zeros: ties inside pooling windows
        x = np.maximum(x, 0.0)
    if kind == "int":
        x = RNG.integers(0, 10, size=shape)
    return x


CASES = [
    ("Linear", (5, 3), {}, (4, 5), "float"),
    ("Linear", (5, 3), {"bias": False}, (2, 3, 5), "float"),
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 11), "float"),
    ("Conv1d", (4, 4, 4), {"padding": "same", "dilation": 2, "groups": 2}, (2, 4, 12), "float"),
    ("Conv2d", (3, 6, 3), {}, (2, 3, 8, 8), "float"),
    (
        "Conv2d",
        (4, 6, (3, 2)),
        {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2},
        (2, 4, 9, 8),
        "float",
    ),
    ("Conv2d", (2, 4, 4), {"padding": "same", "bias": False}, (1, 2, 7, 7), "float"),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8), "relu"),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1}, (2, 3, 9, 8), "relu"),
    ("MaxPool2d", (2,), {"stride": 1, "dilation": 2, "ceil_mode": True}, (1, 2, 7, 6), "float"),
    ("MaxPool2d", (3, 2), {"ceil_mode": True}, (1, 2, 8, 8), "relu"),
    ("MaxPool2d", (2,), {"ceil_mode": True}, (1, 2, 7, 7), "relu"),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 10), "relu"),
    ("MaxPool3d", (2,), {}, (2, 2, 4, 6, 4), "relu"),
    ("MaxPool3d", (3,), {"stride": (1, 2, 2), "padding": 1, "ceil_mode": True},
     (1, 2, 5, 6, 7), "float"),
    ("AvgPool2d", (2,), {}, (2, 3, 8, 8), "float"),
    ("AvgPool2d", (3, 2, 1), {"count_include_pad": False}, (2, 3, 9, 8), "float"),
    ("AvgPool2d", (3, 2, 1), {"ceil_mode": True}, (1, 2, 8, 8), "float"),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (1, 2, 6, 6), "float"),
    ("AvgPool2d", (2,), {"ceil_mode": True}, (1, 2, 7, 7), "float"),
    ("AvgPool1d", (3, 2, 1), {}, (2, 3, 10), "float"),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5), "float"),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 7, 5), "float"),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10), "float"),
    ("Flatten", (), {}, (2, 3, 4), "float"),
    ("LayerNorm", (6,), {}, (3, 4, 6), "float"),
    ("LayerNorm", ([4, 6],), {"elementwise_affine": False}, (3, 4, 6), "float"),
    ("BatchNorm1d", (4,), {}, (8, 4), "float"),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 5), "float"),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 5), "float"),
    ("Embedding", (10, 4), {"padding_idx": 2}, (3, 5), "int"),
    ("Embedding", (10, 4), {"scale_grad_by_freq": True}, (4, 6), "int"),
    ("ReLU", (), {}, (3, 5), "float"),
    ("GELU", (), {}, (3, 5), "float"),
    ("GELU", (), {"approximate": "tanh"}, (3, 5), "float"),
    ("Sigmoid", (), {}, (3, 5), "float"),
    ("Tanh", (), {}, (3, 5), "float"),
    ("Softmax", (), {"dim": 1}, (3, 5), "float"),
    ("LogSoftmax", (), {"dim": -1}, (2, 3, 5), "float"),
]


@pytest.mark.parametrize("name,args,kwargs,shape,kind", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_layer_matches_torch(name, args, kwargs, shape, kind):
    module = getattr(nn, name)(*args, **kwargs)
    twin = torch_twin(module, name, args, kwargs)
    compare(module, twin, _input(shape, kind))
    if hasattr(twin, "running_mean"):  # batch norm: statistics and eval mode agree too
        np.testing.assert_allclose(module.running_mean.numpy(), twin.running_mean.numpy(), **TOL)
        np.testing.assert_allclose(module.running_var.numpy(), twin.running_var.numpy(), **TOL)
        assert module.num_batches_tracked.item() == twin.num_batches_tracked.item()
        compare(module.eval(), twin.eval(), _input(shape, kind))


def test_max_pool_indices_match_torch():
    x = _input((2, 3, 9, 8), "relu")
    for kwargs in (
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 2, "dilation": 2},
    ):
        _, idx = nn.MaxPool2d(**kwargs, return_indices=True)(mt.tensor(x))
        _, tidx = torch.nn.MaxPool2d(**kwargs, return_indices=True)(torch.tensor(x))
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.parametrize("backend", [b.name for b in mt.backends() if b.status == "loaded"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_pool_values_indices_and_gradients_match_torch_on_every_backend(backend, dims):
    # native kernels (numpy_ref, numba_cpu) and the composite of ops (minimal), with
    # padding, dilation and windows whose in-bounds values are all -inf or tied
    rng = np.random.default_rng(dims)
    x = rng.integers(-2, 3, size=(2, 3) + (7,) * dims).astype(np.float64)
    x[x < 1] = -np.inf  # most values: whole windows of -inf occur in every dim
    g = rng.standard_normal((2, 3) + (4,) * dims)
    pool, twin = (getattr(m, f"max_pool{dims}d") for m in (mt.nn.functional,
                                                            torch.nn.functional))  # fmt: skip
    ours = mt.tensor(x, backend=backend, requires_grad=True)
    values, idx = pool(ours, 3, 2, 1, 1, False, True)
    theirs = torch.tensor(x, requires_grad=True)
    tvalues, tidx = twin(theirs, 3, 2, 1, 1, False, True)
    np.testing.assert_array_equal(values.numpy(), tvalues.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    values.backward(mt.tensor(g, backend=backend))
    tvalues.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
    if dims > 1:  # integer input (PyTorch's max_pool1d has no integer kernel)
        ints = rng.integers(-50, 50, size=(1, 2) + (5,) * dims)
        got = pool(mt.tensor(ints, backend=backend), 2, 2, 1, 1, True)
        expected = twin(torch.tensor(ints), 2, 2, 1, 1, True)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_embedding_max_norm_matches_torch():
    weight = RNG.standard_normal((6, 3)).astype(np.float32) * 2
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    emb = nn.Embedding.from_pretrained(mt.tensor(weight), freeze=False, max_norm=1.5)
    temb = torch.nn.Embedding.from_pretrained(torch.tensor(weight), freeze=False, max_norm=1.5)
    out, tout = emb(mt.tensor(idx)), temb(torch.tensor(idx))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(emb.weight.numpy(), temb.weight.detach().numpy(), **TOL)


def test_dropout_matches_torch_in_eval_and_in_expectation():
    x = _input((2000,), "float")
    drop, tdrop = nn.Dropout(0.3), torch.nn.Dropout(0.3)
    np.testing.assert_array_equal(
        drop.eval()(mt.tensor(x)).numpy(), tdrop.eval()(torch.tensor(x)).numpy()
    )
    kept = drop.train()(mt.ones(20000)).numpy()
    tkept = tdrop.train()(torch.ones(20000)).numpy()
    assert abs(kept.mean() - tkept.mean()) < 0.05 and kept.max() == pytest.approx(tkept.max())


def test_lenet_matches_torch_end_to_end():
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 6, 5, padding=2), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(6, 16, 5), lib.ReLU(), lib.MaxPool2d(2), lib.Flatten(),
            lib.Linear(16 * 5 * 5, 120), lib.ReLU(), lib.Linear(120, 84), lib.ReLU(),
            lib.Linear(84, 10),
        )  # fmt: skip

    model, twin = build(nn), build(torch.nn)
    twin.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    x = _input((2, 1, 28, 28), "float")
    target = np.array([3, 7])
    loss = nn.CrossEntropyLoss()(model(mt.tensor(x)), mt.tensor(target))
    tloss = torch.nn.CrossEntropyLoss()(twin(torch.tensor(x)), torch.tensor(target))
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-5)
    loss.backward()
    tloss.backward()
    tparams = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), err_msg=name, **TOL)


def test_torch_state_dict_loads_directly():
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model.load_state_dict(twin.state_dict())
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[key].numpy(), value.numpy())


def test_default_init_matches_torch_bounds():
    mt.manual_seed(0)
    torch.manual_seed(0)
    for name, args in (("Linear", (300, 200)), ("Conv2d", (16, 32, 3)), ("Conv1d", (8, 16, 5))):
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        w, tw = ours.weight.numpy(), theirs.weight.detach().numpy()
        bound = 1 / np.sqrt(w[0].size)  # kaiming_uniform_(a=sqrt(5)) and the bias share it
        assert w.shape == tw.shape and np.abs(tw).max() <= bound
        assert 0.97 * bound < np.abs(w).max() <= bound
        assert abs(w.std() - tw.std()) < 0.05 * tw.std()
        assert np.abs(ours.bias.numpy()).max() <= bound and ours.bias.shape == theirs.bias.shape
    emb, temb = nn.Embedding(500, 40), torch.nn.Embedding(500, 40)
    assert abs(emb.weight.numpy().std() - temb.weight.detach().numpy().std()) < 0.05
