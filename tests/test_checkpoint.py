"""Nested checkpoints with mt.save/mt.load: structure, types, bad input, damaged files, and
training that resumes from a checkpoint bit for bit."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest

import mytensor as mt
from mytensor import nn, optim
from mytensor.optim import lr_scheduler as sch
from mytensor.serialization import load_metadata


def _header(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n])


def test_nested_objects_round_trip_with_their_types(tmp_path):
    w = mt.arange(6.0).reshape(2, 3)
    obj = {
        "model": {"fc.weight": w, "fc.bias": mt.zeros(3, dtype=mt.float64)},
        "state": {0: {"step": 4, "buf": mt.tensor([1, 2], dtype=mt.int32)}, 7: {}},
        "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False}],
        "numbers": [2**70, -3, 0.1, -0.0, math.inf, -math.inf, math.nan, 1e-320],
        "text": 'é ∞ "quoted" \n',
        "nothing": None,
        "empty": {"list": [], "tuple": (), "dict": {}},
        "scalar": mt.tensor(True),
    }
    path = tmp_path / "ckpt.safetensors"
    mt.save(obj, path)
    back = mt.load(path)
    assert list(back) == list(obj)
    assert back["model"]["fc.weight"].tolist() == w.tolist()
    assert back["model"]["fc.bias"].dtype is mt.float64
    assert list(back["state"]) == [0, 7] and all(type(k) is int for k in back["state"])
    assert back["state"][0]["step"] == 4 and back["state"][0]["buf"].dtype is mt.int32
    assert back["state"][7] == {}
    assert back["groups"][0]["betas"] == (0.9, 0.999)
    assert isinstance(back["groups"][0]["betas"], tuple)
    assert back["groups"][0]["params"] == [0, 1] and back["groups"][0]["nesterov"] is False
    numbers = back["numbers"]
    assert numbers[:6] == [2**70, -3, 0.1, -0.0, math.inf, -math.inf]
    assert type(numbers[0]) is int and type(numbers[2]) is float
    assert math.copysign(1.0, numbers[3]) == -1.0 and math.isnan(numbers[6])
    assert numbers[7] == 1e-320
    assert back["text"] == obj["text"] and back["nothing"] is None
    assert back["empty"] == {"list": [], "tuple": (), "dict": {}}
    assert isinstance(back["empty"]["tuple"], tuple)
    assert back["scalar"].shape == () and back["scalar"].item() is True


def test_any_supported_object_can_be_the_top_level(tmp_path):
    path = tmp_path / "x.safetensors"
    for obj in ([mt.ones(2), 3], (1, "a"), 2.5, None, {1: mt.zeros(1)}):
        mt.save(obj, path)
        back = mt.load(path)
        assert type(back) is type(obj)
    t = mt.arange(4)
    mt.save(t, path)
    assert mt.load(path).tolist() == [0, 1, 2, 3]


def test_a_tensor_saved_twice_loads_as_one_tensor(tmp_path):
    w = mt.ones(3)
    mt.save({"a": [w, w], "b": {"again": w}, "other": mt.ones(3)}, tmp_path / "s.safetensors")
    back = mt.load(tmp_path / "s.safetensors")
    assert back["a"][0] is back["a"][1] is back["b"]["again"]
    assert back["other"] is not back["a"][0]
    assert len([k for k in _header(tmp_path / "s.safetensors") if k != "__metadata__"]) == 2


def test_tensor_names_in_the_file_never_collide(tmp_path):
    path = tmp_path / "names.safetensors"
    obj = {"a.b": mt.ones(1), "a": {"b": mt.zeros(1)}, "__metadata__": [mt.full((1,), 2.0)]}
    mt.save(obj, path)
    names = set(_header(path)) - {"__metadata__"}
    assert names == {"a.b", "a.b#1", "__metadata__.0"}
    back = mt.load(path)
    assert back["a.b"].tolist() == [1.0] and back["a"]["b"].tolist() == [0.0]
    assert back["__metadata__"][0].tolist() == [2.0]
    with pytest.raises(ValueError, match="'__metadata__' is reserved"):
        mt.save({"__metadata__": mt.ones(1)}, path)  # a flat dict: the name is the file's


def test_flat_dicts_stay_plain_safetensors(tmp_path):
    path = tmp_path / "flat.safetensors"
    mt.save({"w": mt.ones(2), "b": mt.zeros(1)}, path)
    assert "__metadata__" not in _header(path)
    back = mt.load(path)
    assert type(back) is dict and set(back) == {"w", "b"}
    mt.save({}, path)
    assert mt.load(path) == {}


def test_flat_files_and_checkpoints_read_with_safetensors_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    model = nn.Linear(3, 2)
    flat = tmp_path / "model.safetensors"
    mt.save(model.state_dict(), flat)
    theirs = st.load_file(str(flat))
    assert set(theirs) == {"weight", "bias"}
    np.testing.assert_array_equal(theirs["weight"].numpy(), model.weight.numpy())
    torch.nn.Linear(3, 2).load_state_dict(theirs)
    # a nested checkpoint is a valid safetensors file too: its tensors, named by their path
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(mt.ones(1, 3)).sum().backward()
    opt.step()
    nested = tmp_path / "ckpt.safetensors"
    mt.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 1}, nested)
    tensors = st.load_file(str(nested))
    assert {"model.weight", "optim.state.0.exp_avg", "optim.state.1.exp_avg_sq"} <= set(tensors)
    np.testing.assert_array_equal(
        tensors["optim.state.0.exp_avg"].numpy(), opt.state[model.weight]["exp_avg"].numpy()
    )


def test_metadata_next_to_a_checkpoint(tmp_path):
    path = tmp_path / "m.safetensors"
    mt.save({"epoch": 3, "w": mt.ones(1)}, path, metadata={"who": "me"})
    assert load_metadata(path) == {"who": "me"}
    assert mt.load(path)["epoch"] == 3
    with pytest.raises(ValueError, match=r"'mytensor\.tree' is reserved"):
        mt.save({"w": mt.ones(1)}, path, metadata={"mytensor.tree": "[]"})


def test_load_puts_checkpoint_tensors_on_the_backend_asked_for(tmp_path):
    mt.save({"a": [mt.ones(2)], "n": 1}, tmp_path / "b.safetensors")
    back = mt.load(tmp_path / "b.safetensors", backend="numpy_ref")
    assert back["a"][0].backend == "numpy_ref"


class _Custom:
    pass


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        (
            {"optim": {"state": {0: {1, 2}}}},
            r'obj\["optim"\]\["state"\]\[0\] is a set.*stores Tensors, dicts \(str or int keys\), '
            r"lists, tuples, str, int, float, bool and None",
        ),
        ({"model": [mt.ones(1), _Custom()]}, r'obj\["model"\]\[1\] is a _Custom'),
        ([np.float32(1.0)], r"obj\[0\] is a float32.*\.item\(\)"),
        ({"z": (mt.asarray(np.array([1j])),)}, r'obj\["z"\]\[0\] is complex128'),
        ({"a": {2.5: 1}}, r'obj\["a"\] has a key 2.5 of type float'),
        ({"a": {True: 1}}, r'obj\["a"\] has a key True of type bool'),
        (b"bytes", r"obj is a bytes"),
    ],
)
def test_unsupported_objects_are_named_and_nothing_is_written(tmp_path, obj, where):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(TypeError, match=where):
        mt.save(obj, path)
    assert not path.exists()
    mt.save({"keep": mt.ones(1)}, path)
    with pytest.raises(TypeError):
        mt.save(obj, path)
    assert mt.load(path)["keep"].tolist() == [1.0]  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["bad.safetensors"]


def test_a_cycle_is_refused(tmp_path):
    loop: list = [1]
    loop.append({"again": loop})
    with pytest.raises(ValueError, match=r'obj\[1\]\["again"\] contains itself'):
        mt.save(loop, tmp_path / "never.safetensors")


def _write(path, header, data=b""):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


@pytest.mark.parametrize(
    ("tree", "problem"),
    [
        ('{"tensor": "missing"}', "tensor 'missing' that the file does not hold"),
        ('{"pickle": "os.system"}', "unknown node"),
        ('{"dict": [[1.5, 2]]}', "str or int key"),
        ('{"float": "1e9999"}', "unknown node"),
        ("[1, 2", "not valid JSON"),
        ('{"a": 1, "b": 2}', "one-key tagged object"),
    ],
)
def test_damaged_checkpoint_structure_is_explained(tmp_path, tree, problem):
    path = tmp_path / "damaged.safetensors"
    _write(
        path,
        {
            "__metadata__": {"mytensor.tree": tree},
            "x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        },
        b"\0" * 4,
    )
    with pytest.raises(ValueError, match=r"damaged\.safetensors") as info:
        mt.load(path)
    assert problem in str(info.value)


@pytest.mark.parametrize(
    ("shape", "nbytes", "problem"),
    [
        ([2**32, 2**32, 2], 0, "needs 147573952589676412928 bytes"),  # wraps to 0 in int64
        ([2**62, 0], 0, "numpy cannot hold"),
        ([1] * 65, 4, "numpy cannot hold"),
        ([2, 3], 4 * 5, "needs 24 bytes"),
    ],
)
def test_headers_whose_shape_overflows_or_mismatches_name_the_file(
    tmp_path, shape, nbytes, problem
):
    path = tmp_path / "shape.safetensors"
    _write(
        path, {"x": {"dtype": "F32", "shape": shape, "data_offsets": [0, nbytes]}}, b"\0" * nbytes
    )
    with pytest.raises(ValueError, match=r"shape\.safetensors") as info:
        mt.load(path)
    assert problem in str(info.value)


# -- resuming training from a checkpoint --------------------------------------------------
def _data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((32, 4)).astype(np.float32)
    y = (np.sin(X @ np.array([1.0, -2.0, 0.5, 1.5])) + 0.1).astype(np.float32)
    return mt.tensor(X), mt.tensor(y.reshape(-1, 1))


def _model(seed):
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


def _groups(model):
    first, second = list(model.parameters())[:2], list(model.parameters())[2:]
    return [{"params": first}, {"params": second, "lr": 0.02}]


OPTIMIZERS = {
    "SGD": lambda g: optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam": lambda g: optim.Adam(g, lr=0.01, amsgrad=True),
    "AdamW": lambda g: optim.AdamW(g, lr=0.01),
    "RMSprop": lambda g: optim.RMSprop(g, lr=0.01, momentum=0.5, centered=True),
    "Adagrad": lambda g: optim.Adagrad(g, lr=0.1, lr_decay=0.01),
    "Adadelta": lambda g: optim.Adadelta(g, lr=1.0, weight_decay=1e-3),
}
SCHEDULERS = {
    "StepLR": lambda o: sch.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: sch.MultiStepLR(o, milestones=[2, 6, 6]),
    "ExponentialLR": lambda o: sch.ExponentialLR(o, gamma=0.9),
    "LambdaLR": lambda o: sch.LambdaLR(o, lambda e: 1 / (1 + e)),
    "OneCycleLR": lambda o: sch.OneCycleLR(o, max_lr=0.05, total_steps=12),
    "Sequential": lambda o: sch.SequentialLR(
        o, [sch.LinearLR(o, 0.2, total_iters=3), sch.CosineAnnealingLR(o, T_max=8)], [3]
    ),
    "ReduceLROnPlateau": lambda o: sch.ReduceLROnPlateau(o, factor=0.5, patience=0),
}
PAIRS = [
    ("SGD", "OneCycleLR"),
    ("SGD", "ReduceLROnPlateau"),
    ("Adam", "OneCycleLR"),
    ("Adam", "StepLR"),
    ("AdamW", "Sequential"),
    ("RMSprop", "MultiStepLR"),
    ("RMSprop", "OneCycleLR"),
    ("Adagrad", "ExponentialLR"),
    ("Adagrad", "ReduceLROnPlateau"),
    ("Adadelta", "LambdaLR"),
]


def _train(model, opt, sched, steps, plateau):
    X, y = _data()
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        if plateau:
            sched.step(loss.item())
        else:
            sched.step()


@pytest.mark.parametrize(("opt_name", "sched_name"), PAIRS)
def test_training_resumed_from_a_checkpoint_is_bitwise_identical(tmp_path, opt_name, sched_name):
    total, cut = 12, 5
    plateau = sched_name == "ReduceLROnPlateau"

    def build(seed):
        model = _model(seed)
        opt = OPTIMIZERS[opt_name](_groups(model))
        return model, opt, SCHEDULERS[sched_name](opt)

    model, opt, sched = build(0)
    _train(model, opt, sched, total, plateau)

    first, opt1, sched1 = build(0)
    _train(first, opt1, sched1, cut, plateau)
    path = tmp_path / "ckpt.safetensors"
    mt.save(
        {
            "model": first.state_dict(),
            "optim": opt1.state_dict(),
            "sched": sched1.state_dict(),
            "epoch": cut,
            "note": f"{opt_name} + {sched_name}",
        },
        path,
    )
    del first, opt1, sched1
    ckpt = mt.load(path)
    resumed, opt2, sched2 = build(1)  # other initial weights: all must come from the file
    resumed.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    assert ckpt["epoch"] == cut and ckpt["note"].startswith(opt_name)
    _train(resumed, opt2, sched2, total - cut, plateau)

    for (name, want), got in zip(
        model.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert got.numpy().tobytes() == want.numpy().tobytes(), name
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert sched2.get_last_lr() == sched.get_last_lr()
    for p, q in zip(model.parameters(), resumed.parameters(), strict=True):
        for key, value in opt.state[p].items():
            other = opt2.state[q][key]
            if isinstance(value, mt.Tensor):
                assert other.numpy().tobytes() == value.numpy().tobytes(), key
            else:
                assert other == value, key
