"""The device runtime: simulator or GPU, CuPy or not, the stream, launch configurations.

Everything the kernels are launched with is decided here, once:

- ``SIMULATOR``: numba's CUDA simulator is active (``NUMBA_ENABLE_CUDASIM=1`` when numba
  was first imported). It runs one Python thread per CUDA thread, so blocks are small
  there (`BLOCK`), and CuPy is never used (it needs a real GPU).
- ``cupy``: the CuPy module when it imports and sees a device, else None. With CuPy,
  device memory comes from its memory pool and matmul may use cuBLAS.
- one stream per backend; every kernel, copy and CuPy call goes on it, so work is
  ordered without host synchronization, and the host waits only when it needs a value.
- ``jit``: how kernels are compiled, with numba-cuda's on-disk cache when
  ``MYTENSOR_CUDA_CACHE=1`` (see `jit`).
"""

from __future__ import annotations

import math
import os
from types import SimpleNamespace
from typing import Any

import numba
import numpy as np
from numba import cuda

__all__ = [
    "BLOCK", "CACHE", "MATH", "MAX_BLOCKS", "REDUCE_BLOCK", "SIMULATOR", "TILE", "Runtime",
    "grid_for", "jit", "load_cupy",
]  # fmt: skip

SIMULATOR: bool = bool(numba.config.ENABLE_CUDASIM)

# The `math` the kernels call. On a GPU it is Python's math module, which numba lowers to
# libdevice (IEEE results: log(-1) is NaN, exp(1000) is inf). The simulator runs kernel
# bodies as Python, where math.log(-1) raises instead, so there the same names resolve
# to numpy's scalar functions, which return what the device returns.
MATH: Any = math
if SIMULATOR:
    MATH = SimpleNamespace(
        **{name: getattr(math, name) for name in ("erf", "pi", "inf", "nan")},
        **{name: getattr(np, name) for name in (
            "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "floor", "ceil",
            "fmod", "copysign", "isnan", "isinf", "isfinite", "cosh", "sinh", "tan", "log2",
            "log10", "trunc", "hypot", "nextafter")},
        **{name: getattr(np, "arc" + name[1:]) for name in (
            "acos", "acosh", "asin", "asinh", "atan", "atanh", "atan2")},
    )  # fmt: skip

# threads per block. The simulator runs a Python thread per CUDA thread (a 32-thread
# block costs ~3x an 8-thread one per launch), so it gets small blocks; the kernels are
# grid-stride loops and trees that are correct for any block size, which the tests use.
BLOCK = 8 if SIMULATOR else 256
REDUCE_BLOCK = 8 if SIMULATOR else 256  # a power of two: the shared-memory tree halves it
TILE = 2 if SIMULATOR else 16  # matmul tile side (TILE x TILE threads per block)
# at most this many blocks per launch; grid-stride loops cover the rest
MAX_BLOCKS = 2 if SIMULATOR else 65535


def grid_for(n: int, block: int = BLOCK) -> int:
    """Blocks for `n` elements at `block` threads per block (at least 1, at most MAX_BLOCKS)."""
    return max(1, min(MAX_BLOCKS, -(-n // block)))


# numba-cuda's on-disk kernel cache, opt-in: it needs a CUDA driver to save or load a
# kernel, so it has not been exercised where these kernels were written (the simulator
# ignores ``cache``). numba keys a cached kernel by its file, qualified name and bytecode,
# not by the globals it calls, so every kernel's name carries what it is specialised on:
# the specification's digest (`_specialize`), the device overrides' (`_scalar.DIGEST`)
# and its constants (block shape, tile, dtype).
CACHE: bool = os.environ.get("MYTENSOR_CUDA_CACHE", "0").strip().lower() in ("1", "on", "true")


def jit(function: Any) -> Any:
    """``cuda.jit(function)``, cached on disk with ``MYTENSOR_CUDA_CACHE=1`` where numba
    finds a writable cache directory (``NUMBA_CACHE_DIR``, the package's ``__pycache__``
    or the user's cache directory), else uncached."""
    if CACHE:
        try:
            return cuda.jit(function, cache=True)
        except RuntimeError:  # numba: no writable cache location for this file
            pass
    return cuda.jit(function)


def load_cupy() -> Any:
    """CuPy if it imports and sees a GPU (never under the simulator), else None.

    ``MYTENSOR_CUDA_CUPY=0`` turns CuPy off (numba device arrays and the tiled matmul only).
    """
    if SIMULATOR or os.environ.get("MYTENSOR_CUDA_CUPY", "1").strip().lower() in ("0", "off"):
        return None
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
    except Exception:  # not installed, or no driver/device: the numba-only path works
        return None
    return cupy


class Runtime:
    """The stream every operation of one backend instance runs on.

    With CuPy, the stream is CuPy's and numba launches on it through
    ``cuda.external_stream``, so kernels and CuPy calls (cuBLAS) are ordered with each
    other. Without CuPy it is a numba stream. Under the simulator streams are inert.
    """

    def __init__(self, cupy: Any = None) -> None:
        self.cupy = cupy
        if cupy is not None:
            self.cupy_stream = cupy.cuda.Stream(non_blocking=True)
            self.stream = cuda.external_stream(self.cupy_stream.ptr)
        else:
            self.cupy_stream = None
            self.stream = cuda.stream()

    def synchronize(self) -> None:
        """Block the host until everything queued on the stream has run."""
        self.stream.synchronize()
