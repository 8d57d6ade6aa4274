"""The numba_cpu backend: the contract's primitives on numba kernels.

Buffers are 1-d numpy arrays from the caching allocator. Each call is planned in
Python (`_plan`: dims in memory order, merged, cached by layout) and runs one compiled
kernel: serially below `parallel_threshold` elements, where numba's fork/join would
cost more than the work, and in parallel above it. Kernels are compiled once per op
and dtype (never per call or shape) from the ops' scalar specification, cached on disk.

Where numpy is the faster tool it is used: the transcendental ufuncs (exp, log, tanh,
...) are SIMD loops in numpy and scalar libm calls in numba, so they run as numpy calls
on slices of the output, in parallel threads; matmul is BLAS through numpy; casts
between dtypes are numpy's; so is the arithmetic of the narrow and unsigned integers
(int8, int16, uint8 ... uint64) and of complex numbers, on views of the same buffers.
float16 and bfloat16 run the reference backend's kernels on views of the buffers (float32
arithmetic rounded once, float32 accumulation): no numba kernel is compiled for them.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numba
import numpy as np

from mytensor.backends.numba_cpu import (
    _batched_matmul,
    _blas_threads,
    _cells,
    _gemm,
    _jit,
    _norm,
    _optim,
    _outer,
    _pool,
    _recurrence,
    _softmax,
)
from mytensor.backends.numba_cpu import _reduce as R
from mytensor.backends.numba_cpu._conv import Conv
from mytensor.backends.numba_cpu._elementwise import kernels
from mytensor.backends.numba_cpu._plan import elementwise_plan, flat_plan, numpy_view, reduce_plan
from mytensor.backends.numba_cpu.allocator import ALLOCATOR
from mytensor.backends.numpy_ref._half import HALF
from mytensor.backends.numpy_ref.backend import NumpyBackend
from mytensor.backends.spec import (
    FUSED_UPDATES,
    MAP_OPS,
    OPTIONAL_MAP_OPS,
    OPTIONAL_ZIP_OPS,
    REDUCE_OPS,
    ZIP_OPS,
    AdamStep,
    SGDStep,
    Strided,
)
from mytensor.core.dtypes import (
    KNOWN_DTYPES,
    DType,
    complex64,
    complex128,
    float32,
    float64,
    int8,
    int16,
    uint8,
    uint16,
    uint32,
    uint64,
)
from mytensor.core.layout import cached_contiguous_strides
from mytensor.core.primitives import numpy_kernels as reference

# below this many elements a kernel runs serially. Measured crossover of a float32 add on
# 2 cores: ~30k elements with the OpenMP layer (a launch costs ~6 us), ~64k with TBB
# (2^16: 7.6 us serial or parallel; 2^17: 16.9 serial, 11.9 parallel), ~1M with workqueue
# (a launch costs ~80-100 us; 1e5: serial 20 us vs parallel 163 us; 1e6: 450 vs 419 us)
_CROSSOVER = {"workqueue": 1 << 20, "tbb": 1 << 16}.get(_jit.THREADING_LAYER, 1 << 15)
PARALLEL_MIN = int(os.environ.get("MYTENSOR_NUMBA_PARALLEL_MIN", _CROSSOVER))
# reductions go parallel at this multiple of it: they stream their input once with no
# output to write. workqueue: a serial float32 sum of 2^21 elements (~130 us) still beats
# a launch plus the second core's wake-up (~250 us), at 2^24 the parallel kernels win by
# 30-40%. TBB: even at 2^19 (sums over each dim of 1024x512: 54/36/32 us serial, 70/39/34
# parallel), parallel ahead at 2^20 (100/67/61 against 83/51/45)
REDUCE_PARALLEL_FACTOR = 16 if _jit.THREADING_LAYER == "tbb" else 8
# multiply-adds of a product split in blocks (`NumbaBackend._block_parts`) from which it
# takes one block per thread rather than two
BLOCKS_PER_THREAD_WORK = 1 << 23
# elements from which a fill (see `NumbaBackend._fill`) is split between threads: below
# it a second thread's hand-off costs more than it saves (800K float32: 55 us on one
# thread, 82 on two)
FILL_THREADED_MIN = 1 << 22
# numpy ufuncs in threads: one thread below this many elements. A pool round trip costs
# ~15 us, but waking an idle core of a VM costs more: a float32 exp measured 141 us in two
# threads against 88 in one at 2^17 elements, 182 vs 172 at 2^18, 279 vs 302 at 2^19.
# Kernels with more work per element (softmax: twice as much) lower it by that factor
THREADED_NUMPY_MIN = 1 << 18

NUMPY_MAP = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1,
             "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "acos": np.arccos,
             "acosh": np.arccosh, "asin": np.arcsin, "asinh": np.arcsinh, "atan": np.arctan,
             "atanh": np.arctanh, "cosh": np.cosh, "sinh": np.sinh, "tan": np.tan,
             "log2": np.log2, "log10": np.log10}  # fmt: skip
# transcendental maps that run on this backend's kernels, not numpy's ufuncs: float32 exp
# is `_vmath.expf` (within 1.01 ulp; numpy's is within 2.44), which LLVM vectorises. On
# one thread numpy's is ~15% faster (2^16: 30 against 35 us); in parallel, from 2^16
# elements on TBB, the kernel is ahead up to ~2^21 (1e5: 30 against 46 us, 1e6: 267
# against 450), and within ~15% of numpy split over two Python threads above that
_OWN_MAPS = frozenset({("exp", float32)})
# dtypes whose arithmetic runs on numpy's kernels (the reference backend's, on views of
# the same buffers, no copy): uint64 (numba types it mixed with int64 as float64), complex
# (the specialised loops are written for real numbers), and the narrow and unsigned
# integers, whose arithmetic is rare: compiling every op for them cost about half of all
# kernel compilation (a cold cache), and numpy's loops are as fast on one thread
_NUMPY_DTYPES = frozenset((int8, int16, uint8, uint16, uint32, uint64, complex64, complex128))
# float16 and bfloat16: every primitive is the reference backend's, on views of the same
# buffers (numba compiles neither; PyTorch's CPU kernels also compute them in float32)
_REFERENCE = NumpyBackend()


_KINDS = {"float": "float", "int": "int", "uint": "uint", "bool": "bool"}


# errstate as a decorator (a fresh context per call: safe in threads, and the cheap form);
# the kernels define NaN/inf results, so numpy's floating-point warnings are noise here
_quiet = np.errstate(all="ignore")


@_quiet
def _quiet_call(ufunc, x: np.ndarray, out: np.ndarray) -> None:
    ufunc(x, out=out)


@_quiet
def _softmax_rows(dim: int, log: bool, x: np.ndarray, out: np.ndarray) -> None:
    reference.softmax(x, dim, log, out)


@_quiet
def _softmax_float32_rows(log: bool, x: np.ndarray, out: np.ndarray, chunks: int) -> None:
    # x and out: (rows, cols) C-contiguous views; chunks > 1: that many blocks of rows in
    # parallel
    cols = x.shape[1]
    if chunks > 1:
        _softmax.rows_parallel(out.reshape(-1), x.reshape(-1), cols, log, chunks)
    else:
        _softmax.rows(out.reshape(-1), x.reshape(-1), cols, log)


@_quiet
def _lstm_forward(hc: Strided, saved: Strided, gates: Strided, c: Strided) -> None:
    batch, hidden = c.shape
    if c.dtype is float32:
        _cells.forward_f32(hc.buffer, hc.offset, saved.buffer, saved.offset, gates.buffer,
                           gates.offset, *gates.strides, c.buffer, c.offset, *c.strides,
                           batch, hidden)  # fmt: skip
        return
    g, s, out = numpy_view(gates), numpy_view(saved), numpy_view(hc)
    e = np.abs(g)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.tanh(g[:, 2 * hidden : 3 * hidden], out=s[:, 2 * hidden : 3 * hidden])
    _cells.forward(hc.buffer, hc.offset, saved.buffer, saved.offset, gates.buffer,
                   gates.offset, *gates.strides, e.reshape(-1), c.buffer, c.offset,
                   *c.strides, batch, hidden, c.dtype.numpy.type(1))  # fmt: skip
    np.tanh(out[:, hidden:], out=s[:, 4 * hidden :])
    np.multiply(s[:, 3 * hidden : 4 * hidden], s[:, 4 * hidden :], out=out[:, :hidden])


@_quiet
def _reference(kernels: dict, op: str, out: Strided, *inputs: Strided) -> None:
    """The numpy reference kernel on views of the buffers (no copy)."""
    if out.size:
        kernels[op](*(numpy_view(x) for x in inputs), out=numpy_view(out))


@_quiet
def _cast(out: np.ndarray, src: np.ndarray) -> None:
    np.copyto(out, src, casting="unsafe")  # NaN or inf cast to an integer


# the optional primitives whose kernels exist for float32 and float64 only
_FLOAT_KERNELS = (*FUSED_UPDATES, "lstm_cell", "lstm_cell_backward", "layer_norm",
                  "layer_norm_backward", "max_pool", "softmax_backward")  # fmt: skip


def _optional(desc: Strided | None, like: Strided) -> tuple[np.ndarray, int]:
    """(buffer, offset) of an optional operand; an empty array of `like`'s dtype if absent."""
    if desc is None:
        return np.empty(0, like.dtype.numpy), 0
    return desc.buffer, desc.offset


