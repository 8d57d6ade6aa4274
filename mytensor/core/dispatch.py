"""A loaded backend as the core calls it: required primitives bound directly,
optional ones either native or a composite built from the required ones."""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.backends.spec import (
    CONV_PRIMITIVES,
    MAP_OPS,
    OPTIONAL_PRIMITIVES,
    ZIP_OPS,
    Strided,
)
from mytensor.core import host_fallbacks
from mytensor.core.dtypes import _BY_NUMPY, STANDARD_DTYPES, DType, check_supported, to_dtype
from mytensor.core.layout import contiguous_strides, numel


def contiguous(backend: Any, shape: tuple[int, ...], dtype: DType) -> Strided:
    """A fresh C-contiguous descriptor on `backend`."""
    return Strided(
        backend.allocate(numel(shape), dtype), shape, contiguous_strides(shape), 0, dtype
    )


def host_descriptor(backend: Any, array: np.ndarray, dtype: DType) -> Strided:
    shape = tuple(np.shape(array))  # ascontiguousarray makes a 0-d array 1-d
    array = np.ascontiguousarray(array, dtype=dtype.numpy)
    return Strided(backend.from_host(array.reshape(-1)), shape, contiguous_strides(shape), 0, dtype)


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
        # optional elementwise op names it runs natively (the others: `elementwise` below)
        self.ops = frozenset(MAP_OPS + ZIP_OPS) | frozenset(getattr(backend, "ops", ()))
        if not self.dtypes.issuperset(STANDARD_DTYPES):
            # only a backend lacking dtypes pays for the check, once per allocation
            self.allocate = self._checked_allocate
            self.from_host = self._checked_from_host

    def __repr__(self) -> str:
        return f"<backend {self.name} ({self.device})>"

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
        kernel if it declares the name in ``ops``, else the numpy reference kernel on the
        host (exact; a device backend pays two transfers)."""
        if op in self.ops:
            (self.map if len(inputs) == 1 else self.zip)(op, out, *inputs)
            return
        from mytensor.core.primitives.numpy_kernels import MAP_KERNELS, ZIP_KERNELS

        kernel = (MAP_KERNELS if len(inputs) == 1 else ZIP_KERNELS)[op]
        result = np.empty(out.shape, out.dtype.numpy)
        with np.errstate(all="ignore"):
            kernel(*(self.to_host(x) for x in inputs), out=result)
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
