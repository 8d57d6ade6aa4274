"""Max pooling in numpy: the reference of the ``max_pool`` primitive.

Every window is a strided view of the input padded with the dtype's lowest value (-inf
for floats); the taps are copied onto a last axis and `argmax` picks each window's first
maximum (a NaN counts as the largest, the first one wins). A window whose in-bounds
values all equal that lowest value would otherwise point at a padding tap, so its index
is moved to the window's first in-bounds position, which is where PyTorch's kernels
leave it too.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["max_pool"]


def max_pool(
    x: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    out_size: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices) of max pooling x (N, C, *spatial) into (N, C, *out_size); each
    index is the flat position of the maximum in the input's spatial dims.

    >>> values, indices = max_pool(np.arange(8.0).reshape(1, 1, 2, 4), (2, 2), (2, 2),
    ...                            (0, 0), (1, 1), (1, 2))
    >>> values.tolist(), indices.tolist()
    ([[[[5.0, 7.0]]]], [[[[5, 7]]]])
    """
    n, c, *spatial = x.shape
    dims = len(spatial)
    geometry = zip(out_size, stride, dilation, kernel, strict=True)
    reach = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in geometry]
    after = [max(0, r - size - p) for r, size, p in zip(reach, spatial, padding, strict=True)]
    widths = [(0, 0), (0, 0), *zip(padding, after, strict=True)]
    lowest = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
    padded = np.pad(x, widths, constant_values=lowest)
    steps = padded.strides[2:]
    along = tuple(t * s for t, s in zip(steps, stride, strict=True))
    within = tuple(t * d for t, d in zip(steps, dilation, strict=True))
    shape = (n, c, *out_size, *kernel)
    windows = as_strided(padded, shape, padded.strides[:2] + along + within, writeable=False)
    taps = windows.reshape(n, c, *out_size, math.prod(kernel))
    best = taps.argmax(-1)
    values = np.take_along_axis(taps, best[..., None], -1)[..., 0]
    tap = np.unravel_index(best, kernel)
    index = np.zeros(best.shape, np.int64)
    first = np.zeros(best.shape, np.int64)
    for i in range(dims):
        start = np.arange(out_size[i]) * stride[i] - padding[i]
        start = start.reshape((-1,) + (1,) * (dims - 1 - i))
        skip = -(-np.maximum(-start, 0) // dilation[i]) * dilation[i]  # the first tap inside
        index = index * spatial[i] + start + tap[i] * dilation[i]
        first = first * spatial[i] + start + skip
    return values, np.where(values == lowest, first, index)
