"""Sorting: `argsort` through the backend's `argsort` primitive (or its host fallback),
and `sort` as `take_along_axis(x, argsort(x))`, so its gradient flows back through
the permutation (a `gather`, whose backward is a `scatter_add`)."""

from __future__ import annotations

import numpy as np

from mytensor.core.batching import batchable, register_rule, shift_dim
from mytensor.core.dtypes import ALL_DTYPES, NUMERIC_DTYPES, int64
from mytensor.core.layout import normalize_dim
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.ops.indexing import gather
from mytensor.core.tensor import Tensor

__all__ = ["argsort", "sort"]


@batchable("argsort")
def argsort(x: Tensor, /, *, axis: int = -1, descending: bool = False,
            stable: bool = True) -> Tensor:  # fmt: skip
    """The int64 indices that sort `x` along `axis`. The sort is always stable (equal
    values keep their order, whatever `stable` says); NaN sorts last (first when
    `descending`).

    >>> import mytensor as mt
    >>> mt.argsort(mt.tensor([3.0, 1.0, 2.0, 1.0])).tolist()
    [1, 3, 2, 0]
    """
    x = check_tensor("argsort", x)
    d = normalize_dim("argsort", axis, x.ndim)
    backend = x._storage.backend
    if x.ndim == 0:
        return Tensor._empty(backend, (), int64).zero_()
    out = Tensor._empty(backend, x.shape, int64)
    if out.numel():
        backend.argsort(out._d, x.detach()._d, d, bool(descending))
    return out


def sort(x: Tensor, /, *, axis: int = -1, descending: bool = False,
         stable: bool = True) -> Tensor:  # fmt: skip
    """`x` sorted along `axis` (stably; NaN last, or first when `descending`); the
    gradient goes back to each value's original position.

    >>> import mytensor as mt
    >>> mt.sort(mt.tensor([[3.0, 1.0], [0.0, 2.0]]), axis=0, descending=True).tolist()
    [[3.0, 2.0], [0.0, 1.0]]
    """
    x = check_tensor("sort", x)
    order = argsort(x, axis=axis, descending=descending)
    if x.ndim == 0:
        return x.clone()
    return gather(x, normalize_dim("sort", axis, x.ndim), order)


def _batch_argsort(b, x, axis=-1, **kwargs):
    if x.ndim == 1:  # a 0-d sample
        return b.op(x.unsqueeze(1), axis=1, **kwargs).squeeze(1)
    return b.op(x, axis=shift_dim(axis, x.ndim - 1), **kwargs)


register_rule("argsort", _batch_argsort)


# -- conformance records ------------------------------------------------------------------
def _variants(shapes):
    ndim = len(shapes[0])
    out = [{}, {"descending": True}]
    for d in range(-ndim, ndim):
        out += [{"axis": d}, {"axis": d, "descending": True, "stable": False}]
    return out


def _np_argsort(a, axis=-1, descending=False, stable=True):
    if a.ndim == 0:
        return np.int64(0)
    if descending:
        n = a.shape[axis]
        return n - 1 - np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    return np.argsort(a, axis=axis, kind="stable")


def _np_sort(a, axis=-1, descending=False, stable=True):
    if a.ndim == 0:
        return a
    return np.take_along_axis(a, _np_argsort(a, axis, descending), axis)


register(OpRecord("sort", sort, _np_sort, dtypes=NUMERIC_DTYPES, variants=_variants))
register(OpRecord("argsort", argsort, _np_argsort, dtypes=ALL_DTYPES, variants=_variants,
                  grad=False))  # fmt: skip
