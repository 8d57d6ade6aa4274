"""Dropout: elementwise (`dropout`) and channel-wise (`dropout1d`, `dropout2d`).

In training each element (or each whole channel) is zeroed with probability `p` and the
survivors are scaled by ``1 / (1 - p)``; otherwise the input comes back unchanged. The
mask is drawn from the core's seeded sampler, so `mytensor.manual_seed` repeats it.
"""

from __future__ import annotations

import warnings

from mytensor.core.batching import batchable, check_random, register_rule
from mytensor.core.creation import rand
from mytensor.core.ops.methods import run_inplace
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require

__all__ = ["dropout", "dropout1d", "dropout2d"]


def _check_p(op: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}(): dropout probability has to be between 0 and 1, but got {p}")


def _masked(op: str, x: Tensor, p: float, mask_shape: tuple[int, ...], inplace: bool) -> Tensor:
    """`x` times a keep-mask of `mask_shape` (broadcast over x) scaled by 1/(1-p)."""
    scale: Tensor | float = 0.0
    if p < 1.0:
        keep = rand(*mask_shape, dtype=x.dtype, backend=x.backend) < (1.0 - p)
        scale = keep.astype(x.dtype) * (1.0 / (1.0 - p))
    if inplace:
        return run_inplace(x, f"{op}_", lambda t: t * scale)
    return x * scale


@batchable("dropout", random=True)
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability `p` and scale the rest by ``1 / (1 - p)``
    (in training; the identity otherwise). ``inplace=True`` writes into `input`.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> y = F.dropout(mt.ones(1000), p=0.5)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> F.dropout(mt.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    """
    x = _require("dropout", input)
    _check_p("dropout", p)
    if not training or p == 0.0:
        return x
    return _masked("dropout", x, p, x.shape, inplace)


def _channel_mask_shape(x: Tensor) -> tuple[int, ...]:
    return (x.shape[0], x.shape[1]) + (1,) * (x.ndim - 2)


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability `p`, scaling the rest
    by ``1 / (1 - p)`` (in training; the identity otherwise).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> y = F.dropout1d(mt.ones(2, 50, 4), p=0.5)
    >>> bool(((y == 0).all(-1) | (y == 2).all(-1)).all())
    True
    """
    x = _require("dropout1d", input)
    _check_p("dropout1d", p)
    if x.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d(): expected a 2-d (C, L) or 3-d (N, C, L) input, got shape {x.shape}; "
            "use dropout for elementwise dropout"
        )
    if not training or p == 0.0:
        return x
    mask_shape = (x.shape[0], 1) if x.ndim == 2 else _channel_mask_shape(x)
    return _masked("dropout1d", x, p, mask_shape, inplace)


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels (dim 1) of (N, C, H, W) with probability `p`, scaling the rest
    by ``1 / (1 - p)`` (in training; the identity otherwise). As in PyTorch, a 3-d input
    is read as (N, C, L) (with a warning: use `dropout1d` for that).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> y = F.dropout2d(mt.ones(2, 50, 3, 3), p=0.5)
    >>> bool(((y == 0).all((2, 3)) | (y == 2).all((2, 3))).all())
    True
    """
    x = _require("dropout2d", input)
    _check_p("dropout2d", p)
    if x.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d(): received a {x.ndim}-d input; dropout2d is meant for (N, C, H, W) "
            "or (C, H, W) input. Use dropout for elementwise dropout",
            UserWarning,
            stacklevel=2,
        )
    elif x.ndim == 3:
        warnings.warn(
            "dropout2d(): a 3-d input is read as (N, C, L) and whole 1-d channels are "
            "dropped, as PyTorch does; use dropout1d to say so explicitly",
            UserWarning,
            stacklevel=2,
        )
    if not training or p == 0.0:
        return x
    if x.ndim < 2:
        raise RuntimeError(f"dropout2d(): expected an input with a channel dim, got {x.shape}")
    return _masked("dropout2d", x, p, _channel_mask_shape(x), inplace)


def _batch_dropout(b, input, p=0.5, training=True, inplace=False):
    """vmap: 'different' draws a mask per sample (one draw over the physical batch),
    'same' one mask for the sample shape, shared; 'error' refuses."""
    if not training or p == 0.0:
        return input
    check_random("dropout", b.level)
    draw = dropout.__wrapped__  # type: ignore[attr-defined]  # the op itself, on physical values
    if b.level.randomness == "different":
        return draw(input, p, training, inplace)
    return input * draw(input.new_ones(input.shape[1:]), p, training)


register_rule("dropout", _batch_dropout)
