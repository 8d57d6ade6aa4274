"""Autocast's state and casts, read by the few ops that autocast (`mytensor.amp`).

An op on autocast's lists starts with one read, ``STATE.active`` (None outside every
autocast region: the whole cost on the ordinary path), and only inside a region calls
`lower` or `fp32`, which cast its floating operands on the region's device type. The
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
    "cpu": frozenset(("cross_entropy", "nll_loss", "prod", "cdist", "trace")),
    "cuda": frozenset(
        ("cross_entropy", "nll_loss", "softmax", "log_softmax", "layer_norm", "group_norm",
         "sum", "prod", "cdist", "logsumexp")
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
    active: Region | None = None  # the innermost enabled region (per thread, as PyTorch)


STATE = _State()


def _cast(region: Region, t: Any, dtype: DType) -> Any:
    """`t` in `dtype` if it is an eligible tensor (floating, not float64, on the region's
    device type), else `t` unchanged."""
    if t is None or not hasattr(t, "_storage"):
        return t
    current = t.dtype
    if current is dtype or current.kind != "float" or current.bits == 64:
        return t
    if t._storage.backend.device != region.device_type:
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
    region = STATE.active
    if region is None:
        return tensors
    return tuple(_cast(region, t, region.dtype) for t in tensors)


def fp32(op: str, *tensors: Any) -> tuple:
    """The operands of `op` in float32 when the region's device type lists `op`."""
    region = STATE.active
    if region is None or op not in region.fp32_ops:
        return tensors
    return tuple(_cast(region, t, float32) for t in tensors)
