"""PyTorch's norms and distances: ``torch.norm``, ``dist`` and ``cdist``, composed from
elementwise ops and reductions.

A p-norm's root has an infinite slope at 0, so where the norm is 0 (a zero vector, or
two coincident points) the root is taken of 1 instead and the result replaced by 0:
the gradient there is 0, PyTorch's subgradient, rather than NaN, at every order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mytensor.core import _autocast, autograd
from mytensor.core.creation import zeros_like
from mytensor.core.dtypes import FLOAT_DTYPES, to_dtype
from mytensor.core.layout import is_integer, normalize_dim, normalize_dims
from mytensor.core.ops import reductions as R
from mytensor.core.ops._base import OpRecord, check_tensor, promote_operands, register
from mytensor.core.ops.elementwise import where
from mytensor.core.tensor import Tensor

__all__ = ["cdist", "dist", "norm"]

Dim = int | Sequence[int] | None


def _root(total: Tensor, p: float) -> Tensor:
    """``total ** (1 / p)`` for total >= 0, with gradient 0 where total is 0."""
    zero = total == 0
    safe = where(zero, 1.0, total)
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return where(zero, 0.0, root)


def vector_norm(op: str, x: Tensor, p: float, dim: Dim, keepdim: bool) -> Tensor:
    """The p-norm of `x` over `dim` (None: all elements), for float or complex `x`."""
    if x.dtype.kind not in ("float", "complex"):
        raise TypeError(
            f"{op}(): expected a floating-point or complex tensor, got {x.dtype.name}; "
            "convert with .astype(mytensor.float32) or pass dtype="
        )
    if isinstance(p, bool) or not isinstance(p, int | float):
        raise TypeError(f"{op}(): p must be a number, 'fro' or 'nuc', got {p!r}")
    dims = tuple(range(x.ndim)) if dim is None else normalize_dims(op, dim, x.ndim)
    magnitude = x.abs()
    if math.isinf(p) or p < 0:
        for d in dims:
            if x.shape[d] == 0:
                raise ValueError(
                    f"{op}(): cannot compute the {p} norm over dimension {d} of size 0 "
                    f"(input shape {x.shape}): the operation has no identity"
                )
    if p == math.inf:
        return R.max(magnitude, dims, keepdim)
    if p == -math.inf:
        return R.min(magnitude, dims, keepdim)
    if p == 0:
        count = R.sum((x != 0).astype(magnitude.dtype), dims, keepdim)
        if autograd.needs_grad(x):  # constant in x: a zero gradient, as PyTorch gives
            autograd.record(count, op, (x,), lambda g: (zeros_like(x.detach()),))
        return count
    if p == 1:
        return R.sum(magnitude, dims, keepdim)
    if p == 2:
        return _root(R.sum(magnitude * magnitude, dims, keepdim), 2)
    return _root(R.sum(magnitude**p, dims, keepdim), p)


def norm(input: Tensor, p: float | str | None = "fro", dim: Dim = None, keepdim: bool = False,
         dtype: object = None) -> Tensor:  # fmt: skip
    """``torch.norm``: the p-norm of `input` over `dim` (None: every element, as one
    vector). `p` is a number (``inf``, ``-inf``, 0 counts non-zeros), ``"fro"`` (the
    2-norm; over at most two dims) or ``"nuc"`` (the sum of singular values of the
    matrices in the two dims `dim`, or of a 2-d `input`). With `dtype` the input is
    converted first. The gradient at a zero norm is 0.

    >>> import mytensor as mt
    >>> x = mt.tensor([[3.0, -4.0], [0.0, 0.0]])
    >>> mt.norm(x).item(), mt.norm(x, p=1, dim=1).tolist(), x.norm(float("inf")).item()
    (5.0, [7.0, 0.0], 4.0)
    """
    input = check_tensor("norm", input)
    if dtype is not None:
        input = input.astype(to_dtype(dtype))
    if not isinstance(p, str):
        return vector_norm("norm", input, 2.0 if p is None else p, dim, keepdim)
    dims = None if dim is None else ((dim,) if is_integer(dim) else tuple(dim))
    if p == "fro" and (dims is None or len(dims) <= 2):
        return vector_norm("norm", input, 2, dim, keepdim)
    if p != "nuc":
        raise ValueError(f"norm(): p must be a number, 'fro' or 'nuc', got {p!r}")
    if dims is None:
        dims = tuple(range(input.ndim))
    if len(dims) != 2:
        raise ValueError(
            f"norm(): p='nuc' needs two dims (the matrices' rows and columns), got dim={dim!r} "
            f"for shape {input.shape}"
        )
    return _nuclear(input, dims, keepdim)


def _nuclear(x: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
    from mytensor import linalg

    rows, cols = (normalize_dim("norm", d, x.ndim) for d in dims)
    if rows == cols:
        raise ValueError(f"norm(): p='nuc' needs two different dims, got dim={dims!r}")
    rest = [d for d in range(x.ndim) if d not in (rows, cols)]
    out = linalg.matrix_norm(x.permute(*rest, rows, cols), ord="nuc")
    if keepdim:
        for d in sorted((rows, cols)):
            out = out.unsqueeze(d)
    return out


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of ``input - other`` (broadcast), over every element: a 0-d tensor.

    >>> import mytensor as mt
    >>> mt.dist(mt.tensor([1.0, 1.0]), mt.tensor([4.0, 5.0])).item()
    5.0
    """
    input = check_tensor("dist", input)
    other = check_tensor("dist", other, "other")
    a, b, _ = promote_operands("dist", input, other)
    return vector_norm("dist", a - b, p, None, False)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:  # fmt: skip
    """The p-norm distance between each row of `x1` (..., P, M) and each row of `x2`
    (..., R, M): a (..., P, R) tensor, the batch dims broadcast. The gradient at
    coincident points is 0 (as PyTorch's). `compute_mode` is accepted for PyTorch's
    signature; the distances are always computed from the differences (exactly).

    >>> import mytensor as mt
    >>> mt.cdist(mt.tensor([[0.0, 0.0], [1.0, 1.0]]), mt.tensor([[3.0, 4.0]])).tolist()
    [[5.0], [3.605551242828369]]
    """
    if _autocast.STATE.active is not None:
        x1, x2 = _autocast.fp32("cdist", x1, x2)
    x1 = check_tensor("cdist", x1, "x1")
    x2 = check_tensor("cdist", x2, "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise ValueError(
            f"cdist(): x1 and x2 need at least 2 dimensions (..., rows, features), got shapes "
            f"{x1.shape} and {x2.shape}"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(
            f"cdist(): x1 and x2 must have the same number of columns, got shapes {x1.shape} "
            f"and {x2.shape}"
        )
    if isinstance(p, bool) or not isinstance(p, int | float) or p < 0 or math.isnan(p):
        raise ValueError(f"cdist(): p must be a non-negative number, got {p!r}")
    valid_modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                   "donot_use_mm_for_euclid_dist")  # fmt: skip
    if compute_mode not in valid_modes:
        raise ValueError(
            f"cdist(): compute_mode must be one of {valid_modes}, got {compute_mode!r}"
        )
    for name, t in (("x1", x1), ("x2", x2)):
        if t.dtype.kind != "float":
            raise TypeError(
                f"cdist(): only floating-point inputs are supported, {name} is {t.dtype.name}; "
                "convert with .astype(mytensor.float32)"
            )
    a, b, _ = promote_operands("cdist", x1, x2)
    differences = a.unsqueeze(-2) - b.unsqueeze(-3)  # (..., P, R, M)
    if differences.shape[-1] == 0:
        return R.sum(differences, -1, False)  # no features: every distance is 0
    return vector_norm("cdist", differences, p, -1, False)


