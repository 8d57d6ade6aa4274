"""New layers, EmbeddingBag, parameter containers, nn.utils and nn.init against PyTorch
(skipped where torch is not installed): the same state dict gives the same outputs and
gradients; containers name their parameters as PyTorch does, so its state dicts load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _nn_parity import BACKENDS, TOL, compare, f32, torch, torch_twin

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn, optim

RNG = np.random.default_rng(13)


LAYERS = [
    ("GroupNorm", (2, 6), {}, (4, 6, 5)),
    ("GroupNorm", (3, 3), {"affine": False, "eps": 1e-3}, (2, 3, 4, 4)),
    ("GroupNorm", (1, 4), {"bias": False}, (2, 4, 3)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("Unflatten", (1, (2, 3)), {}, (4, 6, 5)),
    ("Unflatten", (-1, (5, -1)), {}, (2, 10)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_layer_matches_torch(backend, name, args, kwargs, shape):
    with mt.use_backend(backend):
        module = getattr(nn, name)(*args, **kwargs)
        twin = torch_twin(module, name, args, kwargs)
        assert repr(module) == repr(twin)
        compare(module, twin, f32(RNG, *shape))


def test_bilinear_layer_matches_torch_and_loads_its_state_dict():
    twin = torch.nn.Bilinear(3, 4, 5)
    ours = nn.Bilinear(3, 4, 5)
    assert repr(ours) == repr(twin)
    ours.load_state_dict(twin.state_dict())
    a, b = f32(RNG, 6, 3), f32(RNG, 6, 4)
    x1, x2 = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    t1, t2 = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = ours(x1, x2), twin(t1, t2)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    out.sum().backward()
    tout.sum().backward()
    for mine, theirs in ((x1, t1), (x2, t2), (ours.weight, twin.weight), (ours.bias, twin.bias)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), **TOL)
    mt.manual_seed(0)
    wide = nn.Bilinear(400, 2, 3)  # U(-1/sqrt(in1), 1/sqrt(in1)), as in PyTorch
    assert 0.95 * 0.05 < np.abs(wide.weight.numpy()).max() <= 0.05


def test_unflatten_errors():
    with pytest.raises(ValueError, match=r"Unflatten: unflattened_size \(4, 2\).*size 6"):
        nn.Unflatten(1, (4, 2))(mt.ones(2, 6))
    with pytest.raises(IndexError, match=r"Unflatten: dim 3 is out of range"):
        nn.Unflatten(3, (2, 3))(mt.ones(2, 6))


def test_loss_modules_match_torch():
    a, b = f32(RNG, 4, 3), f32(RNG, 4, 3) * 3
    for name, kwargs in (("HuberLoss", {"delta": 0.5}), ("HuberLoss", {"reduction": "sum"})):
        ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
        assert ours(mt.tensor(a), mt.tensor(b)).item() == pytest.approx(
            theirs(torch.tensor(a), torch.tensor(b)).item(), rel=1e-5
        )
    target = RNG.choice([-1.0, 1.0], size=(4, 3)).astype(np.float32)
    ours, theirs = nn.MarginRankingLoss(0.2), torch.nn.MarginRankingLoss(0.2)
    value = ours(mt.tensor(a), mt.tensor(b), mt.tensor(target)).item()
    expected = theirs(torch.tensor(a), torch.tensor(b), torch.tensor(target)).item()
    assert value == pytest.approx(expected, rel=1e-5)


# -- EmbeddingBag --------------------------------------------------------------------------
FLAT_INPUT, OFFSETS = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0]), np.array([0, 2, 2, 5])
BAG_CASES = [
    {"mode": "sum"},
    {"mode": "mean"},
    {"mode": "max"},
    {"mode": "mean", "padding_idx": 4},
    {"mode": "max", "padding_idx": 2},
    {"mode": "sum", "include_last_offset": True},
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kwargs", BAG_CASES)
def test_embedding_bag_matches_torch(backend, kwargs):
    offsets = OFFSETS
    if kwargs.get("include_last_offset"):  # the last offset is the input's end
        offsets = np.append(OFFSETS, len(FLAT_INPUT))
    with mt.use_backend(backend):
        ours = nn.EmbeddingBag(10, 4, **kwargs)
        twin = torch.nn.EmbeddingBag(10, 4, **kwargs)
        assert repr(ours) == repr(twin)
        ours.load_state_dict(twin.state_dict())
        out = ours(mt.tensor(FLAT_INPUT), mt.tensor(offsets))
        tout = twin(torch.tensor(FLAT_INPUT), torch.tensor(offsets))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
        upstream = f32(RNG, *out.shape)
        out.backward(mt.tensor(upstream))
        tout.backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.weight.grad.numpy(), twin.weight.grad.numpy(), **TOL)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_input_matches_torch(mode):
    weight = f32(RNG, 10, 3)
    idx = RNG.integers(0, 10, size=(4, 5))
    out = F.embedding_bag(mt.tensor(idx), mt.tensor(weight), mode=mode)
    tout = torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(weight), mode=mode)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), **TOL)


def test_embedding_bag_per_sample_weights_gradient_matches_torch():
    weight, psw = f32(RNG, 10, 4), f32(RNG, len(FLAT_INPUT))
    w, p = mt.tensor(weight, requires_grad=True), mt.tensor(psw, requires_grad=True)
    tw, tp = torch.tensor(weight, requires_grad=True), torch.tensor(psw, requires_grad=True)
    args = {"mode": "sum"}
    out = F.embedding_bag(mt.tensor(FLAT_INPUT), w, mt.tensor(OFFSETS), per_sample_weights=p,
                          **args)  # fmt: skip
    tout = torch.nn.functional.embedding_bag(
        torch.tensor(FLAT_INPUT), tw, torch.tensor(OFFSETS), per_sample_weights=tp, **args
    )
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), **TOL)
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **TOL)


def test_embedding_bag_scale_grad_by_freq_divides_by_the_batch_count():
    # PyTorch's CPU kernel miscounts here, so the documented rule is the reference: each
    # row's gradient is divided by how often its index occurs in the whole input
    weight = mt.zeros(10, 1, requires_grad=True)
    out = F.embedding_bag(mt.tensor(FLAT_INPUT), weight, mt.tensor(OFFSETS), mode="sum",
                          scale_grad_by_freq=True)  # fmt: skip
    upstream = np.arange(1.0, 5.0, dtype=np.float32).reshape(4, 1)
    out.backward(mt.tensor(upstream))
    plain = np.zeros(10)
    bag_of = np.searchsorted(OFFSETS, np.arange(len(FLAT_INPUT)), side="right") - 1
    np.add.at(plain, FLAT_INPUT, upstream[bag_of, 0])
    counts = np.bincount(FLAT_INPUT, minlength=10)
    expected = np.where(counts > 0, plain / np.maximum(counts, 1), 0.0)
    np.testing.assert_allclose(weight.grad.numpy()[:, 0], expected, rtol=1e-6)


def test_embedding_bag_errors():
    w = mt.ones(5, 2)
    with pytest.raises(ValueError, match="offsets must be None"):
        F.embedding_bag(mt.tensor([[0, 1]]), w, mt.tensor([0]))
    with pytest.raises(ValueError, match="needs offsets"):
        F.embedding_bag(mt.tensor([0, 1]), w)
    with pytest.raises(ValueError, match=r"offsets\[0\] must be 0"):
        F.embedding_bag(mt.tensor([0, 1]), w, mt.tensor([1]))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported"):
        F.embedding_bag(mt.tensor([[0, 1]]), w, per_sample_weights=mt.ones(1, 2))
    with pytest.raises(ValueError, match=r"EmbeddingBag: mode must be 'sum', 'mean' or 'max'"):
        nn.EmbeddingBag(5, 2, mode="median")
    with pytest.raises(ValueError, match=r"embedding_bag\(\): mode must be one of"):
        F.embedding_bag(mt.tensor([[0, 1]]), w, mode="median")


def test_embedding_bag_from_pretrained_freezes_like_torch():
    table = f32(RNG, 4, 3)
    ours = nn.EmbeddingBag.from_pretrained(mt.tensor(table), mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="sum")
    assert ours.weight.requires_grad is theirs.weight.requires_grad is False
    idx = np.array([[0, 3], [2, 2]])
    np.testing.assert_allclose(ours(mt.tensor(idx)).numpy(), theirs(torch.tensor(idx)).numpy())


# -- containers ----------------------------------------------------------------------------
class _Mixer:
    """Builds the same model from either library: a ParameterList and a ParameterDict."""

    @staticmethod
    def build(lib, tensor):
        model = lib.Module()
        model.scales = lib.ParameterList([lib.Parameter(tensor(np.ones(3, np.float32)))])
        model.scales.append(lib.Parameter(tensor(np.full(3, 2.0, np.float32))))
        model.shifts = lib.ParameterDict({"a": lib.Parameter(tensor(np.zeros(3, np.float32)))})
        model.shifts["b"] = lib.Parameter(tensor(np.ones(3, np.float32)))
        return model


def test_parameter_containers_name_parameters_like_torch():
    ours = _Mixer.build(nn, mt.tensor)
    theirs = _Mixer.build(torch.nn, torch.tensor)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.shifts["b"].data.fill_(7.0)
    ours.load_state_dict(theirs.state_dict())
    assert ours.shifts["b"].tolist() == [7.0] * 3
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 4
    total = (ours.scales[0] * ours.scales[1] + ours.shifts["a"]).sum()
    total.backward()
    assert ours.scales[0].grad.tolist() == [2.0] * 3


def test_parameter_list_behaves_like_torch():
    ours = nn.ParameterList([mt.ones(2), mt.zeros(3)])
    theirs = torch.nn.ParameterList([torch.ones(2), torch.zeros(3)])
    assert all(isinstance(p, nn.Parameter) for p in ours)  # plain tensors are wrapped
    assert repr(ours) == repr(theirs).replace("torch.", "mytensor.")
    assert len(ours[1:]) == 1 and ours[-1].shape == (3,)
    ours[0] = mt.full((2,), 5.0)
    assert ours[0].tolist() == [5.0, 5.0] and isinstance(ours[0], nn.Parameter)
    ours += [mt.ones(1)]
    assert [n for n, _ in ours.named_parameters()] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="ParameterList: index 3 is out of range for 3"):
        ours[3]
    with pytest.raises(TypeError, match="iterable of parameters"):
        ours.extend(mt.ones(2))


def test_parameter_dict_behaves_like_torch():
    ours = nn.ParameterDict({"w": mt.ones(2)})
    theirs = torch.nn.ParameterDict({"w": torch.ones(2)})
    ours.update([("b", mt.zeros(2))])
    theirs.update([("b", torch.zeros(2))])
    assert list(ours) == list(theirs) and list(ours.keys()) == ["w", "b"]
    assert (
        repr(ours).splitlines()[1] == "    (w): Parameter containing: [mytensor.float32 of size 2]"
    )
    assert ours.get("missing") is None and "w" in ours
    key, value = ours.popitem()
    assert key == "b" and value.shape == (2,) and list(ours) == ["w"]
    assert ours.setdefault("c", mt.ones(1)).shape == (1,)
    assert [n for n, _ in ours.named_parameters()] == ["w", "c"]
    del ours["w"]
    assert list(ours.state_dict()) == ["c"]
    with pytest.raises(KeyError):
        ours["w"]
    with pytest.raises(TypeError, match="keys must be strings"):
        ours[1] = mt.ones(1)


# -- nn.utils ------------------------------------------------------------------------------
def test_parameters_to_vector_and_back_match_torch():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    twin.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    vec = nn.utils.parameters_to_vector(model.parameters())
    tvec = torch.nn.utils.parameters_to_vector(twin.parameters())
    np.testing.assert_array_equal(vec.numpy(), tvec.detach().numpy())
    (vec * vec).sum().backward()  # in the graph: each parameter gets 2 * itself
    np.testing.assert_allclose(model[0].weight.grad.numpy(), 2 * model[0].weight.numpy())
    fresh = f32(RNG, vec.shape[0] + 3)  # extra entries are ignored, as in PyTorch
    nn.utils.vector_to_parameters(mt.tensor(fresh), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(fresh[: vec.shape[0]]), twin.parameters())
    for (name, p), tp in zip(model.named_parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), tp.detach().numpy(), err_msg=name)


def test_nn_utils_reexports_gradient_clipping_and_checks_input():
    assert nn.utils.clip_grad_norm_ is optim.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is optim.clip_grad_value_
    params = [mt.zeros(2), mt.zeros(3)]
    with pytest.raises(ValueError, match=r"vector_to_parameters\(\).*at least 5 entries"):
        nn.utils.vector_to_parameters(mt.ones(4), params)
    assert params[0].tolist() == [0.0, 0.0]  # a failed call writes nothing
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.utils.vector_to_parameters([1.0] * 5, params)
    with pytest.raises(TypeError, match="single Tensor"):
        nn.utils.parameters_to_vector(mt.ones(2))


# -- nn.init -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (6, 6)])
def test_orthogonal_init_is_orthogonal_like_torch(shape):
    mt.manual_seed(1)
    ours = nn.init.orthogonal_(mt.empty(*shape), gain=1.5).numpy().reshape(shape[0], -1)
    theirs = torch.nn.init.orthogonal_(torch.empty(*shape), gain=1.5).numpy()
    theirs = theirs.reshape(shape[0], -1)
    for w in (ours, theirs):
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(gram, 2.25 * np.eye(min(w.shape)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(mt.empty(3))


def _truncated_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    mass = (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2))) / 2
    shift = (pdf(alpha) - pdf(beta)) / mass
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift**2
    return mean + std * shift, std * math.sqrt(var)


TRUNCATIONS = [
    (0.0, 1.0, -2.0, 2.0),
    (0.5, 1.0, -1.0, 1.5),
    (0.0, 0.02, -0.04, 0.04),
    (1.0, 2.0, 0.0, 10.0),
]


@pytest.mark.parametrize("mean,std,a,b", TRUNCATIONS)
def test_trunc_normal_init_matches_the_truncated_distribution(mean, std, a, b):
    mt.manual_seed(2)
    ours = nn.init.trunc_normal_(mt.empty(200_000), mean, std, a, b).numpy()
    theirs = torch.nn.init.trunc_normal_(torch.empty(200_000), mean, std, a, b).numpy()
    assert a <= ours.min() and ours.max() <= b
    expected_mean, expected_std = _truncated_moments(mean, std, a, b)
    for sample in (ours, theirs):
        assert abs(sample.mean() - expected_mean) < 0.01 * std
        assert abs(sample.std() - expected_std) < 0.01 * std


def test_trunc_normal_warns_and_checks_like_torch():
    with pytest.warns(UserWarning, match="more than 2 std"):
        nn.init.trunc_normal_(mt.empty(10), mean=5.0, a=-1.0, b=1.0)
    with pytest.raises(ValueError, match="a < b"):
        nn.init.trunc_normal_(mt.empty(10), a=1.0, b=-1.0)
    w = nn.init.trunc_normal_(mt.empty(3, 4, dtype=mt.float64))
    assert w.dtype is mt.float64 and w.shape == (3, 4)
