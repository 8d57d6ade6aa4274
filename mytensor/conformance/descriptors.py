"""Raw `Strided` descriptors for primitive-level tests: offsets, negative and zero strides,
padding between elements, and a sentinel in every buffer slot the view does not name."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from mytensor.backends.spec import Strided
from mytensor.core.dtypes import DType
from mytensor.core.layout import contiguous_strides


@dataclass
class Layout:
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int
    size: int  # buffer elements

    @classmethod
    def contiguous(cls, shape) -> Layout:
        return cls(tuple(shape), contiguous_strides(shape), 0, max(1, math.prod(shape)))


@st.composite
def layouts(draw, shape, zero_strides: bool = True) -> Layout:
    ndim = len(shape)
    order = draw(st.permutations(range(ndim)))
    steps = [draw(st.sampled_from([1, 2])) for _ in shape]
    negative = [draw(st.booleans()) for _ in shape]
    zero = [zero_strides and draw(st.booleans()) for _ in shape]
    extra = draw(st.integers(0, 3))
    magnitude = [0] * ndim
    span = 1
    for d in reversed(order):
        magnitude[d] = span * steps[d]
        span *= max(shape[d], 1) * steps[d]
    strides, offset = [], extra
    for d in range(ndim):
        if zero[d]:
            strides.append(0)
        elif negative[d]:
            offset += max(shape[d] - 1, 0) * magnitude[d]
            strides.append(-magnitude[d])
        else:
            strides.append(magnitude[d])
    return Layout(tuple(shape), tuple(strides), offset, extra + span + 1)


def flat_index(layout: Layout) -> np.ndarray:
    index = np.full(layout.shape, layout.offset, dtype=np.int64)
    for axis, (size, stride) in enumerate(zip(layout.shape, layout.strides, strict=True)):
        shape = [1] * len(layout.shape)
        shape[axis] = size
        index = index + (np.arange(size) * stride).reshape(shape)
    return index


def constant_on_zero_strides(values: np.ndarray, layout: Layout) -> np.ndarray:
    """`values` made equal along the stride-0 axes (what such a view can hold)."""
    key = tuple(slice(0, 1) if st == 0 else slice(None) for st in layout.strides)
    return np.broadcast_to(values[key], values.shape).copy()


def sentinel(dtype: DType):
    return {"bool": True, "int": -99, "uint": 99, "float": np.nan, "complex": np.nan}[dtype.kind]


def host_buffer(values: np.ndarray, layout: Layout, dtype: DType) -> np.ndarray:
    buffer = np.full(layout.size, sentinel(dtype), dtype=dtype.numpy)
    if values.size:
        buffer[flat_index(layout).reshape(-1)] = values.reshape(-1)
    return buffer


def make(backend, values: np.ndarray, layout: Layout, dtype: DType) -> Strided:
    """A descriptor on `backend` (a dispatch object) holding `values` in `layout`."""
    buffer = backend.from_host(host_buffer(values, layout, dtype))
    return Strided(buffer, layout.shape, layout.strides, layout.offset, dtype)


def whole_buffer(backend, desc: Strided, size: int) -> np.ndarray:
    """Every element of the descriptor's buffer, sentinels included."""
    return backend.to_host(Strided(desc.buffer, (size,), (1,), 0, desc.dtype))
