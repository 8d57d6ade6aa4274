"""The numpy reference backend.

A buffer is a 1-d numpy array; a `Strided` descriptor becomes a numpy view of
it with the same shape and (byte-scaled) strides, and every kernel is one
vectorised numpy call: the core's numpy formulation of the ops
(`mytensor.core.primitives.numpy_kernels`), which the conformance suite checks
against the ops' specification (`mytensor.core.primitives.scalar`) like any other
backend's kernels. It favours the obviously-correct formulation over speed. float16
and bfloat16 compute in float32 and round once (`_half`), as PyTorch's CPU kernels do.
"""

from __future__ import annotations

import numpy as np

from mytensor.backends.numpy_ref import _conv, _half
from mytensor.backends.numpy_ref._half import HALF
from mytensor.backends.spec import (
    MAP_OPS,
    OPTIONAL_MAP_OPS,
    OPTIONAL_ZIP_OPS,
    REDUCE_OPS,
    ZIP_OPS,
    Strided,
)
from mytensor.core.dtypes import KNOWN_DTYPES, DType
from mytensor.core.layout import contiguous_strides
from mytensor.core.primitives import numpy_kernels, numpy_pool
from mytensor.core.primitives.numpy_kernels import MAP_KERNELS, REDUCE_KERNELS, ZIP_KERNELS


def as_array(desc: Strided) -> np.ndarray:
    """The numpy view a descriptor names (cached on the descriptor)."""
    view = desc.cache
    if view is None:
        itemsize = desc.dtype.itemsize
        buffer = desc.buffer
        if 0 in desc.shape:
            view = np.empty(desc.shape, desc.dtype.numpy)
        elif (
            desc.offset == 0
            and desc.strides == contiguous_strides(desc.shape)
            and buffer.size == desc.size
        ):
            view = buffer.reshape(desc.shape)  # a whole fresh buffer: the cheap path
        else:
            view = np.ndarray(
                desc.shape,
                desc.dtype.numpy,
                buffer=desc.buffer,
                offset=desc.offset * itemsize,
                strides=tuple(s * itemsize for s in desc.strides),
            )
        desc.cache = view
    return view


_quiet = np.errstate(all="ignore")


class NumpyBackend:
    """Buffers are 1-d numpy arrays; kernels are vectorised numpy calls."""

    name = "numpy_ref"
    device = "cpu"
    dtypes = frozenset(d.name for d in KNOWN_DTYPES)
    map_ops = frozenset(MAP_OPS + OPTIONAL_MAP_OPS)
    zip_ops = frozenset(ZIP_OPS + OPTIONAL_ZIP_OPS)
    reduce_ops = frozenset(REDUCE_OPS)
    host_buffers = True  # buffers are 1-d numpy arrays: DLPack imports can share memory

    # -- memory -------------------------------------------------------------------
    def allocate(self, size: int, dtype: DType) -> np.ndarray:
        return np.empty(size, dtype.numpy)

    def from_host(self, array: np.ndarray) -> np.ndarray:
        return np.array(array, copy=True, order="C").reshape(-1)

    def to_host(self, src: Strided) -> np.ndarray:
        return np.array(as_array(src), copy=True)

    # errstate as a decorator: the kernels are the spec for NaN/inf results, so numpy's
    # floating-point warnings are noise here (and the decorator form is the cheap one)
    @_quiet
    def copy(self, out: Strided, src: Strided) -> None:
        if out.size:
            np.copyto(as_array(out), as_array(src), casting="unsafe")

    # -- elementwise ----------------------------------------------------------------
    @_quiet
    def map(self, op: str, out: Strided, a: Strided) -> None:
        if not out.size:
            return
        if a.dtype in HALF or out.dtype in HALF:
            _half.elementwise(MAP_KERNELS[op], as_array(out), as_array(a))
        else:
            MAP_KERNELS[op](as_array(a), out=as_array(out))

    @_quiet
    def zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None:
        if not out.size:
            return
        if a.dtype in HALF or b.dtype in HALF or out.dtype in HALF:
            _half.elementwise(ZIP_KERNELS[op], as_array(out), as_array(a), as_array(b))
        else:
            ZIP_KERNELS[op](as_array(a), as_array(b), out=as_array(out))

    def where(self, out: Strided, cond: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            numpy_kernels.select(as_array(out), as_array(cond), as_array(a), as_array(b))

    @_quiet
    def reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None:
        if not out.size:
            return
        if a.dtype in HALF or out.dtype in HALF:  # accumulate in float32, round once
            scratch = _half.wide_out(as_array(out))
            REDUCE_KERNELS[op](_half.widen(as_array(a)), dims, scratch)
            _half.narrow(as_array(out), scratch)
        else:
            REDUCE_KERNELS[op](as_array(a), dims, as_array(out))

    # -- optional primitives ----------------------------------------------------------
    @_quiet  # inf * 0 in a product is NaN, without numpy's warning (as elsewhere)
    def matmul(self, out: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            _half.elementwise(np.matmul, as_array(out), as_array(a), as_array(b))

    @_quiet
    def softmax(self, out: Strided, a: Strided, dim: int, log: bool) -> None:
        scratch = _half.wide_out(as_array(out))
        numpy_kernels.softmax(_half.widen(as_array(a)), dim, log, scratch)
        _half.narrow(as_array(out), scratch)

    def max_pool(self, out: Strided, indices: Strided, x: Strided, kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[int, ...],
                 dilation: tuple[int, ...]) -> None:  # fmt: skip
        if out.size:
            values, index = numpy_pool.max_pool(as_array(x), kernel, stride, padding, dilation,
                                                out.shape[2:])  # fmt: skip
            np.copyto(as_array(out), values)
            np.copyto(as_array(indices), index)

    def gather(self, out: Strided, a: Strided, index: Strided, dim: int) -> None:
        if out.size:
            np.copyto(as_array(out), np.take_along_axis(as_array(a), as_array(index), axis=dim))

    def scatter_add(self, out: Strided, index: Strided, src: Strided, dim: int) -> None:
        if src.size:
            idx = as_array(index)
            where = list(np.indices(idx.shape, sparse=True))
            where[dim] = idx
            if out.dtype in HALF:
                _half.scatter_add(as_array(out), tuple(where), as_array(src))
            else:
                np.add.at(as_array(out), tuple(where), as_array(src))

    # -- convolution, any number of spatial dims: one einsum per kernel tap and group ----
    # (16-bit floats: the float32 convolution, rounded once, as PyTorch's CPU kernels)
    def conv(self, out, x, weight, stride, padding, dilation, groups) -> None:
        scratch = _half.wide_out(as_array(out))
        _conv.conv(scratch, _half.widen(as_array(x)), _half.widen(as_array(weight)), stride,
                   padding, dilation, groups)  # fmt: skip
        _half.narrow(as_array(out), scratch)

    def conv_grad_input(self, grad_x, grad_out, weight, stride, padding, dilation, groups):
        scratch = _half.wide_out(as_array(grad_x))
        _conv.conv_grad_input(scratch, _half.widen(as_array(grad_out)),
                              _half.widen(as_array(weight)), stride, padding, dilation,
                              groups)  # fmt: skip
        _half.narrow(as_array(grad_x), scratch)

    def conv_grad_weight(self, grad_weight, x, grad_out, stride, padding, dilation, groups):
        scratch = _half.wide_out(as_array(grad_weight))
        _conv.conv_grad_weight(scratch, _half.widen(as_array(x)),
                               _half.widen(as_array(grad_out)), stride, padding, dilation,
                               groups)  # fmt: skip
        _half.narrow(as_array(grad_weight), scratch)
