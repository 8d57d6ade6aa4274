"""`autocast`: a region (context manager or decorator) where matmul-like ops run in a low
dtype and the numerically touchy ones in float32 (lists: `mytensor.core._autocast`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from mytensor.core import _autocast
from mytensor.core.dtypes import DType, bfloat16, float16, float32, to_dtype

__all__ = ["autocast", "get_autocast_dtype", "is_autocast_enabled"]

_DEFAULT_DTYPES = {"cpu": bfloat16, "cuda": float16}
_LOW_DTYPES = (bfloat16, float16)
F = TypeVar("F", bound=Callable[..., Any])


class autocast:
    """Run the ops inside in mixed precision, as ``torch.autocast``.

    On `device_type` ("cpu" or "cuda") tensors, matmul, mm, bmm, addmm, linear and
    conv1d/2d/3d cast their floating inputs (not float64) to `dtype` (bfloat16 on "cpu",
    float16 on "cuda" by default); cross_entropy and nll_loss (and on "cuda" softmax,
    log_softmax, layer_norm, sum, ...) run in float32. Other ops run in their inputs'
    dtype. The casts are recorded in the graph, so gradients reach float32 parameters
    as float32. Regions nest; ``enabled=False`` turns autocast off inside one.
    `cache_enabled` (default True) casts each weight (a leaf requiring grad) once per
    region. Works as a decorator too. The state is per thread, as in PyTorch.

    >>> import mytensor as mt
    >>> w = mt.ones(4, 3, requires_grad=True)
    >>> with mt.autocast("cpu"):
    ...     y = mt.nn.functional.linear(mt.ones(2, 3), w)
    ...     with mt.autocast("cpu", enabled=False):
    ...         z = mt.ones(2, 3) @ mt.ones(3, 2)
    >>> y.dtype, z.dtype
    (mytensor.bfloat16, mytensor.float32)
    >>> y.float().sum().backward()
    >>> w.grad.dtype
    mytensor.float32
    """

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:  # fmt: skip
        if device_type not in _DEFAULT_DTYPES:
            raise ValueError(
                f"autocast(): device_type must be 'cpu' or 'cuda', got {device_type!r}"
            )
        chosen = _DEFAULT_DTYPES[device_type] if dtype is None else to_dtype(dtype)
        if chosen not in _LOW_DTYPES and chosen is not float32:
            raise ValueError(
                f"autocast(): dtype must be mytensor.bfloat16 or mytensor.float16 (or float32 "
                f"to turn the low-precision casts off), got {chosen.name}"
            )
        self.device_type = device_type
        self.fast_dtype: DType = chosen
        self.enabled = bool(enabled)
        self.cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        self._saved: list[dict[str, _autocast.Region] | None] = []

    def __enter__(self) -> autocast:
        state = _autocast.STATE
        self._saved.append(state.active)
        regions = dict(state.active or {})  # the other device types' regions stay on
        if self.enabled:
            regions[self.device_type] = _autocast.Region(
                self.device_type, self.fast_dtype, self.cache_enabled
            )
        else:
            regions.pop(self.device_type, None)
        state.active = regions or None
        return self

    def __exit__(self, *exc: object) -> None:
        _autocast.STATE.active = self._saved.pop()

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device_type, self.fast_dtype, self.enabled, self.cache_enabled):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_autocast_enabled(device_type: str = "cpu") -> bool:
    """Whether an enabled autocast region for `device_type` is active in this thread.

    >>> import mytensor as mt
    >>> with mt.autocast("cpu"):
    ...     mt.amp.is_autocast_enabled("cpu")
    True
    """
    return device_type in (_autocast.STATE.active or {})


def get_autocast_dtype(device_type: str) -> DType:
    """The low dtype of the active region for `device_type`, else the default one
    (bfloat16 on "cpu", float16 on "cuda").

    >>> import mytensor as mt
    >>> mt.amp.get_autocast_dtype("cpu")
    mytensor.bfloat16
    """
    region = (_autocast.STATE.active or {}).get(device_type)
    return _DEFAULT_DTYPES[device_type] if region is None else region.dtype
