"""Autocast's state and casts, read by the few ops that autocast (`mytensor.amp`).

An op on autocast's lists starts with one read, ``STATE.active`` (None outside every
autocast region: the whole cost on the ordinary path; else the enabled region of each
device type, so a "cuda" region inside a "cpu" one keeps both, as PyTorch), and only
inside a region calls `lower` or `fp32`, which cast each floating operand by the region
of its own device type. The
casts are ordinary differentiable ops, so the graph runs through them and gradients
reach float32 parameters as float32. The lists follow PyTorch's "Autocast Op Reference":
the ops with a ``fp32`` hook name themselves, and the device type decides (PyTorch's CPU
list keeps softmax in the input's dtype; CUDA's runs it in float32).
"""

from __future__ import annotations

import threading
from typing import Any

from mytensor.core.dtypes import DType, float32

# ops that run in float32 under autocast, by device type (those of them mytensor has)
FP32_OPS = {
    "cpu": frozenset(
        ("cross_entropy", "nll_loss", "prod", "cdist", "trace", "cholesky", "inverse",
         "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
         "smooth_l1_loss", "huber_loss", "kl_div", "margin_ranking_loss",
         "cosine_embedding_loss", "triplet_margin_loss", "reflection_pad", "replication_pad")
    ),
    "cuda": frozenset(
        ("cross_entropy", "nll_loss", "softmax", "log_softmax", "layer_norm", "group_norm",
         "sum", "prod", "cdist", "logsumexp", "binary_cross_entropy_with_logits", "mse_loss",
         "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "margin_ranking_loss",
         "cosine_embedding_loss", "triplet_margin_loss", "reflection_pad", "replication_pad")
    ),
}  # fmt: skip


class Region:
    """One autocast region: device type, low dtype, and the cast cache of its weights."""

    __slots__ = ("cache", "device_type", "dtype", "fp32_ops")

    def __init__(self, device_type: str, dtype: DType, cache_enabled: bool) -> None:
        self.device_type = device_type
        self.dtype = dtype
        self.fp32_ops = FP32_OPS[device_type]
        # id(leaf) -> (leaf, its cast): a weight is cast once per region (PyTorch's cache)
        self.cache: dict[int, tuple[Any, Any]] | None = {} if cache_enabled else None


class _State(threading.local):
    # device type -> its innermost enabled region; None when none is (per thread, as PyTorch)
    active: dict[str, Region] | None = None


STATE = _State()


def _cast(regions: dict[str, Region], t: Any, dtype: DType | None, op: str) -> Any:
    """`t` in `dtype` (None: its region's low dtype) if it is an eligible tensor (floating,
    not float64, on a device type with an enabled region that casts `op`), else `t`."""
    if t is None or not hasattr(t, "_storage"):
        return t
    current = t.dtype
    if current.kind != "float" or current.bits == 64:
        return t
    region = regions.get(t._storage.backend.device)
    if region is None or (dtype is not None and op not in region.fp32_ops):
        return t
    dtype = region.dtype if dtype is None else dtype
    if current is dtype:
        return t
    cache = region.cache
    if cache is not None and t.requires_grad and t._node is None:
        hit = cache.get(id(t))
        if hit is not None and hit[0] is t and hit[1].dtype is dtype:
            return hit[1]
        cast = t.to(dtype)
        cache[id(t)] = (t, cast)
        return cast
    return t.to(dtype)


def lower(op: str, *tensors: Any) -> tuple:
    """The operands of `op` (matmul, linear, conv, ...) in the region's low dtype."""
    regions = STATE.active
    if regions is None:
        return tensors
    return tuple(_cast(regions, t, None, op) for t in tensors)


def fp32(op: str, *tensors: Any) -> tuple:
    """The operands of `op` in float32 when the region's device type lists `op`."""
    regions = STATE.active
    if regions is None:
        return tensors
    return tuple(_cast(regions, t, float32, op) for t in tensors)
