"""The numpy reference backend.

A buffer is a 1-d numpy array; a `Strided` descriptor becomes a numpy view of
it with the same shape and (byte-scaled) strides, and every kernel is one
vectorised numpy call: the core's numpy formulation of the ops
(`mytensor.core.primitives.numpy_kernels`), which the conformance suite checks
against the ops' specification (`mytensor.core.primitives.scalar`) like any other
backend's kernels. It favours the obviously-correct formulation over speed.
"""

from __future__ import annotations

import numpy as np

from mytensor.backends.numpy_ref import _conv
from mytensor.backends.spec import (
    MAP_OPS,
    OPTIONAL_MAP_OPS,
    OPTIONAL_ZIP_OPS,
    REDUCE_OPS,
    ZIP_OPS,
    Strided,
)
from mytensor.core.dtypes import STANDARD_DTYPES, DType
from mytensor.core.layout import contiguous_strides
from mytensor.core.primitives import numpy_kernels
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
    dtypes = frozenset(d.name for d in STANDARD_DTYPES)
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
        if out.size:
            MAP_KERNELS[op](as_array(a), out=as_array(out))

    @_quiet
    def zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            ZIP_KERNELS[op](as_array(a), as_array(b), out=as_array(out))

    def where(self, out: Strided, cond: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            np.copyto(as_array(out), np.where(as_array(cond), as_array(a), as_array(b)))

    @_quiet
    def reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None:
        if out.size:
            REDUCE_KERNELS[op](as_array(a), dims, as_array(out))

    # -- optional primitives ----------------------------------------------------------
    def matmul(self, out: Strided, a: Strided, b: Strided) -> None:
        if out.size:
            np.matmul(as_array(a), as_array(b), out=as_array(out))

    @_quiet
    def softmax(self, out: Strided, a: Strided, dim: int, log: bool) -> None:
        numpy_kernels.softmax(as_array(a), dim, log, as_array(out))

    def gather(self, out: Strided, a: Strided, index: Strided, dim: int) -> None:
        if out.size:
            np.copyto(as_array(out), np.take_along_axis(as_array(a), as_array(index), axis=dim))

    def scatter_add(self, out: Strided, index: Strided, src: Strided, dim: int) -> None:
        if src.size:
            idx = as_array(index)
            where = list(np.indices(idx.shape, sparse=True))
            where[dim] = idx
            np.add.at(as_array(out), tuple(where), as_array(src))

    # -- convolution, any number of spatial dims: one einsum per kernel tap and group ----
    def conv(self, out, x, weight, stride, padding, dilation, groups) -> None:
        _conv.conv(as_array(out), as_array(x), as_array(weight), stride, padding, dilation,
                   groups)  # fmt: skip

    def conv_grad_input(self, grad_x, grad_out, weight, stride, padding, dilation, groups):
        _conv.conv_grad_input(as_array(grad_x), as_array(grad_out), as_array(weight), stride,
                              padding, dilation, groups)  # fmt: skip

    def conv_grad_weight(self, grad_weight, x, grad_out, stride, padding, dilation, groups):
        _conv.conv_grad_weight(as_array(grad_weight), as_array(x), as_array(grad_out), stride,
                               padding, dilation, groups)  # fmt: skip
