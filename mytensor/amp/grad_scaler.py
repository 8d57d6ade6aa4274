"""`GradScaler`: loss scaling for float16 training (PyTorch's torch.amp.GradScaler)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from mytensor.core.autograd import no_grad
from mytensor.core.tensor import Tensor

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _float32(value: float) -> float:
    """`value` rounded to float32, where PyTorch keeps the scale."""
    return float(np.float32(value))


class GradScaler:
    """Scale the loss so float16 gradients don't underflow, unscale them before the
    optimizer steps, skip steps whose gradients hold inf or NaN, and adapt the scale:
    times `backoff_factor` after such a step, times `growth_factor` after
    `growth_interval` clean steps in a row (PyTorch's rule and defaults).

    >>> import mytensor as mt
    >>> w = mt.nn.Parameter(mt.ones(2))
    >>> opt = mt.optim.SGD([w], lr=0.1)
    >>> scaler = mt.amp.GradScaler("cpu", init_scale=1024.0)
    >>> scaler.scale((w * 3.0).sum()).backward()
    >>> scaler.step(opt)
    >>> scaler.update()
    >>> w.tolist(), scaler.get_scale()
    ([0.699999988079071, 0.699999988079071], 1024.0)
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:  # fmt: skip
        if enabled and device == "cuda":
            from mytensor import cuda

            if not cuda.is_available():
                warnings.warn(
                    "GradScaler is enabled for device 'cuda', but CUDA is not available; "
                    "disabling it (pass device='cpu' to scale on the CPU)",
                    stacklevel=2,
                )
                enabled = False
        if not growth_factor > 1.0 or not 0.0 < backoff_factor < 1.0:
            raise ValueError(
                f"GradScaler(): growth_factor must be > 1 and backoff_factor in (0, 1), got "
                f"{growth_factor} and {backoff_factor}"
            )
        self._device = device
        self._enabled = enabled
        self._scale = _float32(init_scale)
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    # -- the training-loop calls --------------------------------------------------------
    def scale(self, outputs: Any) -> Any:
        """`outputs` (a tensor, or nested lists/tuples of them) times the scale.

        >>> import mytensor as mt
        >>> mt.amp.GradScaler("cpu", init_scale=8.0).scale(mt.tensor(0.5)).item()
        4.0
        """
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, Iterable):
            return type(outputs)(self.scale(o) for o in outputs)  # type: ignore[call-arg]
        raise TypeError(f"scale(): outputs must be tensors, got {type(outputs).__name__}")

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})

    def unscale_(self, optimizer: Any) -> None:
        """Divide the gradients of `optimizer`'s parameters by the scale, in place, and
        note whether any is inf or NaN (at most once per optimizer between updates)."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inverse = _float32(1.0 / self._scale)
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.grad.mul_(inverse)
                    if not bool(p.grad.isfinite().all().item()):
                        found_inf = True
        state["stage"], state["found_inf"] = _UNSCALED, found_inf

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless `unscale_` already did) and run ``optimizer.step(*args,
        **kwargs)`` unless a gradient was inf or NaN; returns what step returned (None if
        skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Adapt the scale after the iteration's steps (or set it to `new_scale`)."""
        if not self._enabled:
            return
        if new_scale is not None:
            value = new_scale.item() if isinstance(new_scale, Tensor) else new_scale
            self._scale = _float32(float(value))
        else:
            if not self._per_optimizer:
                raise RuntimeError("No inf checks were recorded prior to update().")
            if any(s["found_inf"] for s in self._per_optimizer.values()):
                self._scale = _float32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = _float32(self._scale * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
        self._per_optimizer = {}

    # -- inspection and checkpoints -----------------------------------------------------
    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def is_enabled(self) -> bool:
        return self._enabled

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's keys: scale, growth_factor, backoff_factor, growth_interval,
        _growth_tracker (empty when disabled)."""
        if not self._enabled:
            return {}
        return {
            "scale": self._scale,
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a "
                "disabled instance of GradScaler."
            )
        self._scale = _float32(float(state_dict["scale"]))
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
