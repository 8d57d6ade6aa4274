"""Creating tensors: from data, filled, ranges, and random (seeded by `manual_seed`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core import autograd
from mytensor.core.dtypes import (
    DEFAULT_FLOAT,
    DEFAULT_INT,
    DType,
    bool_,
    float64,
    to_dtype,
)
from mytensor.core.registry import get_backend
from mytensor.core.tensor import Storage, Tensor

Shape = int | Sequence[int]


def _shape(op: str, shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        shape = tuple(shape[0])
    try:
        out = tuple(int(s) for s in shape)
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


def _infer_dtype(array: np.ndarray, source: Any) -> DType:
    kind = array.dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        if isinstance(source, np.ndarray) or hasattr(source, "__dlpack__"):
            return to_dtype(array.dtype) if array.dtype in (np.int32, np.int64) else DEFAULT_INT
        return DEFAULT_INT
    if kind == "f":
        if isinstance(source, np.ndarray | np.floating) or hasattr(source, "__dlpack__"):
            return float64 if array.dtype == np.float64 else DEFAULT_FLOAT
        return DEFAULT_FLOAT
    raise TypeError(
        f"tensor(): cannot make a tensor from data of numpy dtype {array.dtype} "
        "(mytensor supports bool, int32, int64, float32, float64)"
    )


def asarray(
    obj: Any,
    dtype: Any = None,
    *,
    backend: str | None = None,
    copy: bool | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor from a Tensor, nested lists, a scalar, a numpy array, or anything with
    `__dlpack__` / `__array__`. Python floats become float32, ints int64; a numpy
    array keeps its dtype. An existing tensor is returned as is when nothing changes.

    >>> import mytensor as mt
    >>> mt.asarray([[1, 2], [3, 4]]).dtype
    mytensor.int64
    """
    target = to_dtype(dtype) if dtype is not None else None
    if isinstance(obj, Tensor):
        out = obj
        if backend is not None and backend != obj.backend:
            out = to_backend(out, backend)
        if target is not None and target is not out.dtype:
            out = out.astype(target)
        if copy and out is obj:
            out = obj.clone()
        return _finish(out.detach() if out is obj and requires_grad else out, requires_grad)
    if isinstance(obj, np.ndarray):
        array = obj
    elif hasattr(obj, "__dlpack__") and not isinstance(obj, list | tuple):
        array = np.from_dlpack(obj)
    else:
        try:
            array = np.asarray(obj)
        except ValueError as exc:
            raise ValueError(f"tensor(): cannot make a tensor from this data: {exc}") from None
        if array.dtype == object:
            raise TypeError(
                f"tensor(): cannot make a tensor from {type(obj).__name__} data "
                "(ragged nested lists, or elements that are not numbers)"
            )
    dtype = target if target is not None else _infer_dtype(array, obj)
    return _finish(_from_numpy(array, dtype, get_backend(backend)), requires_grad)


