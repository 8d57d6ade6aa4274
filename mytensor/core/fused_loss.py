"""The backward primitives of softmax / log_softmax (`softmax_backward`) and of
cross-entropy (`cross_entropy_backward`) as the core's composites: `map`, `zip`, `reduce`
and `scatter_add` calls, row statistics and each row's target and scale broadcast along
the rows with stride 0."""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core.descriptors import contiguous, host_descriptor
from mytensor.core.layout import broadcast_strides

__all__ = ["cross_entropy_backward", "softmax_backward"]


def softmax_backward(backend: Any, dx: Strided, y: Strided, g: Strided, dim: int,
                     log: bool) -> None:  # fmt: skip
    """The contract's `softmax_backward` on `backend`'s required primitives: ``y * (g -
    sum(g * y))`` (softmax) or ``g - exp(y) * sum(g)`` (log_softmax) along `dim`."""
    kept = tuple(1 if d == dim else n for d, n in enumerate(y.shape))
    sums = contiguous(backend, kept, y.dtype)
    along = Strided(sums.buffer, y.shape, broadcast_strides(kept, sums.strides, y.shape),
                    sums.offset, sums.dtype)  # fmt: skip
    if log:
        backend.reduce("sum", sums, g, (dim,))
        backend.map("exp", dx, y)
        backend.zip("mul", dx, dx, along)
        backend.zip("sub", dx, g, dx)
    else:
        backend.zip("mul", dx, g, y)
        backend.reduce("sum", sums, dx, (dim,))
        backend.zip("sub", dx, g, along)
        backend.zip("mul", dx, y, dx)


def cross_entropy_backward(backend: Any, d_logits: Strided, logp: Strided, target: Strided,
                           scale: Strided) -> None:  # fmt: skip
    """The contract's `cross_entropy_backward` on `backend`'s primitives: exp into
    `d_logits`, -1 added at each row's target (one write per row instead of an (N, C)
    one-hot), then the rows scaled."""
    rows, cols = logp.shape
    if not rows * cols:
        return
    backend.map("exp", d_logits, logp)
    column = Strided(target.buffer, (rows, 1), (target.strides[0], 0), target.offset,
                     target.dtype)  # fmt: skip
    one = host_descriptor(backend, np.array(-1.0), d_logits.dtype)
    minus_one = Strided(one.buffer, (rows, 1), (0, 0), one.offset, one.dtype)
    backend.scatter_add(d_logits, column, minus_one, 1)
    scaled = Strided(scale.buffer, (rows, cols), (scale.strides[0], 0), scale.offset,
                     scale.dtype)  # fmt: skip
    backend.zip("mul", d_logits, d_logits, scaled)
