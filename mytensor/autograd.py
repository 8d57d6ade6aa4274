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

    ``backward(ctx, grad)`` returns one gradient per argument of ``forward`` (None for
    the non-tensor ones), as in PyTorch: a wrong count, or a gradient whose shape the
    input does not broadcast to, fails naming ``<Name>Backward`` and the position.

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

        def backward_rule(g: Tensor) -> tuple:
            return _conform_grads(name, args, cls.backward(ctx, g))

        return record(out, name, inputs, backward_rule, ctx.saved_tensors)


def _conform_grads(name: str, args: tuple, grads: Any) -> tuple:
    """A custom Function's gradients, checked and adapted as PyTorch does.

    One per forward argument (extra trailing Nones are dropped; a list or tuple, or one
    tensor for a one-argument forward); None for every non-tensor argument. A gradient
    whose shape the input broadcasts to is summed down to the input's shape, a floating
    gradient is cast to the input's dtype; a complex gradient for a real input, a shape
    the input does not broadcast to, or another backend is an error.
    """
    grads = tuple(grads) if isinstance(grads, list | tuple) else (grads,)
    if len(grads) > len(args) and all(g is None for g in grads[len(args) :]):
        grads = grads[: len(args)]
    if len(grads) != len(args):
        raise RuntimeError(
            f"function {name}Backward returned an incorrect number of gradients (expected "
            f"{len(args)}, got {len(grads)}): {name}.backward() must return one gradient per "
            "argument of forward(), None for the non-differentiable ones"
        )
    out = []
    for i, (a, g) in enumerate(zip(args, grads, strict=True)):
        if not isinstance(a, Tensor):
            if g is not None:
                raise RuntimeError(
                    f"function {name}Backward returned a gradient different than None at "
                    f"position {i + 1}, but the corresponding forward input was not a Tensor "
                    f"({type(a).__name__}); return None there"
                )
            continue
        out.append(_conform_grad(name, i, a, g) if g is not None and a.requires_grad else None)
    return tuple(out)


def _conform_grad(name: str, i: int, a: Tensor, g: Any) -> Tensor:
    from mytensor.core.ops._base import unbroadcast

    where = f"function {name}Backward returned an invalid gradient at index {i}"
    if not isinstance(g, Tensor):
        raise RuntimeError(f"{where}: got a {type(g).__name__}, expected a Tensor or None")
    if g.shape != a.shape:
        lead = g.ndim - a.ndim
        if lead < 0 or any(s not in (1, t) for s, t in zip(a.shape, g.shape[lead:], strict=True)):
            raise RuntimeError(
                f"{where} - got {list(g.shape)} but expected shape compatible with "
                f"{list(a.shape)} (the shape of input {i})"
            )
        g = unbroadcast(g, a.shape)
    if g._storage.backend is not a._storage.backend:
        raise RuntimeError(
            f"{where} - expected backend {a.backend!r} but got {g.backend!r}; "
            f"move it with .to({a.backend!r})"
        )
    if g.dtype is not a.dtype:
        if g.dtype.kind == "complex" and a.dtype.kind != "complex":
            raise RuntimeError(
                f"{where} - got a {g.dtype.name} gradient for the real ({a.dtype.name}) input "
                f"{i}; a real input never receives a complex gradient (take .real if that is "
                "what you mean)"
            )
        g = g.astype(a.dtype)
    return g


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