def _flat(desc: Strided) -> np.ndarray:
    """A C-contiguous operand's elements as a 1-d slice of its buffer."""
    return desc.buffer[desc.offset : desc.offset + desc.size]


def _flat_or_none(desc: Strided | None, like: Strided) -> np.ndarray:
    """`_flat(desc)`, or for an absent state buffer an empty array of `like`'s dtype: not
    `like`'s own elements, whose overlap would stop the loop from vectorizing."""
    return _flat(desc) if desc is not None else np.empty(0, like.dtype.numpy)


def _layouts(descs: tuple) -> tuple:
    """``(strides, offset)`` of each descriptor (a plan's key; spelled out per count, half
    the cost of a generator)."""
    if len(descs) == 3:
        o, a, b = descs
        return (o.strides, o.offset), (a.strides, a.offset), (b.strides, b.offset)
    if len(descs) == 2:
        o, a = descs
        return (o.strides, o.offset), (a.strides, a.offset)
    return tuple([(d.strides, d.offset) for d in descs])


class NumbaBackend:
    """Parallel CPU kernels compiled by numba; see the module docstring."""

    name = "numba_cpu"
    device = "cpu"
    dtypes = frozenset(d.name for d in KNOWN_DTYPES)
    # every optional name runs here: in a numba kernel where the tables have it, else
    # numpy's ufunc on views of the same buffers (no copy)
    map_ops = frozenset(MAP_OPS + OPTIONAL_MAP_OPS)
    zip_ops = frozenset(ZIP_OPS + OPTIONAL_ZIP_OPS)
    reduce_ops = frozenset(REDUCE_OPS)
    host_buffers = True  # buffers are 1-d numpy arrays: DLPack imports can share memory

    def __init__(self) -> None:
        self.allocator = ALLOCATOR
        self.threads = numba.get_num_threads()
        self.parallel_threshold = PARALLEL_MIN
        self.threaded_numpy_threshold = THREADED_NUMPY_MIN
        self.cache_dir = _jit.CACHE_DIR
        self._pool: ThreadPoolExecutor | None = None

    # -- memory -------------------------------------------------------------------
    def allocate(self, size: int, dtype: DType) -> np.ndarray:
        return self.allocator.allocate(size, dtype.numpy)

    def from_host(self, array: np.ndarray) -> np.ndarray:
        buffer = self.allocator.allocate(array.size, array.dtype)
        np.copyto(buffer, array.reshape(-1))
        return buffer

    def to_host(self, src: Strided) -> np.ndarray:
        return np.array(numpy_view(src), copy=True)

    def copy(self, out: Strided, src: Strided) -> None:
        if out.dtype is src.dtype and out.dtype not in HALF:
            if not any(src.strides) and out.strides is cached_contiguous_strides(out.shape):
                if out.size:
                    self._fill(out, src.buffer[src.offset])
            else:
                self._launch(kernels("copy"), (out, src))
        elif out.size:
            _cast(numpy_view(out), numpy_view(src))

    # -- elementwise ------------------------------------------------------------------
    def map(self, op: str, out: Strided, a: Strided) -> None:
        if a.dtype in HALF or out.dtype in HALF:
            _REFERENCE.map(op, out, a)
            return
        ufunc = NUMPY_MAP.get(op)
        if ufunc is not None and a.dtype not in _NUMPY_DTYPES and (op, a.dtype) not in _OWN_MAPS:
            self._numpy_map(ufunc, out, a)
            return
        found = None if a.dtype in _NUMPY_DTYPES else kernels(op, _KINDS[a.dtype.kind], 1)
        if found is None:
            _reference(reference.MAP_KERNELS, op, out, a)
        else:
            self._launch(found, (out, a))

    def zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None:
        if a.dtype in HALF or out.dtype in HALF:
            _REFERENCE.zip(op, out, a, b)
            return
        found = None if a.dtype in _NUMPY_DTYPES else kernels(op, _KINDS[a.dtype.kind], 2)
        if found is None:
            _reference(reference.ZIP_KERNELS, op, out, a, b)
        else:
            self._launch(found, (out, a, b))

    def where(self, out: Strided, cond: Strided, a: Strided, b: Strided) -> None:
        if out.dtype in HALF:
            _REFERENCE.where(out, cond, a, b)
            return
        self._launch(kernels("where"), (out, cond, a, b))

    def _launch(self, found: tuple, descs: tuple, step: int = 0) -> None:
        plan = None
        out_strides = descs[0].strides
        for d in descs:
            if d.offset or d.strides is not out_strides:
                break
        else:  # every operand a row-major block from 0 (checked last: one dict lookup)
            if out_strides is cached_contiguous_strides(descs[0].shape):
                plan = flat_plan(descs[0].shape, len(descs))
        if plan is None:
            plan = elementwise_plan(descs[0].shape, _layouts(descs))
        shape, strides, offsets, total = plan
        if total == 0:
            return
        serial, parallel = found
        buffers = [d.buffer for d in descs]
        if total < self.parallel_threshold or self.threads == 1:
            serial(*buffers, shape, strides, offsets, 0, total, step)
        else:
            parallel(*buffers, shape, strides, offsets, self.threads, step)

    def _numpy_map(self, ufunc, out: Strided, a: Strided) -> None:
        if out.size:
            self._numpy_in_threads(_quiet_call, (ufunc,), numpy_view(a), numpy_view(out))

    def softmax(self, out: Strided, a: Strided, dim: int, log: bool) -> None:
        """float32 rows along the last, contiguous dim: one kernel (`_softmax`), blocks of
        rows in parallel when large (twice an elementwise op's work per element: 256x1000
        went from ~176 to ~126 us on TBB). Other cases: numpy's
        vectorised passes, rows split between Python threads when large."""
        if out.dtype in HALF:
            _REFERENCE.softmax(out, a, dim, log)
            return
        x, o = numpy_view(a), numpy_view(out)
        contiguous = x.flags.c_contiguous and o.flags.c_contiguous
        if out.dtype is float32 and dim == len(a.shape) - 1 and contiguous and x.size:
            cols = a.shape[-1]
            x, o = x.reshape(-1, cols), o.reshape(-1, cols)
            parallel = 2 * x.size >= self.parallel_threshold and self.threads > 1
            chunks = min(x.shape[0], 4 * self.threads) if parallel else 1
            _softmax_float32_rows(log, x, o, chunks)
            return
        self._numpy_in_threads(_softmax_rows, (dim, log), x, o, dim, work=2)

    def _numpy_in_threads(self, kernel, args: tuple, x: np.ndarray, o: np.ndarray,
                          keep_whole: int | None = None, work: int = 1) -> None:  # fmt: skip
        """``kernel(*args, x, o)`` on slices of the same positions of `x` and `o`, in
        parallel threads when large (`work` per element against a ufunc's 1), split along
        the longest axis but `keep_whole`."""
        axes = [d for d in range(o.ndim) if d != keep_whole]
        if o.size * work < self.threaded_numpy_threshold or self.threads == 1 or not axes:
            kernel(*args, x, o)
            return
        axis = max(axes, key=lambda d: o.shape[d])
        pieces = min(self.threads, o.shape[axis])
        bounds = [o.shape[axis] * i // pieces for i in range(pieces + 1)]

        def piece(i: int) -> None:
            index = [slice(None)] * o.ndim
            index[axis] = slice(bounds[i], bounds[i + 1])
            kernel(*args, x[tuple(index)], o[tuple(index)])

        self._in_threads(piece, pieces)

    def _in_threads(self, work, pieces: int) -> None:
        """work(0), ..., work(pieces - 1): the last in this thread, the others in the pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads - 1, "mytensor-numba")
        futures = [self._pool.submit(work, i) for i in range(pieces - 1)]
        work(pieces - 1)
        for future in futures:
            future.result()

    # -- reductions -------------------------------------------------------------------
    def reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None:
        if out.size == 0:
            return
        if a.dtype in HALF or out.dtype in HALF:
            _REFERENCE.reduce(op, out, a, dims)
            return
        if a.dtype in _NUMPY_DTYPES or out.dtype in _NUMPY_DTYPES:
            with np.errstate(all="ignore"):
                reference.REDUCE_KERNELS[op](numpy_view(a), dims, numpy_view(out))
            return
        code = R.CODES[op]
        arg = code in (R.ARGMAX, R.ARGMIN)
        kta, kto, kn, kas, kos, rt, rn, rs = reduce_plan(a, out, dims, ordered=arg)
        zero = np.float64(0.0) if a.dtype.kind == "float" and code < R.ANY else np.int64(0)
        if a.size == 0:  # the identity of an empty reduction
            fill = {R.SUM: 0, R.PROD: 1, R.ANY: False, R.ALL: True}[code]
            np.copyto(numpy_view(out), fill, casting="unsafe")
            return
        outputs = kta.shape[0] * kn
        reduced = rt.shape[0] * rn
        work = outputs * reduced
        serial = work < REDUCE_PARALLEL_FACTOR * self.parallel_threshold or self.threads == 1
        if not arg and (reduced == 1 or (kn >= 16 and abs(kas) < abs(rs))):
            rows = kta.shape[0]
            if serial:
                R._lanes(code, out.buffer, a.buffer, kta, kto, kn, kas, kos, rt, rn, rs, 0, kn,
                         0, rows, zero)  # fmt: skip
            elif rows >= 2 * self.threads or reduced < 2 * self.threads:
                R._lanes_par(code, out.buffer, a.buffer, kta, kto, kn, kas, kos, rt, rn, rs,
                             R.LANE_BLOCK, zero)  # fmt: skip
            else:
                partial = np.empty((rows * 2 * self.threads, kn), zero.dtype)
                R._lanes_split_par(code, out.buffer, a.buffer, kta, kto, kn, kas, kos, rt, rn,
                                   rs, partial, zero)  # fmt: skip
        elif serial:
            R._rows(
                code, out.buffer, a.buffer, kta, kto, kn, kas, kos, rt, rn, rs, 0, outputs, zero
            )
        elif outputs >= 2 * self.threads:
            R._rows_par(
                code,
                out.buffer,
                a.buffer,
                kta,
                kto,
                kn,
                kas,
                kos,
                rt,
                rn,
                rs,
                min(outputs, 4 * self.threads),
                zero,
            )
        else:
            pieces = min(reduced, -(-4 * self.threads // outputs))
            values = np.empty(outputs * pieces, zero.dtype)
            wheres = np.empty(outputs * pieces, np.int64)
            R._split_par(code, a.buffer, kta, kn, kas, rt, rn, rs, pieces, values, wheres, zero)
            R._combine(code, out.buffer, kto, kn, kos, pieces, values, wheres)

    # -- optional primitives ----------------------------------------------------------
    @_quiet  # inf * 0 in a product is NaN, without numpy's warning
    def matmul(self, out: Strided, a: Strided, b: Strided) -> None:
        if out.dtype in HALF:
            _REFERENCE.matmul(out, a, b)
        elif out.size and a.shape[-1] == 1 and a.dtype is b.dtype is out.dtype:
            self._outer(out, a, b)
        elif out.size:
            x, y, res = numpy_view(a), numpy_view(b), numpy_view(out)
            if self._split_batch(res, x, y):
                with _blas_threads.one_numpy_blas_thread():
                    _batched_matmul.run(res, x, y)
            elif parts := self._block_parts(res, x, y):
                with _blas_threads.one_numpy_blas_thread():
                    _batched_matmul.run_blocks(res, x, y, parts)
            else:
                _blas_threads.matmul(x, y, res)

    def _split_batch(self, res: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether a batch of products goes to `_batched_matmul` (whole products per
        thread): two or more float32 or float64 products with enough work for a parallel
        launch (~1 M multiply-adds in all), each small enough for one BLAS thread
        (`_blas_threads`) or enough of them to share out evenly (else each product is
        split in blocks, `_block_parts`)."""
        count = res.size // (res.shape[-1] * res.shape[-2])
        each = res.shape[-2] * res.shape[-1] * a.shape[-1]
        return (
            count > 1 and self.threads > 1 and count * each >= _batched_matmul.MIN_WORK
            and (each < _blas_threads.SMALL_PRODUCT or count >= 2 * self.threads)
            and res.flags.c_contiguous and a.dtype == b.dtype == res.dtype
            and _gemm.available(res.dtype)
        )  # fmt: skip

    def _block_parts(self, res: np.ndarray, a: np.ndarray, b: np.ndarray) -> int:
        """Into how many blocks each product too large for one BLAS thread
        (`_blas_threads.SMALL_PRODUCT`) is split on numba's threads
        (`_batched_matmul.run_blocks`) rather than threaded by OpenBLAS; 0 for no split
        (one thread, or not float32/float64 with numpy's GEMM found). Two blocks a thread
        while they are small, so a second thread that wakes late still takes its share
        (192^3: 162 -> 105 us); from `BLOCKS_PER_THREAD_WORK` one, as each block repacks
        its operand for little gain (the MLP's 128x784x256: 327-350 us, four 366-618)."""
        work = res.shape[-2] * res.shape[-1] * a.shape[-1]
        if not (
            self.threads > 1 and work >= _blas_threads.SMALL_PRODUCT
            and res.flags.c_contiguous and a.dtype == b.dtype == res.dtype
            and _gemm.available(res.dtype)
        ):  # fmt: skip
            return 0
        return self.threads * (2 if work < BLOCKS_PER_THREAD_WORK else 1)

    def _outer(self, out: Strided, a: Strided, b: Strided) -> None:
        """A matmul with inner dimension 1 (see `_outer`)."""
        m, n = out.shape[-2:]
        o = numpy_view(out)
        res = o if o.flags.c_contiguous else np.empty(o.shape, o.dtype)
        # the operands as (K, M) and (K, N) (a copy only where a view can't be)
        x, y = numpy_view(a).reshape(-1, m), numpy_view(b).reshape(-1, n)
        zero = out.dtype.numpy.type(0)
        res3 = res.reshape(-1, m, n)
        split = out.size >= self.parallel_threshold and self.threads > 1 and len(res3) > 1
        (_outer.parallel if split else _outer.serial)(res3, x, y, zero)
        if res is not o:
            np.copyto(o, res)

    def sgd_update(self, param: Strided, grad: Strided, buf: Strided | None, step: SGDStep):
        t = param.dtype.numpy.type
        flags = (step.maximize, step.weight_decay != 0, step.momentum != 0, step.first,
                 step.nesterov)  # fmt: skip
        lr, decay, momentum, keep = (t(c) for c in (step.lr, step.weight_decay, step.momentum,
                                                    1 - step.dampening))  # fmt: skip
        views = [_flat(d) for d in (param, grad)] + [_flat_or_none(buf, param)]

        def piece(lo: int, hi: int) -> None:
            p, g, b = (v[lo:hi] for v in views)
            _optim.sgd(p, g, b, lr, decay, momentum, keep, *flags)

        self._slices(piece, param.size)

    def adam_update(self, param: Strided, grad: Strided, exp_avg: Strided,
                    exp_avg_sq: Strided, vmax: Strided | None, step: AdamStep) -> None:  # fmt: skip
        t = param.dtype.numpy.type
        decay, keep1, beta2, keep2, step_size, correction2, eps, wd = map(t, step.constants())
        flags = (step.maximize, step.decoupled and step.weight_decay != 0, step.amsgrad)
        views = [_flat(d) for d in (param, grad, exp_avg, exp_avg_sq)]
        views.append(_flat_or_none(vmax, param))

        def piece(lo: int, hi: int) -> None:
            p, g, m, v, vmax = (x[lo:hi] for x in views)
            _optim.adam(p, g, m, v, vmax, decay, wd, keep1, beta2, keep2, step_size,
                        correction2, eps, *flags)  # fmt: skip

        self._slices(piece, param.size)

    def _fill(self, out: Strided, value: np.generic) -> None:
        """A C-contiguous `out` set to one value (a fill: `zeros`, `full`, a broadcast
        scalar) by numpy's fill, a memset-speed loop: the copy kernel reads its stride-0
        source through a runtime stride and stays scalar (a (1024, 784) float32 zeros:
        145 against 55 us). Split between threads from `FILL_THREADED_MIN` elements,
        where the memory bus, not the launch, is the limit (1e7: 1.04 -> 0.46 ms)."""
        flat = _flat(out)
        if out.size < FILL_THREADED_MIN or self.threads == 1:
            flat.fill(value)
            return
        pieces = self.threads
        bounds = [out.size * i // pieces for i in range(pieces + 1)]
        self._in_threads(lambda i: flat[bounds[i] : bounds[i + 1]].fill(value), pieces)

    def _slices(self, work, size: int) -> None:
        """work(lo, hi) over [0, size), in contiguous slices on the threads when large."""
        pieces = self.threads if size >= _optim.THREADED_MIN else 1
        if pieces == 1:
            work(0, size)
            return
        bounds = [size * i // pieces for i in range(pieces + 1)]
        self._in_threads(lambda i: work(bounds[i], bounds[i + 1]), pieces)

    def lstm_cell(self, hc: Strided, saved: Strided, gates: Strided, c: Strided) -> None:
        """float32: one numba pass on the vectorisable exp and tanh of `_vmath`. float64:
        numpy's SIMD exp and tanh (a numba kernel's libm call per element cost ~70 ns
        here) around one numba pass for the rest: the composite's values, in six calls."""
        if hc.size:
            _lstm_forward(hc, saved, gates, c)

    def lstm_cell_backward(self, d_gates: Strided, d_c: Strided, d_hc: Strided,
                           saved: Strided, c: Strided) -> None:  # fmt: skip
        if d_c.size:
            batch, hidden = c.shape
            _cells.backward(d_gates.buffer, d_gates.offset, d_c.buffer, d_c.offset, d_hc.buffer,
                            d_hc.offset, *d_hc.strides, saved.buffer, saved.offset, c.buffer,
                            c.offset, *c.strides, batch, hidden, c.dtype.numpy.type(1))  # fmt: skip

    def lstm_sequence(self, states: Strided, saved: Strided, gi: Strided, w_t: Strided,
                      reverse: bool) -> None:  # fmt: skip
        """float32 (`supports`): the whole recurrence in one kernel (`_recurrence`), the
        batch's two halves on two threads where the products run as halves."""
        steps, batch, hidden = states.shape[0] - 1, states.shape[1], states.shape[2] // 2
        parts, parallel, blas_threads = self._recurrent_parts(batch, hidden)
        kernel = _recurrence.forward_f32_parallel if parallel else _recurrence.forward_f32
        gates = np.empty(batch * 4 * hidden, np.float32)
        c_prev = np.empty(batch * hidden, np.float32)
        with blas_threads:
            kernel(_gemm.function(np.float32), parts, states.buffer, states.offset, saved.buffer,
                   saved.offset, gi.buffer, gi.offset, *gi.strides, w_t.buffer, w_t.offset,
                   gates, c_prev, steps, batch, hidden, reverse)  # fmt: skip

    def lstm_sequence_backward(self, d_gates: Strided, d_h0: Strided, d_c0: Strided,
                               d_hc: Strided, states: Strided, saved: Strided, w_hh: Strided,
                               reverse: bool) -> None:  # fmt: skip
        """float32 and float64: the whole recurrence backwards in one kernel, as forward."""
        steps, batch, two_h = d_hc.shape
        hidden, dtype = two_h // 2, states.dtype.numpy
        parts, parallel, blas_threads = self._recurrent_parts(batch, hidden)
        kernel = _recurrence.backward_parallel if parallel else _recurrence.backward
        # W_hh C-contiguous, or its transpose so with BLAS's flag (a copy only otherwise)
        w, _, transposed = _batched_matmul.operand(numpy_view(w_hh), ())
        trans = _gemm.TRANS if transposed else _gemm.NO_TRANS
        carry = np.empty(batch * two_h, dtype)
        with blas_threads:
            kernel(_gemm.function(dtype), parts, d_gates.buffer, d_gates.offset, d_h0.buffer,
                   d_h0.offset, d_c0.buffer, d_c0.offset, d_hc.buffer, d_hc.offset,
                   *d_hc.strides, states.buffer, states.offset, saved.buffer, saved.offset,
                   w.reshape(-1), 0, trans, w.shape[-1], carry, steps, batch, hidden, reverse,
                   dtype.type(1))  # fmt: skip

    def _recurrent_parts(self, batch: int, hidden: int) -> tuple[int, bool, object]:
        """(parts, parallel, BLAS-thread context) of an LSTM recurrence: its products
        (batch x 4H x H multiply-adds) as `_blas_threads.matmul` runs them, and where that
        is as two halves of rows, the halves on two threads (when there are two)."""
        one_thread, halves = _blas_threads.product_plan(batch, batch * 4 * hidden * hidden)
        blas_threads = _blas_threads.one_numpy_blas_thread() if one_thread else nullcontext()
        return (2 if halves else 1), halves and self.threads > 1, blas_threads

    def layer_norm(self, out: Strided, mean: Strided, rstd: Strided, x: Strided,
                   weight: Strided | None, bias: Strided | None, eps: float) -> None:  # fmt: skip
        rows, cols = x.shape
        _norm.forward(out.buffer, out.offset, mean.buffer, mean.offset, rstd.buffer,
                      rstd.offset, x.buffer, x.offset, *_optional(weight, x),
                      *_optional(bias, x), rows, cols, eps)  # fmt: skip

    def layer_norm_backward(self, dx: Strided, dweight: Strided | None, dbias: Strided | None,
                            dy: Strided, x: Strided, mean: Strided, rstd: Strided,
                            weight: Strided | None) -> None:  # fmt: skip
        rows, cols = x.shape
        _norm.backward(dx.buffer, dx.offset, *_optional(dweight, x), *_optional(dbias, x),
                       dy.buffer, dy.offset, x.buffer, x.offset, mean.buffer, mean.offset,
                       rstd.buffer, rstd.offset, *_optional(weight, x), rows, cols)  # fmt: skip

    @_quiet
    def softmax_backward(self, dx: Strided, y: Strided, g: Strided, dim: int,
                         log: bool) -> None:  # fmt: skip
        """float32 rows along a contiguous last dim: one pass (`_softmax.backward_rows`,
        blocks of rows in parallel when large). Other layouts, and float64: numpy's
        passes on views of the buffers."""
        yv, gv, dv = numpy_view(y), numpy_view(g), numpy_view(dx)
        if (dx.dtype is float32 and dim == len(y.shape) - 1 and yv.flags.c_contiguous
                and gv.flags.c_contiguous):  # fmt: skip
            cols = y.shape[-1]
            flat = (dv.reshape(-1), yv.reshape(-1), gv.reshape(-1))
            if 3 * dx.size >= self.parallel_threshold and self.threads > 1:
                chunks = min(dx.size // cols, 4 * self.threads)
                _softmax.backward_rows_parallel(*flat, cols, log, chunks)
            else:
                _softmax.backward_rows(*flat, cols, log)
        elif log:
            sums = gv.sum(axis=dim, keepdims=True)
            np.exp(yv, out=dv)
            np.multiply(dv, sums, out=dv)
            np.subtract(gv, dv, out=dv)
        else:
            np.multiply(gv, yv, out=dv)
            sums = dv.sum(axis=dim, keepdims=True)
            np.subtract(gv, sums, out=dv)
            np.multiply(yv, dv, out=dv)

    def cross_entropy_backward(self, d_logits: Strided, logp: Strided, target: Strided,
                               scale: Strided) -> None:  # fmt: skip
        """float32 only (see `supports`): one pass of `_softmax.cross_entropy_backward`."""
        rows, cols = logp.shape
        if not d_logits.size:
            return
        parallel = 2 * d_logits.size >= self.parallel_threshold and self.threads > 1
        _softmax.cross_entropy_backward(
            d_logits.buffer, d_logits.offset, logp.buffer, logp.offset, target.buffer,
            target.offset, target.strides[0], scale.buffer, scale.offset, scale.strides[0],
            rows, cols, min(rows, 4 * self.threads) if parallel else 1)  # fmt: skip

    def max_pool(self, out: Strided, indices: Strided, x: Strided, kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[int, ...],
                 dilation: tuple[int, ...]) -> None:  # fmt: skip
        if out.size:
            _pool.max_pool(out, indices, x, kernel, stride, padding, dilation)

    def supports(self, primitive: str, dtype: DType) -> bool:
        """The single-pass optimizer, LSTM, layer-norm, max-pool and softmax-backward
        kernels are compiled for float32 and float64; other dtypes take the core's
        composite. The cross-entropy backward is float32 only: its exp must be the exp
        map's (`_vmath.expf`), and float64's exp map is numpy's."""
        if primitive == "cross_entropy_backward":
            return dtype is float32
        if primitive in ("lstm_sequence", "lstm_sequence_backward"):  # numpy's GEMM, found
            wanted = (float32,) if primitive == "lstm_sequence" else (float32, float64)
            return dtype in wanted and _gemm.function(dtype.numpy) is not None
        return primitive not in _FLOAT_KERNELS or dtype.name in ("float32", "float64")

    def gather(self, out: Strided, a: Strided, index: Strided, dim: int) -> None:
        if out.dtype in HALF:
            _REFERENCE.gather(out, a, index, dim)
            return
        strides = list(a.strides)
        strides[dim] = 0  # the kernel adds index * step along dim
        walk = Strided(a.buffer, out.shape, tuple(strides), a.offset, a.dtype)
        self._launch(kernels("gather"), (out, index, walk), a.strides[dim])

    def scatter_add(self, out: Strided, index: Strided, src: Strided, dim: int) -> None:
        if out.dtype in HALF:
            _REFERENCE.scatter_add(out, index, src, dim)
            return
        strides = list(out.strides)
        strides[dim] = 0
        walk = Strided(out.buffer, src.shape, tuple(strides), out.offset, out.dtype)
        self._launch(kernels("scatter_add"), (walk, index, src), out.strides[dim])

    # -- N-d convolution: im2col + one BLAS matmul per group (see _conv) -----------------
    @_quiet  # inf * 0 in a product is NaN, without numpy's warning
    def conv(self, out, x, weight, stride, padding, dilation, groups) -> None:
        if out.dtype in HALF:
            _REFERENCE.conv(out, x, weight, stride, padding, dilation, groups)
        elif out.size:
            conv = Conv(x.shape, weight.shape, out.shape, stride, padding, dilation, groups)
            conv.forward(out, x, weight)

    @_quiet  # inf * 0 in a product is NaN, without numpy's warning
    def conv_grad_input(self, grad_x, grad_out, weight, stride, padding, dilation, groups):
        if grad_x.dtype in HALF:
            _REFERENCE.conv_grad_input(grad_x, grad_out, weight, stride, padding, dilation,
                                       groups)  # fmt: skip
        elif grad_x.size:
            conv = Conv(grad_x.shape, weight.shape, grad_out.shape, stride, padding,
                        dilation, groups)  # fmt: skip
            conv.grad_input(grad_x, grad_out, weight)

    @_quiet  # inf * 0 in a product is NaN, without numpy's warning
    def conv_grad_weight(self, grad_weight, x, grad_out, stride, padding, dilation, groups):
        if grad_weight.dtype in HALF:
            _REFERENCE.conv_grad_weight(grad_weight, x, grad_out, stride, padding, dilation,
                                        groups)  # fmt: skip
            return
        conv = Conv(x.shape, grad_weight.shape, grad_out.shape, stride, padding, dilation,
                    groups)  # fmt: skip
        conv.grad_weight(grad_weight, x, grad_out)
