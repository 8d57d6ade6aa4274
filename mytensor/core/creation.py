"""Creating tensors: from data, filled, ranges, and random (seeded by `manual_seed`)."""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core import autograd, batching
from mytensor.core.device import backend_name
from mytensor.core.dtypes import (
    DEFAULT_INT,
    KNOWN_DTYPES,
    DType,
    bool_,
    check_supported,
    default_complex,
    default_float,
    float64,
    promote_types,
    scalar_kind,
    to_dtype,
)
from mytensor.core.generator import Generator, check_generator, default_generator, next_seed
from mytensor.core.layout import is_integer
from mytensor.core.registry import get_backend
from mytensor.core.tensor import Storage, Tensor

Shape = int | Sequence[int]


def _shape(op: str, shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        shape = tuple(shape[0])
    try:
        out = tuple(operator.index(s) for s in shape)  # ints, numpy ints; never 2.5
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): shape must be a sequence of ints, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"{op}(): negative dimension in shape {out}")
    return out


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def _from_numpy(array: np.ndarray, dtype: DType, backend: Any) -> Tensor:
    array = np.asarray(array, dtype=dtype.numpy, order="C")  # ascontiguousarray makes 0-d 1-d
    storage = Storage(backend, backend.from_host(array.reshape(-1)))
    from mytensor.core.layout import contiguous_strides

    return Tensor._make(storage, array.shape, contiguous_strides(array.shape), 0, dtype)


# a numpy array (or DLPack producer) keeps its dtype when mytensor has it (the standard's
# 13, float16, ml_dtypes' bfloat16); other widths take the default of their kind
_KEPT = tuple(d.numpy for d in KNOWN_DTYPES)


def _infer_dtype(op: str, array: np.ndarray, source: Any) -> DType:
    """numpy arrays (and DLPack producers) keep the dtypes in `_KEPT`; Python data
    takes the defaults: bool, int64, float32, complex64."""
    kind = array.dtype.kind
    if kind == "b":
        return bool_
    typed = isinstance(source, np.ndarray | np.generic) or hasattr(source, "__dlpack__")
    if typed and array.dtype in _KEPT:
        return to_dtype(array.dtype)
    defaults = {"i": DEFAULT_INT, "u": DEFAULT_INT, "f": default_float(), "c": default_complex()}
    if kind in defaults:
        return defaults[kind]
    raise TypeError(
        f"{op}(): cannot make a tensor from data of numpy dtype {array.dtype} "
        "(mytensor supports the array API's bool, integer, float and complex dtypes)"
    )


def _nested_tensor_dtype(data: list | tuple) -> DType | None:
    """The dtype of nested lists holding tensors (0-d, typically): as in PyTorch, the
    tensors' dtypes promoted with the defaults of the Python scalars beside them; None
    when there is no tensor in `data`."""
    leaves = _leaves(data)
    if not any(isinstance(leaf, Tensor) for leaf in leaves):
        return None
    defaults = {"bool": bool_, "int": DEFAULT_INT, "float": default_float(),
                "complex": default_complex()}  # fmt: skip
    out: DType | None = None
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            dtype = leaf.dtype
        elif isinstance(leaf, np.ndarray | np.generic):
            dtype = to_dtype(leaf.dtype)
        else:
            dtype = defaults[scalar_kind(leaf)]
        out = dtype if out is None else promote_types(out, dtype)
    return out


def _leaves(data: list | tuple) -> list[Any]:
    """The non-sequence items of nested lists; empty unless one of them is a tensor (the
    type scan runs in C, so plain lists of numbers stay cheap)."""
    sequences, pending, found = [], [data], False
    while pending:
        sequence = pending.pop()
        sequences.append(sequence)
        types = set(map(type, sequence))
        found = found or any(issubclass(t, Tensor) for t in types)
        if list in types or tuple in types:
            pending.extend(item for item in sequence if isinstance(item, list | tuple))
    if not found:
        return []
    return [item for seq in sequences for item in seq if not isinstance(item, list | tuple)]


