"""Reductions (primitives over the backend's `reduce`) and the composites built on them,
in PyTorch's form (``dim=``, ``keepdim=``, positional dims): the tensor methods. The
namespace functions with the array API's signatures wrap them (`statistical.py`)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable

import numpy as np

from mytensor.core import _autocast, autograd
from mytensor.core.batching import batchable, dim_rule, register_rule
from mytensor.core.dtypes import FLOAT_DTYPES, bool_, int64, to_dtype
from mytensor.core.layout import contiguous_strides, normalize_dim, normalize_dims
from mytensor.core.ops._base import OpRecord, check_tensor, register, require_kind
from mytensor.core.ops.elementwise import where
from mytensor.core.tensor import Tensor

Dim = int | Iterable[int] | None


def _reduce(op: str, x: Tensor, dims: tuple[int, ...], out_dtype, keepdim: bool):
    """Run the backend reduction; returns (result, keepdim-shaped raw result)."""
    keep_shape = tuple(1 if i in dims else s for i, s in enumerate(x.shape))
    backend = x._storage.backend
    raw = Tensor._empty(backend, keep_shape, out_dtype)
    if dims:
        backend.reduce(op, raw._d, x._d, dims)
    else:
        backend.copy(raw._d, x._d)  # a 0-d input, or dim=(): nothing to reduce
    if keepdim:
        return raw, raw
    shape = tuple(s for i, s in enumerate(x.shape) if i not in dims)
    return raw._view(shape, contiguous_strides(shape), 0), raw


def _check_nonempty(op: str, x: Tensor, dims: tuple[int, ...]) -> None:
    for d in dims:
        if x.shape[d] == 0:
            raise ValueError(
                f"{op}(): cannot reduce over dimension {d} of size 0 (input shape {x.shape}); "
                "the operation has no identity"
            )


def _accumulator_dtype(x: Tensor):
    """sum/prod accumulate floats in their own dtype, unsigned integers in uint64 and
    signed integers and bools in int64 (the array API's default integer dtypes)."""
    if x.dtype.kind in ("float", "complex"):
        return x.dtype
    return to_dtype("uint64") if x.dtype.kind == "uint" else int64


@batchable("sum")
def sum(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Sum over `dim` (int, tuple, or None for all); ints and bools sum in int64.

    >>> import mytensor as mt
    >>> mt.sum(mt.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=0).tolist()
    [4.0, 6.0]
    """
    x = check_tensor("sum", x)
    dims = normalize_dims("sum", dim, x.ndim)
    out, _ = _reduce("sum", x, dims, _accumulator_dtype(x), keepdim)
    if autograd.needs_grad(x):
        keep = tuple(1 if i in dims else s for i, s in enumerate(x.shape))
        autograd.record(out, "sum", (x,), lambda g: (g.reshape(keep).expand(x.shape),))
    return out


@batchable("prod")
def prod(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Product over `dim`; the gradient is exact when inputs contain zeros.

    >>> import mytensor as mt
    >>> mt.prod(mt.tensor([2.0, 3.0, 4.0])).item()
    24.0
    """
    if _autocast.STATE.active is not None:
        (x,) = _autocast.fp32("prod", x)
    x = check_tensor("prod", x)
    dims = normalize_dims("prod", dim, x.ndim)
    out, _ = _reduce("prod", x, dims, _accumulator_dtype(x), keepdim)
    if autograd.needs_grad(x):
        keep = tuple(1 if i in dims else s for i, s in enumerate(x.shape))

        def backward(g: Tensor) -> tuple:
            # d prod / d x_i is the product of the others, split in two factors: the
            # non-zero others (a quotient of zero-free products) and the other zeros. The
            # second is 1 where there is none and, where there is exactly one, that zero
            # itself (value 0, but it carries the graph, so second derivatives are exact).
            zeros = x == 0
            masked = where(zeros, 1.0, x)
            nonzero_others = masked.prod(dims, keepdim=True) / masked
            other_zero_count = zeros.sum(dims, keepdim=True) - zeros.astype(int64)
            zero_values = where(zeros, x, 0.0)
            other_zero = zero_values.sum(dims, keepdim=True) - zero_values
            zero_others = where(other_zero_count == 1, other_zero, 0.0)
            local = nonzero_others * where(other_zero_count == 0, 1.0, zero_others)
            if x.dtype.kind == "complex":  # holomorphic: PyTorch's g * conj(d out / d x)
                local = local.conj()
            return (g.reshape(keep) * local,)

        autograd.record(out, "prod", (x,), backward, (x,))
    return out


def _extremum(op: str, x: Tensor, dim: Dim, keepdim: bool) -> Tensor:
    x = check_tensor(op, x)
    dims = normalize_dims(op, dim, x.ndim)
    _check_nonempty(op, x, dims)
    out, raw = _reduce(op, x, dims, x.dtype, keepdim)
    if autograd.needs_grad(x):
        best = raw.detach()
        keep = raw.shape

        def backward(g: Tensor) -> tuple:
            # ties share the gradient equally; a NaN result sends it to the NaNs
            hit = (x == best) | (x.isnan() & best.isnan())
            share = hit.astype(g.dtype)
            return (g.reshape(keep) * share / share.sum(dims, keepdim=True),)

        autograd.record(out, op, (x,), backward, (x,))
    return out


@batchable("max")
def max(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Largest value over `dim` (NaN if any is NaN). Returns values only, like `amax`.

    >>> import mytensor as mt
    >>> mt.amax(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1).tolist()
    [5.0, 3.0]
    """
    return _extremum("max", x, dim, keepdim)


@batchable("min")
def min(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Smallest value over `dim` (NaN if any is NaN). Returns values only, like `amin`.

    >>> import mytensor as mt
    >>> mt.amin(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=0).tolist()
    [1.0, 2.0]
    """
    return _extremum("min", x, dim, keepdim)


def _arg_extremum(op: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    x = check_tensor(op, x)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            raise ValueError(f"{op}(): the input (shape {x.shape}) is empty")
        out, _ = _reduce(op, flat, (0,), int64, False)
        return out.reshape((1,) * x.ndim) if keepdim else out
    d = normalize_dim(op, dim, x.ndim)
    if x.ndim == 0:
        return _reduce(op, x.reshape(1), (0,), int64, False)[0]
    _check_nonempty(op, x, (d,))
    return _reduce(op, x, (d,), int64, keepdim)[0]


@batchable("argmax")
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first largest value along `dim` (of the flattened input if None).

    >>> import mytensor as mt
    >>> mt.argmax(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1).tolist()
    [1, 0]
    """
    return _arg_extremum("argmax", x, dim, keepdim)


@batchable("argmin")
def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first smallest value along `dim` (of the flattened input if None).

    >>> import mytensor as mt
    >>> mt.argmin(mt.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1).tolist()
    [0, 1]
    """
    return _arg_extremum("argmin", x, dim, keepdim)


def _logical_reduce(op: str, x: Tensor, dim: Dim, keepdim: bool) -> Tensor:
    x = check_tensor(op, x)
    if x.dtype is not bool_:
        x = x.astype(bool_)
    return _reduce(op, x, normalize_dims(op, dim, x.ndim), bool_, keepdim)[0]


@batchable("any")
def any(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Whether any element along `dim` is true (non-zero).

    >>> import mytensor as mt
    >>> mt.any(mt.tensor([0, 0, 3])).item()
    True
    """
    return _logical_reduce("any", x, dim, keepdim)


@batchable("all")
def all(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Whether every element along `dim` is true (non-zero).

    >>> import mytensor as mt
    >>> mt.all(mt.tensor([1, 0, 3])).item()
    False
    """
    return _logical_reduce("all", x, dim, keepdim)


# -- composites: differentiated for free through the primitives above -------------------
def _count(op: str, x: Tensor, dim: Dim) -> int:
    dims = normalize_dims(op, dim, x.ndim)
    return math.prod(x.shape[d] for d in dims)


def _require_float(op: str, x: Tensor) -> None:
    check_tensor(op, x)
    require_kind(op, x, ("float",), "; convert it first with .astype(mytensor.float32)")


def mean(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """Arithmetic mean over `dim` (floating-point or complex input; empty gives NaN).

    >>> import mytensor as mt
    >>> mt.mean(mt.tensor([1.0, 2.0, 6.0])).item()
    3.0
    """
    if check_tensor("mean", x).dtype.kind != "complex":
        _require_float("mean", x)
    n = _count("mean", x, dim)
    return sum(x, dim, keepdim) / (n if n else float("nan"))


def var(x: Tensor, dim: Dim = None, correction: float = 1, keepdim: bool = False) -> Tensor:
    """Variance over `dim`, dividing by ``N - correction`` (1 by default, like PyTorch).

    >>> import mytensor as mt
    >>> mt.tensor([1.0, 2.0, 3.0, 4.0]).var(correction=0).item()
    1.25
    """
    _require_float("var", x)
    n = _count("var", x, dim)
    centered = x - mean(x, dim, keepdim=True)
    divisor = n - correction
    squares = sum(centered * centered, dim, keepdim)
    return squares / divisor if divisor > 0 else squares * float("nan")


def std(x: Tensor, dim: Dim = None, correction: float = 1, keepdim: bool = False) -> Tensor:
    """Standard deviation: ``sqrt(var(x, dim, correction))``.

    >>> import mytensor as mt
    >>> mt.tensor([1.0, 3.0]).std().item()  # the method: PyTorch's correction=1
    1.4142135381698608
    """
    variance = var(x, dim, correction, keepdim)
    # sqrt has no derivative at 0: a zero spread (one element, or all equal) gets the
    # subgradient 0, as in PyTorch, rather than NaN
    flat = variance == 0
    return where(flat, 0.0, where(flat, 1.0, variance).sqrt())


def logsumexp(x: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over `dim`, without overflow.

    >>> import mytensor as mt
    >>> round(mt.logsumexp(mt.tensor([1000.0, 1000.0])).item(), 2)
    1000.69
    """
    _require_float("logsumexp", x)
    dims = normalize_dims("logsumexp", dim, x.ndim)
    if x.numel() == 0 or not dims:
        return (x.exp().sum(dims, keepdim=True)).log() if keepdim else x.exp().sum(dims).log()
    shift = max(x, dims, keepdim=True).detach()
    shift = where(shift.isfinite(), shift, 0.0)  # all -inf rows give -inf, not NaN
    out = (x - shift).exp().sum(dims, keepdim=True).log() + shift
    return out if keepdim else out.squeeze(dims)


# -- conformance records (the namespace reductions' records are in statistical.py) -------
def _nonempty_dim_variants(shapes: tuple[tuple[int, ...], ...]) -> list[dict]:
    shape = shapes[0]
    ndim = len(shape)
    out: list[dict] = [{}, {"keepdim": True}]
    for d in range(-ndim, ndim):
        out += [{"dim": d}, {"dim": d, "keepdim": True}]
    if ndim >= 2:
        out += [{"dim": (0, ndim - 1)}, {"dim": (0, -1), "keepdim": True}]
    return [
        kw for kw in out
        if builtins.all(shape[d] for d in normalize_dims("v", kw.get("dim"), ndim))
    ]  # fmt: skip


def _np_axis(dim):
    return tuple(dim) if isinstance(dim, tuple | list) else dim


def _np_logsumexp(x, dim=None, keepdim=False):
    m = np.max(x, axis=_np_axis(dim), keepdims=True) if x.size else 0.0
    out = np.log(np.sum(np.exp(x - m), axis=_np_axis(dim), keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=_np_axis(dim) if dim is not None else None)


for _name, _func, _ref, _variants in [
    ("logsumexp", logsumexp, _np_logsumexp, _nonempty_dim_variants),
]:  # fmt: skip
    register(OpRecord(_name, _func, _ref, dtypes=FLOAT_DTYPES, variants=_variants))


def _batch_arg_extremum(b, x, dim=None, keepdim=False):
    if dim is None:  # the index into the flattened sample
        out = b.op(x.reshape(x.shape[0], -1), 1)
        return out.reshape(x.shape[0], *([1] * (x.ndim - 1))) if keepdim else out
    return dim_rule(b, x, dim, keepdim)


for _name in ("sum", "prod", "max", "min", "any", "all"):
    register_rule(_name, dim_rule)
register_rule("argmax", _batch_arg_extremum)
register_rule("argmin", _batch_arg_extremum)
