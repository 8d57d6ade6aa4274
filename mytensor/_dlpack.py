"""DLPack and numpy interop: `from_dlpack`, and the memory views behind
`Tensor.__dlpack__` / `Tensor.__array__`.

A backend whose buffers are 1-d numpy arrays in host memory shares them without a
copy both ways: exporting views the tensor's own buffer (same strides and offset), and
importing wraps the producer's memory as the new tensor's buffer when the backend
declares ``host_buffers = True`` (numpy_ref and numba_cpu do). Anything else goes
through a host copy, which ``copy=False`` refuses with a BufferError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.core.dtypes import _BY_NUMPY
from mytensor.core.tensor import Storage, Tensor

__all__ = ["from_dlpack"]


def host_view(t: Tensor) -> np.ndarray | None:
    """A numpy array sharing `t`'s memory, or None if its buffer is not a numpy array."""
    buffer = t._storage.buffer
    if not isinstance(buffer, np.ndarray) or buffer.dtype != t.dtype.numpy:
        return None
    if t.size == 0:
        return buffer[:0].reshape(t.shape)
    itemsize = t.dtype.itemsize
    return np.ndarray(
        t.shape,
        t.dtype.numpy,
        buffer=buffer,
        offset=t._offset * itemsize,
        strides=tuple(s * itemsize for s in t._strides),
    )


def export(t: Tensor, stream: Any, max_version: Any, dl_device: Any, copy: bool | None) -> Any:
    """`t.__dlpack__(...)`: numpy's capsule of a view (or, when that is impossible, a copy)."""
    if dl_device is not None and tuple(dl_device) != (1, 0):
        raise BufferError(f"__dlpack__(): cannot export to device {dl_device}, only (1, 0) (CPU)")
    view = None if copy else host_view(t)
    if view is None:
        if copy is False:
            raise BufferError(
                f"__dlpack__(copy=False): backend {t.backend!r} does not hold this tensor in "
                "host numpy memory; allow a copy"
            )
        view = t.numpy()
    kwargs: dict[str, Any] = {"stream": stream}
    if max_version is not None:
        kwargs["max_version"] = max_version
    return view.__dlpack__(**kwargs)


def from_dlpack(x: Any, /, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """A tensor from any object with ``__dlpack__`` (numpy, PyTorch, CuPy, mytensor, ...).

    Without a copy where possible: on a backend with host buffers (numpy_ref, numba_cpu)
    the tensor uses the producer's memory, so writes show on both sides. ``copy=True``
    always copies; ``copy=False`` raises BufferError if sharing is impossible. `device`
    (a Device or backend name) picks the backend; by default the current one.

    >>> import numpy as np, mytensor as mt
    >>> a = np.arange(3.0)
    >>> t = mt.from_dlpack(a, device="numpy_ref")
    >>> a[0] = 7.0
    >>> t.tolist()
    [7.0, 1.0, 2.0]
    """
    from mytensor.core.device import backend_name
    from mytensor.core.registry import get_backend

    backend = get_backend(backend_name("from_dlpack", device))
    try:
        array = np.from_dlpack(x, copy=copy)
    except TypeError:  # a producer without the copy keyword (DLPack < 1.0)
        if copy is False:
            raise
        array = np.from_dlpack(x)
        array = array.copy() if copy else array
    dtype = _BY_NUMPY.get(array.dtype)
    if dtype is None:
        raise TypeError(f"from_dlpack(): unsupported element type {array.dtype}")
    from mytensor.core.dtypes import check_supported

    check_supported(backend, dtype)
    wrapped = _wrap(array, dtype, backend) if getattr(backend.impl, "host_buffers", False) else None
    if wrapped is not None:
        return wrapped
    if copy is False:
        raise BufferError(
            f"from_dlpack(copy=False): backend {backend.name!r} cannot use host memory "
            "directly (or the strides are not whole elements); allow a copy"
        )
    from mytensor.core.creation import asarray

    return asarray(np.ascontiguousarray(array), dtype=dtype, backend=backend.name)


def _wrap(array: np.ndarray, dtype: Any, backend: Any) -> Tensor | None:
    """`array`'s memory as a tensor's buffer (None if its strides can't be expressed)."""
    if array.size == 0:
        return Tensor._empty(backend, tuple(array.shape), dtype)
    itemsize = array.itemsize
    if any(s % itemsize or s < 0 for s in array.strides):
        return None
    strides = tuple(s // itemsize for s in array.strides)
    extent = 1 + sum((n - 1) * s for n, s in zip(array.shape, strides, strict=True))
    flat = np.lib.stride_tricks.as_strided(array, shape=(extent,), strides=(itemsize,))
    return Tensor._make(Storage(backend, flat), tuple(array.shape), strides, 0, dtype)