# -- conformance records ------------------------------------------------------------------
def _np_vector_norm(x, p=2.0, axis=None, keepdims=False):
    a = np.abs(x)
    if p == math.inf:
        return np.max(a, axis=axis, keepdims=keepdims)
    if p == 0:
        return np.sum(a != 0, axis=axis, keepdims=keepdims).astype(a.dtype)
    return np.sum(a**p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _np_norm(x, p="fro", dim=None, keepdim=False):
    axis = tuple(dim) if isinstance(dim, tuple | list) else dim
    return _np_vector_norm(x, 2.0 if p == "fro" else p, axis, keepdim)


def _np_dist(a, b, p=2):
    return _np_vector_norm(np.subtract(a, b), p)


def _norm_variants(shapes):
    shape = shapes[0]
    out = [{}, {"p": 1}, {"p": 3}, {"p": 0}]
    if all(shape):
        out.append({"p": math.inf})
    if shape:
        out += [{"dim": -1}, {"p": 1, "dim": 0, "keepdim": True}]
    if len(shape) >= 2:
        out.append({"p": "fro", "dim": (-2, -1), "keepdim": True})
    return out


def _dist_variants(shapes):
    out = [{}, {"p": 1}, {"p": 3}, {"p": 0}]
    empty = any(0 in s for s in shapes)
    return out if empty else [*out, {"p": math.inf}]


register(OpRecord("norm", norm, _np_norm, dtypes=FLOAT_DTYPES, variants=_norm_variants,
                  exclude_zero=True))  # fmt: skip
register(OpRecord("dist", dist, _np_dist, arity=2, dtypes=FLOAT_DTYPES, shapes="broadcast",
                  variants=_dist_variants))  # fmt: skip
