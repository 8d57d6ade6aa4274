"""A loaded backend as the core calls it: required primitives bound directly,
optional ones either native or a composite built from the required ones."""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.backends.spec import (
    CONV_PRIMITIVES,
    FUSED_UPDATES,
    MAP_OPS,
    OPTIONAL_MAP_OPS,
    OPTIONAL_PRIMITIVES,
    OPTIONAL_ZIP_OPS,
    REDUCE_OPS,
    ZIP_OPS,
    Strided,
)
from mytensor.core import fused_cells, fused_loss, fused_norm, fused_updates, host_fallbacks
from mytensor.core.descriptors import contiguous, host_descriptor
from mytensor.core.dtypes import (
    _BY_NUMPY,
    HALF_DTYPES,
    KNOWN_DTYPES,
    DType,
    bool_,
    check_supported,
    float32,
    to_dtype,
)
from mytensor.core.layout import broadcast_strides

# the primitives a backend may decline per dtype: the name `supports` is asked with, and
# which argument's dtype it is asked about (an index; a tuple argument: its first item)
_CONV = CONV_PRIMITIVES[0]  # `native` and `supports` name the three convolution ones by it
_OPERAND = {
    "matmul": ("matmul", 1), "gather": ("gather", 1), "scatter_add": ("scatter_add", 2),
    "random": ("random", 0), "argsort": ("argsort", 1), "searchsorted": ("searchsorted", 1),
    "nonzero": ("nonzero", 1), "cumulative": ("cumulative", 2), "linalg": ("linalg", 2),
    "fft": ("fft", 2), "softmax": ("softmax", 1), "sgd_update": ("sgd_update", 0),
    "adam_update": ("adam_update", 0), "lstm_cell": ("lstm_cell", 2),
    "lstm_cell_backward": ("lstm_cell_backward", 3), "lstm_sequence": ("lstm_sequence", 0),
    "lstm_sequence_backward": ("lstm_sequence_backward", 0), "layer_norm": ("layer_norm", 3),
    "layer_norm_backward": ("layer_norm_backward", 3), "max_pool": ("max_pool", 2),
    "cross_entropy_backward": ("cross_entropy_backward", 1),
    "softmax_backward": ("softmax_backward", 1),
    **{name: (_CONV, 1) for name in CONV_PRIMITIVES},
}  # fmt: skip


def _broadcast(desc: Strided, shape: tuple[int, ...], element: int | None = None) -> Strided:
    """`desc` (contiguous, size 1 on the axes where `shape` is larger) as a stride-0 view of
    `shape`; with `element`, that one element of a 1-d `desc` everywhere."""
    if element is not None:
        return Strided(desc.buffer, shape, (0,) * len(shape), desc.offset + element, desc.dtype)
    strides = broadcast_strides(desc.shape, desc.strides, shape)
    return Strided(desc.buffer, shape, strides, desc.offset, desc.dtype)


class SupportsError(TypeError):
    """A backend's ``supports`` raised or answered something other than True or False."""


def declined(backend: Any) -> frozenset[tuple[str, DType]]:
    """The (name, dtype) pairs `backend` declines through ``supports`` (see the spec,
    "Declining a dtype"), asked once for every declared op name or native primitive and
    every declared dtype; empty when it has no ``supports``.

    >>> from mytensor.backends.numpy_ref.backend import NumpyBackend
    >>> class NoComplexMatmul(NumpyBackend):
    ...     def supports(self, primitive, dtype):
    ...         return not (primitive == "matmul" and dtype.kind == "complex")
    >>> sorted(d.name for _, d in declined(NoComplexMatmul()))
    ['complex128', 'complex64']
    """
    supports = getattr(backend, "supports", None)
    if supports is None:
        return frozenset()
    names = {*backend.map_ops, *backend.zip_ops, *backend.reduce_ops}
    names |= {key for name, (key, _) in _OPERAND.items() if callable(getattr(backend, name, None))}
    dtypes = sorted((to_dtype(d) for d in backend.dtypes), key=lambda d: d.name)
    refused = set()
    for name in sorted(names):
        for dtype in dtypes:
            try:
                answer = supports(name, dtype)
            except Exception as exc:
                raise SupportsError(f"supports({name!r}, {dtype.name}) raised {exc!r}") from exc
            if not isinstance(answer, bool | np.bool_):
                raise SupportsError(f"supports({name!r}, {dtype.name}) returned {answer!r}")
            if not answer:
                refused.add((name, dtype))
    return frozenset(refused)


