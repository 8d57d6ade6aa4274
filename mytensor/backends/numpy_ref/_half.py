"""float16 and bfloat16 on numpy: compute in float32, round once.

PyTorch's CPU kernels load 16-bit floats as float32, compute, and round the result
once; reductions, matmul, convolution and softmax accumulate in float32 too (a sum of
4096 ones in bfloat16 is 4096, not the 256 a bfloat16 accumulator stops at). numpy's own
float16 loops do the same for elementwise ops, and ml_dtypes' bfloat16 lacks some ufunc
loops, so every kernel here runs one way for both: inputs widened to float32, the
float32 kernel, one rounding into the 16-bit output. For +, -, *, / and sqrt the result
is the correctly rounded 16-bit one (float32 carries more than twice the bits, so the
double rounding is innocuous).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mytensor.core.dtypes import HALF_DTYPES

HALF = frozenset(HALF_DTYPES)
_HALF_NUMPY = frozenset(d.numpy for d in HALF_DTYPES)


def widen(x: np.ndarray) -> np.ndarray:
    """`x` as float32 if it holds 16-bit floats (a copy), else `x` itself."""
    return x.astype(np.float32) if x.dtype in _HALF_NUMPY else x


def wide_out(out: np.ndarray) -> np.ndarray:
    """Where a kernel writes `out`'s values: a float32 scratch array for 16-bit floats."""
    return np.empty(out.shape, np.float32) if out.dtype in _HALF_NUMPY else out


def narrow(out: np.ndarray, scratch: np.ndarray) -> None:
    """Round the float32 `scratch` once into `out` (nothing when they are one array).
    A value past the 16-bit range becomes inf, as specified: numpy's overflow warning is
    noise here (GradScaler's skipped steps would print it from every matmul)."""
    if scratch is not out:
        with np.errstate(over="ignore"):
            np.copyto(out, scratch, casting="unsafe")


def elementwise(kernel: Callable[..., Any], out: np.ndarray, *inputs: np.ndarray) -> None:
    """``kernel(*inputs, out=out)`` computed in float32 and rounded once into `out`."""
    scratch = wide_out(out)
    kernel(*(widen(x) for x in inputs), out=scratch)
    narrow(out, scratch)


def scatter_add(out: np.ndarray, where: tuple, src: np.ndarray) -> None:
    """``out[where] += src`` with repeated positions summed in float32, rounded once."""
    scratch = widen(out)
    np.add.at(scratch, where, widen(src))
    narrow(out, scratch)
