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


# the backend's dtypes as numba types
CUDA_TYPES = {"bool": B, "int32": I32, "int64": I64, "float32": F32, "float64": F64}


def _op_signatures() -> dict[str, set]:
    """op -> {(kind, arity, input type, output type)}: each map/zip kernel for every dtype
    the core sends it on this backend (the ops' records: their rule's dtypes and output)."""
    from mytensor.core.primitives import scalar
    from mytensor.core.primitives.elementwise import BINARY, BOOL_KERNELS, RULES, UNARY

    found: dict[str, set] = {}
    for arity, records in ((1, UNARY), (2, BINARY)):
        for record in records:
            rule = RULES[record.rule]
            names = ["bool"] if rule.cast_bool else [d.name for d in rule.tested]
            for name in names:
                if name not in CUDA_TYPES or (rule.to_float and not name.startswith("float")):
                    continue
                op = BOOL_KERNELS.get(record.name, record.name) if name == "bool" else record.name
                kind = {"bool": "bool", "int32": "int", "int64": "int"}.get(name, "float")
                if scalar.scalar_function(op, kind) is not None:
                    out = B if rule.out == "bool" else CUDA_TYPES[name]
                    found.setdefault(op, set()).add((kind, arity, CUDA_TYPES[name], out))
    return found


SIGNATURES = _op_signatures()


def _operands(types, linear):
    """Kernel parameters for operands of `types` (the output first), plan of rank 2."""
    args = [I64] if linear else [I64, tup(2)]
    for t in types:
        args += [arr(t), I64, I64 if linear else tup(2)]
    return args


def test_the_declared_ops_are_the_ones_the_core_sends():
    from mytensor.backends.cuda.backend import CudaBackend

    declared = CudaBackend.map_ops | CudaBackend.zip_ops
    assert set(SIGNATURES) == declared, sorted(set(SIGNATURES) ^ declared)


@pytest.mark.parametrize("op", sorted(SIGNATURES))
def test_op_kernels_compile(op):
    """The op's map or zip kernels, linear and strided, for every dtype it is used with."""
    from mytensor.backends.cuda._elementwise import op_kernels

    for kind, arity, t, out in sorted(SIGNATURES[op], key=str):
        for linear, compiled in zip((True, False), op_kernels(op, kind, arity), strict=True):
            ptx(compiled, tuple(_operands((out, *[t] * arity), linear)))


# name -> [(operand types, extra parameter types)]
_FIXED = {
    "where": [((t, B, t, t), ()) for t in (F32, I64, B)],
    "fill": [((t,), (t,)) for t in (F32, I64, B)],
    "copy": [((o, t), ()) for o, t in ((F32, F32), (F64, F32), (I32, I64), (I64, B), (B, B))],
    "to_bool": [((B, t), ()) for t in (F32, I64, I32)],
    "cast_int32": [((I32, t), ()) for t in (F32, F64)],
    "cast_int64": [((I64, t), ()) for t in (F32, F64)],
    "gather": [((t, I64, t), (I64,)) for t in (F32, I64, B)],
    "scatter_add": [((t, I64, t), (I64,)) for t in (F32, F64, I32, I64)],
}


@pytest.mark.parametrize("name", sorted(_FIXED))
def test_fixed_kernels_compile(name):
    from mytensor.backends.cuda._elementwise import KERNELS, kernels

    assert set(_FIXED) == set(KERNELS)
    for types, extra in _FIXED[name]:
        for linear, compiled in zip((True, False), kernels(name), strict=True):
            ptx(compiled, (*_operands(types, linear), *extra))


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

    t5, operand, geom = tup(5), (arr(dtype), I64, tup(5)), tup(20)
    ptx(_conv.forward, (I64, t5, geom, *operand, *operand, *operand, dtype))
    ptx(_conv.grad_input, (I64, t5, geom, *operand, *operand, *operand, dtype))
    ptx(_conv.grad_weight, (I64, t5, geom, I64, *operand, *operand, *operand))
    ptx(_random.fill, (I64, tup(2), arr(dtype), I64, tup(2), T.uint64, T.uint64, I64, B))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_im2col_and_col2im_kernels_compile(dtype):
    from mytensor.backends.cuda import _im2col

    x, col, geom = (arr(dtype), I64, tup(5)), (arr(dtype), I64, tup(4)), tup(20)
    ptx(_im2col.im2col, (I64, I64, geom, *col, *x, dtype))
    ptx(_im2col.col2im, (I64, tup(5), geom, *x, *col, dtype))


@pytest.mark.parametrize("dtype", [F32, F64, I64])
def test_max_pool_kernel_compiles(dtype):
    from mytensor.backends.cuda import _pool

    ptx(_pool._max_pool3, (I64, arr(dtype), I64, arr(I64), I64, arr(dtype), I64, *(I64,) * 18))


def _fused_signatures(t) -> dict[str, tuple]:
    """The fused kernels' parameter types for float dtype `t`, as the backend launches them."""
    a = (arr(t), I64)  # a buffer and an offset
    return {
        "sgd": (I64, *a, *a, *a, t, t, t, t, B, B, B, B, B),
        "adam": (I64, *a * 5, *(t,) * 8, B, B, B),
        "lstm_forward": (I64, I64, *a, *a, *a, I64, I64, *a, I64, I64),
        "lstm_backward": (I64, I64, *a, *a, *a, I64, I64, *a, *a, I64, I64, t),
        "softmax_rows": (I64, tup(2), tup(2), tup(2), I64, *a, I64, *a, I64, B),
        "softmax_backward_rows": (I64, tup(2), tup(2), tup(2), tup(2), I64, *a, I64, *a, I64,
                                  *a, I64, B),
        "layer_norm_rows": (I64, I64, *a * 6, B, B, F64),
        "layer_norm_backward_rows": (I64, I64, *a * 6, B),
        "layer_norm_columns": (I64, I64, *a * 6, B, B),
        "cross_entropy_rows": (I64, I64, *a, *a, arr(I64), I64, I64, *a, I64, t),
    }


# the kernels that must match the composite bit for bit on a GPU and call no libdevice
# transcendental (whose own polynomials use fma): NVVM contracts a * b + c into one fused
# multiply-add by default, the composite never fuses, so their PTX may hold no fma
_NO_FMA = ("sgd", "adam", "lstm_backward")


@pytest.mark.parametrize("dtype", [F32, F64])
def test_fused_kernels_compile_and_round_every_product(dtype):
    from mytensor.backends.cuda import _fused, _fused_rows

    for name, signature in _fused_signatures(dtype).items():
        kernel = getattr(_fused, name, None) or getattr(_fused_rows, name)
        code, _ = cuda.compile_ptx(kernel.py_func, signature, cc=CC)
        fused = [line.strip() for line in code.splitlines() if "fma." in line]
        if name in _NO_FMA:
            assert fused == [], f"{name} ({dtype}): fused multiply-adds in its PTX: {fused[:3]}"
