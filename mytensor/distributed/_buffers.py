"""Tensors as MPI buffers, and the reduction operators.

A tensor on a host backend (numpy_ref, numba_cpu: their buffers are numpy arrays) is
handed to MPI as a numpy view of its own memory, through the buffer protocol: no copy.
A strided (non-contiguous) view goes through a contiguous temporary that is written
back afterwards. The cuda backend hands MPI its device buffer when the MPI library is
CUDA-aware (`_group.cuda_aware`), and stages through host memory otherwise.
"""

from __future__ import annotations

import enum
from functools import cache
from typing import Any

import numpy as np

from mytensor.core.layout import contiguous_strides
from mytensor.core.tensor import Tensor

__all__ = ["ReduceOp", "Staged", "check_tensor", "mpi_op"]


class ReduceOp(enum.Enum):
    """How `all_reduce`, `reduce` and `reduce_scatter` combine the ranks' values
    (PyTorch's names).

    >>> from mytensor.distributed import ReduceOp
    >>> ReduceOp.SUM, ReduceOp.AVG
    (<ReduceOp.SUM: 'sum'>, <ReduceOp.AVG: 'avg'>)
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


def check_tensor(op: str, value: Any, name: str = "tensor") -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): {name} must be a mytensor Tensor, got {type(value).__name__}")
    return value


def describe(t: Tensor) -> str:
    return f"shape {t.shape}, dtype {t.dtype.name}, backend {t.backend}"


def _host_view(t: Tensor) -> np.ndarray | None:
    return t._host_view()


class Staged:
    """The buffer MPI reads or writes for tensor `t`: its own memory when possible.

    `array` is what MPI gets (C-contiguous, one element per tensor element); after the
    collective, `written()` copies a temporary back into the tensor (a no-op when MPI
    wrote the tensor's memory itself) and counts the in-place write.
    """

    __slots__ = ("array", "direct", "tensor", "view")

    def __init__(self, t: Tensor, *, read: bool = True) -> None:
        self.tensor = t
        buffer = t._storage.buffer
        if (
            type(buffer) is np.ndarray  # the common case, a whole fresh host buffer:
            and t._offset == 0  # MPI gets it as is (checked cheaply: this runs per call)
            and buffer.dtype is t.dtype.numpy
            and buffer.size == t.numel()
            and t._strides == contiguous_strides(t.shape)
        ):
            self.view = self.array = buffer
            self.direct = True
            return
        self.view = _host_view(t)
        if self.view is not None:
            self.direct = self.view.flags.c_contiguous
            if self.direct:
                self.array = self.view.reshape(-1)
            elif read:
                self.array = np.ascontiguousarray(self.view).reshape(-1)
            else:
                self.array = np.empty(t.numel(), t.dtype.numpy)
            return
        self.direct = _device_direct(t)
        if self.direct:
            from mytensor.core.registry import synchronize

            synchronize()  # the kernels that wrote it must be done before MPI reads it
            n = t.numel()
            self.array = t._storage.buffer[t._offset : t._offset + n]
        else:
            self.array = t.numpy().reshape(-1) if read else np.empty(t.numel(), t.dtype.numpy)

    def written(self) -> None:
        t = self.tensor
        if self.view is not None:
            if not self.direct:
                np.copyto(self.view, self.array.reshape(t.shape))
            t._storage.version += 1
        elif not self.direct:
            write_host(t, self.array)
        else:
            t._storage.version += 1

    def divide(self, n: int) -> None:
        """``array /= n`` (an average), wherever the array lives."""
        if isinstance(self.array, np.ndarray):
            np.true_divide(self.array, n, out=self.array)
        else:
            self.array /= n  # a device array (CUDA-aware MPI): its own operator


def write_host(t: Tensor, array: np.ndarray) -> None:
    """Copy host values into `t`, on whatever backend it lives (an in-place write)."""
    from mytensor.core.autograd import no_grad
    from mytensor.core.creation import tensor

    with no_grad():
        t.copy_(tensor(array.reshape(t.shape), dtype=t.dtype, backend=t.backend))


def _device_direct(t: Tensor) -> bool:
    from mytensor.core.layout import contiguous_strides
    from mytensor.distributed._group import cuda_aware

    buffer = t._storage.buffer
    return (
        hasattr(buffer, "__cuda_array_interface__")
        and t._strides == contiguous_strides(t.shape)
        and cuda_aware()
    )


# -- operators -----------------------------------------------------------------------------
_LOGICAL = {
    ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.BOR: "LOR",
    ReduceOp.PRODUCT: "LAND", ReduceOp.MIN: "LAND", ReduceOp.BAND: "LAND",
    ReduceOp.BXOR: "LXOR",
}  # fmt: skip
_ARITHMETIC = {
    ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD",
    ReduceOp.BAND: "BAND", ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR",
}  # fmt: skip


def mpi_op(op_name: str, op: Any, t: Tensor) -> Any:
    """The MPI operator for `op` on `t`'s dtype, or an error naming what works."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{op_name}(): op must be a ReduceOp (e.g. ReduceOp.SUM), got {op!r}")
    # keyed by identity (both are singletons): hashing an Enum member runs Python code,
    # and this runs per collective
    key = (id(op), id(t.dtype))
    found = _MPI_OPS.get(key)
    if found is None:
        found = _MPI_OPS[key] = _mpi_op(op_name, op, t.dtype)
    return found


_MPI_OPS: dict[tuple[int, int], Any] = {}


def _mpi_op(op_name: str, op: ReduceOp, dtype: Any) -> Any:
    # uncached: `mpi_op` keeps what this returns
    from mpi4py import MPI

    kind = dtype.kind
    refused = (
        (kind == "bool" and op is ReduceOp.AVG)
        or (kind in ("int", "uint") and op is ReduceOp.AVG)
        or (kind in ("float", "complex") and op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR))
        or (kind == "complex" and op in (ReduceOp.MIN, ReduceOp.MAX))
    )
    if refused:
        hint = "use SUM and divide" if op is ReduceOp.AVG else "choose another op or dtype"
        raise ValueError(
            f"{op_name}(): ReduceOp.{op.name} is not defined for dtype {dtype.name}; {hint}"
        )
    if kind == "bool":
        return getattr(MPI, _LOGICAL[op])
    if kind == "float" and op in (ReduceOp.MIN, ReduceOp.MAX):
        # MPI's MIN/MAX are C comparisons (a NaN is lost, the result may depend on the
        # rank order); this one propagates NaN and orders -0.0 below 0.0, as
        # mytensor.maximum/minimum do, whichever rank's value comes first
        return _nan_aware(op is ReduceOp.MAX, dtype.numpy.str)
    if op in (ReduceOp.MIN, ReduceOp.MAX):
        return getattr(MPI, op.name)
    return getattr(MPI, _ARITHMETIC[op])


@cache
def _nan_aware(largest: bool, dtype: str) -> Any:
    from mpi4py import MPI

    def combine(incoming: Any, inout: Any, datatype: Any) -> None:
        a = np.frombuffer(incoming, dtype)
        b = np.frombuffer(inout, dtype)
        wins = (a > b) if largest else (a < b)
        # on a tie of signed zeros take -0.0 for the minimum and 0.0 for the maximum
        tie = (a == b) & (np.signbit(b) if largest else ~np.signbit(b))
        np.copyto(b, a, where=wins | np.isnan(a) | tie)

    return MPI.Op.Create(combine, commute=True)