def _undeclared(backend: str, primitive: str, op: str, a: Strided, exc: KeyError) -> Exception:
    from mytensor.core.registry import BackendError

    return BackendError(
        f"backend {backend!r}: {primitive}({op!r}) on {a.dtype.name} raised KeyError: {exc}; "
        f"the core sends {op!r} because it is a required op or the backend lists it in "
        f"{primitive}_ops. Fix the backend: implement {op!r} in its {primitive}, or decline "
        f"the dtype with supports({op!r}, dtype) -> False so the core runs its fallback"
    )


def _router(backend: str, primitive: str, native: Any, fallback: Any, refused: frozenset) -> Any:
    """map, zip or reduce as the core calls it: the backend's method, a bare KeyError from
    it turned into an error that names the backend and op, and, where the backend
    declines some (op, dtype), one set lookup per call that sends those to `fallback`."""
    refused = frozenset(pair for pair in refused if pair[0] in _NAMES[primitive])
    if primitive == "map":

        def call_map(op: str, out: Strided, a: Strided) -> None:
            if refused and (op, a.dtype) in refused:
                return fallback(op, out, a)
            try:
                native(op, out, a)
            except KeyError as exc:
                raise _undeclared(backend, primitive, op, a, exc) from exc

        return call_map

    def call(op: str, out: Strided, a: Strided, b: Any) -> None:  # b: zip's b, reduce's dims
        if refused and (op, a.dtype) in refused:
            return fallback(op, out, a, b)
        try:
            native(op, out, a, b)
        except KeyError as exc:
            raise _undeclared(backend, primitive, op, a, exc) from exc

    return call


_NAMES = {
    "map": frozenset(MAP_OPS + OPTIONAL_MAP_OPS),
    "zip": frozenset(ZIP_OPS + OPTIONAL_ZIP_OPS),
    "reduce": frozenset(REDUCE_OPS),
}


def _dtype_router(native: Any, fallback: Any, refused: frozenset[DType], operand: int) -> Any:
    """An optional primitive that the backend declines for the dtypes `refused`."""

    def call(*args: Any) -> Any:
        value = args[operand]
        dtype = (value[0] if isinstance(value, tuple) else value).dtype
        return (fallback if dtype in refused else native)(*args)

    return call


def _host_conv(backend: Any, name: str) -> Any:
    """A convolution primitive through numpy on the host, for the dtypes a backend declines
    (the composite of core/ops works at the level of ops, not of primitives)."""
    from mytensor.backends.numpy_ref import _conv

    def call(out: Strided, first: Strided, second: Strided, *params: Any) -> None:
        result = np.zeros(out.shape, out.dtype.numpy)
        getattr(_conv, name)(result, backend.to_host(first), backend.to_host(second), *params)
        backend.copy(out, host_descriptor(backend, result, out.dtype))

    return call


