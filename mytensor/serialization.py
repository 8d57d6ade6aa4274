"""Save and load tensors and checkpoints in the safetensors format, with numpy only (never pickle).

The format (https://github.com/huggingface/safetensors): 8 bytes, the little-endian
length N of a JSON header; N bytes of UTF-8 JSON mapping each tensor's name to
``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` (offsets into the data
that follows), plus an optional ``"__metadata__"`` dict of strings; then the raw
little-endian, row-major data. Files written here load with the `safetensors` library
(and PyTorch's `safetensors.torch.load_file`), and the other way round.

A flat dict of name -> Tensor is stored as exactly that. Anything else `save` accepts (a
checkpoint such as ``{"model": ..., "optim": opt.state_dict(), "epoch": 3}``) keeps its
tensors in the same payload and its structure as one JSON string under the metadata key
"mytensor.tree": tagged nodes ``{"tensor": name}``, ``{"dict": [[key, value], ...]}``
(str or int keys), ``{"tuple": [...]}``, ``{"float": "inf"|"-inf"|"nan"}``, and plain JSON
lists, strings, numbers, booleans and null. Loading only reads data: nothing in a file
is ever executed.
"""

from __future__ import annotations

import json
import math
import os
import struct
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

from mytensor.core.creation import tensor as _tensor
from mytensor.core.tensor import Tensor

__all__ = ["load", "load_metadata", "save"]

PathLike = str | os.PathLike

# code -> (numpy dtype of the stored bytes, numpy dtype of the loaded tensor); safetensors
# has no complex128. BF16 is ml_dtypes' bfloat16 (registered with numpy by mytensor.core.dtypes)
_READ_CODES: dict[str, tuple[str, str]] = {
    "F64": ("<f8", "float64"),
    "F32": ("<f4", "float32"),
    "F16": ("<f2", "float16"),
    "BF16": ("bfloat16", "bfloat16"),
    "I64": ("<i8", "int64"),
    "I32": ("<i4", "int32"),
    "I16": ("<i2", "int16"),
    "I8": ("i1", "int8"),
    "U64": ("<u8", "uint64"),
    "U32": ("<u4", "uint32"),
    "U16": ("<u2", "uint16"),
    "U8": ("u1", "uint8"),
    "C64": ("<c8", "complex64"),
    "BOOL": ("?", "bool"),
}
_WRITE_CODES = {
    target: code for code, (stored, target) in _READ_CODES.items() if np.dtype(stored) == target
}
_MAX_HEADER = 100_000_000  # as in the safetensors library
_TREE_KEY = "mytensor.tree"  # the "__metadata__" entry holding a checkpoint's structure
_ACCEPTED = "Tensors, dicts (str or int keys), lists, tuples, str, int, float, bool and None"


