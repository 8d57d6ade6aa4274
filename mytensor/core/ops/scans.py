"""PyTorch's scans along a dimension: cumsum, cumprod (``dim`` required, optional
``dtype``) over the `cumulative` primitive, and logcumsumexp, a log-space prefix scan
built from `logaddexp` (so it never overflows and differentiates on every backend)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.core.batching import batchable, one_dim_rule, register_rule
from mytensor.core.dtypes import ALL_DTYPES, FLOAT_DTYPES, to_dtype
from mytensor.core.layout import normalize_dim
from mytensor.core.ops._base import OpRecord, check_tensor, register, require_kind
from mytensor.core.ops.cumulative import cumulative_prod, cumulative_sum
from mytensor.core.ops.elementwise import BINARY_OPS
from mytensor.core.tensor import Tensor

__all__ = ["cumprod", "cumsum", "logcumsumexp"]


def _scan(op: str, x: Any, dim: int, dtype: Any) -> Tensor:
    x = check_tensor(op, x)
    d = normalize_dim(op, dim, x.ndim)
    scan = cumulative_sum if op == "cumsum" else cumulative_prod
    out = scan(x, axis=d if x.ndim else 0, dtype=None if dtype is None else to_dtype(dtype))
    return out.reshape(()) if x.ndim == 0 else out


@batchable("cumsum")
def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along `dim`; integers and bools sum in int64 unless `dtype` says
    (the input is cast to `dtype` first).

    >>> import mytensor as mt
    >>> mt.cumsum(mt.tensor([[1, 2], [3, 4]]), 0).tolist()
    [[1, 2], [4, 6]]
    """
    return _scan("cumsum", input, dim, dtype)


@batchable("cumprod")
def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along `dim`; integers and bools multiply in int64 unless `dtype`
    says. The gradient is exact where the input has zeros.

    >>> import mytensor as mt
    >>> mt.cumprod(mt.tensor([1.0, 2.0, 3.0]), 0).tolist()
    [1.0, 2.0, 6.0]
    """
    return _scan("cumprod", input, dim, dtype)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input)))`` along `dim`, computed in log space (no overflow or
    underflow): a prefix scan of `logaddexp` in ceil(log2(n)) steps.

    >>> import mytensor as mt
    >>> [round(v, 4) for v in mt.logcumsumexp(mt.tensor([0.0, 0.0, 1000.0]), 0).tolist()]
    [0.0, 0.6931, 1000.0]
    """
    x = check_tensor("logcumsumexp", input)
    require_kind("logcumsumexp", x, ("float",), "; convert it first with .to(mytensor.float32)")
    d = normalize_dim("logcumsumexp", dim, x.ndim)
    if x.ndim == 0:
        return x.clone()
    from mytensor.core.ops.shape import cat

    n, out, step = x.shape[d], x, 1
    lead = [slice(None)] * d
    while step < n:
        # Hillis-Steele: out[i] takes in out[i - step], so out[i] covers 2 * step inputs
        earlier = out[(*lead, slice(0, n - step))]
        later = BINARY_OPS["logaddexp"](out[(*lead, slice(step, n))], earlier)
        out = cat([out[(*lead, slice(0, step))], later], d)
        step *= 2
    return out if out is not x else x.clone()


# -- conformance records ------------------------------------------------------------------
def _dim_variants(shapes):
    ndim = len(shapes[0])
    out = [{"dim": d} for d in range(-max(ndim, 1), max(ndim, 1))]
    return [*out, {"dim": -1, "dtype": "float64"}]


def _np_scan(func):
    def ref(a, dim, dtype=None):
        if dtype is not None:
            a = a.astype(dtype)
        wide = np.int64 if a.dtype.kind in "bi" else a.dtype
        return func(a.reshape(-1) if a.ndim == 0 else a, axis=dim, dtype=wide).reshape(a.shape)

    return ref


def _np_logcumsumexp(a, dim):
    if a.ndim == 0:
        return a
    return np.logaddexp.accumulate(a, axis=dim) if a.size else a


register_rule("cumsum", one_dim_rule)
register_rule("cumprod", one_dim_rule)
register(OpRecord("cumsum", cumsum, _np_scan(np.cumsum), dtypes=ALL_DTYPES,
                  variants=_dim_variants))  # fmt: skip
register(OpRecord("cumprod", cumprod, _np_scan(np.cumprod), dtypes=ALL_DTYPES,
                  variants=_dim_variants, domain=(-2.0, 2.0)))  # fmt: skip
register(OpRecord("logcumsumexp", logcumsumexp, _np_logcumsumexp, dtypes=FLOAT_DTYPES,
                  variants=lambda s: [{"dim": d} for d in range(-max(len(s[0]), 1),
                                                                max(len(s[0]), 1))]))  # fmt: skip
