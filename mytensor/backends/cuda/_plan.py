"""Launch plans: descriptors reduced to the fewest loop dimensions, as plain tuples.

A plan is what a kernel receives as its metadata: tuples of Python ints, which numba
passes by value as kernel parameters. No shape or stride array is ever copied to the
device. Plans depend on the layouts only, so they are cached by layout.

An elementwise plan orders the output's dimensions by memory (largest stride first),
flips negative output strides (the output is then walked forwards), drops size-1
dimensions and merges neighbours that every operand walks as one. A contiguous or
same-layout call becomes rank 1, which the kernels run without any index division.
"""

from __future__ import annotations

from mytensor.backends.spec import Strided
from mytensor.core.layout import merge_dims

__all__ = ["elementwise_plan", "reduce_plan"]

_PLANS: dict[tuple, tuple] = {}
_MAX_PLANS = 8192


def _remember(key: tuple, plan: tuple) -> tuple:
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def elementwise_plan(descs: tuple[Strided, ...]) -> tuple:
    """``(size, shape, strides, offsets)`` for operands `descs` (the output first).

    ``shape`` is a tuple of the plan's dimensions; ``strides`` one tuple per operand;
    ``offsets`` one int per operand.
    """
    key = ("e", descs[0].shape, *((d.strides, d.offset) for d in descs))
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    shape = descs[0].shape
    offsets = [d.offset for d in descs]
    dims = [d for d, size in enumerate(shape) if size != 1]
    dims.sort(key=lambda d: -abs(descs[0].strides[d]))
    sizes = [shape[d] for d in dims]
    strides = [[desc.strides[d] for d in dims] for desc in descs]
    for j, size in enumerate(sizes):
        if strides[0][j] < 0:
            for k, row in enumerate(strides):
                offsets[k] += (size - 1) * row[j]
                row[j] = -row[j]
    sizes, strides = merge_dims(sizes, strides)
    if not sizes:
        sizes, strides = [1], [[0] for _ in descs]
    size = 1
    for s in sizes:
        size *= s
    plan = (size, tuple(sizes), tuple(tuple(row) for row in strides), tuple(offsets))
    return _remember(key, plan)


def reduce_plan(a: Strided, out: Strided, dims: tuple[int, ...], ordered: bool) -> tuple:
    """``(kept_shape, kept_a, kept_out, reduced_shape, reduced_a, outputs, reduced)``.

    The kept space is indexed like ``out`` (row-major over ``kept_shape``, the last
    dimension the fastest in ``a``); ``kept_a``/``kept_out`` are its strides in ``a`` and
    ``out``. The reduced space is row-major over ``reduced_shape`` at strides
    ``reduced_a``. With `ordered` the reduced axes keep their logical order (positions
    of ``argmax``/``argmin``); otherwise they are merged in memory order.
    """
    key = ("r", a.shape, a.strides, out.strides, dims, ordered)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    kept, reduced = [], []
    for d, size in enumerate(a.shape):
        if d in dims:
            if size != 1 or ordered:
                reduced.append((size, a.strides[d]))
        elif size != 1:
            kept.append((size, a.strides[d], out.strides[d]))
    kept.sort(key=lambda t: -abs(t[1]))
    ksizes, (kas, kos) = merge_dims([t[0] for t in kept], [[t[1] for t in kept],
                                                           [t[2] for t in kept]])  # fmt: skip
    if not ordered:
        reduced.sort(key=lambda t: -abs(t[1]))
        rsizes, (ras,) = merge_dims([t[0] for t in reduced], [[t[1] for t in reduced]])
    else:
        rsizes, ras = [t[0] for t in reduced], [t[1] for t in reduced]
    ksizes, kas, kos = ksizes or [1], kas or [0], kos or [0]
    rsizes, ras = rsizes or [1], ras or [0]
    outputs = reduced_count = 1
    for s in ksizes:
        outputs *= s
    for s in rsizes:
        reduced_count *= s
    plan = (tuple(ksizes), tuple(kas), tuple(kos), tuple(rsizes), tuple(ras), outputs,
            reduced_count)  # fmt: skip
    return _remember(key, plan)