def save(obj: Any, path: PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write tensors, or a checkpoint of nested containers of them, to a .safetensors file.

    A flat dict of name -> Tensor (e.g. a model's `state_dict()`) becomes a plain
    safetensors file; a nested object (dicts with str or int keys, lists, tuples, tensors,
    bool, int, float including inf and nan, str, None) also keeps its structure, and
    `load` gives it back as it was. The file is written to a temporary name in the same
    directory and renamed into place, so an interrupted save never leaves a half-written
    file at `path`; an object that cannot be stored raises TypeError naming where in the
    object it is, and writes nothing.

    Args:
        obj: a dict of tensors, or a nested checkpoint (see above).
        path: where to write.
        metadata: optional str -> str pairs stored in the header's "__metadata__".

    >>> import mytensor as mt, tempfile, os
    >>> w = mt.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = mt.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "ckpt.safetensors")
    ...     mt.save({"model": {"w": w}, "optim": opt.state_dict(), "epoch": 3}, path)
    ...     ckpt = mt.load(path)
    >>> ckpt["epoch"], ckpt["optim"]["state"][0]["momentum_buffer"].tolist()
    (3, [2.0, 4.0])
    """
    path = os.fspath(path)
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"save(): metadata keys and values must be strings (see {bad[0]!r})")
        if _TREE_KEY in metadata:
            raise ValueError(f"save(): the metadata key {_TREE_KEY!r} is reserved for mytensor")
    header: dict[str, Any] = {"__metadata__": dict(metadata)} if metadata is not None else {}
    if _is_flat(obj):
        arrays = _to_arrays(obj)
    else:
        encoder = _TreeEncoder()
        tree = encoder.encode(obj, "obj", "")
        arrays = _to_arrays(encoder.tensors)
        text = json.dumps(tree, allow_nan=False, separators=(",", ":"))
        header["__metadata__"] = {**header.get("__metadata__", {}), _TREE_KEY: text}
    # largest items first (then by name), so every tensor's data is aligned to its itemsize
    order = sorted(arrays, key=lambda k: (-arrays[k].itemsize, k))
    offset = 0
    for name in order:
        array = arrays[name]
        header[name] = {
            "dtype": _WRITE_CODES[_dtype_name(array)],  # every dtype but complex128: checked
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned
    _atomic_write(path, [struct.pack("<Q", len(text)), text, *(arrays[n] for n in order)])


def _is_flat(obj: Any) -> bool:
    """A dict of str -> Tensor: written as a plain safetensors file."""
    if not isinstance(obj, Mapping):
        return False
    return all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


class _TreeEncoder:
    """Turns a nested object into tagged JSON, collecting its tensors under unique names."""

    def __init__(self) -> None:
        self.tensors: dict[str, Tensor] = {}
        self._names: dict[int, str] = {}  # id(tensor) -> name, so shared tensors stay shared
        self._open: set[int] = set()  # containers being encoded, to refuse cycles

    def encode(self, value: Any, where: str, name: str) -> Any:
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, Tensor):
            return {"tensor": self._add_tensor(value, where, name)}
        if not isinstance(value, Mapping | list | tuple):
            fix = " (convert it with .item() or mytensor.tensor())" if _is_numpy(value) else ""
            raise TypeError(
                f"save(): {where} is a {type(value).__name__}, which a checkpoint cannot "
                f"store{fix}; save() stores {_ACCEPTED}"
            )
        if id(value) in self._open:
            raise ValueError(f"save(): {where} contains itself; a checkpoint must be a tree")
        self._open.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {"dict": [self._item(k, v, where, name) for k, v in value.items()]}
            items = [self.encode(v, f"{where}[{i}]", _join(name, i)) for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"tuple": items}
        finally:
            self._open.discard(id(value))

    def _item(self, key: Any, value: Any, where: str, name: str) -> list:
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise TypeError(
                f"save(): {where} has a key {key!r} of type {type(key).__name__}; checkpoint "
                "dicts need str or int keys"
            )
        return [key, self.encode(value, f"{where}[{json.dumps(key)}]", _join(name, key))]

    def _add_tensor(self, value: Tensor, where: str, name: str) -> str:
        if id(value) in self._names:
            return self._names[id(value)]
        _check_storable(where, value)
        unique, n = name or "tensor", 1
        while unique in self.tensors or unique == "__metadata__":
            unique, n = f"{name}#{n}", n + 1
        self.tensors[unique] = value
        self._names[id(value)] = unique
        return unique


def _join(name: str, key: str | int) -> str:
    return f"{name}.{key}" if name else str(key)


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy"


def _dtype_name(array: np.ndarray) -> str:
    return "bool" if array.dtype == np.bool_ else array.dtype.name


def _to_arrays(tensors: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    arrays = {}
    for name, value in tensors.items():
        if name == "__metadata__":
            raise ValueError("save(): '__metadata__' is reserved; pass metadata=... instead")
        _check_storable(repr(name), value)
        array = value.numpy()
        # astype(order="C"), not ascontiguousarray, which would make a 0-d array 1-d
        arrays[name] = array.astype(array.dtype.newbyteorder("<"), order="C")
    return arrays


def _check_storable(where: str, value: Tensor) -> None:
    if value.dtype.name not in _WRITE_CODES:
        raise TypeError(
            f"save(): {where} is {value.dtype.name}, which the safetensors format cannot "
            "store; save it as complex64 (x.astype(mytensor.complex64)) or as its real and "
            "imaginary parts (mytensor.real, mytensor.imag)"
        )


def _atomic_write(path: str, chunks: list) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as for any new file
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                # as bytes: bfloat16 (an ml_dtypes type) exports no buffer of its own
                f.write(chunk.reshape(-1).view(np.uint8).data if isinstance(chunk, np.ndarray)
                        else chunk)  # fmt: skip
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def load(
    path: PathLike,
    map_location: Any = None,
    *,
    backend: str | None = None,
    weights_only: bool | None = None,
    mmap: bool | None = None,
) -> Any:
    """Read a .safetensors file: a dict of name -> Tensor, or the checkpoint `save` wrote.

    Every dtype mytensor has loads as it is (complex128 excepted: safetensors has none;
    F16 and BF16 are float16 and bfloat16). Checkpoint dicts get their int keys back as
    ints, and a tensor saved twice in one object comes back as one tensor. A truncated or corrupt
    file raises ValueError naming the file and what is wrong with it.

    Args:
        path: the file to read.
        map_location: PyTorch's name for where the tensors go: a `mytensor.device`, "cpu",
            "cuda" or a backend name (default: the current backend).
        backend: the backend to create the tensors on (the same as `map_location`).
        weights_only, mmap: accepted for PyTorch's calls; a mytensor file never holds
            code, so loading is always "weights only".

    >>> import mytensor as mt, tempfile, os
    >>> from mytensor.serialization import save, load
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save({"x": mt.arange(3)}, os.path.join(folder, "t.safetensors"))
    ...     load(os.path.join(folder, "t.safetensors"))
    {'x': tensor([0, 1, 2])}
    """
    if map_location is not None:
        from mytensor.core.device import backend_name

        if callable(map_location) or isinstance(map_location, dict):
            raise TypeError(
                "load(): map_location must be a device (mytensor.device, 'cpu', 'cuda' or a "
                "backend name); functions and dicts are PyTorch-pickle features"
            )
        located = backend_name("load", map_location)
        if backend is not None and backend != located:
            raise ValueError(f"load(): map_location={map_location!r} and backend={backend!r} "
                             "disagree")  # fmt: skip
        backend = located
    header, data = _read(path)
    path = os.fspath(path)
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        stored, target = _READ_CODES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        try:
            array = np.frombuffer(
                data, dtype=stored, count=(end - begin) // np.dtype(stored).itemsize, offset=begin
            ).reshape(entry["shape"])
        except ValueError as exc:  # shapes numpy cannot make (too many or too large dims)
            raise ValueError(
                f"load(): {path!r} is not a valid safetensors file: tensor {name!r} has "
                f"shape {tuple(entry['shape'])}, which numpy cannot hold ({exc})"
            ) from None
        out[name] = _tensor(array.astype(target, copy=False), target, backend=backend)
    tree = (header.get("__metadata__") or {}).get(_TREE_KEY)
    if tree is None:
        return out
    return _decode_tree(tree, out, path)


def _decode_tree(text: str, tensors: dict[str, Tensor], path: str) -> Any:
    def bad(problem: str) -> ValueError:
        return ValueError(
            f"load(): {path!r} has a damaged {_TREE_KEY!r} entry (the checkpoint's "
            f"structure): {problem}"
        )

    def decode(node: Any) -> Any:
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if isinstance(node, list):
            return [decode(item) for item in node]
        if not (isinstance(node, dict) and len(node) == 1):
            raise bad(f"expected a value or a one-key tagged object, got {node!r:.80}")
        ((tag, body),) = node.items()
        if tag == "tensor" and isinstance(body, str):
            if body not in tensors:
                raise bad(f"it refers to a tensor {body!r} that the file does not hold")
            return tensors[body]
        if tag == "tuple" and isinstance(body, list):
            return tuple(decode(item) for item in body)
        if tag == "float" and body in ("inf", "-inf", "nan"):
            return float(body)
        if tag == "dict" and isinstance(body, list):
            out = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2 and _is_key(pair[0])):
                    raise bad(f"a dict entry must be [str or int key, value], got {pair!r:.80}")
                out[pair[0]] = decode(pair[1])
            return out
        raise bad(f"unknown node {node!r:.80}")

    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"it is not valid JSON ({exc})") from None
    try:
        return decode(tree)
    except RecursionError:
        raise bad("it is nested too deeply to read") from None


def _is_key(key: Any) -> bool:
    return isinstance(key, str | int) and not isinstance(key, bool)


def load_metadata(path: PathLike) -> dict[str, str]:
    """The "__metadata__" strings of a .safetensors file ({} if it has none); a checkpoint's
    structure entry is left out.

    >>> import mytensor as mt, tempfile, os
    >>> from mytensor.serialization import save, load_metadata
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.safetensors")
    ...     save({"x": mt.ones(1)}, path, metadata={"epoch": "3"})
    ...     load_metadata(path)
    {'epoch': '3'}
    """
    metadata = _read(path)[0].get("__metadata__") or {}
    return {k: v for k, v in metadata.items() if k != _TREE_KEY}


def _read(path: PathLike) -> tuple[dict[str, Any], memoryview]:
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()

    def bad(problem: str) -> ValueError:
        return ValueError(f"load(): {path!r} is not a valid safetensors file: {problem}")

    if len(raw) < 8:
        raise bad(f"it has {len(raw)} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > _MAX_HEADER or 8 + n > len(raw):
        raise bad(
            f"the header length is {n} bytes but the file has {len(raw)} bytes "
            "(truncated, or not a safetensors file)"
        )
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"its header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise bad(f"its header is a JSON {type(header).__name__}, not an object")
    data = memoryview(raw)[8 + n :]
    _check_entries(header, len(data), bad)
    return header, data


def _check_entries(header: dict, size: int, bad) -> None:
    meta = header.get("__metadata__")
    if meta is not None and not (
        isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())
    ):
        raise bad("'__metadata__' must map strings to strings")
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
            raise bad(f"tensor {name!r} needs 'dtype', 'shape' and 'data_offsets'")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _READ_CODES:
            raise bad(
                f"tensor {name!r} has dtype {dtype!r}, which mytensor cannot load "
                f"(it reads {', '.join(_READ_CODES)})"
            )
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
            raise bad(f"tensor {name!r} has shape {shape!r}, not a list of non-negative ints")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1]
        ):
            raise bad(f"tensor {name!r} has data_offsets {offsets!r}, not [begin, end]")
        # Python ints: a declared shape cannot overflow into a small byte count
        nbytes = math.prod(shape) * np.dtype(_READ_CODES[dtype][0]).itemsize
        if offsets[1] - offsets[0] != nbytes:
            raise bad(
                f"tensor {name!r} of dtype {dtype} and shape {tuple(shape)} needs {nbytes} "
                f"bytes, but its data_offsets {offsets} span {offsets[1] - offsets[0]}"
            )
        if offsets[1] > size:
            raise bad(
                f"tensor {name!r} ends at byte {offsets[1]} of the data, but the file has "
                f"only {size} bytes of data (truncated?)"
            )
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for begin, stop, name in sorted(spans):
        if begin != end:
            raise bad(
                f"tensor {name!r} starts at byte {begin} of the data, expected {end} "
                "(overlapping tensors, or a gap)"
            )
        end = stop
    if end != size:
        raise bad(f"the tensors cover {end} bytes of data but the file has {size}")
