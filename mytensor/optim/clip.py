"""Gradient clipping: by total norm (`clip_grad_norm_`) and by value (`clip_grad_value_`)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from mytensor.core.autograd import no_grad
from mytensor.core.creation import zeros
from mytensor.core.ops.shape import stack
from mytensor.core.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(x: Tensor, norm_type: float) -> Tensor:
    """The `norm_type`-norm of all of x's elements, as a 0-d tensor of x's dtype."""
    if x.numel() == 0:
        return zeros((), dtype=x.dtype, backend=x.backend)
    if norm_type == math.inf:
        return x.abs().max()
    if norm_type == -math.inf:
        return x.abs().min()
    if norm_type == 0:
        return (x != 0).sum().astype(x.dtype)
    if norm_type == 1:
        return x.abs().sum()
    if norm_type == 2:
        return (x * x).sum().sqrt()
    return (x.abs() ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients of `parameters` in place so that their total norm (the norm of
    all gradients together, as one vector) is at most `max_norm`.

    As in PyTorch, every gradient is multiplied by ``min(1, max_norm / (total + 1e-6))``.

    Args:
        parameters: a tensor or an iterable of tensors whose `.grad` to clip.
        max_norm: the largest total norm allowed.
        norm_type: p of the p-norm; ``float("inf")`` (or "inf") for the max-norm.
        error_if_nonfinite: raise if the total norm is nan or inf.

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor.

    >>> import mytensor as mt
    >>> w = mt.zeros(2, requires_grad=True)
    >>> w.grad = mt.tensor([3.0, 4.0])
    >>> mt.optim.clip_grad_norm_([w], max_norm=1.0).item()
    5.0
    >>> [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    norm_type = float(norm_type)
    grads = _grads(parameters)
    if not grads:
        return zeros(())
    with no_grad():
        dtype = grads[0].dtype
        norms = [_vector_norm(g, norm_type).astype(dtype) for g in grads]
        total = norms[0] if len(norms) == 1 else _vector_norm(stack(norms), norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(
                f"clip_grad_norm_(): the total norm of order {norm_type} of the gradients is "
                f"{total.item()}, so they cannot be clipped; set error_if_nonfinite=False to "
                "scale them anyway"
            )
        coef = (max_norm / (total + 1e-6)).clip(max=1.0)
        for g in grads:
            g *= coef
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp the gradients of `parameters` in place to [-clip_value, clip_value].

    >>> import mytensor as mt
    >>> w = mt.zeros(3, requires_grad=True)
    >>> w.grad = mt.tensor([-2.0, 0.5, 3.0])
    >>> mt.optim.clip_grad_value_([w], 1.0)
    >>> w.grad.tolist()
    [-1.0, 0.5, 1.0]
    """
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clip_(-clip_value, clip_value)
