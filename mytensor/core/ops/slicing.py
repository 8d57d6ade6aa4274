"""PyTorch's slicing and reshaping spellings: flatten / unflatten, chunk / unbind, narrow /
select / diagonal (views of the input's buffer), t, diag, movedim / swapaxes and
sum_to_size. Each is composed from the shape ops' views, `getitem` and `scatter_add`,
so every one is differentiable on every backend."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from mytensor.core import autograd
from mytensor.core.dtypes import ALL_DTYPES, int64
from mytensor.core.layout import infer_shape, is_integer, normalize_dim
from mytensor.core.ops import shape as S
from mytensor.core.ops._base import OpRecord, check_tensor, register, unbroadcast
from mytensor.core.ops.indexing import scatter_add
from mytensor.core.tensor import Tensor

__all__ = [
    "chunk", "diag", "diagonal", "flatten", "movedim", "narrow", "select", "sum_to_size",
    "swapaxes", "t", "unbind", "unflatten",
]  # fmt: skip


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions `start_dim` .. `end_dim` into one (a view when the layout allows);
    a 0-d input becomes 1-d.

    >>> import mytensor as mt
    >>> mt.flatten(mt.zeros(2, 3, 4), 1).shape
    (2, 12)
    """
    x = check_tensor("flatten", input)
    if x.ndim == 0:
        normalize_dim("flatten", start_dim, 0), normalize_dim("flatten", end_dim, 0)
        return S.reshape(x, 1)
    start, end = normalize_dim("flatten", start_dim, x.ndim), normalize_dim("flatten", end_dim,
                                                                           x.ndim)  # fmt: skip
    if start > end:
        raise ValueError(
            f"flatten(): start_dim {start_dim} comes after end_dim {end_dim} for a tensor "
            f"of rank {x.ndim}; pass start_dim <= end_dim"
        )
    merged = math.prod(x.shape[start : end + 1])
    return S.reshape(x, *x.shape[:start], merged, *x.shape[end + 1 :])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension `dim` into `sizes` (one of them may be -1); the inverse of `flatten`.

    >>> import mytensor as mt
    >>> mt.unflatten(mt.zeros(2, 12), 1, (3, -1)).shape
    (2, 3, 4)
    """
    x = check_tensor("unflatten", input)
    d = normalize_dim("unflatten", dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise ValueError("unflatten(): sizes must be a non-empty sequence of ints")
    size = x.shape[d] if x.ndim else 1
    try:
        sizes = infer_shape("unflatten", sizes, size)
    except ValueError:
        raise ValueError(
            f"unflatten(): sizes {sizes} do not multiply to {size}, the size of dimension "
            f"{d} of shape {x.shape}"
        ) from None
    return S.reshape(x, *x.shape[:d], *sizes, *x.shape[d + 1 :])


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into at most `chunks` views of ``ceil(size / chunks)`` elements along `dim`
    (the last may be smaller, and there may be fewer than `chunks`).

    >>> import mytensor as mt
    >>> [p.tolist() for p in mt.chunk(mt.arange(5), 3)]
    [[0, 1], [2, 3], [4]]
    """
    x = check_tensor("chunk", input)
    if not is_integer(chunks) or chunks <= 0:
        raise ValueError(f"chunk(): chunks must be a positive int, got {chunks!r}")
    chunks = operator.index(chunks)
    if x.ndim == 0:
        raise ValueError("chunk(): a 0-d tensor cannot be chunked; reshape it to 1-d first")
    d = normalize_dim("chunk", dim, x.ndim)
    size = x.shape[d]
    if size == 0:
        return S.split(x, [0] * chunks, d)
    return S.split(x, -(-size // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of `input` along `dim`, as a tuple of views (`dim` removed).

    >>> import mytensor as mt
    >>> [t.tolist() for t in mt.unbind(mt.tensor([[1, 2], [3, 4]]), 1)]
    [[1, 3], [2, 4]]
    """
    x = check_tensor("unbind", input)
    if x.ndim == 0:
        raise IndexError("unbind(): a 0-d tensor has no dimension to unbind")
    d = normalize_dim("unbind", dim, x.ndim)
    return tuple(select(x, d, i) for i in range(x.shape[d]))


def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """The view ``input[..., start:start + length, ...]`` along `dim` (`start` may be
    negative, counting from the end).

    >>> import mytensor as mt
    >>> mt.narrow(mt.arange(6).reshape(2, 3), 1, 1, 2).tolist()
    [[1, 2], [4, 5]]
    """
    x = check_tensor("narrow", input)
    if x.ndim == 0:
        raise IndexError("narrow(): a 0-d tensor cannot be narrowed")
    d = normalize_dim("narrow", dim, x.ndim)
    size, begin, length = x.shape[d], int(start), int(length)
    if not -size <= begin <= size:
        raise IndexError(
            f"narrow(): start {begin} is out of range for dimension {d} of size {size} "
            f"(expected -{size}..{size})"
        )
    begin = begin + size if begin < 0 else begin
    if length < 0 or begin + length > size:
        raise IndexError(
            f"narrow(): start {begin} + length {length} exceeds dimension {d} of size {size} "
            f"(shape {x.shape}); pass a length in 0..{size - begin}"
        )
    return x[(*[slice(None)] * d, slice(begin, begin + length))]


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view ``input[..., index, ...]`` at `index` along `dim` (`dim` removed).

    >>> import mytensor as mt
    >>> mt.select(mt.arange(6).reshape(2, 3), 1, -1).tolist()
    [2, 5]
    """
    x = check_tensor("select", input)
    if x.ndim == 0:
        raise IndexError("select(): a 0-d tensor has no dimension to select from")
    d = normalize_dim("select", dim, x.ndim)
    size, i = x.shape[d], int(index)
    if not -size <= i < size:
        raise IndexError(
            f"select(): index {i} is out of range for dimension {d} of size {size} "
            f"(expected -{size}..{size - 1})"
        )
    return x[(*[slice(None)] * d, i)]


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix; 0-d and 1-d tensors come back as they are (a view).

    >>> import mytensor as mt
    >>> mt.t(mt.zeros(2, 3)).shape, mt.t(mt.zeros(3)).shape
    ((3, 2), (3,))
    """
    x = check_tensor("t", input)
    if x.ndim > 2:
        raise ValueError(
            f"t(): expects a tensor of rank <= 2, got shape {x.shape}; use transpose(dim0, "
            "dim1) or mT for batches of matrices"
        )
    return S.transpose(x, 0, 1) if x.ndim == 2 else S.reshape(x, *x.shape)


def _diagonal_layout(x: Tensor, offset: int, d1: int, d2: int) -> tuple[tuple, tuple, int]:
    """Shape, strides and storage offset of the diagonal view (numpy's layout rule)."""
    rows, cols = x.shape[d1], x.shape[d2]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    start = x._offset
    if length:
        start += offset * x._strides[d2] if offset >= 0 else -offset * x._strides[d1]
    keep = [k for k in range(x.ndim) if k not in (d1, d2)]
    shape = (*(x.shape[k] for k in keep), length)
    strides = (*(x._strides[k] for k in keep), x._strides[d1] + x._strides[d2])
    return shape, strides, start


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal `offset` of the matrices spanned by `dim1` and `dim2`, as a view, in a
    new last dimension (positive offsets lie above the main diagonal).

    >>> import mytensor as mt
    >>> mt.diagonal(mt.arange(9).reshape(3, 3), 1).tolist()
    [1, 5]
    """
    return _diagonal("diagonal", check_tensor("diagonal", input), int(offset), dim1, dim2)


def _diagonal(op: str, x: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{op}(): needs a tensor of rank >= 2, got shape {x.shape}")
    d1, d2 = normalize_dim(op, dim1, x.ndim), normalize_dim(op, dim2, x.ndim)
    if d1 == d2:
        raise ValueError(f"{op}(): dim1 and dim2 both name dimension {d1}; pick two")
    shape, strides, start = _diagonal_layout(x, offset, d1, d2)
    out = x._view(shape, strides, start)
    return S._record_view(out, "diagonal", x, lambda g: _embed_diagonal(g, x, offset, d1, d2))


def _embed_diagonal(g: Tensor, x: Tensor, offset: int, d1: int, d2: int) -> Tensor:
    """The adjoint of `diagonal`: `g` placed on the diagonal of zeros shaped like `x`."""
    from mytensor.core.creation import asarray, zeros

    positions = np.arange(x.numel(), dtype=np.int64).reshape(x.shape)
    picked = np.diagonal(positions, offset, d1, d2).reshape(-1)
    index = asarray(np.ascontiguousarray(picked), dtype=int64, backend=g.backend)
    flat = zeros(x.numel(), dtype=g.dtype, backend=g.backend)
    return scatter_add(flat, 0, index, g.reshape(-1)).reshape(x.shape)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-d input becomes the square matrix with it on diagonal `diagonal`; a 2-d input
    gives (a copy of) its diagonal `diagonal`.

    >>> import mytensor as mt
    >>> mt.diag(mt.tensor([1, 2]), 1).tolist()
    [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    """
    x = check_tensor("diag", input)
    k = int(diagonal)
    if x.ndim == 2:
        return S.clone(_diagonal("diag", x, k, 0, 1))
    if x.ndim != 1:
        raise ValueError(f"diag(): expects a 1-d or 2-d tensor, got shape {x.shape}")
    from mytensor.core.creation import zeros

    n = x.shape[0] + abs(k)
    out = zeros((n, n), dtype=x.dtype, backend=x.backend)
    # copy x into the diagonal view of the zeros (every dtype, no atomics needed)
    shape, strides, start = _diagonal_layout(out, k, 0, 1)
    out._storage.backend.copy(out._view(shape, strides, start)._d, x._d)
    if autograd.needs_grad(x):
        autograd.record(out, "diag", (x,), lambda g: (S.clone(_diagonal("diag", g, k, 0, 1)),))
    return out


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move dimensions `source` to positions `destination`, keeping the others in order
    (a view).

    >>> import mytensor as mt
    >>> mt.movedim(mt.zeros(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    """
    from mytensor.core.ops.manipulation import moveaxis

    x = check_tensor("movedim", input)
    src = source if is_integer(source) else tuple(source)
    dst = destination if is_integer(destination) else tuple(destination)
    return moveaxis(x, src, dst)


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Swap two dimensions (a view; PyTorch's alias of `transpose`).

    >>> import mytensor as mt
    >>> mt.swapaxes(mt.zeros(2, 3), 0, 1).shape
    (3, 2)
    """
    return S.transpose(check_tensor("swapaxes", input), axis0, axis1)


def sum_to_size(input: Tensor, *size: int | Sequence[int]) -> Tensor:
    """Sum `input` down to `size`, which must broadcast to input's shape (the adjoint of
    `expand`).

    >>> import mytensor as mt
    >>> mt.ones(2, 3).sum_to_size(1, 3).tolist()
    [[2.0, 2.0, 2.0]]
    """
    x = check_tensor("sum_to_size", input)
    target = S._shape_arg(size)
    lead = x.ndim - len(target)
    if lead < 0 or any(t not in (1, s) for t, s in zip(target, x.shape[lead:], strict=True)):
        raise ValueError(
            f"sum_to_size(): size {target} is not expandable to the input's shape {x.shape}"
        )
    return unbroadcast(x, target)


# -- conformance records ------------------------------------------------------------------
def _flatten_variants(shapes):
    ndim = len(shapes[0])
    out = [{}, {"start_dim": -1}]
    out += [{"start_dim": a, "end_dim": b} for a in range(ndim) for b in range(a, ndim)]
    return out


def _np_flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return a.reshape(1)
    start, end = start_dim % a.ndim, end_dim % a.ndim
    return a.reshape(*a.shape[:start], math.prod(a.shape[start : end + 1]), *a.shape[end + 1 :])


def _diagonal_variants(shapes):
    ndim = len(shapes[0])
    if ndim < 2:
        return []
    return [{}, {"offset": 1}, {"offset": -1}, {"offset": 5}, {"dim1": -1, "dim2": 0},
            {"offset": 1, "dim1": 1, "dim2": 0}]  # fmt: skip


def _narrow_variants(shapes):
    shape = shapes[0]
    out = []
    for d in range(-len(shape), len(shape)):
        n = shape[d]
        out += [{"dim": d, "start": 0, "length": n}, {"dim": d, "start": n // 2,
                                                      "length": n - n // 2}]  # fmt: skip
        if n:
            out.append({"dim": d, "start": -1, "length": 1})
    return out


def _np_narrow(a, dim, start, length):
    begin = start + a.shape[dim] if start < 0 else start
    return np.take(a, np.arange(begin, begin + length), axis=dim)


def _select_variants(shapes):
    shape = shapes[0]
    return [{"dim": d, "index": i} for d in range(-len(shape), len(shape)) for i in (0, -1)
            if shape[d]]  # fmt: skip


def _t_variants(shapes):
    return [{}] if len(shapes[0]) <= 2 else []


def _diag_variants(shapes):
    return [{}, {"diagonal": 1}, {"diagonal": -2}] if len(shapes[0]) in (1, 2) else []


def _np_diag(a, diagonal=0):
    return np.diag(a, diagonal)


register(OpRecord("flatten", flatten, _np_flatten, dtypes=ALL_DTYPES, variants=_flatten_variants))
register(OpRecord("diagonal", diagonal, lambda a, offset=0, dim1=0, dim2=1:
                  np.diagonal(a, offset, dim1, dim2), dtypes=ALL_DTYPES,
                  variants=_diagonal_variants))  # fmt: skip
register(OpRecord("narrow", narrow, _np_narrow, dtypes=ALL_DTYPES, variants=_narrow_variants))
register(OpRecord("select", select, lambda a, dim, index: np.take(a, index, axis=dim),
                  dtypes=ALL_DTYPES, variants=_select_variants))  # fmt: skip
register(OpRecord("t", t, lambda a: a.T, dtypes=ALL_DTYPES, variants=_t_variants))
register(OpRecord("diag", diag, _np_diag, dtypes=ALL_DTYPES, variants=_diag_variants))


def _unflatten_variants(shapes):
    shape = shapes[0]
    out = [{"dim": d, "sizes": (1, shape[d])} for d in range(-len(shape), len(shape))]
    out += [{"dim": d, "sizes": (-1, 1)} for d in range(len(shape)) if shape[d]]
    return out + [{"dim": d, "sizes": (2, -1)} for d in range(len(shape)) if shape[d] % 2 == 0
                  and shape[d]]  # fmt: skip


def _np_unflatten(a, dim, sizes):
    d = dim % a.ndim
    known = math.prod(s for s in sizes if s != -1)
    sizes = [a.shape[d] // known if s == -1 else s for s in sizes]
    return a.reshape(*a.shape[:d], *sizes, *a.shape[d + 1 :])


def _movedim_variants(shapes):
    ndim = len(shapes[0])
    out = [{"source": s, "destination": t} for s in range(-ndim, ndim) for t in (0, -1)]
    return out + ([{"source": (0, 1), "destination": (-1, 0)}] if ndim >= 2 else [])


def _swapaxes_variants(shapes):
    ndim = len(shapes[0])
    return [{"axis0": a, "axis1": b} for a in range(-ndim, ndim) for b in range(ndim)]


register(OpRecord("unflatten", unflatten, _np_unflatten, dtypes=ALL_DTYPES,
                  variants=_unflatten_variants))  # fmt: skip
register(OpRecord("movedim", movedim, lambda a, source, destination: np.moveaxis(
    a, source, destination), dtypes=ALL_DTYPES, variants=_movedim_variants))  # fmt: skip
register(OpRecord("swapaxes", swapaxes, lambda a, axis0, axis1: np.swapaxes(a, axis0, axis1),
                  dtypes=ALL_DTYPES, variants=_swapaxes_variants))  # fmt: skip
