"""Functional activations beyond relu/gelu: leaky_relu, elu, silu, softplus, mish, hardtanh,
prelu, with PyTorch's ``inplace=`` where PyTorch has it.

Each is composed from core ops, so its gradient comes from the core (with PyTorch's
choice at the kinks: leaky_relu/prelu take the negative slope at 0, elu takes `alpha`,
hardtanh passes no gradient at its bounds). ``inplace=True`` writes the result into the
input through `run_inplace`, the version-counter-guarded path of the in-place methods.
"""

from __future__ import annotations

from collections.abc import Callable

from mytensor.core.ops.elementwise import where
from mytensor.core.ops.methods import run_inplace
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require

__all__ = ["elu", "hardtanh", "leaky_relu", "mish", "prelu", "silu", "softplus"]


def _apply(name: str, input: Tensor, inplace: bool, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """`fn(input)`, or the same written into `input` (named ``name_``) when `inplace`."""
    x = _require(name, input)
    if x.dtype.kind not in ("float", "complex"):
        raise TypeError(f"{name}(): expected a floating-point input, got {x.dtype.name}")
    if inplace:
        return run_inplace(x, f"{name}_", fn)
    return fn(x)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``negative_slope * x``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.leaky_relu(mt.tensor([-2.0, 3.0]), 0.25).tolist()
    [-0.5, 3.0]
    """
    return _apply("leaky_relu", input, inplace, lambda x: where(x > 0, x, x * negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> [round(v, 4) for v in F.elu(mt.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """

    def fn(x: Tensor) -> Tensor:
        # expm1 of min(x, 0): the unused branch never overflows (an inf there would turn
        # the zero gradient that `where` sends it into a NaN)
        return where(x > 0, x, x.clip(max=0.0).expm1() * alpha)

    return _apply("elu", input, inplace, fn)


def _softplus(x: Tensor, beta: float, threshold: float) -> Tensor:
    scaled = x * beta
    smooth = scaled.clip(max=threshold).exp().log1p() * (1.0 / beta)
    return where(scaled > threshold, x, smooth)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> [round(v, 4) for v in F.softplus(mt.tensor([0.0, 30.0])).tolist()]
    [0.6931, 30.0]
    """
    return _apply("softplus", input, False, lambda x: _softplus(x, beta, threshold))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> [round(v, 4) for v in F.silu(mt.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.2689, 0.0, 0.7311]
    """
    return _apply("silu", input, inplace, lambda x: x * x.sigmoid())


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> [round(v, 4) for v in F.mish(mt.tensor([-1.0, 1.0])).tolist()]
    [-0.3034, 0.8651]
    """
    return _apply("mish", input, inplace, lambda x: x * _softplus(x, 1.0, 20.0).tanh())


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """`input` clamped to ``[min_val, max_val]``; the gradient is 1 strictly inside, 0
    elsewhere (at the bounds too), as in PyTorch.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.hardtanh(mt.tensor([-3.0, 0.5, 3.0])).tolist()
    [-1.0, 0.5, 1.0]
    """

    def fn(x: Tensor) -> Tensor:
        return where(x <= min_val, min_val, where(x >= max_val, max_val, x))

    return _apply("hardtanh", input, inplace, fn)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight * x``, with one learned slope (``weight`` of
    1 element) or one per channel (dim 1 of the input).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.prelu(mt.tensor([[-2.0, 2.0]]), mt.tensor([0.25, 0.5])).tolist()
    [[-0.5, 2.0]]
    """
    x = _require("prelu", input)
    w = _require("prelu", weight, "weight")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.ndim > 1 or w.numel() not in (1, channels):
        raise ValueError(
            f"prelu(): weight of shape {w.shape} must hold 1 slope or one per channel "
            f"({channels} for an input of shape {x.shape})"
        )
    slope = w.reshape(()) if w.numel() == 1 else w.reshape((channels,) + (1,) * (x.ndim - 2))
    return where(x > 0, x, x * slope)
