"""ReduceLROnPlateau: cut the learning rate when a watched metric stops improving."""

from __future__ import annotations

import math
from typing import Any, Literal, SupportsFloat

from mytensor.optim._scheduler_base import LRScheduler, check_optimizer, per_group
from mytensor.optim.optimizer import Optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply each group's learning rate by `factor` once the metric given to
    `step(metric)` has not improved for more than `patience` epochs (PyTorch's rule).

    An epoch improves on the best value so far when, for mode "min" (mode "max" mirrored):
    ``metric < best * (1 - threshold)`` (threshold_mode "rel") or
    ``metric < best - threshold`` ("abs"). After a cut, `cooldown` epochs pass before bad
    epochs count again. A learning rate never goes below its `min_lr`, and a cut smaller
    than `eps` is skipped.

    Args:
        optimizer: the optimizer whose groups to schedule.
        mode: "min" (a loss) or "max" (an accuracy).
        factor: the multiplier of a cut, < 1.
        patience: bad epochs tolerated before a cut.
        threshold: the margin an improvement must beat.
        threshold_mode: "rel" or "abs".
        cooldown: epochs to wait after a cut before counting bad epochs.
        min_lr: lower bound on the learning rate (one, or a list with one per group).
        eps: the smallest change of learning rate worth making.

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = mt.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [3.0, 2.0, 2.5, 2.4, 2.2, 1.0]:
    ...     sched.step(loss)
    >>> sched.get_last_lr(), sched.best
    ([0.5], 1.0)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        check_optimizer("ReduceLROnPlateau", optimizer)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau(): factor must be < 1.0, got {factor}")
        _check_modes(mode, threshold_mode)
        self.min_lrs = per_group("ReduceLROnPlateau", "min_lr", optimizer, min_lr)
        self.default_min_lr = None if isinstance(min_lr, list | tuple) else min_lr
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = self._lrs()
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        """Whether the scheduler is waiting out its cooldown after a cut."""
        return self.cooldown_counter > 0

    def step(self, metrics: SupportsFloat) -> None:  # type: ignore[override]
        """Record one epoch's metric (a number or a 0-d tensor); cut the learning rates
        after more than `patience` epochs without improvement.
        """
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but "
                    f"min_lr was given for {len(self.min_lrs)}; set scheduler.min_lrs to a "
                    "list with one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, floor in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                group["lr"] = new

    def _is_better(self, current: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            bound = best * (1.0 - threshold) if self.threshold_mode == "rel" else best - threshold
            return current < bound
        bound = best * (threshold + 1.0) if self.threshold_mode == "rel" else best + threshold
        return current > bound

    def get_lr(self) -> list[float]:
        return self._lrs()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` (best value, counters, modes).

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = mt.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max")
        >>> sched.step(0.7)
        >>> fresh = mt.optim.lr_scheduler.ReduceLROnPlateau(opt)
        >>> fresh.load_state_dict(sched.state_dict())
        >>> fresh.mode, fresh.best, fresh.last_epoch
        ('max', 0.7, 1)
        """
        super().load_state_dict(state_dict)
        _check_modes(self.mode, self.threshold_mode)


def _check_modes(mode: str, threshold_mode: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"ReduceLROnPlateau(): mode must be 'min' or 'max', got {mode!r}")
    if threshold_mode not in ("rel", "abs"):
        raise ValueError(
            f"ReduceLROnPlateau(): threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
        )
