"""Fresh descriptors for the core's composites of optional primitives: scratch buffers,
host arrays uploaded, and constants broadcast as stride-0 views."""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core.dtypes import DType
from mytensor.core.layout import contiguous_strides, numel

__all__ = ["constants", "contiguous", "host_descriptor"]


def contiguous(backend: Any, shape: tuple[int, ...], dtype: DType) -> Strided:
    """A fresh C-contiguous descriptor on `backend`."""
    return Strided(
        backend.allocate(numel(shape), dtype), shape, contiguous_strides(shape), 0, dtype
    )


def host_descriptor(backend: Any, array: np.ndarray, dtype: DType) -> Strided:
    shape = tuple(np.shape(array))  # ascontiguousarray makes a 0-d array 1-d
    array = np.ascontiguousarray(array, dtype=dtype.numpy)
    return Strided(backend.from_host(array.reshape(-1)), shape, contiguous_strides(shape), 0, dtype)


def constants(backend: Any, values: tuple[float, ...], like: Strided) -> list[Strided]:
    """Each value rounded once to `like`'s dtype, as a stride-0 view of `like`'s shape
    (one upload for all of them)."""
    buffer = backend.from_host(np.array(values, dtype=np.float64).astype(like.dtype.numpy))
    zeros = (0,) * len(like.shape)
    return [Strided(buffer, like.shape, zeros, i, like.dtype) for i in range(len(values))]
