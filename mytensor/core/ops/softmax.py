"""softmax and log_softmax: one primitive (the backend's `softmax`, or the composite of
`Dispatch.softmax`), one graph node each.

Written as the composite (max, subtract, exp, sum, divide or log), either would record
four nodes and run five kernels forwards and more backwards; as one op the backward is
its closed form: ``y * (g - sum(g * y))`` for softmax and ``g - exp(y) * sum(g)`` for
log_softmax, both along `dim`, one `softmax_backward` primitive (ops under create_graph or
vmap, where the gradient must stay differentiable or batched).
"""

from __future__ import annotations

import builtins

import numpy as np

from mytensor.core import _autocast, autograd, batching
from mytensor.core.batching import batchable, dim_rule, register_rule
from mytensor.core.dtypes import FLOAT_DTYPES
from mytensor.core.layout import normalize_dim
from mytensor.core.ops._base import OpRecord, check_tensor, register, require_kind
from mytensor.core.tensor import Tensor

__all__ = ["log_softmax", "softmax"]


def _softmax(name: str, x: Tensor, dim: int, log: bool) -> Tensor:
    check_tensor(name, x)
    if _autocast.STATE.active is not None:  # float32 under CUDA's autocast, not CPU's
        (x,) = _autocast.fp32(name, x)
    require_kind(name, x, ("float",), "; convert it first with .astype(mytensor.float32)")
    d = normalize_dim(name, dim, x.ndim)
    if x.numel() == 0:
        return x.clone()
    if x.ndim == 0:  # one element along the (only) dim
        return _softmax(name, x.reshape(1), 0, log).reshape(())
    backend = x._storage.backend
    out = Tensor._empty(backend, x.shape, x.dtype)
    backend.softmax(out._d, x._d, d, log)
    if autograd.needs_grad(x):
        saved_out = out.detach()

        def backward(g: Tensor) -> tuple:
            if not autograd.is_grad_enabled() and not batching.ACTIVE[0]:
                dx = Tensor._empty(backend, x.shape, x.dtype)
                backend.softmax_backward(dx._d, saved_out._d, g._d, d, log)
                return (dx,)
            # under create_graph the output must stay differentiable in x: recompute it
            y = _softmax(name, x, d, log) if autograd.is_grad_enabled() else saved_out
            if log:
                return (g - y.exp() * g.sum(d, keepdim=True),)
            return (y * (g - (g * y).sum(d, keepdim=True)),)

        autograd.record(out, name, (x,), backward, (saved_out,))
    return out


@batchable("softmax")
def softmax(x: Tensor, dim: int) -> Tensor:
    """``exp(x) / sum(exp(x))`` along `dim`, computed stably (the maximum subtracted
    first). A row holding NaN or +inf, or only -inf, gives NaN, as in PyTorch.

    >>> import mytensor as mt
    >>> mt.softmax(mt.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    return _softmax("softmax", x, dim, log=False)


@batchable("log_softmax")
def log_softmax(x: Tensor, dim: int) -> Tensor:
    """``x - logsumexp(x)`` along `dim`: the log of `softmax`, without underflow.

    >>> import mytensor as mt
    >>> [round(v, 4) for v in mt.log_softmax(mt.tensor([0.0, 0.0]), dim=0).tolist()]
    [-0.6931, -0.6931]
    """
    return _softmax("log_softmax", x, dim, log=True)


# -- conformance records ------------------------------------------------------------------
def _variants(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    return [{"dim": d} for d in range(-len(shapes[0]), builtins.max(len(shapes[0]), 1))]


def _np_softmax(x, dim):
    if not x.size:
        return x
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _np_log_softmax(x, dim):
    if not x.size:
        return x
    m = np.max(x, axis=dim, keepdims=True)
    shifted = x - np.where(m == -np.inf, 0.0, m)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


register(OpRecord("softmax", softmax, _np_softmax, dtypes=FLOAT_DTYPES, variants=_variants))
register(OpRecord("log_softmax", log_softmax, _np_log_softmax, dtypes=FLOAT_DTYPES,
                  variants=_variants))  # fmt: skip
register_rule("softmax", dim_rule)
register_rule("log_softmax", dim_rule)
