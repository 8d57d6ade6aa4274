"""The device object (the array API's, and PyTorch's `torch.device`): which backend
holds a tensor's buffer.

A mytensor device *is* a backend (each backend owns one kind of memory), so a
`Device` wraps a backend name and nothing else. PyTorch's spellings name backends
too: ``"cpu"`` is the default CPU backend (the selected backend when it runs on the
CPU, else numpy_ref), ``"cuda"`` / ``"cuda:0"`` the cuda backend. The namespace's
``device=`` keywords accept a `Device`, any of those strings, or any object with a
``backend`` or ``name`` attribute naming one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Device", "backend_name", "resolve"]


def _default_cpu_backend() -> str:
    from mytensor.core.registry import REGISTRY, get_backend

    name = get_backend().name
    info = REGISTRY.infos.get(name)
    return name if info is not None and info.device == "cpu" else "numpy_ref"


def resolve(spec: str, index: int | None = None) -> str:
    """The backend name a device string means (``"cpu"``, ``"cuda:0"``, or a backend name).

    >>> from mytensor.core.device import resolve
    >>> resolve("numpy_ref"), resolve("cuda:0")
    ('numpy_ref', 'cuda')
    """
    kind, _, number = spec.partition(":")
    if number:
        if index is not None:
            raise ValueError(f"device(): {spec!r} names an index already; drop index={index}")
        if not number.isdigit():
            raise ValueError(f"device(): invalid device string {spec!r}; expected e.g. 'cuda:0'")
        index = int(number)
    if kind in ("cpu", "cuda"):
        if index not in (None, 0):
            raise ValueError(
                f"device(): mytensor has one {kind} device, so index {index} does not exist; "
                f"use {kind!r} or '{kind}:0'"
            )
        return _default_cpu_backend() if kind == "cpu" else "cuda"
    if number or index is not None:
        raise ValueError(f"device(): backend {kind!r} takes no device index")
    return kind


class Device:
    """The device of a tensor: equal by backend name, hashable, immutable. Also spelled
    `mytensor.device`, with PyTorch's ``type`` and ``index``.

    >>> import mytensor as mt
    >>> from mytensor.core.device import Device
    >>> Device("numpy_ref")
    Device('numpy_ref')
    >>> Device("numpy_ref") == Device("numpy_ref"), Device("numpy_ref").backend
    (True, 'numpy_ref')
    >>> d = mt.device("cpu")
    >>> d.type, d.index, mt.ones(1, device=d).device.type
    ('cpu', None, 'cpu')
    """

    __slots__ = ("_backend",)

    def __init__(self, backend: str | Device, index: int | None = None) -> None:
        if isinstance(backend, Device):
            backend = backend.backend
        if not isinstance(backend, str):
            raise TypeError(
                f"device(): expected a device string such as 'cpu' or 'cuda:0', or a backend "
                f"name, got {type(backend).__name__} {backend!r}"
            )
        object.__setattr__(self, "_backend", resolve(backend, index))

    @property
    def backend(self) -> str:
        """The name of the backend this device stands for."""
        return self._backend

    @property
    def type(self) -> str:
        """PyTorch's device type: "cuda" for the cuda backend, else "cpu" for host backends
        (a third-party backend reports the device kind it registered)."""
        from mytensor.core.registry import REGISTRY

        info = REGISTRY.infos.get(self._backend)
        return info.device if info is not None and info.device != "?" else "cpu"

    @property
    def index(self) -> int | None:
        """PyTorch's device index: 0 on cuda, None elsewhere."""
        return 0 if self.type == "cuda" else None

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
    if device is None:
        return None
    if isinstance(device, str):
        return resolve(device)
    for attribute in ("backend", "name"):
        name = getattr(device, attribute, None)
        if isinstance(name, str):
            return name
    raise TypeError(
        f"{op}(): device must be a mytensor Device, a backend name or None, got "
        f"{type(device).__name__} {device!r}; use x.device or a name from mytensor.backends()"
    )
