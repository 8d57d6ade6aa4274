"""The learning-rate scheduler base class (the schedules live in `lr_scheduler`)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from mytensor.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "check_optimizer", "per_group"]


def check_optimizer(scheduler: str, optimizer: Any) -> Optimizer:
    """`optimizer`, or a TypeError naming the scheduler if it is not an Optimizer.

    >>> check_optimizer("StepLR", None)
    Traceback (most recent call last):
    ...
    TypeError: StepLR(): expected an Optimizer, got NoneType
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{scheduler}(): expected an Optimizer, got {type(optimizer).__name__}")
    return optimizer


def per_group(scheduler: str, name: str, optimizer: Optimizer, value: Any) -> list:
    """`value` once per parameter group of `optimizer`: a list or tuple must hold one
    entry per group (else a ValueError naming the scheduler); anything else is repeated.

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=0.1)
    >>> per_group("StepLR", "gamma", opt, 0.5)
    [0.5]
    >>> per_group("StepLR", "gamma", opt, [0.5, 0.1])
    Traceback (most recent call last):
    ...
    ValueError: StepLR(): expected 1 gammas (one per parameter group), got 2
    """
    groups = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != groups:
            raise ValueError(
                f"{scheduler}(): expected {groups} {name}s (one per parameter group), "
                f"got {len(value)}"
            )
        return list(value)
    return [value] * groups


class LRScheduler:
    """Base class: records each group's initial lr, then sets "lr" on every `step()`.

    Subclasses implement `get_lr()`, the learning rates for epoch `self.last_epoch`
    computed from the groups' current "lr" values.

    >>> import mytensor as mt
    >>> class Halving(mt.optim.lr_scheduler.LRScheduler):
    ...     def get_lr(self):
    ...         return [base / 2**self.last_epoch for base in self.base_lrs]
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = Halving(opt)
    >>> sched.step(); sched.step()
    >>> sched.get_last_lr(), sched.last_epoch
    ([0.25], 2)
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = check_optimizer(type(self).__name__, optimizer)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] "
                    "when resuming a schedule (last_epoch != -1)"
                )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def _closed_form(self) -> list[float]:
        return self.get_lr()

    def _set(self, lrs: Sequence[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        """Advance one epoch and set each group's learning rate."""
        self._step_count += 1
        self.last_epoch += 1
        self._set(self.get_lr())

    def _restart(self) -> None:
        """Jump to epoch 0 (how SequentialLR starts its next schedule)."""
        self._step_count += 1
        self.last_epoch = 0
        self._set(self._closed_form())

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as plain data (restore with `load_state_dict`).

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = mt.optim.lr_scheduler.StepLR(opt, step_size=2)
        >>> sched.state_dict()["last_epoch"], sched.state_dict()["base_lrs"]
        (0, [1.0])
        """
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` (a private copy of it): the schedule continues from there.

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = mt.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> sched.step(); sched.step()
        >>> fresh = mt.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> fresh.load_state_dict(sched.state_dict())
        >>> fresh.last_epoch, fresh.get_last_lr()
        (2, [0.25])
        """
        self.__dict__.update(copy.deepcopy(dict(state_dict)))

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]
