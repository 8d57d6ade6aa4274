"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

from mytensor.backends.spec import SGDStep
from mytensor.core.tensor import Tensor
from mytensor.optim.optimizer import Optimizer, ParamsT, bump_versions

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's update rule, term for term).

    For each parameter ``p`` with gradient ``g``::

        g = -g if maximize;  g = g + weight_decay * p
        b = g (first step)  or  b = momentum * b + (1 - dampening) * g
        g = g + momentum * b if nesterov else b        (when momentum != 0)
        p = p - lr * g

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate.
        momentum: momentum factor (0 disables the buffer).
        dampening: dampening of the momentum's gradient term.
        weight_decay: L2 penalty added to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending it.

    >>> import mytensor as mt
    >>> w = mt.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = mt.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.46, 0.92]
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        # one `sgd_update` per parameter: the backend's single-pass kernel, or the core's
        # composite of the same rule
        momentum = group["momentum"]
        buf = state.get("momentum_buffer")
        first = momentum != 0 and buf is None
        if first:
            buf = state["momentum_buffer"] = Tensor._empty(
                param._storage.backend, param.shape, param.dtype
            )
        step = SGDStep(group["lr"], group["weight_decay"], momentum, group["dampening"],
                       group["nesterov"], group["maximize"], first)  # fmt: skip
        param._storage.backend.sgd_update(param._d, grad._d, None if buf is None else buf._d, step)
        bump_versions(param, buf)
