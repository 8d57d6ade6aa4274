"""MNIST and Fashion-MNIST from IDX files the user already has (nothing is downloaded)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from mytensor.core.creation import tensor
from mytensor.data.dataset import TensorDataset

__all__ = ["MNIST", "FashionMNIST", "read_idx", "write_idx"]

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the format of MNIST's ``*-idx3-ubyte``), gzipped or not.

    >>> import tempfile, os, numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_idx(os.path.join(folder, "x-idx1-ubyte"), np.array([3, 1, 4], dtype=np.uint8))
    ...     read_idx(os.path.join(folder, "x-idx1-ubyte")).tolist()
    [3, 1, 4]
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"read_idx(): {path!r} is a damaged gzip file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx(): {path!r} is not an IDX file (its magic number is "
            f"{raw[:4].hex() or 'missing'})"
        )
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4) if len(raw) >= 4 + 4 * ndim else None
    if dims is None:
        raise ValueError(f"read_idx(): {path!r} is truncated inside its header")
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    start = 4 + 4 * ndim
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - start != expected:
        raise ValueError(
            f"read_idx(): {path!r} should hold {expected} bytes of data for shape "
            f"{tuple(dims.tolist())}, but has {len(raw) - start}"
        )
    array = np.frombuffer(raw, dtype, offset=start).reshape(dims.tolist())
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write `array` as an IDX file (gzipped when the name ends in .gz).

    >>> import tempfile, os, numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_idx(os.path.join(folder, "x-idx3-ubyte.gz"), np.zeros((2, 3, 3), np.uint8))
    ...     read_idx(os.path.join(folder, "x-idx3-ubyte.gz")).shape
    (2, 3, 3)
    """
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}
    if array.dtype not in codes:
        raise TypeError(f"write_idx(): IDX cannot hold dtype {array.dtype}")
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path = os.fspath(path)
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if path.endswith(".gz") else data)


class MNIST(TensorDataset):
    """MNIST from its four IDX files, which must already be on disk: samples are
    ``(image, label)`` with a float32 (1, 28, 28) image in [0, 1] (or (784,) with
    `flatten`) and an int64 label.

    The files are looked for in `root` (default: the MYTENSOR_DATA environment variable),
    in root/MNIST, and in root/MNIST/raw, named ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``,
    each optionally ending in .gz.

    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as root:  # two tiny "test" images, for the example
    ...     write_idx(f"{root}/t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    ...     write_idx(f"{root}/t10k-labels-idx1-ubyte.gz", np.array([7, 2], np.uint8))
    ...     ds = MNIST(root, train=False)
    >>> len(ds), ds[0][0].shape, ds[0][1].item()
    (2, (1, 28, 28), 7)
    """

    folders: tuple[str, ...] = ("MNIST", "mnist")
    classes: tuple = tuple(range(10))

    def __init__(
        self, root: str | os.PathLike | None = None, train: bool = True, *, flatten: bool = False
    ) -> None:
        name = type(self).__name__
        if root is None:
            root = os.environ.get("MYTENSOR_DATA")
            if not root:
                raise FileNotFoundError(
                    f"{name}: no data directory: pass root=... or set MYTENSOR_DATA to the "
                    f"directory holding {', '.join(self._names(train))} (optionally .gz)"
                )
        split = "train" if train else "t10k"
        images = read_idx(self._find(Path(root), f"{split}-images-idx3-ubyte", train))
        labels = read_idx(self._find(Path(root), f"{split}-labels-idx1-ubyte", train))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{name}: images of shape {images.shape} and labels of shape "
                f"{labels.shape} do not match (expected (n, h, w) and (n,))"
            )
        pixels = images.astype(np.float32) / 255.0
        pixels = pixels.reshape(len(pixels), -1) if flatten else pixels[:, None]
        self.images = tensor(pixels)
        self.targets = tensor(labels.astype(np.int64))
        super().__init__(self.images, self.targets)

    @staticmethod
    def _names(train: bool) -> list[str]:
        split = "train" if train else "t10k"
        return [f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"]

    def _find(self, root: Path, filename: str, train: bool) -> Path:
        folders = (
            [root] + [root / f for f in self.folders] + [root / f / "raw" for f in self.folders]
        )
        for folder in folders:
            for candidate in (
                filename,
                filename + ".gz",
                filename.replace("-idx", ".idx"),
                filename.replace("-idx", ".idx") + ".gz",
            ):
                if (folder / candidate).is_file():
                    return folder / candidate
        raise FileNotFoundError(
            f"{type(self).__name__}: {filename} (or {filename}.gz) not found in "
            f"{', '.join(str(f) for f in folders)}; the {'training' if train else 'test'} split "
            f"needs {' and '.join(self._names(train))}"
        )


class FashionMNIST(MNIST):
    """Fashion-MNIST: the same file names and layout as `MNIST`, looked for in root,
    root/FashionMNIST (and its raw/), and root/fashion-mnist.

    >>> FashionMNIST.classes[:3]
    ('T-shirt/top', 'Trouser', 'Pullover')
    """

    folders = ("FashionMNIST", "fashion-mnist", "fashion_mnist")
    classes = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
