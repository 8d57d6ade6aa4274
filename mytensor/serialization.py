"""Save and load dicts of tensors in the safetensors format, with numpy only (never pickle).

The format (https://github.com/huggingface/safetensors): 8 bytes, the little-endian
length N of a JSON header; N bytes of UTF-8 JSON mapping each tensor's name to
``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` (offsets into the data
that follows), plus an optional ``"__metadata__"`` dict of strings; then the raw
little-endian, row-major data. Files written here load with the `safetensors` library
(and PyTorch's `safetensors.torch.load_file`), and the other way round.
"""

from __future__ import annotations

import json
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
# has no complex128, and its half-precision floats load widened to float32
_READ_CODES: dict[str, tuple[str, str]] = {
    "F64": ("<f8", "float64"),
    "F32": ("<f4", "float32"),
    "F16": ("<f2", "float32"),
    "BF16": ("<u2", "float32"),
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


def save(
    tensors: Mapping[str, Tensor], path: PathLike, metadata: Mapping[str, str] | None = None
) -> None:
    """Write a dict of tensors (e.g. a model's `state_dict()`) to a .safetensors file.

    The file is written to a temporary name in the same directory and renamed into place,
    so an interrupted save never leaves a half-written file at `path`.

    Args:
        tensors: name -> Tensor (float32, float64, int32, int64 or bool; any shape).
        path: where to write.
        metadata: optional str -> str pairs stored in the header's "__metadata__".

    >>> import mytensor as mt, tempfile, os
    >>> from mytensor.serialization import save, load
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.safetensors")
    ...     save({"w": mt.eye(2), "step": mt.tensor(7)}, path)
    ...     loaded = load(path)
    >>> loaded["w"].tolist(), loaded["step"].item()
    ([[1.0, 0.0], [0.0, 1.0]], 7)
    """
    path = os.fspath(path)
    arrays = _to_arrays(tensors)
    header: dict[str, Any] = {}
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"save(): metadata keys and values must be strings (see {bad[0]!r})")
        header["__metadata__"] = dict(metadata)
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


def _dtype_name(array: np.ndarray) -> str:
    return "bool" if array.dtype == np.bool_ else array.dtype.name


def _to_arrays(tensors: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    if not isinstance(tensors, Mapping):
        raise TypeError(f"save(): expected a dict of name -> Tensor, got {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save(): tensor names must be strings, got {name!r}")
        if name == "__metadata__":
            raise ValueError("save(): '__metadata__' is reserved; pass metadata=... instead")
        if not isinstance(value, Tensor):
            raise TypeError(f"save(): {name!r} is a {type(value).__name__}, not a Tensor")
        if value.dtype.name not in _WRITE_CODES:
            raise TypeError(
                f"save(): {name!r} is {value.dtype.name}, which the safetensors format cannot "
                "store; save it as complex64 (x.astype(mytensor.complex64)) or as its real and "
                "imaginary parts (mytensor.real, mytensor.imag)"
            )
        array = value.numpy()
        # astype(order="C"), not ascontiguousarray, which would make a 0-d array 1-d
        arrays[name] = array.astype(array.dtype.newbyteorder("<"), order="C")
    return arrays


def _atomic_write(path: str, chunks: list) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as for any new file
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk.data if isinstance(chunk, np.ndarray) else chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def load(path: PathLike, *, backend: str | None = None) -> dict[str, Tensor]:
    """Read a .safetensors file into a dict of name -> Tensor.

    Every dtype mytensor has loads as it is (complex128 excepted: safetensors has none);
    F16 and BF16 load as float32. A truncated or corrupt file raises
    ValueError naming the file and what is wrong with it.

    Args:
        path: the file to read.
        backend: the backend to create the tensors on (default: the current one).

    >>> import mytensor as mt, tempfile, os
    >>> from mytensor.serialization import save, load
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save({"x": mt.arange(3)}, os.path.join(folder, "t.safetensors"))
    ...     load(os.path.join(folder, "t.safetensors"))
    {'x': tensor([0, 1, 2])}
    """
    header, data = _read(path)
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        stored, target = _READ_CODES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        array = np.frombuffer(
            data, dtype=stored, count=(end - begin) // np.dtype(stored).itemsize, offset=begin
        ).reshape(entry["shape"])
        if entry["dtype"] == "BF16":  # bfloat16 is the top half of a float32
            array = (array.astype(np.uint32) << 16).view(np.float32)
        out[name] = _tensor(array.astype(target, copy=False), target, backend=backend)
    return out


def load_metadata(path: PathLike) -> dict[str, str]:
    """The "__metadata__" strings of a .safetensors file ({} if it has none).

    >>> import mytensor as mt, tempfile, os
    >>> from mytensor.serialization import save, load_metadata
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.safetensors")
    ...     save({"x": mt.ones(1)}, path, metadata={"epoch": "3"})
    ...     load_metadata(path)
    {'epoch': '3'}
    """
    return dict(_read(path)[0].get("__metadata__") or {})


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
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(_READ_CODES[dtype][0]).itemsize
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
