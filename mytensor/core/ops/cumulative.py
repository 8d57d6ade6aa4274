"""Scans and differences: cumulative_sum / cumulative_prod (the backend's `cumulative`
primitive or its host fallback, with backward rules in ops) and diff (slices)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from mytensor.core import autograd
from mytensor.core.dtypes import ALL_DTYPES, NUMERIC_DTYPES, to_dtype
from mytensor.core.layout import is_integer, normalize_dim
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.reductions import _accumulator_dtype
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor

__all__ = ["cumulative_prod", "cumulative_sum", "diff"]


def _scan(op: str, x: Tensor, d: int) -> Tensor:
    """The inclusive scan of `x` along `d`, in x's dtype, recorded for autograd."""
    backend = x._storage.backend
    out = Tensor._empty(backend, x.shape, x.dtype)
    if out.numel():
        backend.cumulative(op, out._d, x.detach()._d, d)
    if autograd.needs_grad(x):
        if op == "sum":
            autograd.record(out, "cumulative_sum", (x,), lambda g: (_reverse_cumsum(g, d),))
        else:
            autograd.record(out, "cumulative_prod", (x,),
                            lambda g: (_cumprod_grad(x, out, g, d),), (x,))  # fmt: skip
    return out


def _reverse_cumsum(g: Tensor, d: int) -> Tensor:
    """``out[i] = sum(g[i:])`` along d: the adjoint of cumulative_sum."""
    return _scan("sum", g.flip(d), d).flip(d)


def _cumprod_grad(x: Tensor, out: Tensor, g: Tensor, d: int) -> Tensor:
    """d(sum_j g_j prod_{k<=j} x_k)/dx_i = sum_{j>=i} g_j prod_{k<=j, k!=i} x_k.

    Without zeros that is ``reverse_cumsum(g * out) / x``. With a zero it is formed
    exactly, by scanning an (n, n) copy of x whose row i has x_i replaced by 1. Complex x
    (holomorphic: PyTorch's g * conj(d out / d x)) takes the products of the conjugates."""
    if x.dtype.kind == "complex":
        x, out = x.conj(), out.conj()
    if not (x == 0).any().item():
        return _reverse_cumsum(g * out, d) / x
    from mytensor.core.creation import arange

    xm, gm = x.transpose(d, -1), g.transpose(d, -1)
    n = xm.shape[-1]
    i = arange(n, backend=x.backend)
    rows = where(i.reshape(n, 1) == i.reshape(1, n), 1.0, xm.unsqueeze(-2))
    partial = _scan("prod", rows, rows.ndim - 1)  # partial[..., i, j] = prod_{k<=j, k!=i}
    later = (i.reshape(n, 1) <= i.reshape(1, n)).astype(x.dtype)  # j >= i
    grad = (partial * later * gm.unsqueeze(-2)).sum(-1)
    return grad.transpose(d, -1)


