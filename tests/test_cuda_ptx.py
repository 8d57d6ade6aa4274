"""Every cuda-backend kernel compiles to PTX for a real GPU (sm_90), without a GPU.

The simulator runs kernel bodies as Python, which accepts code the GPU compiler would
reject (a type that does not unify, an unsupported call). ``cuda.compile_ptx`` runs
numba's real CUDA pipeline (typing, lowering, NVVM) and needs only NVRTC, not a device:
``pip install nvidia-cuda-nvrtc`` (cu12: ``nvidia-cuda-nvrtc-cu12``). Where NVRTC cannot be
loaded this module is skipped with that reason.
"""

from __future__ import annotations

import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import pytest

if importlib.util.find_spec("numba_cuda") is None or os.environ.get(
    "NUMBA_ENABLE_CUDASIM", "0"
) not in ("", "0"):
    pytest.skip("needs numba-cuda's real compiler (not the simulator)", allow_module_level=True)

from numba import cuda
from numba import types as T

CC = (9, 0)
I64, F32, F64, I32, B = T.int64, T.float32, T.float64, T.int32, T.boolean


def _nvrtc_problem() -> str | None:
    def probe(x):
        x[0] = 1.0

    try:
        cuda.compile_ptx(probe, (F32[::1],), cc=CC)
    except Exception as exc:  # a missing NVRTC surfaces as several exception types
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return None


PROBLEM = _nvrtc_problem()
pytestmark = pytest.mark.skipif(
    PROBLEM is not None, reason=f"NVRTC is not loadable (pip install nvidia-cuda-nvrtc): {PROBLEM}"
)


@pytest.fixture(autouse=True)
def _compute_capability(monkeypatch):
    """Device functions ask the current device for its compute capability; answer for it."""
    from numba.cuda import dispatcher

    monkeypatch.setattr(dispatcher, "get_current_device",
                        lambda: SimpleNamespace(compute_capability=CC))  # fmt: skip


def arr(t):
    return T.Array(t, 1, "C")


def tup(n):
    return T.UniTuple(I64, n)


def ptx(kernel, signature) -> None:
    cuda.compile_ptx(kernel.py_func, signature, cc=CC)


_IN = {"map_float": [F32, F64], "map_int": [I32, I64], "map_pred_float": [F32, F64],
       "map_pred_exact": [I32, I64, B], "zip_float": [F32, F64], "zip_int": [I32, I64],
       "zip_compare": [F32, I64, B], "where": [F32, I64, B], "copy": [F32, I32, B],
       "cast_int": [F32, F64], "fill": [F32, I64, B], "gather": [F32, I64],
       "scatter_add": [F32, F64, I32, I64]}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_IN))
def test_elementwise_kernels_compile(name):
    """Every op of the family, linear and strided, for each dtype it is used with."""
    from mytensor.backends.cuda._elementwise import FAMILIES, kernel

    family = FAMILIES[name]
    for op in family.ops:
        for dtype in _IN[name]:
            for linear in (True, False):
                args = [I64] if linear else [I64, tup(2)]
                for operand in family.operands:
                    if operand == "o":
                        predicate = name.startswith(("map_pred", "zip_compare")) or op == "to_bool"
                        t = I32 if name == "cast_int" else (B if predicate else dtype)
                    else:
                        t = {"c": B, "ix": I64}.get(operand, dtype)
                    args += [arr(t), I64, I64 if linear else tup(2)]
                args += {"fill": [dtype], "gather": [I64], "scatter_add": [I64],
                         "cast_int": [F64, F64, I64]}.get(name, [])  # fmt: skip
                ptx(kernel(name, op, linear), tuple(args))


@pytest.mark.parametrize("op", ["sum", "prod", "max", "min", "argmax", "argmin", "any", "all"])
def test_reduce_kernels_compile(op):
    from mytensor.backends.cuda._reduce import LAYOUTS, kernel

    cases = [(B, I64)] if op in ("any", "all") else [(F32, F64), (F64, F64), (I32, I64)]
    for (dtype, acc), layout in [(case, layout) for case in cases for layout in LAYOUTS]:
        out = I64 if op.startswith("arg") or (acc is I64 and op in ("sum", "prod")) else dtype
        out = B if op in ("any", "all") else out
        compiled, _ = kernel(op, layout, "float" if acc is F64 else "int")
        ptx(compiled, (I64, I64, tup(2), tup(2), tup(2), tup(1), tup(1), arr(out), I64,
                       arr(dtype), I64, acc, I64, I64, I64))  # fmt: skip


@pytest.mark.parametrize("dtype", [F32, F64, I32, I64])
def test_matmul_kernel_compiles(dtype):
    from mytensor.backends.cuda._matmul import kernel

    operand = (arr(dtype), I64, tup(2), I64, I64)
    ptx(kernel(np.dtype(str(dtype))), (I64, I64, I64, I64, tup(2), *operand, *operand,
                                       *operand, dtype))  # fmt: skip


@pytest.mark.parametrize("dtype", [F32, F64])
def test_conv_and_random_kernels_compile(dtype):
    from mytensor.backends.cuda import _conv, _random

    t4, operand = tup(4), (arr(dtype), I64, tup(4))
    ptx(_conv.forward, (I64, t4, tup(14), *operand, *operand, *operand, dtype))
    ptx(_conv.grad_input, (I64, t4, tup(14), *operand, *operand, *operand, dtype))
    ptx(_conv.grad_weight, (I64, t4, tup(14), I64, *operand, *operand, *operand))
    ptx(_random.fill, (I64, tup(2), arr(dtype), I64, tup(2), T.uint64, T.uint64, I64, B))
