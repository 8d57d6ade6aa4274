"""Rounding helpers for the fused kernels (`_fused`, `_fused_rows`): a product that the
GPU compiler may not fuse, and a float64 accumulator rounded to an operand's dtype.

NVVM contracts a multiply feeding an add into one fused multiply-add by default (even
without fastmath), which rounds once where the contract's rules round twice; the core's
composites, one operation per kernel, never fuse. `mul_rn` is ``__fmul_rn`` /
``__dmul_rn`` on the device (PTX ``mul.rn``, never contracted). In the simulator kernel
bodies run as Python on numpy scalars, which round every operation in their dtype, so
the plain bodies below are what runs there.
"""

from __future__ import annotations

from typing import Any

import numba

from mytensor.backends.cuda._runtime import SIMULATOR

__all__ = ["as_type", "mul_rn"]


def mul_rn(a: Any, b: Any) -> Any:
    """``a * b`` rounded to their (common float) type, never fused into a multiply-add."""
    return a * b


def as_type(value: Any, like: Any) -> Any:
    """`value` rounded to the type of `like` (a float64 accumulator to the row's dtype)."""
    return type(like)(value)


if not SIMULATOR:  # the device versions; the simulator runs the Python bodies above
    from numba import types
    from numba.cuda import libdevice
    from numba.cuda.extending import overload

    @overload(mul_rn, target="cuda")
    def _mul_rn(a, b):
        if a == b == types.float32:
            return lambda a, b: libdevice.fmul_rn(a, b)
        if a == b == types.float64:
            return lambda a, b: libdevice.dmul_rn(a, b)
        return None

    @overload(as_type, target="cuda")
    def _as_type(value, like):
        if like == types.float32:
            return lambda value, like: numba.float32(value)
        if like == types.float64:
            return lambda value, like: numba.float64(value)
        return None
