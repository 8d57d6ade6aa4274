"""PyTorch's Tensor methods for sizes, dtype and device conversion, in-place fills, and
the autograd helpers (`data`, `register_hook`, `detach_`), as a mixin of `Tensor`.

Written in the class body so that type checkers, IDEs and `help()` see them; each
imports the op module it needs when called (the op modules import `Tensor`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mytensor.core.device import Device
    from mytensor.core.dtypes import DType
    from mytensor.core.tensor import Storage, Tensor

__all__ = ["ConversionMethods", "Size", "SizeOrNumel"]


class Size(tuple):
    """A tensor's shape as `Tensor.size()` returns it: a tuple with PyTorch's `numel()`.

    >>> import mytensor as mt
    >>> s = mt.zeros(2, 3).size()
    >>> s, s == (2, 3), s.numel()
    (mytensor.Size([2, 3]), True, 6)
    """

    __slots__ = ()

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64)) if self else 1

    def __repr__(self) -> str:
        return f"mytensor.Size({list(self)})"


class SizeOrNumel(int):
    """`x.size`: the element count (the array API's `size` attribute), and callable as
    PyTorch's `x.size()` (the shape, a `Size`) or `x.size(dim)` (one dim's length).

    >>> import mytensor as mt
    >>> x = mt.zeros(2, 3)
    >>> x.size == 6, x.size(), x.size(-1)
    (True, mytensor.Size([2, 3]), 3)
    """

    _shape: tuple[int, ...]

    def __new__(cls, shape: tuple[int, ...]) -> SizeOrNumel:
        count = 1
        for n in shape:
            count *= n
        out = super().__new__(cls, count)
        out._shape = shape
        return out

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._shape)
        from mytensor.core.layout import normalize_dim

        if not self._shape:
            raise IndexError(
                f"size(): dim {dim} is out of range for a 0-d tensor, which has no dims; "
                "call size() without a dim"
            )
        return self._shape[normalize_dim("size", dim, len(self._shape))]

    def __repr__(self) -> str:
        return int.__repr__(self)


_PYTORCH_TYPES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
    "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
    "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
    "complex128": "ComplexDoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor",
}  # fmt: skip


class ConversionMethods:
    """Sizes, conversion, in-place fills and autograd helpers (see the module)."""

    __slots__ = ()
    if TYPE_CHECKING:
        dtype: DType
        shape: tuple[builtins.int, ...]
        requires_grad: builtins.bool
        grad: Tensor | None
        _storage: Storage
        _strides: tuple[builtins.int, ...]
        _offset: builtins.int
        _node: Any
        _desc: Any
        _leaf: Any

        @property
        def device(self) -> Device: ...
        def astype(self, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Tensor: ...
        def detach(self) -> Tensor: ...

    # -- sizes ---------------------------------------------------------------------------
    @property
    def size(self) -> SizeOrNumel:
        """The number of elements (an int, the array API's `size`), also callable as
        PyTorch's ``size()`` / ``size(dim)``."""
        return SizeOrNumel(self.shape)

    def nelement(self) -> builtins.int:
        """The number of elements (PyTorch's older name for `numel`)."""
        return builtins.int(SizeOrNumel(self.shape))

    def ndimension(self) -> builtins.int:
        return len(self.shape)

    def element_size(self) -> builtins.int:
        """Bytes per element."""
        return builtins.int(np.dtype(self.dtype.numpy).itemsize)

    # -- dtype and device ----------------------------------------------------------------
    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: builtins.bool = False,
           non_blocking: builtins.bool = False) -> Tensor:  # fmt: skip
        """This tensor on another device and/or with another dtype; itself when nothing
        changes (unless `copy`). PyTorch's forms: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``, ``to(other_tensor)``, and the ``dtype=``/``device=`` keywords;
        a device is a `mytensor.device`, "cpu", "cuda" or a backend name.

        >>> import mytensor as mt
        >>> x = mt.arange(3)
        >>> x.to(mt.float64).dtype, x.to("cpu", mt.float32).dtype, x.to(x) is x
        (mytensor.float64, mytensor.float32, True)
        """
        from mytensor.core.creation import to_backend
        from mytensor.core.device import Device, backend_name
        from mytensor.core.dtypes import to_dtype
        from mytensor.core.tensor import Tensor

        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif _names_dtype(arg):
                dtype = arg
            elif isinstance(arg, str | Device):
                device = arg
            else:
                raise TypeError(
                    f"to(): expected a dtype, a device (mytensor.device, 'cpu', 'cuda' or a "
                    f"backend name) or a tensor, got {type(arg).__name__} {arg!r}"
                )
        out: Tensor = self  # type: ignore[assignment]
        name = backend_name("to", device)
        if name is not None and name != out.backend:
            out = to_backend(out, name)
        if dtype is not None and to_dtype(dtype) is not out.dtype:
            out = out.astype(to_dtype(dtype))
        return out.clone() if copy and out is self else out

    @property
    def is_cuda(self) -> builtins.bool:
        """Whether this tensor is on the cuda backend."""
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> builtins.bool:
        """Whether this tensor is on a CPU backend."""
        return self.device.type == "cpu"

    def cpu(self) -> Tensor:
        """This tensor on the default CPU backend (itself if it is on a CPU backend)."""
        if self.device.type == "cpu":
            return self  # type: ignore[return-value]
        return self.to("cpu")

    def cuda(self, device: Any = None, non_blocking: builtins.bool = False) -> Tensor:
        """This tensor on the cuda backend."""
        return self.to("cuda" if device is None else device)

    def type(self, dtype: Any = None) -> Any:
        """PyTorch's type string (``"mytensor.FloatTensor"``) or, given a dtype, a
        conversion to it."""
        if dtype is None:
            return "mytensor." + _PYTORCH_TYPES.get(self.dtype.name, self.dtype.name)
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor converted to `other`'s dtype."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to("float32")

    def double(self) -> Tensor:
        return self.to("float64")

    def half(self) -> Tensor:
        """This tensor as float16 (``self.to(mytensor.float16)``).

        >>> import mytensor as mt
        >>> mt.tensor([1.0, 1e-8]).half().tolist()
        [1.0, 0.0]
        """
        return self.to("float16")

    def bfloat16(self) -> Tensor:
        """This tensor as bfloat16 (``self.to(mytensor.bfloat16)``).

        >>> import mytensor as mt
        >>> mt.tensor([1.0, 1.00390625]).bfloat16().tolist()
        [1.0, 1.0]
        """
        return self.to("bfloat16")

    def long(self) -> Tensor:
        return self.to("int64")

    def int(self) -> Tensor:
        return self.to("int32")

    def short(self) -> Tensor:
        return self.to("int16")

    def char(self) -> Tensor:
        return self.to("int8")

    def byte(self) -> Tensor:
        return self.to("uint8")

    def bool(self) -> Tensor:
        return self.to("bool")

    def is_floating_point(self) -> builtins.bool:
        return self.dtype.kind == "float"

    def is_complex(self) -> builtins.bool:
        return self.dtype.kind == "complex"

    # -- in-place writes -----------------------------------------------------------------
    def fill_(self, value: Any) -> Tensor:
        """Set every element to `value` (a number or a one-element tensor), in place."""
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "fill_", _filled, value)  # type: ignore[arg-type]

    def zero_(self) -> Tensor:
        """Set every element to zero, in place."""
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "zero_", _filled, 0)  # type: ignore[arg-type]

    def copy_(self, src: Tensor, non_blocking: builtins.bool = False) -> Tensor:
        """Copy `src` (broadcast to this shape, converted to this dtype and device) into
        this tensor; the gradient flows to `src`.

        >>> import mytensor as mt
        >>> mt.zeros(2, 2).copy_(mt.tensor([1.0, 2.0])).tolist()
        [[1.0, 2.0], [1.0, 2.0]]
        """
        from mytensor.core.ops.methods import run_inplace
        from mytensor.core.tensor import Tensor

        if not isinstance(src, Tensor):
            raise TypeError(
                f"copy_(): src must be a Tensor, got {type(src).__name__}; use fill_() for a number"
            )
        if src._storage is self._storage:
            src = src.clone()  # the source may overlap the target
        return run_inplace(self, "copy_", _copied, src)  # type: ignore[arg-type]

    def apply_(self, fn: Callable[[Any], Any]) -> Tensor:
        """Replace each element x by ``fn(x)`` (a Python function, called per element, on
        the host: slow, and not differentiable), in place.

        >>> import mytensor as mt
        >>> mt.tensor([1, 2, 3]).apply_(lambda v: v * 10).tolist()
        [10, 20, 30]
        """
        from mytensor.core.creation import asarray
        from mytensor.core.ops.methods import run_inplace

        values = self.detach().numpy()
        if values.size:
            values = np.vectorize(fn, otypes=[values.dtype])(values)
        result = asarray(values, dtype=self.dtype, device=self.device)
        return run_inplace(self, "apply_", lambda _: result)  # type: ignore[arg-type]

    # -- autograd ------------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The values without the graph: a tensor sharing this one's memory whose in-place
        writes autograd does not see (PyTorch's `.data`; prefer `detach()`, which reports
        writes that would corrupt a gradient). Assigning ``x.data = y`` makes x hold y's
        values, shape and dtype, keeping x's place in the graph and its `requires_grad`."""
        from mytensor.core.tensor import Storage, Tensor

        storage = Storage(self._storage.backend, self._storage.buffer)
        return Tensor._make(storage, self.shape, self._strides, self._offset, self.dtype)

    @data.setter
    def data(self, value: Tensor) -> None:
        from mytensor.core.tensor import Tensor

        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        self._storage, self.shape, self._strides = value._storage, value.shape, value._strides
        self._offset, self.dtype, self._desc = value._offset, value.dtype, None

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place: it becomes a leaf that does not
        require grad."""
        self._node = None
        self.requires_grad = False
        return self  # type: ignore[return-value]

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> HookHandle:
        """Call ``hook(grad)`` whenever the gradient with respect to this tensor is
        computed; a returned tensor replaces the gradient. Returns a handle whose
        `remove()` unregisters the hook.

        >>> import mytensor as mt
        >>> x = mt.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> (x * x).sum().backward()
        >>> x.grad.tolist()
        [20.0, 40.0]
        """
        from mytensor.core.autograd import edge_of

        if not self.requires_grad:
            raise RuntimeError(
                "register_hook(): cannot register a hook on a tensor that does not require "
                "grad; call .requires_grad_() on it (or on what it is computed from) first"
            )
        if not callable(hook):
            raise TypeError(f"register_hook(): hook must be callable, got {hook!r}")
        edge = edge_of(self)  # type: ignore[arg-type]
        if edge.hooks is None:
            edge.hooks = []
        edge.hooks.append(hook)
        return HookHandle(edge.hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> HookHandle:
        """Call ``hook(tensor)`` after `backward` has accumulated this leaf's gradient
        into ``tensor.grad`` (not in `autograd.grad`, which touches no `.grad`). Returns
        a handle whose `remove()` unregisters the hook.

        >>> import mytensor as mt
        >>> w = mt.tensor([1.0, 2.0], requires_grad=True)
        >>> seen = []
        >>> handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        >>> (w * 3).sum().backward()
        >>> seen
        [[3.0, 3.0]]
        """
        from mytensor.core.autograd import edge_of

        if not self.requires_grad or self._node is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook(): post accumulate grad hooks can only "
                "be registered on leaf tensors that require grad (this one "
                + ("is computed by an op" if self._node is not None else "does not require grad")
                + "); register it on the leaf (e.g. a Parameter)"
            )
        if not callable(hook):
            raise TypeError(
                f"register_post_accumulate_grad_hook(): hook must be callable, got {hook!r}"
            )
        leaf = edge_of(self)  # type: ignore[arg-type]
        if leaf.post_hooks is None:
            leaf.post_hooks = []
        leaf.post_hooks.append(hook)
        return HookHandle(leaf.post_hooks, hook)


class HookHandle:
    """What `Tensor.register_hook` returns: `remove()` unregisters the hook."""

    __slots__ = ("_hook", "_hooks")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _names_dtype(value: Any) -> bool:
    from mytensor.core.dtypes import _BY_NAME, DType

    if isinstance(value, DType) or (isinstance(value, type) and value in (float, int, bool)):
        return True
    if isinstance(value, str):
        return value in _BY_NAME
    return isinstance(value, np.dtype) or (
        isinstance(value, type) and issubclass(value, np.generic)
    )


def _filled(x: Tensor, value: Any) -> Tensor:
    from mytensor.core.creation import full
    from mytensor.core.tensor import Tensor

    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"fill_(): the value must be a number or a one-element tensor, got a tensor "
                f"of shape {value.shape}"
            )
        return value.reshape(()).astype(x.dtype).broadcast_to(x.shape)
    return full(x.shape, value, dtype=x.dtype, device=x.device)


def _copied(x: Tensor, src: Tensor) -> Tensor:
    from mytensor.core.layout import broadcast_shapes

    if src.backend != x.backend:
        src = src.to(x.backend)
    if src.dtype is not x.dtype:
        src = src.astype(x.dtype)
    try:
        fits = broadcast_shapes("copy_", src.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"copy_(): the source of shape {src.shape} cannot be broadcast to the target's "
            f"shape {x.shape}"
        )
    return src.broadcast_to(x.shape)