def _backend(op: str, device: Any, backend: str | None) -> str | None:
    """The backend named by the standard's `device=` or mytensor's `backend=`."""
    name = backend_name(op, device)
    if backend is not None and name is not None and backend != name:
        raise ValueError(f"{op}(): device={device!r} and backend={backend!r} disagree")
    return backend if name is None else name


def asarray(
    obj: Any,
    /,
    *,
    dtype: Any = None,
    device: Any = None,
    copy: bool | None = None,
    backend: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor from a Tensor, nested lists, a scalar, a numpy array, or anything with
    `__dlpack__` / `__array__`. Python floats become float32, ints int64; a numpy
    array keeps its dtype. An existing tensor is returned as is when nothing changes
    (``copy=True`` always copies; ``copy=False`` never does, and fails if it must).

    >>> import mytensor as mt
    >>> mt.asarray([[1, 2], [3, 4]]).dtype
    mytensor.int64
    """
    backend = _backend("asarray", device, backend)
    return _convert("asarray", obj, dtype, backend, copy, requires_grad)


def _convert(op: str, obj: Any, dtype: Any, backend: str | None, copy: bool | None,
             requires_grad: bool) -> Tensor:  # fmt: skip
    target = to_dtype(dtype) if dtype is not None else None
    if isinstance(obj, Tensor):
        out = obj
        if backend is not None and backend != obj.backend:
            out = to_backend(out, backend)
        if target is not None and target is not out.dtype:
            out = out.astype(target)
        if copy is False and out is not obj:
            raise ValueError(
                f"{op}(): copy=False, but converting this {obj.dtype.name} tensor on "
                f"{obj.backend!r} to the requested dtype/device needs a copy"
            )
        if copy and out is obj:
            out = obj.clone()
        return _finish(out.detach() if out is obj and requires_grad else out, requires_grad)
    if copy is False:
        raise ValueError(
            f"{op}(): copy=False, but a {type(obj).__name__} must be copied into a "
            "backend buffer; pass copy=None"
        )
    if isinstance(obj, np.ndarray):
        array = obj
    elif hasattr(obj, "__dlpack__") and not isinstance(obj, list | tuple):
        array = np.from_dlpack(obj)
    else:
        try:
            # with the dtype known, numpy converts Python ints exactly (no float detour for
            # uint64 values above 2**63 mixed with small ones)
            array = np.asarray(obj) if target is None else np.asarray(obj, dtype=target.numpy)
        except OverflowError as exc:
            raise OverflowError(f"{op}(): a value does not fit {target.name}: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{op}(): cannot make a tensor from this data: {exc}") from None
        if array.dtype == object:
            raise TypeError(
                f"{op}(): cannot make a tensor from {type(obj).__name__} data "
                "(ragged nested lists, or elements that are not numbers)"
            )
    dtype = target if target is not None else _infer_dtype(op, array, obj)
    if target is None and isinstance(obj, list | tuple):
        dtype = _nested_tensor_dtype(obj) or dtype
    return _finish(_from_numpy(array, dtype, get_backend(backend)), requires_grad)


def tensor(
    data: Any,
    dtype: Any = None,
    *,
    device: Any = None,
    requires_grad: bool = False,
    backend: str | None = None,
) -> Tensor:
    """A new tensor holding a copy of `data` (see `asarray` for what data can be) on
    `device` (a `mytensor.device`, "cpu", "cuda" or a backend name).

    >>> import mytensor as mt
    >>> mt.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    return _convert("tensor", data, dtype, _backend("tensor", device, backend), True,
                    requires_grad)  # fmt: skip


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, sharing memory where it can: a tensor comes back as is (or
    converted), a numpy array on a host backend is used without a copy (see
    `from_numpy`), other data is copied.

    >>> import numpy as np, mytensor as mt
    >>> a = np.zeros(2)
    >>> t = mt.as_tensor(a)
    >>> a[0] = 5.0
    >>> t.tolist()
    [5.0, 0.0]
    """
    backend = _backend("as_tensor", device, None)
    if isinstance(data, np.ndarray) and (dtype is None or to_dtype(dtype).numpy == data.dtype):
        from mytensor._dlpack import from_dlpack

        with contextlib.suppress(BufferError, TypeError):
            return from_dlpack(data, device=backend)
    return _convert("as_tensor", data, dtype, backend, None, False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that uses `array`'s memory (writes show on both sides) on the current
    backend when it keeps host buffers (numpy_ref, numba_cpu); elsewhere a copy.

    >>> import numpy as np, mytensor as mt
    >>> a = np.arange(3)
    >>> t = mt.from_numpy(a)
    >>> t[0] = 9
    >>> a.tolist()
    [9, 1, 2]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"from_numpy(): expected a numpy.ndarray, got {type(array).__name__}; use "
            "mytensor.tensor or mytensor.as_tensor for other data"
        )
    from mytensor._dlpack import from_dlpack

    if array.dtype.kind == "V" and array.dtype in _KEPT:  # bfloat16: DLPack has no code
        return asarray(array, copy=True)
    try:
        return from_dlpack(array)
    except BufferError:
        return from_dlpack(array, copy=True)


def numel(x: Tensor) -> int:
    """The number of elements of `x` (PyTorch's `torch.numel`).

    >>> import mytensor as mt
    >>> mt.numel(mt.zeros(2, 3))
    6
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"numel(): expected a Tensor, got {type(x).__name__}")
    return x.numel()


def is_tensor(obj: Any) -> bool:
    """Whether `obj` is a mytensor Tensor.

    >>> import mytensor as mt
    >>> mt.is_tensor(mt.ones(1)), mt.is_tensor([1.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def full(
    shape: Shape,
    fill_value: bool | int | float | complex,
    *,
    dtype: Any = None,
    device: Any = None,
    backend: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of `shape` filled with `fill_value` (dtype inferred from the value).

    >>> import mytensor as mt
    >>> mt.full((2,), 7).tolist()
    [7, 7]
    """
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    shape = _shape("full", (shape,) if isinstance(shape, int) else tuple(shape))
    if dtype is None:
        dtype = _infer_dtype("full", np.asarray(fill_value), None)
    impl = get_backend(_backend("full", device, backend))
    return _finish(_filled_tensor("full", impl, shape, fill_value, to_dtype(dtype)), requires_grad)


def _filled_tensor(op: str, impl: Any, shape: tuple[int, ...], fill_value: Any,
                   dtype: DType) -> Tensor:  # fmt: skip
    out = _allocate(op, impl, shape, dtype)
    with np.errstate(all="ignore"):
        value = impl.from_host(np.array([fill_value]).astype(dtype.numpy))
    impl.copy(out._d, Strided(value, shape, (0,) * len(shape), 0, dtype))  # broadcast fill
    return out


def _allocate(op: str, impl: Any, shape: tuple[int, ...], dtype: DType) -> Tensor:
    """A new tensor's buffer; a backend that cannot allocate it gets an error naming the op,
    the shape, the bytes and the backend rather than its own terse one."""
    try:
        return Tensor._empty(impl, shape, dtype)
    except (MemoryError, ValueError, OverflowError) as exc:
        nbytes = math.prod(shape) * np.dtype(dtype.numpy).itemsize
        raise MemoryError(
            f"{op}(): cannot allocate a {dtype.name} tensor of shape {shape}: it needs "
            f"{nbytes:,} bytes ({nbytes / 2**30:,.1f} GiB) on backend {impl.name!r} "
            f"({type(exc).__name__}: {exc}); ask for a smaller shape or a smaller dtype"
        ) from None


def _filled(name: str, value: int, doc: str) -> Callable[..., Tensor]:
    """zeros / ones: `full` of a constant, PyTorch's ``zeros(2, 3)`` accepted too."""

    def make(shape: Shape, *more: int, dtype: Any = None, device: Any = None,
             backend: str | None = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
        size = _shape(name, (shape, *more))
        impl = get_backend(_backend(name, device, backend))
        out = _filled_tensor(name, impl, size, value, to_dtype(dtype or default_float()))
        return _finish(out, requires_grad)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = doc
    return make


zeros = _filled(
    "zeros",
    0,
    """A tensor of zeros (float32 unless `dtype` says otherwise); the
shape is a tuple or, PyTorch-style, the sizes themselves.

>>> import mytensor as mt
>>> mt.zeros((2, 3)).shape, mt.zeros(2, 3).shape
((2, 3), (2, 3))
""",
)
ones = _filled(
    "ones",
    1,
    """A tensor of ones (float32 unless `dtype` says otherwise).

>>> import mytensor as mt
>>> mt.ones(2).tolist()
[1.0, 1.0]
""",
)


def empty(shape: Shape, *more: int, dtype: Any = None, device: Any = None,
          backend: str | None = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """An uninitialised tensor (its values are whatever the buffer held).

    >>> import mytensor as mt
    >>> mt.empty((2, 2)).shape
    (2, 2)
    """
    dtype = to_dtype(dtype) if dtype is not None else default_float()
    impl = get_backend(_backend("empty", device, backend))
    return _finish(_allocate("empty", impl, _shape("empty", (shape, *more)), dtype), requires_grad)


def _like(name: str, maker: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def like(x: Tensor, /, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
        return maker(x.shape, dtype=dtype or x.dtype, device=device or x.backend,
                     requires_grad=requires_grad)  # fmt: skip

    like.__name__ = like.__qualname__ = name
    like.__doc__ = (
        f"`{name[:-5]}` with the shape, dtype and backend of `x`.\n\n"
        f">>> import mytensor as mt\n>>> mt.{name}(mt.ones(2, 3)).shape\n(2, 3)\n"
    )
    return like


zeros_like = _like("zeros_like", zeros)
ones_like = _like("ones_like", ones)
empty_like = _like("empty_like", empty)


def full_like(x: Tensor, /, fill_value: bool | int | float | complex, *, dtype: Any = None,
              device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """`full` with the shape, dtype and backend of `x`.

    >>> import mytensor as mt
    >>> mt.full_like(mt.ones(2), 3.0).tolist()
    [3.0, 3.0]
    """
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device or x.backend,
                requires_grad=requires_grad)  # fmt: skip


def arange(start: float, /, stop: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, backend: str | None = None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Evenly spaced values in [start, stop); int64 when all arguments are ints.

    >>> import mytensor as mt
    >>> mt.arange(1, 7, 2).tolist()
    [1, 3, 5]
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange(): step must be non-zero")
    ints = all(is_integer(v) for v in (start, stop, step))  # numpy integers too
    dtype = to_dtype(dtype) if dtype is not None else (DEFAULT_INT if ints else default_float())
    if ints:
        start, stop, step = (operator.index(v) for v in (start, stop, step))
        values = np.arange(start, stop, step, dtype=np.int64)
    else:  # start + i * step, as the standard defines the values
        count = max(0, math.ceil((stop - start) / step))
        values = start + np.arange(count, dtype=np.float64) * step
    impl = get_backend(_backend("arange", device, backend))
    return _finish(_from_numpy(values, dtype, impl), requires_grad)


def linspace(start: float, stop: float, /, num: int | None = None, *, dtype: Any = None,
             device: Any = None, endpoint: bool = True, backend: str | None = None,
             requires_grad: bool = False, steps: int | None = None) -> Tensor:  # fmt: skip
    """`num` evenly spaced values from start to stop (inclusive unless ``endpoint=False``);
    PyTorch's name for `num`, ``steps=``, works too.

    >>> import mytensor as mt
    >>> mt.linspace(0, 1, 5).tolist(), mt.linspace(0, 1, steps=3).tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.5, 1.0])
    """
    if (num is None) == (steps is None):
        raise TypeError(
            "linspace(): pass the number of values once, as num (the array API's name) or "
            "steps (PyTorch's)"
        )
    num = num if steps is None else steps
    if num < 0:
        raise ValueError(f"linspace(): num must be non-negative, got {num}")
    values = np.linspace(start, stop, num, endpoint=endpoint)
    complex_input = isinstance(start, complex) or isinstance(stop, complex)
    default = default_complex() if complex_input else default_float()
    dtype = to_dtype(dtype) if dtype is not None else default
    impl = get_backend(_backend("linspace", device, backend))
    return _finish(_from_numpy(values, dtype, impl), requires_grad)


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None,
        device: Any = None, backend: str | None = None,
        requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A 2-d tensor with ones on diagonal `k` and zeros elsewhere.

    >>> import mytensor as mt
    >>> mt.eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    dtype = to_dtype(dtype) if dtype is not None else default_float()
    values = np.eye(n_rows, n_cols, k)
    impl = get_backend(_backend("eye", device, backend))
    return _finish(_from_numpy(values, dtype, impl), requires_grad)


# -- random -----------------------------------------------------------------------------
class _Seeds:
    """The process-wide stream of seeds (the default `Generator`'s); each random tensor
    draws one."""

    def next(self) -> int:
        return next_seed("random")


_SEEDS = _Seeds()


def manual_seed(seed: int) -> Generator:
    """Seed every random op: the same seed gives the same tensors on every backend that
    uses the core's sampler, and a reproducible stream on any backend. Returns the
    default `Generator`, as PyTorch's does.

    >>> import mytensor as mt
    >>> _ = mt.manual_seed(0); a = mt.rand(3)
    >>> _ = mt.manual_seed(0); (mt.rand(3) == a).all().item()
    True
    """
    return default_generator.manual_seed(seed)


def _random(op: str, distribution: str, shape: tuple, dtype: Any, backend: str | None,
            requires_grad: bool, generator: Generator | None = None) -> Tensor:  # fmt: skip
    dtype = to_dtype(dtype) if dtype is not None else default_float()
    if dtype.kind != "float":
        raise TypeError(f"{op}(): dtype must be floating-point, got {dtype.name}")
    check_generator(op, generator)
    shape = _shape(op, shape)

    def draw(physical: tuple[int, ...]) -> Tensor:
        out = Tensor._empty(get_backend(backend), physical, dtype)
        if out.numel():
            out._storage.backend.random(out._d, distribution, next_seed(op, generator))
        return out

    if batching.ACTIVE[0]:  # inside vmap: per sample, shared, or refused (its randomness)
        return batching.random_draw(op, shape, draw)
    return _finish(draw(shape), requires_grad)


def rand(*shape: Any, generator: Generator | None = None, dtype: Any = None,
         backend: str | None = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Uniform samples from [0, 1) (drawn from `generator` when given).

    >>> import mytensor as mt
    >>> bool(((mt.rand(100) >= 0) & (mt.rand(100) < 1)).all())
    True
    """
    return _random("rand", "uniform", shape, dtype, backend, requires_grad, generator)


def randn(*shape: Any, generator: Generator | None = None, dtype: Any = None,
          backend: str | None = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Standard normal samples (drawn from `generator` when given).

    >>> import mytensor as mt
    >>> mt.randn(2, 3).shape
    (2, 3)
    """
    return _random("randn", "normal", shape, dtype, backend, requires_grad, generator)


def randint(low: int, high: Any = None, size: Sequence[int] = (), *,
            generator: Generator | None = None, dtype: Any = None, device: Any = None,
            backend: str | None = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Uniform integers in [low, high) (or [0, low) when `high` is omitted, also in
    PyTorch's ``randint(high, size)`` form).

    >>> import mytensor as mt
    >>> bool((mt.randint(0, 3, (50,)) < 3).all()), mt.randint(3, (2, 2)).shape
    (True, (2, 2))
    """
    if isinstance(high, list | tuple) and tuple(size) == ():
        low, high, size = 0, low, high  # PyTorch's randint(high, size)
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint(): need low < high, got low={low}, high={high}")
    backend = _backend("randint", device, backend)
    u = _random("randint", "uniform", tuple(size), float64, backend, False, generator)
    values = (u * (high - low)).floor() + low
    out = values.astype(to_dtype(dtype) if dtype is not None else DEFAULT_INT)
    return out.requires_grad_() if requires_grad else out


# -- between backends -------------------------------------------------------------------
def to_backend(x: Tensor, name: str) -> Tensor:
    """`x` copied to backend `name` (through host memory); differentiable."""
    target = get_backend(name)
    if target is x._storage.backend:
        return x
    check_supported(target, x.dtype)
    out = _from_numpy(x.numpy(), x.dtype, target)
    if autograd.needs_grad(x):
        source = x.backend
        autograd.record(out, "to", (x,), lambda g: (to_backend(g, source),))
    return out
