"""The standard's creation functions that take tensors: meshgrid (broadcast views) and
tril / triu (a mask from numpy's `tri`, applied with `where`: differentiable)."""

from __future__ import annotations

import operator

import numpy as np

from mytensor.core.dtypes import ALL_DTYPES
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.ops.elementwise import where
from mytensor.core.tensor import Tensor

__all__ = ["meshgrid", "tril", "triu"]


def meshgrid(*arrays: Tensor, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-d tensors: ``"xy"`` (Cartesian: the first two output axes
    swapped) or ``"ij"`` (matrix) indexing. The results are broadcast views.

    >>> import mytensor as mt
    >>> x, y = mt.meshgrid(mt.tensor([1, 2, 3]), mt.tensor([4, 5]))
    >>> x.tolist(), y.shape
    ([[1, 2, 3], [1, 2, 3]], (2, 3))
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid(): indexing must be 'xy' or 'ij', got {indexing!r}")
    tensors = [check_tensor("meshgrid", t, f"arrays[{i}]") for i, t in enumerate(arrays)]
    for i, t in enumerate(tensors):
        if t.ndim != 1:
            raise ValueError(f"meshgrid(): arrays[{i}] must be 1-d, got shape {t.shape}")
    sizes = [t.shape[0] for t in tensors]
    if indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(tensors):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(sizes) >= 2 else i
        lifted = t.reshape(tuple(-1 if k == axis else 1 for k in range(len(sizes))))
        out.append(lifted.broadcast_to(tuple(sizes)))
    return out


def triangle_mask(n: int, m: int, k: int, lower: bool, backend: str | None) -> Tensor:
    """(n, m) bool: True on and below diagonal `k` (`lower`), else on and above it.

    Built by numpy on the host and copied to `backend` once: one transfer where index
    arithmetic on the backend took six ops (a 32x32 `tril` on numba_cpu: 57 against 27
    us; the causal mask of `scaled_dot_product_attention`: 65 against 9).
    """
    from mytensor.core.creation import tensor

    # a Python int (a numpy uint8 k wraps in numpy's arange), clamped so that it cannot
    # overflow there either: the mask is the same
    k = max(-n - 1, min(operator.index(k), m + 1))
    keep = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
    return tensor(keep, backend=backend)


def _triangle(op: str, x: Tensor, k: int, lower: bool) -> Tensor:
    from mytensor.core.creation import zeros

    x = check_tensor(op, x)
    if x.ndim < 2:
        raise ValueError(f"{op}(): needs a tensor of rank >= 2, got shape {x.shape}")
    keep = triangle_mask(*x.shape[-2:], k, lower, x.backend)
    return where(keep, x, zeros((), dtype=x.dtype, backend=x.backend))


def tril(x: Tensor, /, *, k: int = 0) -> Tensor:
    """`x` with the elements above diagonal `k` of its last two axes set to zero.

    >>> import mytensor as mt
    >>> mt.tril(mt.ones(2, 2)).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle("tril", x, k, lower=True)


def triu(x: Tensor, /, *, k: int = 0) -> Tensor:
    """`x` with the elements below diagonal `k` of its last two axes set to zero.

    >>> import mytensor as mt
    >>> mt.triu(mt.ones(2, 2), k=1).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    return _triangle("triu", x, k, lower=False)


def _k_variants(shapes):
    return [{"k": k} for k in (-2, -1, 0, 1, 3)] + [{}] if len(shapes[0]) >= 2 else []


register(OpRecord("tril", tril, lambda a, k=0: np.tril(a, k), dtypes=ALL_DTYPES,
                  variants=_k_variants))  # fmt: skip
register(OpRecord("triu", triu, lambda a, k=0: np.triu(a, k), dtypes=ALL_DTYPES,
                  variants=_k_variants))  # fmt: skip
