"""Kernel plans for numba_cpu: the shared planner's loops (`mytensor.backends._plan`) as the
int64 arrays and offset tables its kernels take (pure Python, no numba).

An elementwise plan is the output's dimensions in memory order, size-1 dimensions
dropped and neighbours merged: a contiguous or same-layout call becomes a single 1-d
loop, and a broadcast operand keeps stride 0. Plans are cached by layout in the shared
bounded cache.
"""

from __future__ import annotations

import numpy as np

from mytensor.backends._plan import elementwise_dims, lookup, reduce_dims, remember
from mytensor.backends.spec import Strided


def elementwise_plan(shape: tuple[int, ...], layouts: tuple[tuple, ...]) -> tuple:
    """``(shape, strides, offsets, size)`` as int64 arrays for the kernels.

    `layouts` holds ``(strides, offset)`` per operand, the output first; ``strides`` has
    one row per operand.
    """
    key = ("numba_cpu.e", shape, layouts)
    plan = lookup(key)
    if plan is None:
        size, sizes, strides, offsets = elementwise_dims(shape, layouts)
        plan = remember(key, (
            np.array(sizes, np.int64),
            np.array(strides, np.int64).reshape(len(layouts), len(sizes)),
            np.array(offsets, np.int64),
            size,
        ))  # fmt: skip
    return plan


def flat_plan(shape: tuple[int, ...], operands: int) -> tuple:
    """`elementwise_plan` of `operands` row-major blocks of `shape` from offset 0: one
    loop over every element."""
    key = ("numba_cpu.flat", shape, operands)
    plan = lookup(key)
    if plan is None:
        size = 1
        for n in shape:
            size *= n
        plan = remember(key, (np.array([size], np.int64), np.ones((operands, 1), np.int64),
                              np.zeros(operands, np.int64), size))  # fmt: skip
    return plan


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
                              strides=tuple([s * itemsize for s in desc.strides]))  # fmt: skip
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
    stride ``rs``. With `ordered`, the reduced axes keep their order (``arg*`` positions).
    """
    key = ("numba_cpu.r", a.shape, a.strides, a.offset, out.strides, out.offset, dims,
           ordered)  # fmt: skip
    plan = lookup(key)
    if plan is None:
        ksizes, kas, kos, rsizes, ras = reduce_dims(a.shape, a.strides, out.strides, dims,
                                                    ordered)  # fmt: skip
        plan = remember(key, (
            offset_table(list(zip(ksizes[:-1], kas[:-1], strict=True)), a.offset),
            offset_table(list(zip(ksizes[:-1], kos[:-1], strict=True)), out.offset),
            ksizes[-1], kas[-1], kos[-1],
            offset_table(list(zip(rsizes[:-1], ras[:-1], strict=True)), 0),
            rsizes[-1], ras[-1],
        ))  # fmt: skip
    return plan
