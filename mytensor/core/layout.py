"""Pure shape/stride arithmetic: broadcasting, dims, views. No tensors, no backends."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

Shape = tuple[int, ...]


def numel(shape: Sequence[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


_STRIDES_CACHE: dict[Shape, Shape] = {}


def contiguous_strides(shape: Sequence[int]) -> Shape:
    cached = _STRIDES_CACHE.get(shape)  # type: ignore[call-overload]
    if cached is not None:
        return cached
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    out = tuple(reversed(strides))
    if isinstance(shape, tuple) and len(_STRIDES_CACHE) < 4096:
        _STRIDES_CACHE[shape] = out
    return out


# the cached row-major strides of a shape, or None, without computing them: the same tuple
# object every tensor allocated with that shape holds, so a backend can tell a whole,
# fresh tensor's layout by identity
cached_contiguous_strides = _STRIDES_CACHE.get


def is_contiguous(shape: Shape, strides: Shape) -> bool:
    if 0 in shape:
        return True  # no elements: any strides describe the same (empty) row-major block
    step = 1
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size != 1 and stride != step:
            return False
        step *= size
    return True


def broadcast_shapes(op: str, *shapes: Shape) -> Shape:
    """numpy's broadcasting rule; the error names the op, the shapes and the clash."""
    first = shapes[0] if shapes else ()
    for shape in shapes:
        if shape != first:
            break
    else:  # all the same (the common case): nothing to walk
        return tuple(first)
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(-ndim, 0):
        size = 1
        for shape in shapes:
            if -axis > len(shape):
                continue
            s = shape[axis]
            if s == size or s == 1:
                continue
            if size != 1:
                listed = " and ".join(str(tuple(s)) for s in shapes)
                raise ValueError(
                    f"{op}(): shapes {listed} cannot be broadcast (dimension {axis}: {size} vs {s})"
                )
            size = s
        out.append(size)
    return tuple(out)


def broadcast_strides(shape: Shape, strides: Shape, target: Shape) -> Shape:
    """Strides that view `shape`/`strides` as `target`, with 0 on broadcast axes."""
    lead = len(target) - len(shape)
    out = [0] * lead
    for size, stride, want in zip(shape, strides, target[lead:], strict=True):
        out.append(stride if size == want else 0)
    return tuple(out)


def is_integer(value: object) -> bool:
    """Whether `value` is one integer as `operator.index` reads it (a Python or numpy
    integer, a 0-d integer tensor), not a bool and not a sequence of them."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        return False
    return getattr(value, "ndim", 0) == 0


def normalize_dim(op: str, dim: int, ndim: int) -> int:
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__} {dim!r}")
    dim = operator.index(dim)  # numpy integers too
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op}(): dim {dim} is out of range for a tensor of rank {ndim} "
            f"(expected a dim in [{-bound}, {bound - 1}])"
        )
    return dim % bound


def normalize_dims(op: str, dim: int | Iterable[int] | None, ndim: int) -> tuple[int, ...]:
    """Sorted, non-negative, unique dims; None means all of them."""
    if dim is None:
        return tuple(range(ndim))
    if hasattr(dim, "__index__") and not isinstance(dim, bool):
        dims: tuple = (operator.index(dim),)
    elif isinstance(dim, list | tuple):
        dims = tuple(dim)
    else:
        raise TypeError(
            f"{op}(): dim must be an int, a tuple of ints or None, got "
            f"{type(dim).__name__} {dim!r}"
        )
    out = sorted(normalize_dim(op, d, ndim) for d in dims)
    if ndim == 0:
        return ()
    if len(set(out)) != len(out):
        raise ValueError(f"{op}(): dim {dim!r} names the same dimension twice")
    return tuple(out)


def view_strides(shape: Shape, strides: Shape, new_shape: Shape) -> Shape | None:
    """Strides viewing `shape`/`strides` as `new_shape` without a copy, or None.

    numpy's rule: walk both shapes, grouping old and new dimensions into runs of
    equal size; a run of old dimensions may be re-split only if it is laid out
    contiguously relative to itself.
    """
    if numel(shape) == 0 or strides is cached_contiguous_strides(shape):
        return contiguous_strides(new_shape)  # row-major (told by the cached tuple) stays so
    old = [(s, st) for s, st in zip(shape, strides, strict=True) if s != 1]
    old_sizes = [s for s, _ in old]
    old_strides = [st for _, st in old]
    out = [1] * len(new_shape)
    oi, oj, ni, nj = 0, 1, 0, 1
    while ni < len(new_shape) and oi < len(old_sizes):
        new_run, old_run = new_shape[ni], old_sizes[oi]
        while new_run != old_run:
            if new_run < old_run:
                new_run *= new_shape[nj]
                nj += 1
            else:
                old_run *= old_sizes[oj]
                oj += 1
        for k in range(oi, oj - 1):
            if old_strides[k] != old_sizes[k + 1] * old_strides[k + 1]:
                return None
        out[nj - 1] = old_strides[oj - 1]
        for k in range(nj - 1, ni, -1):
            out[k - 1] = out[k] * new_shape[k]
        ni, nj, oi, oj = nj, nj + 1, oj, oj + 1
    for k in range(ni, len(new_shape)):  # trailing size-1 dims
        out[k] = out[k - 1] if k else 1
    return tuple(out)


def infer_shape(op: str, shape: Sequence[int], total: int) -> Shape:
    """Resolve one -1 in a requested shape against `total` elements."""
    shape = tuple(map(int, shape))
    if -1 not in shape and numel(shape) == total and min(shape, default=0) >= 0:
        return shape  # the common case, without the checks' passes below
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise ValueError(f"{op}(): only one dimension can be -1, got shape {shape}")
    if any(s < -1 for s in shape):
        raise ValueError(f"{op}(): invalid shape {shape} (negative size)")
    known = numel(s for s in shape if s != -1)
    if unknown:
        if known == 0 or total % known:
            raise ValueError(f"{op}(): shape {shape} is invalid for a tensor of {total} elements")
        shape = (*shape[: unknown[0]], total // known, *shape[unknown[0] + 1 :])
    elif known != total:
        raise ValueError(f"{op}(): shape {shape} is invalid for a tensor of {total} elements")
    return shape


def merge_dims(sizes: list[int], strides: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Merge each dimension into the one before it when every operand allows it
    (a backend's kernels then loop over fewer, longer dimensions)."""
    out_sizes: list[int] = []
    out_strides: list[list[int]] = [[] for _ in strides]
    for j, size in enumerate(sizes):
        if out_sizes and all(
            row[-1] == st[j] * size for row, st in zip(out_strides, strides, strict=True)
        ):
            out_sizes[-1] *= size
            for row, st in zip(out_strides, strides, strict=True):
                row[-1] = st[j]
        else:
            out_sizes.append(size)
            for row, st in zip(out_strides, strides, strict=True):
                row.append(st[j])
    return out_sizes, out_strides
