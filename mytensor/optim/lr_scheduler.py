"""Learning-rate schedules: StepLR, MultiStepLR, ExponentialLR, LambdaLR, CosineAnnealingLR,
LinearLR (warmup), SequentialLR, OneCycleLR and ReduceLROnPlateau.

A scheduler rewrites each parameter group's "lr" once per `step()` (usually once per
epoch, after the optimizer's steps; OneCycleLR once per batch; ReduceLROnPlateau with the
validation metric). The rules are PyTorch's chainable forms, so a schedule gives the same
learning rates as `torch.optim.lr_scheduler`, step for step.
"""

from __future__ import annotations

import bisect
import copy
import math
import types
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mytensor.optim._one_cycle import OneCycleLR
from mytensor.optim._plateau import ReduceLROnPlateau
from mytensor.optim._scheduler_base import LRScheduler, check_optimizer, per_group
from mytensor.optim.optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


class StepLR(LRScheduler):
    """Multiply the learning rate by `gamma` every `step_size` epochs.

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = mt.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR(): step_size must be >= 1, got {step_size}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by `gamma` at each epoch in `milestones` (by
    ``gamma ** n`` at an epoch listed n times).

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = mt.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        times = self.milestones.get(self.last_epoch, 0)
        if times == 0:
            return self._lrs()
        return [lr * self.gamma**times for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        passed = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()`; the milestones come back as a Counter (a checkpoint
        file stores them as a plain dict of epoch -> count).

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = mt.optim.lr_scheduler.MultiStepLR(opt, milestones=[2])
        >>> sched.load_state_dict({**sched.state_dict(), "milestones": {5: 1}})
        >>> sched.milestones
        Counter({5: 1})
        """
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): v for k, v in self.milestones.items()})


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by `gamma` every epoch.

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = mt.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._step_count == 1:  # the first step (of a new or a resumed schedule) keeps lr
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """Set each group's learning rate to its initial value times ``lr_lambda(epoch)`` (one
    function for all groups, or a list with one per group).

    `state_dict()` stores no functions, as in PyTorch: plain functions and lambdas become
    None, callable objects their `__dict__`; build the scheduler with the same functions
    before `load_state_dict`.

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = mt.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 0.5, 0.3333333333333333, 0.25]
    >>> sched.state_dict()["lr_lambdas"]
    [None]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        check_optimizer("LambdaLR", optimizer)
        self.lr_lambdas = per_group("LambdaLR", "lr_lambda", optimizer, lr_lambda)
        bad = [i for i, fn in enumerate(self.lr_lambdas) if not callable(fn)]
        if bad:
            got = type(self.lr_lambdas[bad[0]]).__name__
            raise TypeError(f"LambdaLR(): lr_lambda {bad[0]} is a {got}, not a callable")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base * fn(self.last_epoch)
            for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state without its functions (see the class docstring).

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
        >>> sorted(mt.optim.lr_scheduler.LambdaLR(opt, abs).state_dict())[:3]
        ['_last_lr', '_step_count', 'base_lrs']
        """
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None
            if isinstance(fn, types.FunctionType | types.BuiltinFunctionType)
            else dict(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()`, keeping this scheduler's functions (callable objects
        get their saved attributes back).

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
        >>> sched = mt.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5**e)
        >>> sched.load_state_dict({**sched.state_dict(), "last_epoch": 3})
        >>> sched.step(); sched.get_last_lr()
        [0.0625]
        """
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for fn, attributes in zip(self.lr_lambdas, saved, strict=True):
            if attributes is not None:
                fn.__dict__.update(copy.deepcopy(attributes))


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from its initial value to `eta_min` along a half cosine
    over `T_max` epochs: ``eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = mt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 4)); opt.step(); sched.step()
    >>> lrs
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR(): T_max must be >= 1, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._lrs()
        if self._step_count == 1 and t > 0:  # resumed: no previous lr to build on
            return self._closed_form()
        if (t - 1 - T) % (2 * T) == 0:
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for lr, base in zip(self._lrs(), self.base_lrs, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        cos = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate linearly from `start_factor` to `end_factor` times its
    initial value over `total_iters` epochs, then hold it (a warmup, typically).

    >>> import mytensor as mt
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = mt.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR(): start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR(): end_factor must be in [0, 1], got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._lrs()]
        if t > self.total_iters:
            return self._lrs()
        factor = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * factor for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        factor = start + (end - start) * min(self.total_iters, t) / self.total_iters
        return [base * factor for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run `schedulers` one after another, switching at each epoch in `milestones`
    (e.g. a LinearLR warmup, then CosineAnnealingLR).

    >>> import mytensor as mt
    >>> from mytensor.optim import lr_scheduler as sch
    >>> opt = mt.optim.SGD([mt.ones(1, requires_grad=True)], lr=1.0)
    >>> warmup = sch.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = sch.StepLR(opt, step_size=1, gamma=0.5)
    >>> sched = sch.SequentialLR(opt, [warmup, decay], milestones=[2])
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        if len(schedulers) < 1 or len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR(): expected one milestone fewer than schedulers, got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        for i, s in enumerate(schedulers):
            if s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR(): scheduler {i} belongs to another optimizer")
        self.optimizer = optimizer
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        # undo the first step each scheduler took when it was built, then start the first
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        self._schedulers[0]._step_count = 0
        self._schedulers[0].step()
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        for s, sd in zip(self._schedulers, state.pop("_schedulers"), strict=True):
            s.load_state_dict(sd)
        self.__dict__.update(state)
