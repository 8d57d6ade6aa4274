"""OneCycleLR: the 1cycle policy (warm up to a peak learning rate, then anneal far below)."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Literal

from mytensor.optim._scheduler_base import LRScheduler, check_optimizer
from mytensor.optim.optimizer import Optimizer

__all__ = ["OneCycleLR"]


def _anneal_cos(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start: float, end: float, pct: float) -> float:
    return (end - start) * pct + start


_ANNEAL = {"cos": _anneal_cos, "linear": _anneal_linear}


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[float]:
    groups = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != groups:
            raise ValueError(
                f"OneCycleLR(): {name} has {len(value)} values but the optimizer has "
                f"{groups} parameter groups; give one value, or one per group"
            )
        return list(value)
    return [value] * groups


def _total_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    def positive_int(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"OneCycleLR(): expected a positive integer {name}, got {value!r}")
        return value

    if total_steps is not None:
        return positive_int("total_steps", total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError(
            "OneCycleLR(): give total_steps, or both epochs and steps_per_epoch "
            "(total_steps = epochs * steps_per_epoch)"
        )
    return positive_int("epochs", epochs) * positive_int("steps_per_epoch", steps_per_epoch)


def _phases(total: int, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
    """Each phase: the step it ends at, and which group entries it anneals between."""
    warmup = {
        "end_step": float(pct_start * total) - 1,
        "start_lr": "initial_lr",
        "end_lr": "max_lr",
        "start_momentum": "max_momentum",
        "end_momentum": "base_momentum",
    }
    if not three_phase:
        return [
            warmup,
            {
                "end_step": total - 1,
                "start_lr": "max_lr",
                "end_lr": "min_lr",
                "start_momentum": "base_momentum",
                "end_momentum": "max_momentum",
            },
        ]
    return [
        warmup,
        {
            "end_step": float(2 * pct_start * total) - 2,
            "start_lr": "max_lr",
            "end_lr": "initial_lr",
            "start_momentum": "base_momentum",
            "end_momentum": "max_momentum",
        },
        {
            "end_step": total - 1,
            "start_lr": "initial_lr",
            "end_lr": "min_lr",
            "start_momentum": "max_momentum",
            "end_momentum": "max_momentum",
        },
    ]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topsekar): the learning rate rises from
    ``max_lr / div_factor`` to `max_lr` over the first `pct_start` of `total_steps`, then
    falls to ``max_lr / div_factor / final_div_factor``; momentum (or Adam's ``betas[0]``)
    moves the opposite way between `max_momentum` and `base_momentum`. Call `step()` after
    every batch. PyTorch's schedule, value for value.

    Args:
        optimizer: the optimizer whose groups to schedule.
        max_lr: peak learning rate (one for all groups, or a list with one per group).
        total_steps: length of the cycle; or give `epochs` and `steps_per_epoch`.
        epochs: number of epochs (with `steps_per_epoch`, when `total_steps` is None).
        steps_per_epoch: batches per epoch.
        pct_start: fraction of the cycle spent raising the learning rate.
        anneal_strategy: "cos" (cosine) or "linear".
        cycle_momentum: cycle the momentum inversely to the learning rate.
        base_momentum: momentum at the peak learning rate (float or per-group list).
        max_momentum: momentum at the start and end of the cycle.
        div_factor: initial_lr = max_lr / div_factor.
        final_div_factor: min_lr = initial_lr / final_div_factor.
        three_phase: come back down to initial_lr symmetrically, then anneal to min_lr
            (the paper's schedule) instead of annealing straight to min_lr.
        last_epoch: the number of batches done, when resuming (-1 starts the cycle).

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = mt.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5,
    ...                                          anneal_strategy="linear", pct_start=0.4)
    >>> lrs, momenta = [], []
    >>> for _ in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 6))
    ...     momenta.append(round(opt.param_groups[0]["momentum"], 4))
    ...     opt.step(); sched.step()
    >>> lrs
    [0.04, 1.0, 0.666668, 0.333336, 4e-06]
    >>> momenta
    [0.95, 0.85, 0.8833, 0.9167, 0.95]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer("OneCycleLR", optimizer)
        # every check before any group is touched
        total = _total_steps(total_steps, epochs, steps_per_epoch)
        if isinstance(pct_start, bool) or not isinstance(pct_start, Real):
            raise ValueError(
                f"OneCycleLR(): pct_start must be a float in [0, 1], got {pct_start!r}"
            )
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR(): pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in _ANNEAL:
            raise ValueError(
                f"OneCycleLR(): anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        phases = _phases(total, pct_start, three_phase)
        start = 0.0
        for i, phase in enumerate(phases):
            if phase["end_step"] == start:
                raise ValueError(
                    f"OneCycleLR(): with pct_start={pct_start} and total_steps={total}, phase "
                    f"{i + 1} of the cycle has no steps (it starts and ends at step {start}); "
                    "change pct_start or total_steps"
                )
            start = phase["end_step"]
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"OneCycleLR(): cycle_momentum=True needs an optimizer with a momentum or "
                    f"betas option, and {type(optimizer).__name__} has neither; pass "
                    "cycle_momentum=False"
                )
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
        self.total_steps = total
        self._schedule_phases = phases
        self._anneal_func_type = anneal_strategy
        self.cycle_momentum = cycle_momentum
        if last_epoch == -1:
            for group, peak in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for group, high, low in zip(
                    optimizer.param_groups, max_momentums, base_momentums, strict=True
                ):
                    self._set_momentum(group, high)
                    group["max_momentum"] = high
                    group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def step(self) -> None:
        """Advance one batch: set each group's learning rate (and momentum).

        Raises ValueError once the cycle's `total_steps` are used up.
        """
        if self.last_epoch + 1 > self.total_steps:
            raise ValueError(
                f"OneCycleLR.step(): tried to step {self.last_epoch + 1} times, but the cycle "
                f"has total_steps={self.total_steps}; build it with more total_steps (or "
                "epochs * steps_per_epoch)"
            )
        super().step()

    def get_lr(self) -> list[float]:
        anneal = _ANNEAL[self._anneal_func_type]
        t = self.last_epoch
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if t <= end or i == len(self._schedule_phases) - 1:
                    break
                start = end
            pct = (t - start) / (end - start)
            lrs.append(anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                self._set_momentum(group, momentum)
        return lrs
