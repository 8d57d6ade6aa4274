"""Cross-entropy's backward primitive (`cross_entropy_backward`) as the core's composite:
`map`, `scatter_add` and `zip` calls on the (N, C) operands, each row's target and scale
as (N, 1) columns."""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core.descriptors import host_descriptor

__all__ = ["cross_entropy_backward"]


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
