"""Module, Parameter and the containers: registration, traversal, modes, state, hooks, repr."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import mytensor as mt
from mytensor import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(mt.ones(4))
        self.register_buffer("steps", mt.zeros(1))
        self.register_buffer("cache", mt.zeros(2), persistent=False)

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.fc(x).relu() * self.scale


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(4, 2), nn.Dropout(0.5))

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return self.head(self.block(x))


def lenet() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


# -- registration and traversal -------------------------------------------------------------
def test_named_parameters_are_recursive_dotted_and_ordered():
    names = [name for name, _ in Net().named_parameters()]
    assert names == [
        "block.scale",
        "block.fc.weight",
        "block.fc.bias",
        "head.0.weight",
        "head.0.bias",
    ]
    assert [name for name, _ in Net().block.named_parameters(recurse=False)] == ["scale"]


def test_buffers_persistent_and_not():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == ["block.steps", "block.cache"]
    assert "block.cache" not in net.state_dict() and "block.steps" in net.state_dict()
    with pytest.raises(KeyError, match="already exists"):
        net.block.register_buffer("fc", mt.zeros(1))
    with pytest.raises(TypeError, match="buffer"):
        net.block.register_buffer("x", [1.0])
    with pytest.raises(KeyError, match=r'cannot contain "\."'):
        net.block.register_buffer("a.b", mt.zeros(1))
    net.block.steps = mt.ones(1)  # assigning to a buffer name keeps it a buffer
    assert net.state_dict()["block.steps"].tolist() == [1.0]


def test_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "block",
        "block.fc",
        "head",
        "head.0",
        "head.1",
    ]
    assert len(list(net.modules())) == 6
    assert net.get_submodule("head.1").p == 0.5
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        net.get_submodule("head.nope")


def test_shared_parameters_and_modules_count_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_attribute_rules():
    block = Block()
    with pytest.raises(TypeError, match="Parameter or None"):
        block.scale = mt.ones(4)
    block.scale = None
    assert block.scale is None and next(block.named_parameters())[0] == "fc.weight"
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'missing'"):
        _ = block.missing
    del block.fc
    assert "fc" not in dict(block.named_children())
    block.fc = nn.Linear(3, 4)
    block.fc = None
    assert block.fc is None

    class Early(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(mt.ones(1))

    with pytest.raises(AttributeError, match=r"before Module\.__init__"):
        Early()


def test_parameter_is_a_leaf_tensor_in_every_op():
    p = nn.Parameter(mt.tensor([[1.0, -2.0], [3.0, 4.0]]))
    assert isinstance(p, mt.Tensor) and p.is_leaf and p.requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    y = ((p @ p) + p * 2 - 1.0).relu().sum() + mt.conv2d(p[None, None], p[None, None]).sum()
    y = y + mt.where(p > 0, p, 0.0).sum() + mt.stack([p, p]).mean() + p.T.exp().sum()
    assert type(y) is mt.Tensor
    y.backward()
    assert p.grad is not None and p.grad.shape == (2, 2)
    frozen = nn.Parameter(mt.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(mt.tensor([1, 2]))
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.Parameter([1.0])
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q is not p and np.array_equal(q.numpy(), p.numpy())
    assert type(pickle.loads(pickle.dumps(p))) is nn.Parameter


# -- modes and gradients --------------------------------------------------------------------
def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(mt.ones(1))


def test_train_eval_recurse_and_return_self():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("yes")


def test_zero_grad_sets_to_none_or_zero():
    net = Net()
    net(mt.ones(2, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Block", "Linear", "Dropout", "Sequential", "Net"]


def test_lenet_parameter_count():
    model = lenet()
    assert sum(p.numel() for p in model.parameters()) == 61706
    assert model(mt.randn(2, 1, 28, 28)).shape == (2, 10)


# -- state ----------------------------------------------------------------------------------
def test_state_dict_round_trip():
    a, b = Net().eval(), Net().eval()
    x = mt.randn(5, 3)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    state = a.state_dict()
    assert list(state) == ["block.scale", "block.steps", "block.fc.weight", "block.fc.bias",
                           "head.0.weight", "head.0.bias"]  # fmt: skip
    assert all(not t.requires_grad for t in state.values())
    assert b.load_state_dict(state) == ([], [])
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.block.fc.weight is not a.block.fc.weight  # values copied, parameters kept
    numpy_state = {k: v.numpy().astype(np.float64) for k, v in state.items()}
    Net().load_state_dict(numpy_state)  # numpy arrays load too, cast to the parameter dtype


def test_load_state_dict_errors_name_keys_and_shapes():
    net = Net()
    state = net.state_dict()
    del state["head.0.bias"]
    state["extra.weight"] = mt.zeros(1)
    state["block.fc.weight"] = mt.zeros(5, 3)
    before = net.block.fc.bias.numpy().copy()
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Net" in message
    assert "Missing key(s) in state_dict: 'head.0.bias'" in message
    assert "Unexpected key(s) in state_dict: 'extra.weight'" in message
    assert "size mismatch for block.fc.weight" in message and "(5, 3)" in message
    assert "(4, 3)" in message
    np.testing.assert_array_equal(net.block.fc.bias.numpy(), before)  # nothing was written
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even then
        net.load_state_dict(state, strict=False)
    state["block.fc.weight"] = mt.zeros(4, 3)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.0.bias"] and result.unexpected_keys == ["extra.weight"]
    assert not net.block.fc.weight.numpy().any()


def test_batchnorm_state_includes_running_stats():
    bn = nn.BatchNorm1d(3)
    bn(mt.randn(4, 3))
    other = nn.BatchNorm1d(3)
    other.load_state_dict(bn.state_dict())
    np.testing.assert_array_equal(other.running_var.numpy(), bn.running_var.numpy())
    assert other.num_batches_tracked.item() == 1 and other.num_batches_tracked.dtype is mt.int64


# -- hooks ----------------------------------------------------------------------------------
def test_forward_hooks_modify_and_remove():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0.0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape))
    out = layer(mt.ones(3, 2))
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(layer.bias.numpy(), (3, 2)))
    assert calls == [(3, 2)]
    pre.remove()
    post.remove()
    post.remove()  # removing twice is harmless
    layer(mt.ones(1, 2))
    assert calls == [(3, 2)]
    with layer.register_forward_hook(lambda m, args, out: out + 1.0):
        shifted = layer(mt.zeros(1, 2))
    np.testing.assert_allclose(shifted.numpy(), layer.bias.numpy()[None] + 1.0)
    assert layer._forward_hooks == {}


def test_hooks_run_in_registration_order():
    order = []
    relu = nn.ReLU()
    relu.register_forward_pre_hook(lambda m, a: order.append("pre1"))
    relu.register_forward_pre_hook(lambda m, a: order.append("pre2"))
    relu.register_forward_hook(lambda m, a, o: order.append("post"))
    relu(mt.ones(1))
    assert order == ["pre1", "pre2", "post"]


# -- repr -----------------------------------------------------------------------------------
def test_repr_matches_pytorch_layout():
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "    (1): Dropout(p=0.5, inplace=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False)) == (
        "Conv2d(2, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "groups=2, bias=False)"
    )
    assert repr(nn.Conv1d(1, 2, 3, padding="same")) == (
        "Conv1d(1, 2, kernel_size=(3,), stride=(1,), padding=same)"
    )
    assert (
        repr(nn.MaxPool2d(2))
        == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert (
        repr(nn.BatchNorm2d(3))
        == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


# -- moving ---------------------------------------------------------------------------------
def test_to_dtype_keeps_parameter_identity():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    model(mt.randn(4, 2)).sum().backward()
    assert model.to(mt.float64) is model
    assert model[0].weight is weight and weight.dtype is mt.float64 and weight.requires_grad
    assert weight.grad.dtype is mt.float64
    assert model[1].running_mean.dtype is mt.float64
    assert model[1].num_batches_tracked.dtype is mt.int64  # integer buffers stay integer
    assert model(mt.randn(4, 2, dtype=mt.float64)).dtype is mt.float64
    with pytest.raises(TypeError, match="float"):
        model.to(mt.int64)


def test_to_backend_moves_everything_and_still_trains():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    x, y = mt.randn(6, 3), mt.tensor([0, 1, 1, 0, 1, 0])
    expected = nn.CrossEntropyLoss()(model(x), y).item()
    model.to("minimal")
    assert {p.backend for p in model.parameters()} == {"minimal"}
    assert {b.backend for b in model.buffers()} == {"minimal"}
    model.train()
    loss = nn.CrossEntropyLoss()(model(x.to("minimal")), y.to("minimal"))
    assert loss.backend == "minimal"
    loss.backward()
    assert model[0].weight.grad.backend == "minimal"
    assert model[1].num_batches_tracked.item() == 2
    assert expected > 0


# -- containers -----------------------------------------------------------------------------
def test_sequential_indexing_and_mutation():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(nn.Sigmoid())
    assert seq(mt.ones(4, 2)).shape == (4, 1) and float(seq(mt.ones(1, 2)).max()) <= 1.0
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[0]
    assert list(dict(seq.named_children())) == ["0", "1", "2"]
    with pytest.raises(IndexError):
        seq[5]
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert named.enc is named[0] and list(named.state_dict()) == ["enc.weight", "enc.bias"]


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers.extend([nn.Linear(2, 2)])
    layers.insert(1, nn.Tanh())
    layers += [nn.Sigmoid()]
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "ReLU", "Linear", "Sigmoid"]
    assert isinstance(layers[-2], nn.Linear) and len(layers[1:3]) == 2
    del layers[0]
    assert len(layers) == 4 and len(list(layers.parameters())) == 2

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = layers
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1)})

    holder = Holder()
    holder.heads["b"] = nn.Linear(2, 3)
    assert list(holder.heads) == ["a", "b"] and "b" in holder.heads and len(holder.heads) == 2
    assert [k for k, _ in holder.heads.items()] == ["a", "b"]
    assert "heads.b.weight" in holder.state_dict() and "layers.2.weight" in holder.state_dict()
    holder.heads.pop("a")
    assert list(holder.heads.keys()) == ["b"]


def test_deepcopy_gives_an_independent_model():
    model = lenet()
    twin = copy.deepcopy(model)
    x = mt.randn(1, 1, 28, 28)
    np.testing.assert_array_equal(model(x).numpy(), twin(x).numpy())
    with mt.no_grad():
        twin[0].weight[...] = 0.0
    assert model[0].weight.numpy().any()
