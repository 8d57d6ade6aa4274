"""Launch plans for cuda: the shared planner's loops (`mytensor.backends._plan`) as plain tuples.

A plan is what a kernel receives as its metadata: tuples of Python ints, which numba
passes by value as kernel parameters. No shape or stride array is ever copied to the
device. Plans are cached by layout in the shared bounded cache.

An elementwise plan orders the output's dimensions by memory (largest stride first),
flips negative output strides (the output is then walked forwards), drops size-1
dimensions and merges neighbours that every operand walks as one. A contiguous or
same-layout call becomes rank 1, which the kernels run without any index division.
"""

from __future__ import annotations

from mytensor.backends._plan import elementwise_dims, lookup, reduce_dims, remember
from mytensor.backends.spec import Strided

__all__ = ["elementwise_plan", "reduce_plan"]


def elementwise_plan(descs: tuple[Strided, ...]) -> tuple:
    """``(size, shape, strides, offsets)`` for operands `descs` (the output first).

    ``shape`` is a tuple of the plan's dimensions; ``strides`` one tuple per operand;
    ``offsets`` one int per operand.
    """
    shape = descs[0].shape
    layouts = tuple((d.strides, d.offset) for d in descs)
    key = ("cuda.e", shape, layouts)
    plan = lookup(key)
    if plan is None:
        plan = remember(key, elementwise_dims(shape, layouts))
    return plan


def reduce_plan(a: Strided, out: Strided, dims: tuple[int, ...], ordered: bool) -> tuple:
    """``(kept_shape, kept_a, kept_out, reduced_shape, reduced_a, outputs, reduced)``.

    The kept space is indexed like ``out`` (row-major over ``kept_shape``, the last
    dimension the fastest in ``a``); ``kept_a``/``kept_out`` are its strides in ``a`` and
    ``out``. The reduced space is row-major over ``reduced_shape`` at strides
    ``reduced_a``. With `ordered` the reduced axes keep their logical order (positions
    of ``argmax``/``argmin``); otherwise they are merged in memory order.
    """
    key = ("cuda.r", a.shape, a.strides, out.strides, dims, ordered)
    plan = lookup(key)
    if plan is None:
        kshape, kas, kos, rshape, ras = reduce_dims(a.shape, a.strides, out.strides, dims,
                                                    ordered)  # fmt: skip
        outputs = reduced = 1
        for s in kshape:
            outputs *= s
        for s in rshape:
            reduced *= s
        plan = remember(key, (kshape, kas, kos, rshape, ras, outputs, reduced))
    return plan
