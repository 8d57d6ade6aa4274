"""Activations, their ``inplace=`` forms and the dropout family against PyTorch (skipped
where torch is not installed): values, input gradients and parameter gradients."""

from __future__ import annotations

import numpy as np
import pytest
from _nn_parity import BACKENDS, TOL, compare, torch, torch_twin

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn

TF = torch.nn.functional

RNG = np.random.default_rng(7)


def _values(shape: tuple[int, ...] = (3, 7)) -> np.ndarray:
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    x.flat[:4] = [0.0, -1.0, 1.0, 25.0][: x.size]  # the kinks, the hardtanh bounds, a big value
    return x


def _check_fn(name: str, kwargs: dict, x: np.ndarray) -> None:
    ours = mt.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, tout = getattr(F, name)(ours, **kwargs), getattr(TF, name)(theirs, **kwargs)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), err_msg=name, **TOL)
    upstream = RNG.standard_normal(x.shape).astype(np.float32)
    out.backward(mt.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), err_msg=name, **TOL)


FUNCTIONS = [
    ("relu", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("silu", {}),
    ("mish", {}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 0.5}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,kwargs", FUNCTIONS, ids=[f"{n}-{i}" for i, (n, _) in
                                                        enumerate(FUNCTIONS)])  # fmt: skip
def test_activation_function_matches_torch(backend, name, kwargs):
    with mt.use_backend(backend):
        _check_fn(name, kwargs, _values())


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_activations_on_0d_and_empty_inputs(shape):
    x = RNG.standard_normal(shape).astype(np.float32)
    for name, kwargs in FUNCTIONS:
        _check_fn(name, kwargs, x)


def test_activation_on_a_non_contiguous_input():
    x = _values((6, 4))
    ours, theirs = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = F.elu(ours.T[::2], 0.7), TF.elu(theirs.T[::2], 0.7)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)


@pytest.mark.parametrize("name,kwargs", [("relu", {}), ("leaky_relu", {"negative_slope": 0.3}),
                                         ("elu", {}), ("silu", {}), ("mish", {}),
                                         ("hardtanh", {})])  # fmt: skip
def test_inplace_writes_into_a_non_leaf_and_keeps_the_gradient(name, kwargs):
    x = _values()
    leaf, tleaf = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mid, tmid = leaf * 2.0, tleaf * 2.0
    out = getattr(F, name)(mid, inplace=True, **kwargs)
    tout = getattr(TF, name)(tmid, inplace=True, **kwargs)
    assert out is mid
    np.testing.assert_allclose(mid.numpy(), tmid.detach().numpy(), **TOL)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), tleaf.grad.numpy(), **TOL)


def test_inplace_on_a_leaf_that_requires_grad_is_refused_and_leaves_it_unchanged():
    x = mt.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"relu_.*leaf"):
        F.relu(x, inplace=True)
    assert x.tolist() == [-1.0, 2.0]
    with mt.no_grad():
        F.leaky_relu(x, 0.5, inplace=True)
    assert x.tolist() == [-0.5, 2.0]


MODULES = [
    ("ReLU", (), {}),
    ("ReLU", (), {"inplace": True}),
    ("LeakyReLU", (0.1,), {}),
    ("ELU", (), {"alpha": 2.0}),
    ("SiLU", (), {}),
    ("Mish", (), {}),
    ("Softplus", (), {"beta": 0.5, "threshold": 10.0}),
    ("Hardtanh", (-0.5, 2.0), {}),
    ("PReLU", (), {}),
    ("PReLU", (4,), {"init": 0.1}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[f"{m[0]}-{i}" for i, m in
                                                          enumerate(MODULES)])  # fmt: skip
def test_activation_module_matches_torch(backend, name, args, kwargs):
    with mt.use_backend(backend):
        module = getattr(nn, name)(*args, **kwargs)
        twin = torch_twin(module, name, args, kwargs)
        assert repr(module) == repr(twin)
        x = _values((2, 4, 3))
        if kwargs.get("inplace"):  # torch refuses in-place on a leaf: feed a non-leaf
            _compare_inplace_module(module, twin, x)
        else:
            compare(module, twin, x)


def _compare_inplace_module(module, twin, x):
    leaf, tleaf = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = module(leaf + 0.0), twin(tleaf + 0.0)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), tleaf.grad.numpy(), **TOL)


