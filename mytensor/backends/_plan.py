"""Launch planning shared by the compiled backends: strided layouts reduced to the fewest loops.

A backend's kernels loop over a plan's dimensions, not the tensor's: the planner drops
size-1 dimensions, puts the rest in memory order (largest stride first) and merges
neighbours that every operand walks as one (`mytensor.core.layout.merge_dims`), so a
contiguous or same-layout call becomes one 1-d loop and a broadcast operand keeps
stride 0 (it is never materialised). The results are tuples of Python ints; each
backend's ``_plan`` module turns them into what its kernels take (numba_cpu: int64 arrays
and offset tables; cuda: tuples passed by value as kernel parameters) and keeps the
converted plan in the one bounded cache here (`PLANS`, `remember`), keyed by layout.
"""

from __future__ import annotations

from typing import Any, TypeVar

from mytensor.core.layout import merge_dims

__all__ = ["MAX_PLANS", "PLANS", "elementwise_dims", "lookup", "reduce_dims", "remember"]

T = TypeVar("T")

MAX_PLANS = 8192
PLANS: dict[tuple, Any] = {}
# A backend reads the cache through this bound method: Python 3.11 compiles a method call
# on an imported name (``PLANS.get(key)``) without LOAD_METHOD, 70 ns slower per launch.
lookup = PLANS.get

ElementwiseDims = tuple[int, tuple[int, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]
ReduceDims = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...],
                   tuple[int, ...]]  # fmt: skip


def remember(key: tuple, plan: T) -> T:
    """Store `plan` under `key` in `PLANS` and return it.

    One cache serves every backend: `key` starts with the backend's name and the plan's
    kind and holds everything the plan depends on (shapes, strides, offsets where the
    plan bakes them in). A backend reads it with ``lookup(key)`` first (``PLANS.get``,
    None when not planned yet). The cache is bounded: at `MAX_PLANS` plans it is emptied.

    >>> lookup(("doctest.e", (2, 3))) is None
    True
    >>> remember(("doctest.e", (2, 3)), 42)
    42
    >>> lookup(("doctest.e", (2, 3)))
    42
    """
    if len(PLANS) >= MAX_PLANS:
        PLANS.clear()
    PLANS[key] = plan
    return plan


def elementwise_dims(shape: tuple[int, ...], layouts: tuple[tuple, ...]) -> ElementwiseDims:
    """``(size, sizes, strides, offsets)``: the loops of an elementwise call.

    `layouts` holds ``(strides, offset)`` per operand, the output first. The output's
    dimensions are ordered by memory and a negative output stride is flipped (every
    operand's offset moves to the flipped dimension's far end), so the output is walked
    forwards. ``sizes`` are the plan's dimensions (at least one), ``strides`` one row per
    operand, ``offsets`` one int per operand, ``size`` the number of elements.

    A contiguous output and a broadcast row vector (stride 0) merge to rank 1 only where
    every operand allows it:

    >>> elementwise_dims((2, 3), (((3, 1), 0), ((3, 1), 6)))
    (6, (6,), ((1,), (1,)), (0, 6))
    >>> elementwise_dims((2, 3), (((3, 1), 0), ((0, 1), 0)))
    (6, (2, 3), ((3, 1), (0, 1)), (0, 0))
    >>> elementwise_dims((4,), (((-1,), 3), ((1,), 0)))  # flipped output: walked forwards
    (4, (4,), ((1,), (-1,)), (0, 3))
    """
    offsets = [offset for _, offset in layouts]
    out_strides = layouts[0][0]
    dims = [d for d, size in enumerate(shape) if size != 1]
    dims.sort(key=lambda d: -abs(out_strides[d]))  # stable: ties keep the logical order
    sizes = [shape[d] for d in dims]
    strides = [[st[d] for d in dims] for st, _ in layouts]
    for j, size in enumerate(sizes):
        if strides[0][j] < 0:
            for k, row in enumerate(strides):
                offsets[k] += (size - 1) * row[j]
                row[j] = -row[j]
    sizes, strides = merge_dims(sizes, strides)
    if not sizes:
        sizes, strides = [1], [[0] for _ in layouts]
    size = 1
    for s in sizes:
        size *= s
    return size, tuple(sizes), tuple(tuple(row) for row in strides), tuple(offsets)


def reduce_dims(
    shape: tuple[int, ...],
    a_strides: tuple[int, ...],
    out_strides: tuple[int, ...],
    dims: tuple[int, ...],
    ordered: bool,
) -> ReduceDims:
    """``(kept, kept_a, kept_out, reduced, reduced_a)``: the loops of a reduction.

    ``a`` (of `shape`, at `a_strides`) is reduced over `dims` into ``out`` (at
    `out_strides`, size 1 on `dims`). The kept space is row-major over the sizes
    ``kept``, in ``a``'s memory order (its last dimension the fastest in ``a``), at
    strides ``kept_a`` in ``a`` and ``kept_out`` in ``out``. The reduced space is
    row-major over ``reduced`` at strides ``reduced_a``. Size-1 dimensions are dropped
    and each space has at least one dimension (size 1, stride 0 when empty).

    Unordered, the reduced dimensions are sorted by memory too. With `ordered`
    (``argmax``/``argmin``) they keep their logical order, so the row-major position in
    the reduced space is the index the op returns; merging keeps that true, as
    `merge_dims` only merges dimensions that are row-major neighbours.

    >>> reduce_dims((2, 3, 4), (12, 4, 1), (4, 4, 1), (1,), False)
    ((2, 4), (12, 1), (4, 1), (3,), (4,))
    >>> reduce_dims((3, 4), (1, 3), (1, 1), (0, 1), False)  # transposed: memory order
    ((1,), (0,), (0,), (12,), (1,))
    >>> reduce_dims((3, 4), (1, 3), (1, 1), (0, 1), True)  # logical order kept
    ((1,), (0,), (0,), (3, 4), (1, 3))
    """
    kept: list[tuple[int, int, int]] = []
    reduced: list[tuple[int, int]] = []
    for d, size in enumerate(shape):
        if size == 1:
            continue
        if d in dims:
            reduced.append((size, a_strides[d]))
        else:
            kept.append((size, a_strides[d], out_strides[d]))
    kept.sort(key=lambda t: -abs(t[1]))
    if not ordered:
        reduced.sort(key=lambda t: -abs(t[1]))
    ksizes, (kas, kos) = merge_dims([t[0] for t in kept], [[t[1] for t in kept],
                                                           [t[2] for t in kept]])  # fmt: skip
    rsizes, (ras,) = merge_dims([t[0] for t in reduced], [[t[1] for t in reduced]])
    return (tuple(ksizes) or (1,), tuple(kas) or (0,), tuple(kos) or (0,),
            tuple(rsizes) or (1,), tuple(ras) or (0,))  # fmt: skip
