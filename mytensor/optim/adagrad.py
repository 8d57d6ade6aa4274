"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

from typing import Any

from mytensor.core.creation import full_like
from mytensor.core.tensor import Tensor
from mytensor.optim.optimizer import Optimizer, ParamsT

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), PyTorch's update rule term for term.

    For each parameter ``p`` with gradient ``g`` at step ``t``::

        g = -g if maximize;  g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g;  p = p - clr * g / (sqrt(s) + eps)

    As in PyTorch, every parameter's state (``step`` 0 and ``sum`` filled with
    `initial_accumulator_value`) exists from construction on, so `state_dict()` lists it
    before the first step.

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate.
        lr_decay: learning-rate decay per step.
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: starting value of the sum of squared gradients.
        eps: added to the denominator for numerical stability.
        maximize: ascend the objective instead of descending it.

    >>> import mytensor as mt
    >>> w = mt.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = mt.optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.5, -1.5]
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(
            group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"
        )

    @staticmethod
    def _init_state(param: Tensor, state: dict, group: dict) -> None:
        state["step"] = 0
        state["sum"] = full_like(param.detach(), group["initial_accumulator_value"])

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:  # a group added after construction
            self._init_state(param, state, group)
        state["step"] += 1
        grad = self._descent_grad(param, grad, group)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state_sum = state["sum"]
        state_sum += grad * grad
        std = state_sum.sqrt()
        std += group["eps"]
        param -= grad / std * clr
