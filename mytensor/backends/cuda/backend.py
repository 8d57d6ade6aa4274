"""The cuda backend: the contract's primitives on numba-cuda kernels.

Buffers are 1-d numba device arrays (from CuPy's memory pool when CuPy sees a GPU, else
from `allocator.BlockCache`). Every primitive plans its launch in Python (`_plan`,
cached by layout), then queues one kernel on the backend's stream and returns: nothing
waits for the device except `to_host` and `synchronize`. Kernel metadata (shapes,
strides, offsets, convolution geometry) is passed as scalar and tuple kernel
parameters, never copied to the device.

Matmul runs CuPy's ``matmul`` (cuBLAS) by default when CuPy is in use, else the tiled
kernel of `_matmul`; choose with ``MYTENSOR_CUDA_MATMUL=tiled|cublas`` or the
``matmul_impl`` attribute. Convolution likewise: im2col and that matmul (`_im2col`) by
default when CuPy is in use, else the direct kernels of `_conv`; choose with
``MYTENSOR_CUDA_CONV=gemm|direct``, the ``conv`` argument or the ``conv_impl`` attribute.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mytensor.backends.cuda import (
    _conv,
    _elementwise,
    _fused,
    _im2col,
    _matmul,
    _pool,
    _random,
    _reduce,
)
from mytensor.backends.cuda._plan import elementwise_plan, reduce_plan
from mytensor.backends.cuda._runtime import (
    BLOCK,
    MAX_BLOCKS,
    REDUCE_BLOCK,
    SIMULATOR,
    TILE,
    Runtime,
    grid_for,
    load_cupy,
)
from mytensor.backends.cuda.allocator import BlockCache, CupyAllocator
from mytensor.backends.spec import (
    MAP_OPS,
    OPTIONAL_MAP_OPS,
    OPTIONAL_ZIP_OPS,
    REDUCE_OPS,
    ZIP_OPS,
    AdamStep,
    SGDStep,
    Strided,
)
from mytensor.core.dtypes import DType, float16, float32
from mytensor.core.layout import contiguous_strides
from mytensor.core.primitives import scalar as spec

__all__ = ["CONV_IMPLS", "MATMUL_IMPLS", "CudaBackend"]

MATMUL_IMPLS = ("cublas", "tiled")
CONV_IMPLS = ("gemm", "direct")
_IDENTITY = {"sum": 0, "prod": 1, "any": False, "all": True}


class CudaBackend:
    """numba-cuda kernels on one stream; see the module docstring."""

    name = "cuda"
    device = "cuda"
    # float16 is stored as such and computed as float32 (widened copies in, one rounding
    # out: PyTorch's "opmath"): map, zip, where, reduce and matmul here; every other
    # primitive declines it (`supports`) to the core's composite or host fallback
    dtypes = frozenset({"bool", "int32", "int64", "float16", "float32", "float64"})
    # every name the scalar specification defines: its kernels are compiled from it (the
    # rest of the optional names, complex-only: the core's host fallback)
    map_ops = frozenset(op for op in MAP_OPS + OPTIONAL_MAP_OPS if op in spec.UNARY)
    zip_ops = frozenset(op for op in ZIP_OPS + OPTIONAL_ZIP_OPS if op in spec.BINARY)
    reduce_ops = frozenset(REDUCE_OPS)

    def __init__(self, matmul: str | None = None, conv: str | None = None) -> None:
        self.simulator = SIMULATOR
        self.fast_simulator_blocks = False
        if SIMULATOR:
            from mytensor.backends.cuda import _simulator

            self.fast_simulator_blocks = _simulator.install()
        self.cupy = load_cupy()
        self.runtime = Runtime(self.cupy)
        self.stream = self.runtime.stream
        if self.cupy is not None:
            self.allocator: Any = CupyAllocator(self.cupy, self.runtime.cupy_stream)
        else:
            self.allocator = BlockCache(self.stream)
        chosen = matmul or os.environ.get("MYTENSOR_CUDA_MATMUL", "").strip().lower() or None
        self.matmul_impl = chosen or ("cublas" if self.cupy is not None else "tiled")
        if self.matmul_impl not in MATMUL_IMPLS:
            raise ValueError(
                f"cuda: unknown matmul implementation {self.matmul_impl!r} "
                f"(MYTENSOR_CUDA_MATMUL); choose one of {', '.join(MATMUL_IMPLS)}"
            )
        if self.matmul_impl == "cublas" and self.cupy is None:
            raise RuntimeError(
                "cuda: matmul 'cublas' needs CuPy on a real GPU (pip install "
                "'mytensor[cuda12]' or 'mytensor[cuda13]'); use MYTENSOR_CUDA_MATMUL=tiled"
            )
        chosen = conv or os.environ.get("MYTENSOR_CUDA_CONV", "").strip().lower() or None
        self.conv_impl = chosen or ("gemm" if self.cupy is not None else "direct")
        if self.conv_impl not in CONV_IMPLS:
            raise ValueError(
                f"cuda: unknown conv implementation {self.conv_impl!r} "
                f"(MYTENSOR_CUDA_CONV); choose one of {', '.join(CONV_IMPLS)}"
            )

    # -- memory -------------------------------------------------------------------
    def allocate(self, size: int, dtype: DType) -> Any:
        return self.allocator.allocate(size, dtype.numpy)

    def from_host(self, array: np.ndarray) -> Any:
        buffer = self.allocator.allocate(array.size, array.dtype)
        if array.size:
            buffer.copy_to_device(np.ascontiguousarray(array).reshape(-1), stream=self.stream)
        return buffer

    def to_host(self, src: Strided) -> np.ndarray:
        if src.size == 0:
            return np.empty(src.shape, src.dtype.numpy)
        if src.strides != contiguous_strides(src.shape):
            packed = Strided(self.allocate(src.size, src.dtype), src.shape,
                             contiguous_strides(src.shape), 0, src.dtype)  # fmt: skip
            self.copy(packed, src)
            src = packed
        host = src.buffer[src.offset : src.offset + src.size].copy_to_host(stream=self.stream)
        self.synchronize()  # the copy is queued on the stream: wait before handing it out
        return host.reshape(src.shape)

    def copy(self, out: Strided, src: Strided) -> None:
        if out.dtype.kind == "bool" and src.dtype.kind != "bool":
            self._launch(_elementwise.kernels("to_bool"), (out, src))
        elif out.dtype.kind == "int" and src.dtype.kind == "float":
            self._launch(_elementwise.kernels(f"cast_{out.dtype.name}"), (out, src))
        else:
            self._launch(_elementwise.kernels("copy"), (out, src))

    def synchronize(self) -> None:
        """Block until every kernel and copy queued on the stream has finished."""
        self.runtime.synchronize()

    # -- elementwise ------------------------------------------------------------------
    def map(self, op: str, out: Strided, a: Strided) -> None:
        if a.dtype is float16:
            self._in_float32(lambda o, x: self.map(op, o, x), out, a)
            return
        self._launch(self._op_kernels(op, a.dtype, 1), (out, a))

    def zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None:
        if a.dtype is float16:
            self._in_float32(lambda o, x, y: self.zip(op, o, x, y), out, a, b)
            return
        self._launch(self._op_kernels(op, a.dtype, 2), (out, a, b))

    def where(self, out: Strided, cond: Strided, a: Strided, b: Strided) -> None:
        self._launch(_elementwise.kernels("where"), (out, cond, a, b))

    def supports(self, primitive: str, dtype: DType) -> bool:
        """float16 runs in map, zip, where, reduce, copy and matmul (through float32);
        the other primitives decline it to the core's composite or host fallback. The
        fused kernels (`_fused`: softmax both ways, the optimizer updates, LSTM cell,
        layer norm, cross-entropy's backward) run float32 and float64 (float16 softmax: the core
        stages it in float32)."""
        if primitive in _fused.PRIMITIVES:
            return dtype.name in ("float32", "float64")
        return dtype is not float16 or primitive == "matmul" or primitive in self._elementwise

    _elementwise = map_ops | zip_ops | reduce_ops

    def _in_float32(self, run: Any, out: Strided, *inputs: Strided) -> None:
        """`run(out, *inputs)` with every float16 operand as a float32 copy, and a float16
        `out` written from a float32 result (each value rounded once)."""
        wide = [self._widened(d) if d.dtype is float16 else d for d in inputs]
        if out.dtype is not float16:
            run(out, *wide)
            return
        result = self._widened(out, copy=False)
        run(result, *wide)
        self.copy(out, result)

    def _widened(self, desc: Strided, copy: bool = True) -> Strided:
        shape = desc.shape
        wide = Strided(self.allocate(desc.size, float32), shape, contiguous_strides(shape), 0,
                       float32)  # fmt: skip
        if copy:
            self.copy(wide, desc)
        return wide

    def fill(self, out: Strided, value: Any) -> None:
        """Set every element of `out` to `value` (a kernel, not a host copy)."""
        self._launch(_elementwise.kernels("fill"), (out,), (out.dtype.numpy.type(value),))

    @staticmethod
    def _op_kernels(op: str, dtype: DType, arity: int) -> tuple:
        found = _elementwise.op_kernels(op, dtype.kind, arity)
        if found is None:
            table = "map" if arity == 1 else "zip"
            raise NotImplementedError(
                f"cuda: {table} {op!r} has no kernel for {dtype.name} inputs: the scalar "
                f"specification (mytensor/core/primitives/scalar.py) gives {op!r} no "
                f"function for {dtype.kind} inputs; cast them to a dtype it takes first"
            )
        return found

    def _launch(self, kernels: tuple, descs: tuple, extra: tuple = ()) -> None:
        """Plan `descs` (the output first) and queue the linear or strided kernel."""
        n, shape, strides, offsets = elementwise_plan(descs)
        if n == 0:
            return
        args: list[Any] = [n]
        linear = len(shape) == 1
        if not linear:
            args.append(shape)
        for desc, st, offset in zip(descs, strides, offsets, strict=True):
            args += (desc.buffer, offset, st[0] if linear else st)
        kernels[0 if linear else 1][grid_for(n), BLOCK, self.stream](*args, *extra)

    # -- reductions -------------------------------------------------------------------
    def reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None:
        if out.size == 0:
            return
        if a.dtype is float16:  # float32 accumulation, as PyTorch's half reductions
            self._in_float32(lambda o, x: self.reduce(op, o, x, dims), out, a)
            return
        if a.size == 0:
            if op not in _IDENTITY:
                raise ValueError(f"cuda: reduce {op!r} of an empty tensor has no identity")
            self.fill(out, _IDENTITY[op])
            return
        arg = op in ("argmax", "argmin")
        kshape, kas, kos, rshape, ras, outputs, reduced = reduce_plan(a, out, dims, arg)
        floating = a.dtype.kind == "float" and op not in ("any", "all")
        pieces = _reduce.split(op, outputs, reduced)
        if pieces == 1:
            lanes_bx, _ = _reduce.LAYOUTS["lanes"]
            _, rows_by = _reduce.LAYOUTS["rows"]
            lanes = outputs >= lanes_bx and (reduced < rows_by or abs(kas[-1]) < abs(ras[-1]))
            self._reduce_launch(op, "lanes" if lanes else "rows", floating, outputs, (
                outputs, reduced, kshape, kas, kos, rshape, ras,
                out.buffer, out.offset, a.buffer, a.offset, 1, reduced, 0))  # fmt: skip
            return
        # two passes: partials laid out [kept..., piece], then reduced over the pieces
        if op in ("sum", "prod"):
            partial_dtype = np.dtype(np.float64 if floating else np.int64)
        else:
            partial_dtype = np.dtype(np.bool_) if op in ("any", "all") else a.dtype.numpy
        partial = self.allocator.allocate(outputs * pieces, partial_dtype)
        pkos = tuple(s * pieces for s in contiguous_strides(kshape))
        chunk = -(-reduced // pieces)
        self._reduce_launch(op, "rows", floating, outputs * pieces, (
            outputs, reduced, kshape, kas, pkos, rshape, ras,
            partial, 0, a.buffer, a.offset, pieces, chunk, 1))  # fmt: skip
        self._reduce_launch(op, "rows", partial_dtype.kind == "f", outputs, (
            outputs, pieces, kshape, pkos, kos, (pieces,), (1,),
            out.buffer, out.offset, partial, 0, 1, pieces, 0))  # fmt: skip

    def _reduce_launch(self, op: str, layout: str, floating: bool, groups: int,
                       args: tuple) -> None:  # fmt: skip
        kernel, (bx, by) = _reduce.kernel(op, layout, "float" if floating else "int")
        zero = np.float64(-0.0) if floating else np.int64(0)
        blocks = min(MAX_BLOCKS, -(-groups // bx))
        # the kernel's parameters: (outputs ... a, pa), zero, (pieces, chunk, ps)
        kernel[blocks, (bx, by), self.stream](*args[:11], zero, *args[11:])

    # -- optional primitives ----------------------------------------------------------
    def matmul(self, out: Strided, a: Strided, b: Strided) -> None:
        if out.size == 0:
            return
        if a.dtype is float16:
            self._in_float32(self.matmul, out, a, b)
            return
        if self.matmul_impl == "cublas":
            self._matmul_cupy(out, a, b)
            return
        *batch, n, k = a.shape
        m = b.shape[-1]
        count = 1
        for size in batch:
            count *= size
        nb = len(batch)
        bshape = tuple(batch) if batch else (1,)

        def batch_strides(desc: Strided) -> tuple[int, ...]:
            return tuple(desc.strides[:nb]) if nb else (0,)

        tiles = count * -(-n // TILE) * -(-m // TILE)
        kernel = _matmul.kernel(out.dtype.numpy)
        kernel[min(tiles, MAX_BLOCKS), (TILE, TILE), self.stream](
            n, m, k, count, bshape,
            out.buffer, out.offset, batch_strides(out), out.strides[-2], out.strides[-1],
            a.buffer, a.offset, batch_strides(a), a.strides[-2], a.strides[-1],
            b.buffer, b.offset, batch_strides(b), b.strides[-2], b.strides[-1],
            out.dtype.numpy.type(0),
        )  # fmt: skip

    def _matmul_cupy(self, out: Strided, a: Strided, b: Strided) -> None:
        cp = self.cupy
        o, x, y = (self._cupy_view(d) for d in (out, a, b))
        with self.runtime.cupy_stream:
            if o.flags.c_contiguous:
                cp.matmul(x, y, out=o)
            else:
                o[...] = cp.matmul(x, y)

    def _cupy_view(self, desc: Strided) -> Any:
        """A CuPy array viewing `desc` (no copy; the numba buffer stays the owner)."""
        cp, itemsize = self.cupy, desc.dtype.itemsize
        base = desc.buffer.__cuda_array_interface__["data"][0]
        memory = cp.cuda.UnownedMemory(base, desc.buffer.nbytes, desc.buffer)
        pointer = cp.cuda.MemoryPointer(memory, desc.offset * itemsize)
        strides = tuple(s * itemsize for s in desc.strides)
        return cp.ndarray(desc.shape, desc.dtype.numpy, pointer, strides=strides)

    # -- fused primitives: one or two launches each instead of the composite's dozens ----
    def softmax(self, out: Strided, a: Strided, dim: int, log: bool) -> None:
        _fused.softmax(self.stream, out, a, dim, log)

    def sgd_update(self, param: Strided, grad: Strided, momentum_buffer: Strided | None,
                   step: SGDStep) -> None:  # fmt: skip
        _fused.sgd_update(self.stream, param, grad, momentum_buffer, step)

    def adam_update(self, param: Strided, grad: Strided, exp_avg: Strided,
                    exp_avg_sq: Strided, max_exp_avg_sq: Strided | None,
                    step: AdamStep) -> None:  # fmt: skip
        _fused.adam_update(self.stream, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step)

    def lstm_cell(self, hc: Strided, saved: Strided, gates: Strided, c: Strided) -> None:
        _fused.lstm_cell(self.stream, hc, saved, gates, c)

    def lstm_cell_backward(self, d_gates: Strided, d_c: Strided, d_hc: Strided,
                           saved: Strided, c: Strided) -> None:  # fmt: skip
        _fused.lstm_cell_backward(self.stream, d_gates, d_c, d_hc, saved, c)

    def softmax_backward(self, dx: Strided, y: Strided, g: Strided, dim: int,
                         log: bool) -> None:  # fmt: skip
        _fused.softmax_backward(self.stream, dx, y, g, dim, log)

    def cross_entropy_backward(self, d_logits: Strided, logp: Strided, target: Strided,
                               scale: Strided) -> None:  # fmt: skip
        _fused.cross_entropy_backward(self.stream, d_logits, logp, target, scale)

    def layer_norm(self, out: Strided, mean: Strided, rstd: Strided, x: Strided,
                   weight: Strided | None, bias: Strided | None, eps: float) -> None:  # fmt: skip
        _fused.layer_norm(self.stream, out, mean, rstd, x, weight, bias, eps)

    def layer_norm_backward(self, dx: Strided, dweight: Strided | None, dbias: Strided | None,
                            dy: Strided, x: Strided, mean: Strided, rstd: Strided,
                            weight: Strided | None) -> None:  # fmt: skip
        _fused.layer_norm_backward(self.stream, dx, dweight, dbias, dy, x, mean, rstd, weight)

    def max_pool(self, out: Strided, indices: Strided, x: Strided, kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[int, ...],
                 dilation: tuple[int, ...]) -> None:  # fmt: skip
        _pool.max_pool(self.stream, out, indices, x, kernel, stride, padding, dilation)

    def gather(self, out: Strided, a: Strided, index: Strided, dim: int) -> None:
        strides = list(a.strides)
        strides[dim] = 0  # the kernel adds index * step along dim
        walk = Strided(a.buffer, out.shape, tuple(strides), a.offset, a.dtype)
        self._launch(_elementwise.kernels("gather"), (out, index, walk), (a.strides[dim],))

    def scatter_add(self, out: Strided, index: Strided, src: Strided, dim: int) -> None:
        if out.dtype.kind == "bool":
            raise NotImplementedError("cuda: scatter_add has no atomic add for dtype bool")
        strides = list(out.strides)
        strides[dim] = 0
        walk = Strided(out.buffer, src.shape, tuple(strides), out.offset, out.dtype)
        self._launch(_elementwise.kernels("scatter_add"), (walk, index, src), (out.strides[dim],))

    def random(self, out: Strided, distribution: str, seed: int) -> None:
        if distribution not in ("uniform", "normal"):
            raise ValueError(f"cuda: unknown distribution {distribution!r}")
        n = out.size
        if n == 0:
            return
        k0, k1 = _random.split_seed(seed)
        code = _random.UNIFORM if distribution == "uniform" else _random.NORMAL
        _random.fill[grid_for(n), BLOCK, self.stream](
            n, out.shape or (1,), out.buffer, out.offset, out.strides or (0,), k0, k1, code,
            out.dtype.name == "float32",
        )  # fmt: skip

    # -- N-d convolution (1-d and 2-d as 3-d views, see _conv) ---------------------------
    def conv(self, out, x, weight, stride, padding, dilation, groups) -> None:
        """Convolution (cross-correlation): im2col and matmul (``conv_impl == "gemm"``)
        or the direct kernel, one thread per output element."""
        if self.conv_impl == "gemm":
            _im2col.conv(self, out, x, weight, stride, padding, dilation, groups)
            return
        if out.size == 0:
            return
        out, x, weight = _conv.lift(out), _conv.lift(x), _conv.lift(weight)
        geom = _conv.geometry(x.shape, weight.shape, out.shape, stride, padding, dilation,
                              groups)  # fmt: skip
        _conv.forward[grid_for(out.size), BLOCK, self.stream](
            out.size, out.shape, geom, out.buffer, out.offset, out.strides,
            x.buffer, x.offset, x.strides, weight.buffer, weight.offset, weight.strides,
            out.dtype.numpy.type(0),
        )  # fmt: skip

    def conv_grad_input(self, grad_x, grad_out, weight, stride, padding, dilation, groups):
        """The input gradient, gathered per input element (no atomics): from columns
        (gemm) or straight from grad_out and the weight (direct)."""
        if self.conv_impl == "gemm":
            _im2col.grad_input(self, grad_x, grad_out, weight, stride, padding, dilation, groups)
            return
        if grad_x.size == 0:
            return
        grad_x, grad_out, weight = _conv.lift(grad_x), _conv.lift(grad_out), _conv.lift(weight)
        geom = _conv.geometry(grad_x.shape, weight.shape, grad_out.shape, stride, padding,
                              dilation, groups)  # fmt: skip
        _conv.grad_input[grid_for(grad_x.size), BLOCK, self.stream](
            grad_x.size, grad_x.shape, geom, grad_x.buffer, grad_x.offset, grad_x.strides,
            grad_out.buffer, grad_out.offset, grad_out.strides,
            weight.buffer, weight.offset, weight.strides, grad_x.dtype.numpy.type(0),
        )  # fmt: skip

    def conv_grad_weight(self, grad_weight, x, grad_out, stride, padding, dilation, groups):
        """The weight gradient: grad_out times the columns' transpose (gemm), or one block
        and one shared-memory tree per weight element (direct)."""
        if self.conv_impl == "gemm":
            _im2col.grad_weight(self, grad_weight, x, grad_out, stride, padding, dilation,
                                groups)  # fmt: skip
            return
        total = grad_weight.size
        if total == 0:
            return
        grad_weight, x, grad_out = _conv.lift(grad_weight), _conv.lift(x), _conv.lift(grad_out)
        geom = _conv.geometry(x.shape, grad_weight.shape, grad_out.shape, stride, padding,
                              dilation, groups)  # fmt: skip
        _conv.grad_weight[min(total, MAX_BLOCKS), REDUCE_BLOCK, self.stream](
            total, grad_weight.shape, geom, x.shape[0],
            grad_weight.buffer, grad_weight.offset, grad_weight.strides,
            x.buffer, x.offset, x.strides, grad_out.buffer, grad_out.offset, grad_out.strides,
        )  # fmt: skip
