"""The optimizer base class: parameter groups, per-parameter state, and their state dict.

An optimizer holds `param_groups` (dicts with a "params" list and that group's options,
the constructor's defaults filling whatever a group leaves out) and `state` (a dict per
parameter, created on its first update). `step()` runs under `no_grad` and calls the
subclass's `_update(param, grad, state, group)` for each parameter with a gradient;
updates write into the parameter's own buffer, so no graph ever reaches a parameter.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from mytensor.core.autograd import enable_grad, no_grad
from mytensor.core.tensor import Tensor

__all__ = ["Optimizer", "ParamsT"]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class _Required:
    """The default of an option every parameter group must give itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def bump_versions(*tensors: Tensor | None) -> None:
    """Count an in-place write into each tensor's storage, as in-place ops do (a backward
    that saved the old values then fails loudly)."""
    for t in tensors:
        if t is not None:
            t._storage.version += 1


class Optimizer:
    """Base class of the optimizers: holds parameter groups and per-parameter state.

    Args:
        params: an iterable of tensors, or of dicts each with a "params" entry (and any
            options that group overrides).
        defaults: the options a group gets when it does not set them itself.

    >>> import mytensor as mt
    >>> w, b = mt.ones(2, requires_grad=True), mt.zeros(1, requires_grad=True)
    >>> opt = mt.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}(): params must be an iterable of tensors or of dicts, got a "
                "single Tensor; wrap it in a list: [tensor]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}(): got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own options) to optimize from now on.

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(2, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": mt.ones(3, requires_grad=True), "lr": 0.01})
        >>> len(opt.param_groups), opt.param_groups[1]["lr"]
        (2, 0.01)
        """
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{self._name}.add_param_group(): expected a dict, got {type(param_group).__name__}"
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{self._name}: parameters must be given in a fixed order (a list or tuple), "
                "not a set, or the state dict's indices would not be reproducible"
            )
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{self._name}: can only optimize Tensors, but parameter {i} "
                    f"of the group is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{self._name}: cannot optimize a non-leaf tensor (parameter {i}, shape "
                    f"{p.shape}); optimize the leaf it was computed from, or .detach() it"
                )
        group = {**param_group, "params": params}
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"{self._name}: parameter group didn't specify a value of "
                    f"required option {name!r}"
                )
            group.setdefault(name, default)
        self._validate(group)
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{self._name}: a parameter group contains the same tensor twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(
                f"{self._name}: some parameters appear in more than one parameter group"
            )
        self.param_groups.append(group)

    def _validate(self, group: dict[str, Any]) -> None:
        """Check a group's options (subclasses raise ValueError naming the bad one)."""

    def _check(self, condition: bool, option: str, value: Any, rule: str) -> None:
        if not condition:
            raise ValueError(f"{self._name}: invalid {option} {value!r} ({rule})")

    def _check_nonnegative(self, group: dict[str, Any], *options: str) -> None:
        """`_check` that each named option of `group` is >= 0 ("lr" reads "learning rate")."""
        for option in options:
            label = "learning rate" if option == "lr" else option
            self._check(group[option] >= 0, label, group[option], "must be >= 0")

    @staticmethod
    def _descent_grad(param: Tensor, grad: Tensor, group: dict[str, Any]) -> Tensor:
        """`grad` negated when the group maximizes, plus its L2 term ``weight_decay * param``."""
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + param * group["weight_decay"]
        return grad

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (the default), or to zeros.

        >>> import mytensor as mt
        >>> w = mt.ones(2, requires_grad=True)
        >>> (w * w).sum().backward()
        >>> opt = mt.optim.SGD([w], lr=0.1)
        >>> opt.zero_grad()
        >>> w.grad is None
        True
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.requires_grad:
                        p.grad = p.grad.detach()
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()` if given.

        `closure` re-evaluates the model and returns the loss (it runs with grad enabled).

        >>> import mytensor as mt
        >>> w = mt.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = mt.optim.SGD([w], lr=0.25)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w.tolist()
        [0.5, -1.0]
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, p.grad, self.state[p], group)
        return loss

    def _check_grads(self) -> None:
        """Refuse a step, before any parameter or state changes, if a gradient does not
        fit its parameter (shape, dtype, backend): a half-applied step can't be undone."""
        index = 0
        for g, group in enumerate(self.param_groups):
            for p in group["params"]:
                grad, index = p.grad, index + 1
                if grad is None:
                    continue
                if not isinstance(grad, Tensor):
                    problem = f"is a {type(grad).__name__}, not a Tensor"
                elif grad.shape != p.shape:
                    problem = f"has shape {grad.shape} but the parameter has shape {p.shape}"
                elif grad.dtype is not p.dtype:
                    problem = (
                        f"has dtype {grad.dtype.name} but the parameter has dtype {p.dtype.name}"
                    )
                elif grad.backend != p.backend:
                    problem = f"is on {grad.backend!r} but the parameter is on {p.backend!r}"
                else:
                    continue
                raise RuntimeError(
                    f"{self._name}.step(): the gradient of parameter {index - 1} (group {g}) "
                    f"{problem}; no parameter was updated. Set .grad to a tensor like the "
                    "parameter (or to None to skip it)"
                )

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{self._name} does not implement _update()")

    # -- state dict ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as a dict, in PyTorch's layout: "state" maps a parameter's
        index (counted across groups, in order) to its state, and "param_groups" lists each
        group's options with its parameters as indices. Tensors are shared, not copied.

        >>> import mytensor as mt
        >>> opt = mt.optim.SGD([mt.ones(2, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> sd = opt.state_dict()
        >>> sd["param_groups"][0]["params"], sd["param_groups"][0]["momentum"]
        ([0], 0.9)
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()`: group options, and per-parameter state (copied, cast to
        each parameter's dtype and backend). The groups must match this optimizer's in
        number and size.

        >>> import mytensor as mt
        >>> w = mt.ones(2, requires_grad=True)
        >>> opt = mt.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> opt2 = mt.optim.Adam([w], lr=0.5)
        >>> opt2.load_state_dict(opt.state_dict())
        >>> opt2.param_groups[0]["lr"], opt2.state[w]["step"]
        (0.1, 1)
        """
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(
                    f"{self._name}.load_state_dict(): the state dict has no {key!r} entry"
                )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{self._name}.load_state_dict(): the state dict has {len(saved_groups)} "
                f"parameter groups, this optimizer has {len(self.param_groups)}"
            )
        params: dict[Any, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{self._name}.load_state_dict(): parameter group {i} has "
                    f"{len(saved['params'])} parameters in the state dict but "
                    f"{len(group['params'])} in this optimizer"
                )
            params.update(zip(saved["params"], group["params"], strict=True))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in params:
                raise ValueError(
                    f"{self._name}.load_state_dict(): state for parameter index "
                    f"{key!r}, which no parameter group lists"
                )
            p = params[key]
            state[p] = {name: _cast_state(name, v, p) for name, v in value.items()}
        self.state = state
        self.param_groups = [
            {
                **copy.deepcopy({k: v for k, v in saved.items() if k != "params"}),
                "params": group["params"],
            }
            for group, saved in zip(self.param_groups, saved_groups, strict=True)
        ]

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(name: str, value: Any, param: Tensor) -> Any:
    """A private copy of one state entry, on the parameter's backend (and dtype, if float)."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if name == "step":
        return int(value.item())  # PyTorch keeps the step count as a tensor; we keep an int
    value = value.detach()
    out = value.to(param.backend) if value.backend != param.backend else value
    if out.dtype.kind == "float" and param.dtype.kind == "float" and out.dtype is not param.dtype:
        out = out.astype(param.dtype)
    return out.clone() if out is value else out