def test_prelu_state_dict_and_init_match_torch():
    ours, theirs = nn.PReLU(3, init=0.3), torch.nn.PReLU(3, init=0.3)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy())
    x = _values((2, 3, 5))
    theirs.weight.data = torch.tensor([0.1, -0.2, 0.5])
    ours.load_state_dict(theirs.state_dict())
    compare(ours, theirs, x)


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4)])
def test_prelu_function_on_every_rank(shape):
    x = _values(shape)
    channels = shape[1] if len(shape) >= 2 else 1
    w = RNG.uniform(0.0, 0.5, size=channels).astype(np.float32)
    ours, theirs = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ow, tw = mt.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, tout = F.prelu(ours, ow), TF.prelu(theirs, tw)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)
    np.testing.assert_allclose(ow.grad.numpy(), tw.grad.numpy(), **TOL)


def test_activation_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"prelu\(\).*3 slopes|prelu\(\).*one per channel"):
        F.prelu(mt.ones(2, 4), mt.ones(3))
    with pytest.raises(TypeError, match=r"leaky_relu\(\).*floating"):
        F.leaky_relu(mt.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"Hardtanh.*max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(TypeError, match=r"elu\(\): input must be a Tensor"):
        F.elu([1.0])


# -- dropout -------------------------------------------------------------------------------
CHANNEL_CASES = [
    ("dropout1d", (4, 64, 5), (2,)),
    ("dropout1d", (64, 5), (1,)),
    ("dropout2d", (4, 64, 3, 3), (2, 3)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,shape,channel_axes", CHANNEL_CASES)
def test_channel_dropout_zeroes_whole_channels(backend, name, shape, channel_axes):
    with mt.use_backend(backend):
        mt.manual_seed(0)
        x = mt.ones(*shape, requires_grad=True)
        y = getattr(F, name)(x, p=0.25)
        values = y.numpy()
        whole = (values == 0).all(channel_axes) | np.isclose(values, 4 / 3).all(channel_axes)
        assert whole.all()
        assert 0.1 < (values == 0).mean() < 0.4
        y.sum().backward()  # the gradient is the mask itself
        np.testing.assert_allclose(x.grad.numpy(), values)
        eval_out = getattr(F, name)(x, p=0.25, training=False)
        assert eval_out is x


def test_dropout_modules_match_torch_in_eval_and_repr():
    for name in ("Dropout", "Dropout1d", "Dropout2d"):
        ours, theirs = getattr(nn, name)(0.3, inplace=True), getattr(torch.nn, name)(0.3, True)
        assert repr(ours) == repr(theirs)
        x = _values((2, 3, 4, 5)) if name == "Dropout2d" else _values((2, 3, 4))
        out = ours.eval()(mt.tensor(x))
        np.testing.assert_array_equal(out.numpy(), theirs.eval()(torch.tensor(x)).numpy())


def test_dropout_inplace_writes_into_the_input():
    mt.manual_seed(3)
    x = mt.ones(1000)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(x.numpy().tolist()) == {0.0, 2.0}
    z = mt.ones(4, 8, 3)
    assert nn.Dropout1d(0.5, inplace=True)(z) is z


def test_dropout2d_3d_input_warns_and_drops_1d_channels_as_torch():
    x = mt.ones(4, 32, 6)
    with pytest.warns(UserWarning, match="3-d input"):
        y = F.dropout2d(x, 0.5).numpy()
    assert ((y == 0).all(2) | (y == 2).all(2)).all()


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"dropout1d\(\).*between 0 and 1"):
        F.dropout1d(mt.ones(2, 3), p=1.5)
    with pytest.raises(RuntimeError, match=r"dropout1d\(\).*2-d.*3-d"):
        F.dropout1d(mt.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"Dropout2d.*between 0 and 1"):
        nn.Dropout2d(-0.1)