def _cumulative(op: str, x: Tensor, axis: int | None, dtype: Any,
                include_initial: bool) -> Tensor:  # fmt: skip
    name = f"cumulative_{op}"
    x = check_tensor(name, x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(
                f"{name}(): axis=None needs a tensor of rank 0 or 1, got shape {x.shape}; "
                "pass axis="
            )
        axis = 0
    if x.ndim == 0:
        x = x.reshape(1)
    d = normalize_dim(name, axis, x.ndim)
    target = to_dtype(dtype) if dtype is not None else _accumulator_dtype(x)
    out = _scan(op, x if x.dtype is target else x.astype(target), d)
    if include_initial:
        from mytensor.core.creation import full

        shape = (*x.shape[:d], 1, *x.shape[d + 1 :])
        initial = full(shape, 0 if op == "sum" else 1, dtype=target, backend=x.backend)
        out = cat([initial, out], d)
    return out


def cumulative_sum(x: Tensor, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Tensor:  # fmt: skip
    """Running sums along `axis` (may be None for a 1-d input); `include_initial` puts
    the empty sum (0) first. Integers and bools sum in int64 unless `dtype` says.

    >>> import mytensor as mt
    >>> mt.cumulative_sum(mt.tensor([1, 2, 3]), include_initial=True).tolist()
    [0, 1, 3, 6]
    """
    return _cumulative("sum", x, axis, dtype, include_initial)


def cumulative_prod(x: Tensor, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Tensor:  # fmt: skip
    """Running products along `axis` (may be None for a 1-d input); `include_initial`
    puts the empty product (1) first. The gradient is exact with zeros in the input.

    >>> import mytensor as mt
    >>> mt.cumulative_prod(mt.tensor([[1.0, 2.0, 3.0]]), axis=1).tolist()
    [[1.0, 2.0, 6.0]]
    """
    return _cumulative("prod", x, axis, dtype, include_initial)


def diff(x: Tensor, /, *torch_args: Any, axis: int = -1, n: int = 1,
         prepend: Tensor | None = None, append: Tensor | None = None,
         dim: int | None = None) -> Tensor:  # fmt: skip
    """The `n`-th forward difference ``x[i + 1] - x[i]`` along `axis`, after joining
    `prepend` and `append` to `x` along it (PyTorch's ``diff(input, n, dim)`` works too).

    >>> import mytensor as mt
    >>> mt.diff(mt.tensor([1, 4, 9, 16]), n=2).tolist()
    [2, 2]
    """
    x = check_tensor("diff", x)
    if torch_args or dim is not None:  # PyTorch's diff(input, n=1, dim=-1, prepend, append)
        if len(torch_args) > 4:
            raise TypeError(
                f"diff(): takes at most 4 arguments after the input, got {len(torch_args)}"
            )
        given = dict(zip(("n", "dim", "prepend", "append"), torch_args, strict=False))
        if dim is not None:
            if "dim" in given:
                raise TypeError("diff(): got dim both positionally and as a keyword")
            given["dim"] = dim
        n, axis = given.get("n", n), given.get("dim", axis)
        prepend, append = given.get("prepend", prepend), given.get("append", append)
    if x.ndim == 0:
        raise ValueError("diff(): needs a tensor of rank >= 1, got a 0-d tensor")
    if not is_integer(n) or n < 0:
        raise ValueError(f"diff(): n must be a non-negative int, got {n!r}")
    n = operator.index(n)
    d = normalize_dim("diff", axis, x.ndim)
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = cat(parts, d)
    key = [slice(None)] * d
    for _ in range(n):
        if x.shape[d] == 0:
            break
        later, earlier = x[(*key, slice(1, None))], x[(*key, slice(None, -1))]
        x = later != earlier if x.dtype.kind == "bool" else later - earlier
    return x


# -- conformance records ------------------------------------------------------------------
def _scan_variants(shapes):
    ndim = len(shapes[0])
    out = [{"axis": d} for d in range(-ndim, ndim)]
    out += [{"axis": d, "include_initial": True} for d in range(ndim)]
    out += [{"axis": -1, "dtype": "float64"}] if ndim else []
    return out + ([{}, {"include_initial": True}] if ndim <= 1 else [])


def _np_scan(func):
    def ref(a, axis=None, dtype=None, include_initial=False):
        if dtype is not None:
            a = a.astype(dtype)
        if a.ndim == 0:
            a = a.reshape(1)
        return func(a, axis=axis, include_initial=include_initial,
                    dtype=np.int64 if a.dtype.kind in "bi" else a.dtype)  # fmt: skip

    return ref


def _diff_variants(shapes):
    ndim = len(shapes[0])
    return [{"axis": d, "n": k} for d in range(-ndim, ndim) for k in (0, 1, 2)]


def _np_diff(a, axis=-1, n=1):
    return np.diff(a, n=n, axis=axis)


register(OpRecord("cumulative_sum", cumulative_sum, _np_scan(np.cumulative_sum),
                  dtypes=ALL_DTYPES, variants=_scan_variants))  # fmt: skip
register(OpRecord("cumulative_prod", cumulative_prod, _np_scan(np.cumulative_prod),
                  dtypes=ALL_DTYPES, variants=_scan_variants, domain=(-2.0, 2.0)))  # fmt: skip
register(OpRecord("diff", diff, _np_diff, dtypes=NUMERIC_DTYPES, variants=_diff_variants))
