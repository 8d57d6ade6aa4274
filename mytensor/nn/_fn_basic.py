"""Functional forms of the simple layers: linear, activations, embedding, flatten.

Each is a few core ops, so its gradient comes from the core on every backend; `linear` is
one op of the core (`core/ops/nn_ops.py`), re-exported here.
"""

from __future__ import annotations

import math

import numpy as np

from mytensor.core import autograd
from mytensor.core.creation import arange, asarray
from mytensor.core.dtypes import int64
from mytensor.core.ops.elementwise import UNARY_OPS, where
from mytensor.core.ops.indexing import gather
from mytensor.core.ops.nn_ops import linear as linear  # re-exported: the op is the core's
from mytensor.core.ops.softmax import log_softmax as _log_softmax
from mytensor.core.ops.softmax import softmax as _softmax
from mytensor.core.tensor import Tensor

_erf, _tanh = UNARY_OPS["erf"], UNARY_OPS["tanh"]
_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _require(op: str, value: object, arg: str = "input") -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): {arg} must be a Tensor, got {type(value).__name__}")
    return value


# -- activations ---------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; the gradient at 0 is 0, as in PyTorch. ``inplace=True`` writes
    the result into `input` (as ``input.relu_()``) and returns it.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.relu(mt.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    x = _require("relu", input)
    return x.relu_() if inplace else x.relu()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: ``x * Phi(x)`` with the exact erf form, or the tanh
    approximation when ``approximate="tanh"``.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> [round(v, 4) for v in F.gelu(mt.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.1587, 0.0, 0.8413]
    """
    x = _require("gelu", input)
    if approximate == "none":
        return x * 0.5 * (_erf(x * _SQRT_HALF) + 1.0)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * 0.5 * (_tanh(inner) + 1.0)
    raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``, stable for large |input|.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.sigmoid(mt.tensor([0.0])).tolist()
    [0.5]
    """
    return _require("sigmoid", input).sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.tanh(mt.tensor([0.0])).tolist()
    [0.0]
    """
    return _require("tanh", input).tanh()


def _softmax_dim(ndim: int) -> int:
    # PyTorch's rule for a missing dim (kept for compatibility; pass dim explicitly)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along `dim`, computed stably.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.softmax(mt.tensor([[0.0, 0.0]]), dim=1).tolist()
    [[0.5, 0.5]]
    """
    x = _require("softmax", input)
    return _softmax(x, _softmax_dim(x.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along `dim`: log-probabilities without underflow.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> [round(v, 4) for v in F.log_softmax(mt.tensor([0.0, 0.0]), dim=0).tolist()]
    [-0.6931, -0.6931]
    """
    x = _require("log_softmax", input)
    return _log_softmax(x, _softmax_dim(x.ndim) if dim is None else dim)


# -- embedding -----------------------------------------------------------------------------
def _row_norms(weight: Tensor, norm_type: float) -> Tensor:
    if norm_type == 2:
        return (weight * weight).sum(1).sqrt()
    if norm_type == 1:
        return weight.abs().sum(1)
    if math.isinf(norm_type):
        return weight.abs().amax(1)
    return (weight.abs() ** norm_type).sum(1) ** (1.0 / norm_type)


def _renorm_(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows that `indices` name whose norm exceeds `max_norm`."""
    with autograd.no_grad():
        chosen = np.zeros(weight.shape[0], dtype=bool)
        chosen[np.unique(indices)] = True
        norms = _row_norms(weight, norm_type)
        scale = where(
            asarray(chosen, backend=weight.backend) & (norms > max_norm),
            max_norm / (norms + 1e-7),
            1.0,
        )
        weight[...] = weight * scale.astype(weight.dtype).unsqueeze(1)


def _check_embedding_indices(host: np.ndarray, num: int) -> None:
    if host.size and (host.min() < 0 or host.max() >= num):
        raise IndexError(
            f"embedding(): index {host[(host < 0) | (host >= num)][0]} is out "
            f"of range for {num} embeddings (indices must be in [0, {num - 1}])"
        )


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) picked by the integer tensor `input`.

    ``padding_idx``'s row gets no gradient; with ``max_norm``, the rows used are first
    renormalised in place (outside the graph) to norm at most `max_norm`;
    ``scale_grad_by_freq`` divides each row's gradient by its count in `input`.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> w = mt.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    >>> F.embedding(mt.tensor([[2, 1]]), w).tolist()
    [[[3.0, 4.0], [1.0, 2.0]]]
    """
    idx = _require("embedding", input)
    if idx.dtype.kind != "int":
        raise TypeError(f"embedding(): input must be an integer tensor, got {idx.dtype.name}")
    if _require("embedding", weight, "weight").ndim != 2:
        raise ValueError(f"embedding(): weight must be 2-d, got shape {weight.shape}")
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(
                f"embedding(): padding_idx {padding_idx} must be within num_embeddings ({num})"
            )
        padding_idx %= num
    flat = (idx if idx.dtype is int64 else idx.astype(int64)).reshape(-1)
    host = flat.numpy() if (max_norm is not None or scale_grad_by_freq) else None
    if host is not None:
        _check_embedding_indices(host, num)
    if max_norm is not None:
        _renorm_(weight, host, max_norm, norm_type)
    n = flat.shape[0]
    try:
        out = gather(weight, 0, flat.reshape(n, 1).expand(n, dim))
    except IndexError:  # name the op the user called, not its gather
        _check_embedding_indices(flat.numpy(), num)
        raise
    if autograd.needs_grad(weight) and (padding_idx is not None or scale_grad_by_freq):
        # same values, gradient scaled per row: 0 for padding, 1/count when asked
        scale = np.ones(n)
        if scale_grad_by_freq:
            _, inverse, counts = np.unique(host, return_inverse=True, return_counts=True)
            scale = 1.0 / counts[inverse]
        if padding_idx is not None:
            scale = np.where(
                (host if host is not None else flat.numpy()) == padding_idx, 0.0, scale
            )
        factor = asarray(scale.reshape(n, 1), dtype=weight.dtype, backend=weight.backend)
        fixed = out.detach()
        out = fixed + (out - fixed) * factor
    return out.reshape(*idx.shape, dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims `start_dim`..`end_dim` into one (a view when the layout allows).

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.flatten(mt.ones(2, 3, 4), 1).shape
    (2, 12)
    """
    x = _require("flatten", input)
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    if start > end:
        raise ValueError(
            f"flatten(): start_dim {start_dim} comes after end_dim {end_dim} "
            f"for a tensor of shape {x.shape}"
        )
    merged = math.prod(x.shape[start : end + 1])
    return x.reshape(*x.shape[:start], merged, *x.shape[end + 1 :])


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape ``(*tensor.shape, num_classes)`` with a 1 at each class
    index of the integer `tensor`; ``num_classes=-1`` uses the largest index plus one.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> F.one_hot(mt.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    idx = _require("one_hot", tensor, "tensor")
    if idx.dtype.kind != "int":
        raise TypeError(
            f"one_hot(): expected an integer index tensor, got {idx.dtype.name}; "
            "convert it with .long()"
        )
    host = idx.numpy()
    if num_classes == -1:
        if host.size == 0:
            raise ValueError(
                "one_hot(): cannot infer num_classes from an empty tensor; pass num_classes"
            )
        num_classes = int(host.max()) + 1
    if host.size and host.min() < 0:
        raise ValueError(f"one_hot(): class values must be non-negative, got {host.min()}")
    if host.size and host.max() >= num_classes:
        raise ValueError(
            f"one_hot(): class value {host.max()} must be smaller than num_classes={num_classes}"
        )
    classes = arange(num_classes, dtype=int64, backend=idx.backend)
    return (idx.astype(int64).unsqueeze(-1) == classes).astype(int64)
