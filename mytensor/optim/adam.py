"""Adam and AdamW (decoupled weight decay), with the AMSGrad variant."""

from __future__ import annotations

from typing import Any

from mytensor.backends.spec import AdamStep
from mytensor.core.creation import zeros_like
from mytensor.core.tensor import Tensor
from mytensor.optim.optimizer import Optimizer, ParamsT, bump_versions

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's update rule term for term.

    For each parameter ``p`` with gradient ``g`` at step ``t``::

        g = -g if maximize;  g = g + weight_decay * p      (AdamW: p = p * (1 - lr * wd))
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        amsgrad: keep the maximum of the second moment (AMSGrad).
        maximize: ascend the objective instead of descending it.

    >>> import mytensor as mt
    >>> w = mt.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = mt.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -0.9]
    """

    _decoupled = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        self._check_nonnegative(group, "lr", "eps")
        beta1, beta2 = group["betas"]
        self._check(0 <= beta1 < 1, "beta1", beta1, "must be in [0, 1)")
        self._check(0 <= beta2 < 1, "beta2", beta2, "must be in [0, 1)")
        self._check_nonnegative(group, "weight_decay")

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        step = AdamStep(group["lr"], beta1, beta2, group["eps"], state["step"],
                        group["weight_decay"], self._decoupled, group["amsgrad"],
                        group["maximize"])  # fmt: skip
        m, v, vmax = state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")
        # the backend's single-pass kernel, or the core's composite of the same rule
        vmax_d = None if vmax is None else vmax._d
        param._storage.backend.adam_update(param._d, grad._d, m._d, v._d, vmax_d, step)
        bump_versions(param, m, v, vmax)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): each step first shrinks the
    parameter, ``p = p * (1 - lr * weight_decay)``, then takes the Adam step on the plain
    gradient. Arguments as `Adam`; weight_decay defaults to 1e-2.

    >>> import mytensor as mt
    >>> w = mt.tensor([1.0], requires_grad=True)
    >>> opt = mt.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0.0).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 4)
    0.95
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
