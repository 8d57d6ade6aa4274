"""Layer normalization as one graph node, on the `layer_norm` / `layer_norm_backward`
primitives (the core's composite of them is `core/fused_norm.py`).

The forward keeps each row's mean and 1 / sqrt(var + eps); the backward is the closed
form ``dx = rstd * (g - mean(g) - xhat * mean(g * xhat))`` with ``g = dy * weight``, plus
the column sums for weight and bias. A backward that is itself recorded (create_graph)
or batched (vmap) differentiates the op composition instead, and vmap runs that
composition from the start.
"""

from __future__ import annotations

import math

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core import autograd, batching
from mytensor.core.ops._base import OpRecord, check_tensor, register, same_backend
from mytensor.core.tensor import Tensor

__all__ = ["layer_norm"]


def layer_norm(x: Tensor, normalized_shape: tuple[int, ...], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalize over the trailing dims `normalized_shape` (biased variance), then scale
    and shift; `weight` and `bias` have shape `normalized_shape`.

    >>> import mytensor as mt
    >>> from mytensor.core.ops.normalization import layer_norm
    >>> [round(v, 3) for v in layer_norm(mt.tensor([[1.0, 3.0]]), (2,)).tolist()[0]]
    [-1.0, 1.0]
    """
    check_tensor("layer_norm", x)
    shape = tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != shape:
        raise ValueError(
            f"layer_norm(): input of shape {x.shape} does not end in normalized_shape {shape}"
        )
    params = [p for p in (weight, bias) if p is not None]
    backend = same_backend("layer_norm", x, *params)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p.shape != shape or p.dtype is not x.dtype):
            raise ValueError(
                f"layer_norm(): {name} must have shape {shape} and dtype {x.dtype.name}, got "
                f"{p.shape} {p.dtype.name}"
            )
    if batching.ACTIVE[0] or x.dtype.kind != "float":
        return _layer_norm_ops(x, shape, weight, bias, eps)
    x = x if x.is_contiguous() else x.contiguous()
    cols = math.prod(shape)
    rows = x.numel() // cols if cols else 0
    out = Tensor._empty(backend, x.shape, x.dtype)
    mean, rstd = (Tensor._empty(backend, (rows,), x.dtype) for _ in range(2))
    if rows and cols:
        backend.layer_norm(_matrix(out, rows, cols), mean._d, rstd._d, _matrix(x, rows, cols),
                           _vector(weight, cols), _vector(bias, cols), float(eps))  # fmt: skip
    inputs = (x, *params)
    if autograd.needs_grad(*inputs):

        def backward(dy: Tensor) -> tuple:
            if autograd.is_grad_enabled() or batching.ACTIVE[0]:
                return _recomputed(dy, x, shape, weight, bias, eps)
            dy = dy if dy.is_contiguous() else dy.contiguous()
            dx = Tensor._empty(backend, x.shape, x.dtype)
            dw, db = (Tensor._empty(backend, shape, x.dtype) if p is not None and p.requires_grad
                      else None for p in (weight, bias))  # fmt: skip
            if rows and cols:
                backend.layer_norm_backward(
                    _matrix(dx, rows, cols), _vector(dw, cols), _vector(db, cols),
                    _matrix(dy, rows, cols), _matrix(x, rows, cols), mean._d, rstd._d,
                    _vector(weight, cols),
                )
            else:  # nothing to normalize: every gradient is zero
                for g in (dx, dw, db):
                    if g is not None:
                        g.zero_()
            grads = [dx if x.requires_grad else None]
            grads += [g for g, p in ((dw, weight), (db, bias)) if p is not None]
            return tuple(grads)

        autograd.record(out, "layer_norm", inputs, backward, inputs, fresh_grads=True)
    return out


def _matrix(t: Tensor, rows: int, cols: int) -> Strided:
    """A C-contiguous tensor as (rows, cols)."""
    return Strided(t._storage.buffer, (rows, cols), (cols, 1), t._offset, t.dtype)


def _vector(t: Tensor | None, cols: int) -> Strided | None:
    """A parameter of the normalized shape as (cols,) (C-contiguous or made so)."""
    if t is None:
        return None
    if not t.is_contiguous():
        with autograd.no_grad():
            t = t.contiguous()
    return Strided(t._storage.buffer, (cols,), (1,), t._offset, t.dtype)


def _layer_norm_ops(x: Tensor, shape: tuple, weight: Tensor | None, bias: Tensor | None,
                    eps: float) -> Tensor:  # fmt: skip
    """The same normalization composed of ops."""
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - x.mean(dims, keepdim=True)
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered * (var + eps).sqrt().reciprocal()
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def _recomputed(dy: Tensor, x: Tensor, shape: tuple, weight: Tensor | None,
                bias: Tensor | None, eps: float) -> tuple:  # fmt: skip
    """create_graph: differentiate the op composition, recorded (second order)."""
    inputs = [t for t in (x, weight, bias) if t is not None]
    needed = [t for t in inputs if t.requires_grad]
    with autograd.enable_grad():
        out = _layer_norm_ops(x, shape, weight, bias, eps)
        grads = iter(autograd.grad(out, needed, dy, create_graph=True, allow_unused=True))
    return tuple(next(grads) if t.requires_grad else None for t in inputs)


def _np_layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    wide = x.astype(np.float64)
    centered = wide - wide.mean(dims, keepdims=True)
    out = centered / np.sqrt((centered * centered).mean(dims, keepdims=True) + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.astype(x.dtype)


register(OpRecord("layer_norm", layer_norm, _np_layer_norm, shapes="custom"))
