"""Kernel plans: descriptors reduced to the fewest, simplest loops (pure Python, no numba).

An elementwise plan puts the output's dimensions in memory order (largest stride first,
negative strides flipped), drops size-1 dimensions and merges neighbours that every
operand walks as one: a contiguous or same-layout call becomes a single 1-d loop, and a
broadcast operand keeps stride 0 in its plan (it is never materialised). Plans depend
on the layouts only, so they are cached by layout.
"""

from __future__ import annotations

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core.layout import merge_dims

_PLANS: dict[tuple, tuple] = {}
_MAX_PLANS = 8192


def elementwise_plan(shape: tuple[int, ...], layouts: tuple[tuple, ...]) -> tuple:
    """``(shape, strides, offsets, size)`` as int64 arrays for the kernels.

    `layouts` holds ``(strides, offset)`` per operand, the output first; ``strides`` has
    one row per operand.
    """
    key = (shape, layouts)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _build_elementwise(shape, layouts)
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _build_elementwise(shape: tuple[int, ...], layouts: tuple[tuple, ...]) -> tuple:
    offsets = [offset for _, offset in layouts]
    dims = [d for d, size in enumerate(shape) if size != 1]
    out_strides = layouts[0][0]
    dims.sort(key=lambda d: -abs(out_strides[d]))  # memory order of the output
    sizes = [shape[d] for d in dims]
    strides = [[st[d] for d in dims] for st, _ in layouts]
    for j, size in enumerate(sizes):
        if strides[0][j] < 0:  # walk the output forwards
            for k, row in enumerate(strides):
                offsets[k] += (size - 1) * row[j]
                row[j] = -row[j]
    sizes, strides = merge_dims(sizes, strides)
    if not sizes:
        sizes, strides = [1], [[0] for _ in layouts]
    size = 1
    for s in sizes:
        size *= s
    return (
        np.array(sizes, np.int64),
        np.array(strides, np.int64).reshape(len(layouts), len(sizes)),
        np.array(offsets, np.int64),
        size,
    )


def numpy_view(desc: Strided) -> np.ndarray:
    """The numpy view a descriptor names (cached on the descriptor)."""
    view = desc.cache
    if view is None:
        itemsize = desc.dtype.itemsize
        if 0 in desc.shape:
            view = np.empty(desc.shape, desc.dtype.numpy)
        else:
            view = np.ndarray(desc.shape, desc.dtype.numpy, buffer=desc.buffer,
                              offset=desc.offset * itemsize,
                              strides=tuple(s * itemsize for s in desc.strides))  # fmt: skip
        desc.cache = view
    return view


def offset_table(dims: list[tuple[int, int]], offset: int) -> np.ndarray:
    """Buffer offsets of every position of `dims` ``[(size, stride), ...]``, row-major."""
    table = np.array([offset], np.int64)
    for size, stride in dims:
        table = (table[:, None] + np.arange(size, dtype=np.int64) * stride).reshape(-1)
    return table


def reduce_plan(a: Strided, out: Strided, dims: tuple[int, ...], ordered: bool) -> tuple:
    """``(kept_a, kept_out, kn, kas, kos, reduced, rn, rs)`` for the reduction kernels.

    The kept space is ``kept_a``/``kept_out`` (offset tables of its outer axes, ``a``'s
    and ``out``'s offsets included) times an inner axis of ``kn`` elements at strides
    ``kas``/``kos``; the reduced space is the table ``reduced`` times ``rn`` elements at
    stride ``rs``. With `ordered`, the reduced axis keeps its order (``arg*`` positions).
    """
    key = (a.shape, a.strides, a.offset, out.strides, out.offset, dims)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    kept, reduced = [], []
    for d, size in enumerate(a.shape):
        if size == 1:
            continue
        if d in dims:
            reduced.append((size, a.strides[d]))
        else:
            kept.append((size, a.strides[d], out.strides[d]))
    kept.sort(key=lambda t: -abs(t[1]))
    if not ordered:
        reduced.sort(key=lambda t: -abs(t[1]))
    ksizes, (kas, kos) = merge_dims([t[0] for t in kept], [[t[1] for t in kept],
                                                           [t[2] for t in kept]])  # fmt: skip
    rsizes, (rss,) = merge_dims([t[0] for t in reduced], [[t[1] for t in reduced]])
    ksizes, kas, kos = ksizes or [1], kas or [0], kos or [0]
    rsizes, rss = rsizes or [1], rss or [0]
    plan = (
        offset_table(list(zip(ksizes[:-1], kas[:-1], strict=True)), a.offset),
        offset_table(list(zip(ksizes[:-1], kos[:-1], strict=True)), out.offset),
        ksizes[-1], kas[-1], kos[-1],
        offset_table(list(zip(rsizes[:-1], rss[:-1], strict=True)), 0),
        rsizes[-1], rss[-1],
    )  # fmt: skip
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan
