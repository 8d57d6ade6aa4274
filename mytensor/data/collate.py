"""`default_collate`: a list of samples -> one batch, keeping the samples' structure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mytensor.core.creation import tensor
from mytensor.core.ops.shape import stack
from mytensor.core.tensor import Tensor

__all__ = ["default_collate"]


def default_collate(batch: Sequence[Any]) -> Any:
    """Combine a list of samples into a batch, element by element.

    Tensors are stacked along a new first dimension; numpy arrays and numpy scalars become
    tensors of their dtype, stacked; Python floats, ints and bools become a 1-d tensor
    (float32, int64, bool, as `mytensor.tensor` makes them); tuples, lists, named tuples and
    dicts are collated field by field; strings and anything else are returned as a list.

    >>> import mytensor as mt
    >>> batch = default_collate([(mt.ones(2), 0), (mt.zeros(2), 1)])
    >>> batch[0].shape, batch[1].tolist()
    ((2, 2), [0, 1])
    >>> default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])
    {'x': tensor([1.5, 2.5]), 'name': ['a', 'b']}
    """
    if not batch:
        raise ValueError("default_collate(): got an empty batch")
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(list(batch))
    if isinstance(first, np.ndarray | np.number | np.bool_):
        return tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(first, bool | int | float):
        return tensor(list(batch))
    if isinstance(first, str | bytes):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a named tuple
        return type(first)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(first, Sequence):
        size = len(first)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError(
                "default_collate(): each element in the batch must have the same "
                f"length, got {[len(s) for s in batch]}"
            )
        fields = [default_collate(list(field)) for field in zip(*batch, strict=True)]
        return tuple(fields) if isinstance(first, tuple) else fields
    return list(batch)
