"""`embedding_bag`: sums, means or maxima of bags of embedding rows, without the
intermediate (bag, length, dim) tensor for sum and mean.

The rows are looked up once with `embedding` (so max_norm and scale_grad_by_freq behave
as there); which row belongs to which bag is worked out on the host from the offsets,
and becomes a (bags, rows) weight matrix for sum/mean (one matmul, differentiable in
`per_sample_weights` too) or a padded position table for max.
"""

from __future__ import annotations

import numpy as np

from mytensor.core.creation import asarray, full
from mytensor.core.dtypes import int64
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import gather
from mytensor.core.ops.selection import take
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require, embedding

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


def _bags(
    indices: Tensor, offsets: Tensor | None, include_last_offset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(bag starts, bag ends) into the flattened indices."""
    op = "embedding_bag"
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(
                f"{op}(): a 2-d input is a batch of fixed-length bags, so offsets must be "
                f"None, got a tensor of shape {offsets.shape}"
            )
        bags, length = indices.shape
        starts = np.arange(bags) * length
        return starts, starts + length
    if indices.ndim != 1:
        raise ValueError(f"{op}(): input must be 1-d (with offsets) or 2-d, got {indices.shape}")
    if offsets is None:
        raise ValueError(f"{op}(): a 1-d input needs offsets (the start of each bag)")
    if _require(op, offsets, "offsets").ndim != 1 or offsets.dtype.kind != "int":
        raise ValueError(
            f"{op}(): offsets must be a 1-d integer tensor, got shape {offsets.shape} "
            f"and dtype {offsets.dtype.name}"
        )
    n, cuts = indices.shape[0], offsets.numpy().astype(np.int64)
    if cuts.size and cuts[0] != 0:
        raise ValueError(f"{op}(): offsets[0] must be 0 (the first bag starts at 0), got {cuts[0]}")
    if np.any(np.diff(cuts) < 0) or (cuts.size and cuts[-1] > n):
        raise ValueError(
            f"{op}(): offsets {cuts.tolist()} must be non-decreasing and at most the input "
            f"length {n}"
        )
    if include_last_offset:
        return cuts[:-1], cuts[1:]
    return cuts, np.append(cuts[1:], n)


def _max_bags(rows: Tensor, members: list[np.ndarray]) -> Tensor:
    bags, dim = len(members), rows.shape[1]
    longest = max((m.size for m in members), default=0)
    if longest == 0:
        return full((bags, dim), 0.0, dtype=rows.dtype, backend=rows.backend)
    sentinel = full((1, dim), float("-inf"), dtype=rows.dtype, backend=rows.backend)
    table = np.full((bags, longest), rows.shape[0], dtype=np.int64)  # the -inf row
    for b, m in enumerate(members):
        table[b, : m.size] = m
    padded = take(cat([rows, sentinel], 0), asarray(table.reshape(-1), dtype=int64,
                                                    backend=rows.backend), axis=0)  # fmt: skip
    padded = padded.reshape(bags, longest, dim)
    values = gather(padded, 1, padded.argmax(1, keepdim=True)).squeeze(1)
    filled = np.array([m.size > 0 for m in members]).reshape(bags, 1)
    return where(asarray(filled, backend=rows.backend), values, 0.0)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Reduce bags of rows of `weight` (num_embeddings, dim) to one row per bag, by
    ``mode`` ``"sum"``, ``"mean"`` or ``"max"``. A 2-d `input` is one bag per row; a 1-d
    `input` is cut into bags at `offsets` (bag starts; with `include_last_offset` the
    last entry is the end). Entries equal to `padding_idx` are left out; empty bags give
    zeros. ``per_sample_weights`` (input's shape, mode "sum" only) scales each row.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> w = mt.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    >>> F.embedding_bag(mt.tensor([0, 1, 2, 2]), w, mt.tensor([0, 3]), mode="sum").tolist()
    [[5.0, 6.0], [4.0, 4.0]]
    """
    op = "embedding_bag"
    idx = _require(op, input)
    if mode not in _MODES:
        raise ValueError(f"{op}(): mode must be one of {_MODES}, got {mode!r}")
    if sparse:
        raise NotImplementedError(f"{op}(): sparse gradients are not supported")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"{op}(): per_sample_weights is only supported for mode='sum' (got mode={mode!r})"
            )
        if _require(op, per_sample_weights, "per_sample_weights").shape != idx.shape:
            raise ValueError(
                f"{op}(): per_sample_weights of shape {per_sample_weights.shape} must have "
                f"the input's shape {idx.shape}"
            )
    if _require(op, weight, "weight").ndim != 2:
        raise ValueError(f"{op}(): weight must be 2-d, got shape {weight.shape}")
    if padding_idx is not None:
        num = weight.shape[0]
        if not -num <= padding_idx < num:
            raise ValueError(f"{op}(): padding_idx {padding_idx} must be within {num} embeddings")
        padding_idx %= num
    starts, ends = _bags(idx, offsets, include_last_offset)
    flat = idx.reshape(-1)
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    kept = np.ones(flat.shape[0], dtype=bool)
    if padding_idx is not None:
        kept = flat.numpy() != padding_idx
    members = [np.flatnonzero(kept[s:e]) + s for s, e in zip(starts, ends, strict=True)]
    if mode == "max":
        return _max_bags(rows, members)
    share = np.zeros((len(members), flat.shape[0]))
    for b, m in enumerate(members):
        share[b, m] = 1.0 / m.size if mode == "mean" and m.size else 1.0
    matrix = asarray(share, dtype=rows.dtype, backend=rows.backend)
    if per_sample_weights is not None:
        matrix = matrix * per_sample_weights.reshape(1, flat.shape[0])
    return matrix @ rows
