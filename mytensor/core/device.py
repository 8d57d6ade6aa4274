"""The array API's device object: which backend holds a tensor's buffer.

A mytensor device *is* a backend (each backend owns one kind of memory), so a
`Device` wraps a backend name and nothing else. The namespace's ``device=``
keywords accept a `Device`, a backend name, or any object with a ``backend``
or ``name`` attribute naming one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Device", "backend_name"]


class Device:
    """The device of a tensor: equal by backend name, hashable, immutable.

    >>> from mytensor.core.device import Device
    >>> Device("numpy_ref")
    Device('numpy_ref')
    >>> Device("numpy_ref") == Device("numpy_ref"), Device("numpy_ref").backend
    (True, 'numpy_ref')
    """

    __slots__ = ("_backend",)

    def __init__(self, backend: str) -> None:
        if not isinstance(backend, str):
            raise TypeError(f"Device(): expected a backend name, got {type(backend).__name__}")
        object.__setattr__(self, "_backend", backend)

    @property
    def backend(self) -> str:
        """The name of the backend this device stands for."""
        return self._backend

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Device objects are immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other._backend == self._backend

    def __hash__(self) -> int:
        return hash(("mytensor.Device", self._backend))

    def __repr__(self) -> str:
        return f"Device({self._backend!r})"

    def __reduce__(self) -> tuple:
        return (Device, (self._backend,))


def backend_name(op: str, device: Any) -> str | None:
    """The backend name a ``device=`` argument names (None: the current default).

    >>> from mytensor.core.device import Device, backend_name
    >>> backend_name("zeros", Device("numpy_ref")), backend_name("zeros", None)
    ('numpy_ref', None)
    """
    if device is None or isinstance(device, str):
        return device
    for attribute in ("backend", "name"):
        name = getattr(device, attribute, None)
        if isinstance(name, str):
            return name
    raise TypeError(
        f"{op}(): device must be a mytensor Device, a backend name or None, got "
        f"{type(device).__name__} {device!r}; use x.device or a name from mytensor.backends()"
    )
