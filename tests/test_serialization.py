"""save/load in the safetensors format: round trips, the byte layout, bad files, interop."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

import mytensor as mt
from mytensor.serialization import load, load_metadata, save


def _all_dtypes():
    rng = np.random.default_rng(0)
    return {
        "f32": mt.tensor(rng.standard_normal((3, 4)).astype(np.float32)),
        "f64": mt.tensor(rng.standard_normal((2, 3, 2))),
        "i32": mt.tensor(np.array([-(2**31), 0, 2**31 - 1], dtype=np.int32)),
        "i64": mt.tensor(np.array([[-(2**62)], [2**62 + 5]], dtype=np.int64)),
        "b": mt.tensor([True, False, True]),
        "scalar": mt.tensor(3.5, dtype=mt.float64),
        "scalar_int": mt.tensor(7),
        "empty": mt.zeros(0, 4),
        "empty_bool": mt.zeros(2, 0, dtype=mt.bool_),
        "special": mt.tensor([np.nan, np.inf, -np.inf, -0.0]),
        "view": mt.arange(12.0).reshape(3, 4)[:, ::2].T,
    }


def test_round_trip_keeps_dtype_shape_and_values(tmp_path):
    tensors = _all_dtypes()
    path = tmp_path / "all.safetensors"
    save(tensors, path)
    loaded = load(path)
    assert loaded.keys() == tensors.keys()
    for name, t in tensors.items():
        got = loaded[name]
        assert got.dtype is t.dtype and got.shape == t.shape, name
        np.testing.assert_array_equal(got.numpy(), t.numpy())
        assert not got.requires_grad
    assert np.signbit(loaded["special"].numpy()[3])


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    save({"w": mt.ones(3)}, tmp_path / "w.safetensors")
    w = load(tmp_path / "w.safetensors")["w"]
    w += 1
    w.requires_grad_()
    assert w.tolist() == [2.0, 2.0, 2.0]


def test_backend_option(tmp_path):
    save({"x": mt.ones(2)}, tmp_path / "x.safetensors")
    assert load(tmp_path / "x.safetensors", backend="numpy_ref")["x"].backend == "numpy_ref"
    with pytest.raises(mt.BackendError):
        load(tmp_path / "x.safetensors", backend="no_such_backend")


def test_file_layout_is_safetensors(tmp_path):
    path = tmp_path / "layout.safetensors"
    save(
        {"b": mt.tensor([True]), "a": mt.tensor([1.0, 2.0]), "c": mt.tensor([3], dtype=mt.int64)},
        path,
        metadata={"format": "pt"},
    )
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8 : 8 + n])
    assert header["__metadata__"] == {"format": "pt"}
    assert header["c"] == {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}
    assert header["a"] == {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}
    assert header["b"] == {"dtype": "BOOL", "shape": [1], "data_offsets": [16, 17]}
    data = raw[8 + n :]
    assert np.frombuffer(data[8:16], "<f4").tolist() == [1.0, 2.0] and len(data) == 17
    assert load_metadata(path) == {"format": "pt"}


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"x": mt.ones(2)}, path)
    save({"x": mt.zeros(3)}, path)  # replaces
    assert load(path)["x"].tolist() == [0.0, 0.0, 0.0]

    def broken_replace(src, dst):
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk went away"):
        save({"x": mt.full((4,), 9.0)}, path)
    monkeypatch.undo()
    assert load(path)["x"].tolist() == [0.0, 0.0, 0.0]  # the old file survives
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors"]  # no temp file left


def test_save_rejects_what_it_cannot_store(tmp_path):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(TypeError, match=r'obj\["w"\] is a ndarray.*mytensor.tensor\(\)'):
        save({"w": np.ones(2)}, path)
    with pytest.raises(TypeError, match=r"key \(1, 2\) of type tuple.*str or int keys"):
        save({(1, 2): mt.ones(1)}, path)
    with pytest.raises(TypeError, match="metadata"):
        save({"w": mt.ones(1)}, path, metadata={"epoch": 3})
    with pytest.raises(ValueError, match="reserved"):
        save({"__metadata__": mt.ones(1)}, path)
    assert not path.exists()


def _write(path, header, data=b""):
    text = json.dumps(header).encode() if not isinstance(header, bytes) else header
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


@pytest.mark.parametrize(
    ("header", "data", "problem"),
    [
        ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "truncated"),
        ({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "needs 12"),
        ({"x": {"dtype": "C128", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "'C128'"),
        ({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "shape"),
        ({"x": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, "data_offsets"),
        ({"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4, "begin"),
        ({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 9, "cover 4"),
        (
            {
                "x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                "y": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
            },
            b"\0" * 4,
            "overlapping",
        ),
        ({"__metadata__": {"a": 1}}, b"", "__metadata__"),
        (b"{not json", b"", "not valid JSON"),
        (b"[1, 2]", b"", "JSON list"),
    ],
)
def test_corrupt_files_are_explained(tmp_path, header, data, problem):
    path = tmp_path / "corrupt.safetensors"
    _write(path, header, data)
    with pytest.raises(ValueError, match=r"corrupt\.safetensors") as info:
        load(path)
    assert problem in str(info.value)


def test_truncated_files_are_explained(tmp_path):
    path = tmp_path / "model.safetensors"
    save({"w": mt.ones(100), "b": mt.zeros(3)}, path)
    raw = path.read_bytes()
    for cut in (0, 5, 12, len(raw) - 1):
        path.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match=r"model\.safetensors.*(bytes|truncated)"):
            load(path)


def test_half_floats_and_integers_keep_their_dtypes(tmp_path):
    path = tmp_path / "small.safetensors"
    half = np.array([1.5, -2.0], dtype=np.float16)
    bf16 = (np.array([3.0, -0.5], dtype=np.float32).view(np.uint32) >> 16).astype("<u2")
    u8 = np.array([0, 255], dtype=np.uint8)
    data = half.tobytes() + bf16.tobytes() + u8.tobytes()
    _write(
        path,
        {
            "h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
            "bf": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 8]},
            "u": {"dtype": "U8", "shape": [2], "data_offsets": [8, 10]},
        },
        data,
    )
    got = load(path)
    assert got["h"].dtype is mt.float16 and got["h"].tolist() == [1.5, -2.0]
    assert got["bf"].dtype is mt.bfloat16 and got["bf"].tolist() == [3.0, -0.5]
    assert got["u"].dtype is mt.uint8 and got["u"].tolist() == [0, 255]


def test_interop_with_the_safetensors_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    tensors = _all_dtypes()
    ours = tmp_path / "ours.safetensors"
    save(tensors, ours, metadata={"who": "mytensor"})
    theirs = st.load_file(str(ours))
    for name, t in tensors.items():
        np.testing.assert_array_equal(theirs[name], t.numpy())
        assert theirs[name].dtype == t.numpy().dtype
    written = tmp_path / "theirs.safetensors"
    arrays = {k: np.array(v.numpy(), order="C") for k, v in tensors.items()}  # it needs C order
    st.save_file(arrays, str(written), metadata={"a": "b"})
    back = load(written)
    for name, t in tensors.items():
        assert back[name].dtype is t.dtype
        np.testing.assert_array_equal(back[name].numpy(), t.numpy())
    assert load_metadata(written) == {"a": "b"}


def test_a_torch_state_dict_loads_with_identical_values(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 10),
    )
    model(torch.randn(2, 1, 8, 8))  # updates the running statistics
    path = tmp_path / "torch.safetensors"
    st.save_file(model.state_dict(), str(path))
    loaded = load(path)
    assert loaded.keys() == model.state_dict().keys()
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())
        assert loaded[name].shape == tuple(value.shape)
    assert loaded["1.num_batches_tracked"].dtype is mt.int64
    assert loaded["0.weight"].dtype is mt.float32
    # and back: torch reads what mytensor writes
    save(loaded, tmp_path / "again.safetensors")
    again = st.load_file(str(tmp_path / "again.safetensors"))
    model.load_state_dict(again)


def test_tensors_pickle_by_value():
    # DataLoader workers receive datasets of tensors through pickle (core: Tensor.__reduce__)
    import copy
    import pickle

    for t in _all_dtypes().values():
        back = pickle.loads(pickle.dumps(t))
        assert back.dtype is t.dtype and back.shape == t.shape and back.backend == t.backend
        np.testing.assert_array_equal(back.numpy(), t.numpy())
    w = mt.ones(2, requires_grad=True)
    twin = copy.deepcopy(w)
    assert twin.requires_grad and twin.is_leaf and twin._storage is not w._storage
    assert pickle.loads(pickle.dumps(mt.bool_)) is mt.bool_


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "uint16", "uint32", "uint64",
                                   "complex64"])  # fmt: skip
def test_every_standard_dtype_round_trips(tmp_path, dtype):
    values = np.array([[0, 1, 2], [3, 4, 5]]).astype(dtype)
    save({"x": mt.asarray(values)}, tmp_path / "x.safetensors")
    got = load(tmp_path / "x.safetensors")["x"]
    assert got.dtype == mt.asarray(values).dtype
    np.testing.assert_array_equal(got.numpy(), values)


def test_complex128_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "c.safetensors"
    with pytest.raises(TypeError, match=r"'z' is complex128.*complex64"):
        save({"z": mt.asarray(np.array([1 + 2j]))}, path)
    assert not path.exists()
