"""The Tensor: a backend buffer plus a layout (shape, strides, offset), and a graph edge.

Everything a Tensor method computes is an op from `mytensor.core.ops`; this
file holds the data structure, the Python protocols, and the short methods
that forward to those ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core import autograd
from mytensor.core._methods_binary import BinaryMethods
from mytensor.core._methods_convert import ConversionMethods
from mytensor.core._methods_core import CoreMethods
from mytensor.core._methods_extra import ExtraMethods
from mytensor.core._methods_indexing import IndexingMethods
from mytensor.core._methods_math import MathMethods
from mytensor.core._methods_shape import ShapeMethods
from mytensor.core._methods_unary import UnaryMethods
from mytensor.core.dtypes import DType
from mytensor.core.layout import contiguous_strides, is_contiguous, numel


class Storage:
    """A buffer on one backend, shared by every view of it.

    `version` counts in-place writes, so autograd can tell when a value it saved
    for backward has since been overwritten.
    """

    __slots__ = ("backend", "buffer", "version")

    def __init__(self, backend: Any, buffer: Any) -> None:
        self.backend = backend
        self.buffer = buffer
        self.version = 0


class Tensor(
    ConversionMethods,
    CoreMethods,
    UnaryMethods,
    BinaryMethods,
    IndexingMethods,
    ShapeMethods,
    MathMethods,
    ExtraMethods,
):
    """An n-dimensional array on a backend, with reverse-mode autograd.

    Create tensors with `mytensor.tensor`, `mytensor.zeros`, ... rather than
    this class.

    >>> import mytensor as mt
    >>> x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [[2.0, 4.0], [6.0, 8.0]]
    """

    __slots__ = (
        "__weakref__",
        "_base",
        "_desc",
        "_leaf",
        "_node",
        "_offset",
        "_storage",
        "_strides",
        "dtype",
        "grad",
        "requires_grad",
        "shape",
    )
    __array_priority__ = 1000  # numpy defers binary operators to Tensor

    @classmethod
    def _make(
        cls,
        storage: Storage,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        offset: int,
        dtype: DType,
    ) -> Tensor:
        t = object.__new__(cls)
        t._storage = storage
        t.shape = shape
        t._strides = strides
        t._offset = offset
        t.dtype = dtype
        t.requires_grad = False
        t.grad = None
        t._node = None
        t._leaf = None
        t._desc = None
        t._base = None  # the tensor this is a view of, if it was made by a view op
        return t

    @classmethod
    def _empty(cls, backend: Any, shape: tuple[int, ...], dtype: DType) -> Tensor:
        # every op's output comes from here: `_make` and `numel` written out, and the
        # descriptor made at once (the op hands it to a kernel next)
        size = 1
        for n in shape:
            size *= n
        buffer = backend.allocate(size, dtype)
        strides = contiguous_strides(shape)
        t = object.__new__(cls)
        t._storage = Storage(backend, buffer)
        t.shape = shape
        t._strides = strides
        t._offset = 0
        t.dtype = dtype
        t.requires_grad = False
        t.grad = None
        t._node = None
        t._leaf = None
        t._desc = Strided(buffer, shape, strides, 0, dtype)
        t._base = None
        return t

    def _view(self, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> Tensor:
        return Tensor._make(self._storage, shape, strides, offset, self.dtype)

    @property
    def _d(self) -> Strided:
        """This tensor's kernel descriptor (created once)."""
        d = self._desc
        if d is None:
            s = self._storage
            d = self._desc = Strided(s.buffer, self.shape, self._strides, self._offset, self.dtype)
        return d

    @property
    def _backend(self) -> Any:
        return self._storage.backend

    def _full_like(self, value: float) -> Tensor:
        from mytensor.core import creation

        return creation.full(self.shape, value, dtype=self.dtype, backend=self.backend)

    # -- layout ------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    def numel(self) -> int:
        return numel(self.shape)

    def dim(self) -> int:
        return len(self.shape)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        from mytensor.core.layout import normalize_dim

        if dim is None:
            return self._strides
        return self._strides[normalize_dim("stride", dim, self.ndim)]

    def storage_offset(self) -> int:
        return self._offset

    def is_contiguous(self) -> bool:
        return is_contiguous(self.shape, self._strides)

    @property
    def backend(self) -> str:
        """The name of the backend holding this tensor's buffer."""
        return self._storage.backend.name

    @property
    def device(self) -> Any:
        """The array API device: a `mytensor.Device` naming this tensor's backend (usable
        in ``device=`` arguments and `to_device`)."""
        from mytensor.core.device import Device

        return Device(self._storage.backend.name)

    def to_device(self, device: Any, /, *, stream: Any = None) -> Tensor:
        """This tensor on `device` (a Device or backend name); itself if already there.

        >>> import mytensor as mt
        >>> x = mt.ones(2)
        >>> x.to_device(x.device) is x
        True
        """
        from mytensor.core.creation import to_backend
        from mytensor.core.device import backend_name

        if stream is not None:
            raise ValueError("to_device(): mytensor backends take no stream argument")
        return to_backend(self, backend_name("to_device", device))

    def __array_namespace__(self, /, *, api_version: str | None = None) -> Any:
        """The `mytensor` module: the array API namespace of this tensor."""
        import mytensor

        if api_version is not None and api_version not in _API_VERSIONS:
            raise ValueError(
                f"__array_namespace__(): api_version {api_version!r} is not supported; "
                f"mytensor implements {', '.join(_API_VERSIONS)} (pass None for the latest)"
            )
        return mytensor

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> autograd.Node | None:
        return self._node

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        if self.ndim < 2:
            raise ValueError(f"mT: needs a tensor of rank >= 2, got shape {self.shape}")
        return self.transpose(-2, -1)

    # -- autograd ----------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not self.dtype.is_floating_point:
            raise TypeError(
                f"requires_grad_(): only floating-point tensors can require grad, this one is "
                f"{self.dtype.name}; convert it first with .astype(mytensor.float32)"
            )
        if not requires_grad and self._node is not None:
            raise RuntimeError(
                "requires_grad_(False): this tensor is computed by the graph; use .detach()"
            )
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """A view of the same data that is cut from the graph."""
        return Tensor._make(self._storage, self.shape, self._strides, self._offset, self.dtype)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` during backward."""
        if self._node is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad(): this tensor does not require grad")
            return
        self._node.retained = self

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad`.

        `gradient` is required unless self has one element. The graph is freed
        afterwards unless `retain_graph` (or `create_graph`) is set.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    # -- conversion --------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A numpy copy of the values (always a copy, whatever the backend)."""
        return self._backend.to_host(self._d)

    def _host_view(self) -> np.ndarray | None:
        """A numpy view of this tensor's memory when its buffer is a host numpy array."""
        from mytensor._dlpack import host_view

        return host_view(self)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """numpy's conversion protocol: a copy, or with ``copy=False`` a view of the
        buffer (host backends only; ValueError elsewhere)."""
        if copy is False:
            array = self._host_view()
            if array is None or (dtype is not None and np.dtype(dtype) != array.dtype):
                raise ValueError(
                    f"__array__(copy=False): backend {self.backend!r} cannot share this "
                    f"tensor's memory as a {dtype or self.dtype.name} numpy array; allow a copy"
                )
            return array
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> Any:
        """Export as a DLPack capsule: zero-copy for host buffers (see `mytensor.from_dlpack`)."""
        from mytensor._dlpack import export

        return export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU: host buffers, or the host copy that __dlpack__ exports

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def item(self) -> bool | int | float | complex:
        if self.numel() != 1:
            raise ValueError(
                f"item(): only a tensor with one element can be converted to a Python "
                f"scalar, this one has shape {self.shape}"
            )
        return self.numpy().reshape(()).item()

    def _scalar(self, op: str, refuse: tuple[str, ...], fix: str) -> Any:
        if self.dtype.kind in refuse:
            raise TypeError(f"{op}(): cannot convert a {self.dtype.name} tensor; {fix}")
        return self.item()

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self._scalar("__float__", ("complex",), "take mytensor.real or abs first"))

    def __int__(self) -> int:
        return int(self._scalar("__int__", ("complex",), "take mytensor.real first"))

    def __complex__(self) -> complex:
        return complex(self._scalar("__complex__", (), "index one element first"))

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats its value (so ``f"{loss:.3f}"`` works); other tensors take
        only the empty spec, which gives ``str(tensor)``, as in PyTorch.

        >>> import mytensor as mt
        >>> f"{mt.asarray(1.5):.3f}", f"{mt.tensor([1, 2])}"
        ('1.500', 'tensor([1, 2])')
        """
        if self.ndim == 0:
            return format(self.item(), format_spec)
        if format_spec:
            raise TypeError(
                f"unsupported format string {format_spec!r} passed to Tensor.__format__: only "
                f"a 0-d tensor takes one (this one has shape {self.shape}); format .item() "
                "or .tolist() instead"
            )
        return str(self)

    def __index__(self) -> int:
        if not self.dtype.is_integral:
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype.name}")
        return int(self._scalar("__index__", (), "index one element first"))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    __hash__ = object.__hash__

    def __reduce__(self) -> tuple:
        # values, dtype, backend name and requires_grad travel; the graph and .grad do not
        # (so datasets holding tensors can go to DataLoader worker processes)
        return (_rebuild, (self.numpy(), self.dtype.name, self.backend, self.requires_grad))

    def __repr__(self) -> str:
        values = self.numpy()
        if values.dtype.kind == "V":  # bfloat16 (ml_dtypes): numpy formats it as float32
            values = values.astype(np.float32)
        with np.printoptions(precision=4, threshold=200, edgeitems=3):
            body = np.array2string(values, separator=", ", prefix="tensor(")
        extras = []
        if self.dtype.name not in ("float32", "int64", "bool"):
            extras.append(f"dtype={self.dtype.name}")
        if self.backend != "numpy_ref":
            extras.append(f"backend={self.backend!r}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"


_API_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12")


def _rebuild(array: np.ndarray, dtype: str, backend: str, requires_grad: bool) -> Tensor:
    """Unpickle a tensor (see `Tensor.__reduce__`)."""
    from mytensor.core import creation

    return creation.tensor(array, dtype, backend=backend, requires_grad=requires_grad)