def tensor(
    data: Any, dtype: Any = None, *, backend: str | None = None, requires_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of `data` (see `asarray` for what data can be).

    >>> import mytensor as mt
    >>> mt.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    return asarray(data, dtype, backend=backend, copy=True, requires_grad=requires_grad)


def full(
    shape: Shape,
    fill_value: bool | int | float,
    *,
    dtype: Any = None,
    backend: str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of `shape` filled with `fill_value` (dtype inferred from the value).

    >>> import mytensor as mt
    >>> mt.full((2,), 7).tolist()
    [7, 7]
    """
    shape = _shape("full", (shape,) if isinstance(shape, int) else tuple(shape))
    dtype = to_dtype(dtype) if dtype is not None else to_dtype(type(fill_value))
    impl = get_backend(backend)
    out = Tensor._empty(impl, shape, dtype)
    value = impl.from_host(np.array([fill_value]).astype(dtype.numpy))
    impl.copy(out._d, Strided(value, shape, (0,) * len(shape), 0, dtype))  # broadcast fill
    return _finish(out, requires_grad)


def zeros(*shape: Any, dtype: Any = None, backend: str | None = None,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A tensor of zeros (float32 unless `dtype` says otherwise).

    >>> import mytensor as mt
    >>> mt.zeros(2, 3).shape
    (2, 3)
    """
    return full(_shape("zeros", shape), 0, dtype=dtype or DEFAULT_FLOAT, backend=backend,
                requires_grad=requires_grad)  # fmt: skip


def ones(*shape: Any, dtype: Any = None, backend: str | None = None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A tensor of ones (float32 unless `dtype` says otherwise).

    >>> import mytensor as mt
    >>> mt.ones(2).tolist()
    [1.0, 1.0]
    """
    return full(_shape("ones", shape), 1, dtype=dtype or DEFAULT_FLOAT, backend=backend,
                requires_grad=requires_grad)  # fmt: skip


def empty(*shape: Any, dtype: Any = None, backend: str | None = None,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """An uninitialised tensor (its values are whatever the buffer held).

    >>> import mytensor as mt
    >>> mt.empty(2, 2).shape
    (2, 2)
    """
    dtype = to_dtype(dtype) if dtype is not None else DEFAULT_FLOAT
    out = Tensor._empty(get_backend(backend), _shape("empty", shape), dtype)
    return _finish(out, requires_grad)


def _like(name: str, maker):
    def like(x: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return maker(x.shape, dtype=dtype or x.dtype, backend=x.backend,
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


def full_like(x: Tensor, fill_value: float, *, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:  # fmt: skip
    """`full` with the shape, dtype and backend of `x`.

    >>> import mytensor as mt
    >>> mt.full_like(mt.ones(2), 3.0).tolist()
    [3.0, 3.0]
    """
    return full(x.shape, fill_value, dtype=dtype or x.dtype, backend=x.backend,
                requires_grad=requires_grad)  # fmt: skip


def arange(start: float, stop: float | None = None, step: float = 1, *, dtype: Any = None,
           backend: str | None = None) -> Tensor:  # fmt: skip
    """Evenly spaced values in [start, stop); int64 when all arguments are ints.

    >>> import mytensor as mt
    >>> mt.arange(1, 7, 2).tolist()
    [1, 3, 5]
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange(): step must be non-zero")
    ints = all(isinstance(v, int) for v in (start, stop, step))
    dtype = to_dtype(dtype) if dtype is not None else (DEFAULT_INT if ints else DEFAULT_FLOAT)
    values = np.arange(start, stop, step, dtype=np.float64 if not ints else np.int64)
    return _from_numpy(values, dtype, get_backend(backend))


def linspace(start: float, stop: float, num: int, *, endpoint: bool = True, dtype: Any = None,
             backend: str | None = None) -> Tensor:  # fmt: skip
    """`num` evenly spaced values from start to stop (inclusive by default).

    >>> import mytensor as mt
    >>> mt.linspace(0, 1, 5).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if num < 0:
        raise ValueError(f"linspace(): num must be non-negative, got {num}")
    values = np.linspace(start, stop, num, endpoint=endpoint)
    dtype = to_dtype(dtype) if dtype is not None else DEFAULT_FLOAT
    return _from_numpy(values, dtype, get_backend(backend))


def eye(n: int, m: int | None = None, *, k: int = 0, dtype: Any = None,
        backend: str | None = None) -> Tensor:  # fmt: skip
    """A 2-d tensor with ones on diagonal `k` and zeros elsewhere.

    >>> import mytensor as mt
    >>> mt.eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    dtype = to_dtype(dtype) if dtype is not None else DEFAULT_FLOAT
    return _from_numpy(np.eye(n, m, k), dtype, get_backend(backend))


# -- random -----------------------------------------------------------------------------
class _Seeds:
    """The process-wide stream of seeds; each random tensor draws one."""

    def __init__(self) -> None:
        self.generator = np.random.Generator(np.random.PCG64())

    def next(self) -> int:
        return int(self.generator.integers(0, 2**63 - 1))


_SEEDS = _Seeds()


def manual_seed(seed: int) -> None:
    """Seed every random op: the same seed gives the same tensors on every backend that
    uses the core's sampler, and a reproducible stream on any backend.

    >>> import mytensor as mt
    >>> mt.manual_seed(0); a = mt.rand(3)
    >>> mt.manual_seed(0); (mt.rand(3) == a).all().item()
    True
    """
    _SEEDS.generator = np.random.Generator(np.random.PCG64(seed))


def _random(op: str, distribution: str, shape: tuple, dtype: Any, backend: str | None,
            requires_grad: bool) -> Tensor:  # fmt: skip
    dtype = to_dtype(dtype) if dtype is not None else DEFAULT_FLOAT
    if dtype.kind != "float":
        raise TypeError(f"{op}(): dtype must be floating-point, got {dtype.name}")
    out = Tensor._empty(get_backend(backend), _shape(op, shape), dtype)
    if out.numel():
        out._storage.backend.random(out._d, distribution, _SEEDS.next())
    return _finish(out, requires_grad)


def rand(*shape: Any, dtype: Any = None, backend: str | None = None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Uniform samples from [0, 1).

    >>> import mytensor as mt
    >>> bool(((mt.rand(100) >= 0) & (mt.rand(100) < 1)).all())
    True
    """
    return _random("rand", "uniform", shape, dtype, backend, requires_grad)


def randn(*shape: Any, dtype: Any = None, backend: str | None = None,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Standard normal samples.

    >>> import mytensor as mt
    >>> mt.randn(2, 3).shape
    (2, 3)
    """
    return _random("randn", "normal", shape, dtype, backend, requires_grad)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), *, dtype: Any = None,
            backend: str | None = None) -> Tensor:  # fmt: skip
    """Uniform integers in [low, high) (or [0, low) when `high` is omitted).

    >>> import mytensor as mt
    >>> bool((mt.randint(0, 3, (50,)) < 3).all())
    True
    """
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint(): need low < high, got low={low}, high={high}")
    u = _random("randint", "uniform", tuple(size), float64, backend, False)
    values = (u * (high - low)).floor() + low
    return values.astype(to_dtype(dtype) if dtype is not None else DEFAULT_INT)


# -- between backends -------------------------------------------------------------------
def to_backend(x: Tensor, name: str) -> Tensor:
    """`x` copied to backend `name` (through host memory); differentiable."""
    target = get_backend(name)
    if target is x._storage.backend:
        return x
    if x.dtype not in target.dtypes:
        raise TypeError(f"to(): backend {name!r} does not support dtype {x.dtype.name}")
    out = _from_numpy(x.numpy(), x.dtype, target)
    if autograd.needs_grad(x):
        source = x.backend
        autograd.record(out, "to", (x,), lambda g: (to_backend(g, source),))
    return out
