"""The public autograd API: `grad`, `backward`, custom `Function`, `gradcheck`, grad modes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mytensor.core.autograd import (
    backward,
    enable_grad,
    grad,
    is_grad_enabled,
    needs_grad,
    no_grad,
    record,
)
from mytensor.core.tensor import Tensor

__all__ = [
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
]


class FunctionCtx:
    """What `Function.forward` and `Function.backward` share."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Tensor, ...] = ()

    def save_for_backward(self, *tensors: Tensor) -> None:
        """Keep tensors for backward; modifying them in place before then is an error."""
        self.saved_tensors = tensors


class Function:
    """A differentiable op defined by its own forward and backward.

    >>> import mytensor as mt
    >>> class Square(mt.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 2 * x
    >>> x = mt.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).sum().backward()
    >>> x.grad.tolist()
    [6.0]
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Tensor:
        raise NotImplementedError("Function subclasses define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor | Sequence[Tensor | None] | None:
        raise NotImplementedError("Function subclasses define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        name = cls.__name__
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}.forward() must return one Tensor, got {type(out).__name__}")
        inputs = tuple(a for a in args if isinstance(a, Tensor))
        if not needs_grad(*inputs):
            return out
        if any(out is a for a in inputs):
            out = out.detach()  # the output needs a graph node of its own
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

        def backward_rule(g: Tensor) -> tuple:
            grads = cls.backward(ctx, g)
            grads = tuple(grads) if isinstance(grads, list | tuple) else (grads,)
            if len(grads) != len(args):
                raise RuntimeError(
                    f"{name}.backward() returned {len(grads)} gradient(s) but forward() took "
                    f"{len(args)} argument(s); return None for the non-differentiable ones"
                )
            out_grads = []
            for i in positions:
                gi, a = grads[i], args[i]
                if gi is not None and gi.shape != a.shape:
                    raise RuntimeError(
                        f"{name}.backward(): gradient {i} has shape {gi.shape}, "
                        f"but input {i} has shape {a.shape}"
                    )
                out_grads.append(gi if a.requires_grad else None)
            return tuple(out_grads)

        return record(out, name, inputs, backward_rule, ctx.saved_tensors)


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree; the message says where."""


def gradcheck(
    func: Callable[..., Tensor],
    inputs: Tensor | Sequence[Tensor],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    name: str | None = None,
) -> bool:
    """Compare autograd's gradients of `func` with central differences (float64 inputs).

    `inputs` is one tensor or a sequence of them (non-tensors are passed through). The
    output is contracted with a fixed random cotangent so every output element counts.
    A mismatch raises `GradcheckError` naming the input, element, got and expected (or,
    with ``raise_exception=False``, returns False).

    >>> import mytensor as mt
    >>> x = mt.tensor([0.5, 1.5], dtype=mt.float64, requires_grad=True)
    >>> mt.autograd.gradcheck(lambda t: (t * t).exp(), x)
    True
    """
    try:
        return _gradcheck(func, [inputs] if isinstance(inputs, Tensor) else list(inputs),
                          eps, atol, rtol, name)  # fmt: skip
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(func: Callable[..., Tensor], inputs: list, eps: float, atol: float,
               rtol: float, name: str | None) -> bool:  # fmt: skip
    from mytensor.core.creation import asarray

    label = name or getattr(func, "__name__", "function")
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype.name != "float64":
            raise TypeError(
                f"gradcheck({label}): input {i} is {t.dtype.name}; use float64 inputs, "
                "float32 is too coarse for central differences"
            )
    out = func(*inputs)
    rng = np.random.default_rng(0)
    cotangent_np = rng.standard_normal(out.shape)
    cotangent = asarray(cotangent_np, dtype=out.dtype, backend=out.backend)
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    analytic = grad((out * cotangent).sum(), [inputs[i] for i in positions], allow_unused=True)

    def contracted(values: list[Tensor]) -> float:
        with no_grad():
            return float((func(*values).numpy() * cotangent_np).sum())

    for k, index in enumerate(positions):
        t = inputs[index]
        base = t.numpy()
        got = np.zeros(base.shape) if analytic[k] is None else analytic[k].numpy()
        for element in np.ndindex(base.shape):
            values = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[element] += sign * eps
                args = list(inputs)
                args[index] = asarray(shifted, backend=t.backend)
                values.append(contracted(args))
            expected = (values[0] - values[1]) / (2 * eps)
            if not np.isclose(got[element], expected, atol=atol, rtol=rtol, equal_nan=True):
                raise GradcheckError(
                    f"gradcheck({label}): input {index} (shape {t.shape}, {t.dtype.name}, "
                    f"backend {t.backend}), element {element}: autograd gives "
                    f"{got[element]!r}, central difference gives {expected!r}"
                )
    return True