class Dispatch:
    """Wraps a backend object; `native` names the optional primitives it implements."""

    def __init__(self, backend: Any) -> None:
        self.impl = backend
        self.name: str = backend.name
        self.device: str = backend.device
        self.dtypes = frozenset(to_dtype(d) for d in backend.dtypes)
        self.native = tuple(p for p in OPTIONAL_PRIMITIVES if callable(getattr(backend, p, None)))
        if all(callable(getattr(backend, p, None)) for p in CONV_PRIMITIVES):
            self.native += ("conv",)
            for name in CONV_PRIMITIVES:
                setattr(self, name, getattr(backend, name))
        # required primitives: bound methods, so a call costs what calling the backend costs
        self.allocate = backend.allocate
        self.from_host = backend.from_host
        self.to_host = backend.to_host
        self.copy = backend.copy
        self.map = backend.map
        self.zip = backend.zip
        self.where = backend.where
        self.reduce = backend.reduce
        for name in OPTIONAL_PRIMITIVES:
            if name in self.native:
                setattr(self, name, getattr(backend, name))
        # the elementwise op names it runs natively (optional ones unlisted: `elementwise`)
        self.ops = frozenset(backend.map_ops) | frozenset(backend.zip_ops)
        self._route(backend)
        for name in FUSED_UPDATES:
            if name in self.native:  # native for contiguous operands only (the contract)
                composite = getattr(Dispatch, name).__get__(self)
                setattr(self, name, fused_updates.contiguous_router(getattr(self, name), composite))
        if not self.dtypes.issuperset(KNOWN_DTYPES):
            # only a backend lacking dtypes pays for the check, once per allocation
            self.allocate = self._checked_allocate
            self.from_host = self._checked_from_host

    def __repr__(self) -> str:
        return f"<backend {self.name} ({self.device})>"

    def _route(self, backend: Any) -> None:
        """Bind map/zip/reduce so that a KeyError from the backend names the backend and op,
        and send what the backend declines (`declined`) to the core's fallback instead."""
        self.declined = declined(backend)
        self.map = _router(self.name, "map", backend.map, self._host_map, self.declined)
        self.zip = _router(self.name, "zip", backend.zip, self._host_zip, self.declined)
        self.reduce = _router(self.name, "reduce", backend.reduce, self._host_reduce,
                              self.declined)  # fmt: skip
        for name, (key, operand) in _OPERAND.items():
            dtypes = frozenset(d for k, d in self.declined if k == key)
            if dtypes and key in self.native:
                default: Any = getattr(Dispatch, name, None)  # composite or host fallback
                fallback = _host_conv(self, name) if default is None else default.__get__(self)
                native = getattr(backend, name)
                setattr(self, name, _dtype_router(native, fallback, dtypes, operand))

    def is_native(self, name: str, dtype: DType) -> bool:
        """Whether the backend runs op or primitive `name` on `dtype` itself (else the core's
        composite or host fallback runs)."""
        if name in self.ops or name in self.impl.reduce_ops or name in self.native:
            return (name, dtype) not in self.declined
        return False

    def _checked_allocate(self, size: int, dtype: DType) -> Any:
        check_supported(self, dtype)
        return self.impl.allocate(size, dtype)

    def _checked_from_host(self, array: np.ndarray) -> Any:
        dtype = _BY_NUMPY.get(array.dtype)
        if dtype is not None:
            check_supported(self, dtype)
        return self.impl.from_host(array)

    def elementwise(self, op: str, out: Strided, *inputs: Strided) -> None:
        """An optional map/zip op (spec.OPTIONAL_MAP_OPS / OPTIONAL_ZIP_OPS): the backend's
        kernel if it declares the name (``map_ops``/``zip_ops``), else the numpy reference
        kernel on the host (exact; a device backend pays two transfers)."""
        if op in self.ops:
            (self.map if len(inputs) == 1 else self.zip)(op, out, *inputs)
        else:
            self._host_elementwise(op, out, inputs)

    # -- host fallbacks of the elementwise primitives (unlisted or declined names) ------
    def _host_elementwise(self, op: str, out: Strided, inputs: tuple[Strided, ...]) -> None:
        from mytensor.core.primitives.numpy_kernels import MAP_KERNELS, ZIP_KERNELS

        kernel = (MAP_KERNELS if len(inputs) == 1 else ZIP_KERNELS)[op]
        result = np.empty(out.shape, out.dtype.numpy)
        with np.errstate(all="ignore"):
            kernel(*(self.to_host(x) for x in inputs), out=result)
        self.copy(out, host_descriptor(self, result, out.dtype))

    def _host_map(self, op: str, out: Strided, a: Strided) -> None:
        self._host_elementwise(op, out, (a,))

    def _host_zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None:
        self._host_elementwise(op, out, (a, b))

    def _host_reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None:
        from mytensor.core.primitives.numpy_kernels import REDUCE_KERNELS

        result = np.empty(out.shape, out.dtype.numpy)
        with np.errstate(all="ignore"):
            REDUCE_KERNELS[op](self.to_host(a), dims, result)
        self.copy(out, host_descriptor(self, result, out.dtype))

    # -- composites, used when the backend has no native version ----------------------
    def matmul(self, out: Strided, a: Strided, b: Strided) -> None:
        """Broadcast-multiply into a (..., n, k, m) temporary, then sum over k."""
        *batch, n, k = a.shape
        m = b.shape[-1]
        product_shape = (*batch, n, k, m)
        a4 = Strided(a.buffer, product_shape, (*a.strides, 0), a.offset, a.dtype)
        b_strides = (*b.strides[:-2], 0, *b.strides[-2:])
        b4 = Strided(b.buffer, product_shape, b_strides, b.offset, b.dtype)
        product = contiguous(self, product_shape, out.dtype)
        self.zip("mul", product, a4, b4)
        out4 = Strided(
            out.buffer, (*batch, n, 1, m), (*out.strides[:-1], 0, out.strides[-1]),
            out.offset, out.dtype,
        )  # fmt: skip
        self.reduce("sum", out4, product, (len(batch) + 1,))

    def softmax(self, out: Strided, a: Strided, dim: int, log: bool) -> None:
        """max along `dim`, subtract, exp, sum, then divide (softmax) or take the log and
        subtract it (log_softmax, whose shift is 0 for a row of only -inf). Half dtypes run
        it in float32 and round once, as PyTorch's kernels do."""
        if a.dtype in HALF_DTYPES:
            wide = contiguous(self, a.shape, float32)
            self.copy(wide, a)
            self.softmax(wide, wide, dim, log)
            self.copy(out, wide)
            return
        kept = tuple(1 if d == dim else n for d, n in enumerate(a.shape))
        shift = contiguous(self, kept, a.dtype)
        self.reduce("max", shift, a, (dim,))
        if log:
            constants = host_descriptor(self, np.array([-np.inf, 0.0]), a.dtype)
            minus_inf, zero = (_broadcast(constants, kept, i) for i in (0, 1))
            empty = contiguous(self, kept, bool_)
            self.zip("eq", empty, shift, minus_inf)
            self.where(shift, empty, zero, shift)
        self.zip("sub", out, a, _broadcast(shift, a.shape))
        exps = contiguous(self, a.shape, a.dtype) if log else out
        self.map("exp", exps, out)
        sums = contiguous(self, kept, a.dtype)
        self.reduce("sum", sums, exps, (dim,))
        if log:
            self.map("log", sums, sums)
            self.zip("sub", out, out, _broadcast(sums, a.shape))
        else:
            self.zip("div", out, out, _broadcast(sums, a.shape))

    def gather(self, out: Strided, a: Strided, index: Strided, dim: int) -> None:
        """Through the host: exact, and slow on a device backend (implement it natively)."""
        values = np.take_along_axis(self.to_host(a), self.to_host(index), axis=dim)
        self.copy(out, host_descriptor(self, values, out.dtype))

    def scatter_add(self, out: Strided, index: Strided, src: Strided, dim: int) -> None:
        target = self.to_host(out)
        idx = self.to_host(index)
        where = list(np.indices(idx.shape, sparse=True))
        where[dim] = idx
        np.add.at(target, tuple(where), self.to_host(src))
        self.copy(out, host_descriptor(self, target, out.dtype))

    # the host fallbacks of the primitives with no composite (core/host_fallbacks.py)
    argsort = host_fallbacks.argsort
    searchsorted = host_fallbacks.searchsorted
    nonzero = host_fallbacks.nonzero
    cumulative = host_fallbacks.cumulative
    linalg = host_fallbacks.linalg
    fft = host_fallbacks.fft

    def sgd_update(self, param: Strided, grad: Strided, momentum_buffer: Strided | None,
                   step: Any) -> None:  # fmt: skip
        """The rule written in map/zip calls (core/fused_updates.py)."""
        fused_updates.sgd_update(self, param, grad, momentum_buffer, step)

    def adam_update(self, param: Strided, grad: Strided, exp_avg: Strided,
                    exp_avg_sq: Strided, vmax: Strided | None, step: Any) -> None:  # fmt: skip
        fused_updates.adam_update(self, param, grad, exp_avg, exp_avg_sq, vmax, step)

    def lstm_cell(self, hc: Strided, saved: Strided, gates: Strided, c: Strided) -> None:
        """The rule written in map/zip calls (core/fused_cells.py)."""
        fused_cells.lstm_cell(self, hc, saved, gates, c)

    def lstm_cell_backward(self, d_gates: Strided, d_c: Strided, d_hc: Strided,
                           saved: Strided, c: Strided) -> None:  # fmt: skip
        fused_cells.lstm_cell_backward(self, d_gates, d_c, d_hc, saved, c)

    def lstm_sequence(self, states: Strided, saved: Strided, gi: Strided, w_t: Strided,
                      reverse: bool) -> None:  # fmt: skip
        """The steps written in matmul/zip/lstm_cell calls (core/fused_cells.py)."""
        fused_cells.lstm_sequence(self, states, saved, gi, w_t, reverse)

    def lstm_sequence_backward(self, d_gates: Strided, d_h0: Strided, d_c0: Strided,
                               d_hc: Strided, states: Strided, saved: Strided, w_hh: Strided,
                               reverse: bool) -> None:  # fmt: skip
        fused_cells.lstm_sequence_backward(self, d_gates, d_h0, d_c0, d_hc, states, saved,
                                           w_hh, reverse)  # fmt: skip

    def layer_norm(self, out: Strided, mean: Strided, rstd: Strided, x: Strided,
                   weight: Strided | None, bias: Strided | None, eps: float) -> None:  # fmt: skip
        """The rule written in reduce/map/zip calls (core/fused_norm.py)."""
        fused_norm.layer_norm(self, out, mean, rstd, x, weight, bias, eps)

    def layer_norm_backward(self, dx: Strided, dweight: Strided | None, dbias: Strided | None,
                            dy: Strided, x: Strided, mean: Strided, rstd: Strided,
                            weight: Strided | None) -> None:  # fmt: skip
        fused_norm.layer_norm_backward(self, dx, dweight, dbias, dy, x, mean, rstd, weight)

    def softmax_backward(self, dx: Strided, y: Strided, g: Strided, dim: int,
                         log: bool) -> None:  # fmt: skip
        """The rule written in map/zip/reduce calls (core/fused_loss.py)."""
        fused_loss.softmax_backward(self, dx, y, g, dim, log)

    def cross_entropy_backward(self, d_logits: Strided, logp: Strided, target: Strided,
                               scale: Strided) -> None:  # fmt: skip
        """The rule written in map/scatter_add/zip calls (core/fused_loss.py)."""
        fused_loss.cross_entropy_backward(self, d_logits, logp, target, scale)

    def max_pool(self, out: Strided, indices: Strided, x: Strided, kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[int, ...],
                 dilation: tuple[int, ...]) -> None:  # fmt: skip
        """The numpy reference on the host, for the dtypes a native `max_pool` declines (a
        backend without the primitive gets the core's composite of ops instead)."""
        from mytensor.core.primitives.numpy_pool import max_pool

        values, index = max_pool(self.to_host(x), kernel, stride, padding, dilation,
                                 out.shape[2:])  # fmt: skip
        self.copy(out, host_descriptor(self, values, out.dtype))
        self.copy(indices, host_descriptor(self, index, indices.dtype))

    def synchronize(self) -> None:
        """Synchronous backends have nothing to wait for."""

    def random(self, out: Strided, distribution: str, seed: int) -> None:
        """Host samples from a Philox stream: the same numbers on every backend."""
        generator = np.random.Generator(np.random.Philox(seed))
        dtype = out.dtype.numpy if out.dtype.kind == "float" else np.float64
        if distribution == "uniform":
            values = generator.random(out.shape, dtype=dtype)
        else:
            values = generator.standard_normal(out.shape, dtype=dtype)
        self.copy(out, host_descriptor(self, values, out.dtype))
