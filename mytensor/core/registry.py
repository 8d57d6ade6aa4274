"""Backend discovery, loading, validation and selection.

Plugins are found through the ``mytensor.backends`` entry points and pluggy.
Each plugin is loaded in isolation: one that raises is recorded with its
reason and every other backend keeps working. A backend's factory runs the
first time the backend is used; its object is checked against the contract
then, and dispatch afterwards calls that object's methods directly.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from mytensor.backends import spec

__all__ = ["BackendError", "BackendInfo", "backends", "get_backend", "set_backend", "use_backend"]


_UNUSABLE = ("broken", "unavailable")


class BackendError(RuntimeError):
    """A backend is unknown, failed to load, or breaks the contract."""


@dataclass
class BackendInfo:
    """What `mytensor.backends()` reports for one backend."""

    name: str
    status: str  # "available", "loaded", "unavailable" (missing package/hardware) or "broken"
    device: str = "?"
    priority: int = 0
    description: str = ""
    dtypes: tuple[str, ...] = ()
    native: tuple[str, ...] = ()
    error: str | None = None
    plugin: str = ""
    entry: spec.BackendEntry | None = field(default=None, repr=False)


class _Registry:
    def __init__(self) -> None:
        self.infos: dict[str, BackendInfo] = {}
        self.instances: dict[str, Any] = {}
        self.discovered = False

    # -- discovery -------------------------------------------------------------------
    def discover(self) -> None:
        if self.discovered:
            return
        self.discovered = True
        manager = pluggy.PluginManager(spec.PROJECT)
        manager.add_hookspecs(spec.BackendHooks)
        for ep in entry_points(group=spec.ENTRY_POINT_GROUP):
            if manager.has_plugin(ep.name):
                continue
            try:
                manager.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not break the others
                self._broken(ep.name, f"plugin {ep.value!r} failed to load: {_describe(exc)}")
        for impl in manager.hook.mytensor_backends.get_hookimpls():
            try:
                entries = list(impl.function())
            except Exception as exc:
                reason = (
                    f"mytensor_backends() of plugin {impl.plugin_name!r} raised {_describe(exc)}"
                )
                self._broken(impl.plugin_name, reason)
                continue
            for entry in entries:
                self.add(entry, plugin=impl.plugin_name)

    def add(self, entry: spec.BackendEntry, plugin: str = "") -> None:
        self.infos[entry.name] = BackendInfo(
            name=entry.name,
            status="available",
            device=entry.device,
            priority=entry.priority,
            description=entry.description,
            plugin=plugin,
            entry=entry,
        )

    def _broken(self, name: str, reason: str) -> None:
        self.infos[name] = BackendInfo(name=name, status="broken", error=reason, plugin=name)

    # -- loading ----------------------------------------------------------------------
    def get(self, name: str) -> Any:
        backend = self.instances.get(name)
        if backend is not None:
            return backend
        self.discover()
        info = self.infos.get(name)
        if info is None:
            raise BackendError(f"unknown backend {name!r}; installed backends: {self.listing()}")
        if info.status in ("broken", "unavailable"):
            raise BackendError(f"backend {name!r} is {info.status}: {info.error}")
        try:
            backend = info.entry.factory()
        except spec.BackendUnavailable as exc:
            info.status, info.error = "unavailable", str(exc)
            raise BackendError(f"backend {name!r} is unavailable: {exc}") from exc
        except Exception as exc:
            info.status, info.error = "broken", f"factory raised {_describe(exc)}"
            raise BackendError(f"backend {name!r} is broken: {info.error}") from exc
        problem = validate(backend)
        if problem:
            info.status, info.error = "broken", problem
            raise BackendError(f"backend {name!r} is broken: {problem}")
        info.status = "loaded"
        info.dtypes = tuple(sorted(backend.dtypes))
        from mytensor.core.dispatch import Dispatch

        backend = Dispatch(backend)
        info.native = backend.native
        self.instances[name] = backend
        return backend

    def listing(self) -> str:
        names = [n for n, i in sorted(self.infos.items()) if i.status not in _UNUSABLE]
        return ", ".join(names) or "(none)"

    def default_name(self) -> str:
        chosen = os.environ.get("MYTENSOR_BACKEND")
        if chosen:
            return chosen
        self.discover()
        ranked = sorted(
            (i for i in self.infos.values() if i.status not in _UNUSABLE),
            key=lambda i: (-i.priority, i.name),
        )
        for info in ranked:
            with contextlib.suppress(BackendError):
                self.get(info.name)
                return info.name
        raise BackendError("no working mytensor backend is installed; run `mytensor backends`")


def _has(backend: Any, name: str) -> bool:
    return callable(getattr(backend, name, None))


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def validate(backend: Any) -> str | None:
    """Why `backend` does not meet the contract, or None if it does."""
    missing = [p for p in spec.REQUIRED_PRIMITIVES if not _has(backend, p)]
    if missing:
        return f"missing required primitive(s): {', '.join(missing)}"
    for attr in ("name", "device", "dtypes"):
        if not hasattr(backend, attr):
            return f"missing attribute {attr!r} (see mytensor.backends.spec.Backend)"
    from mytensor.core.dtypes import to_dtype

    try:
        [to_dtype(d) for d in backend.dtypes]
    except TypeError as exc:
        return f"declares an unknown dtype: {exc}"
    return None


REGISTRY = _Registry()
_current: ContextVar[str | None] = ContextVar("mytensor_backend", default=None)
_global_choice: list[str | None] = [None]


def get_backend(name: str | None = None) -> Any:
    """The backend object (wrapped for dispatch) named `name`, or the current one."""
    if name is None:
        name = _current.get() or _global_choice[0]
        if name is None:
            name = _global_choice[0] = REGISTRY.default_name()
    return REGISTRY.get(name)


def set_backend(name: str) -> None:
    """Make `name` the default backend for new tensors in this process.

    >>> import mytensor as mt
    >>> mt.set_backend("numpy_ref")
    >>> mt.ones(2).backend
    'numpy_ref'
    """
    REGISTRY.get(name)  # fail now, with the list of installed backends
    _global_choice[0] = name


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Within the block, new tensors go to backend `name` (per thread / async task).

    >>> import mytensor as mt
    >>> with mt.use_backend("numpy_ref"):
    ...     x = mt.zeros(3)
    >>> x.backend
    'numpy_ref'
    """
    REGISTRY.get(name)
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


def synchronize(name: str | None = None) -> None:
    """Wait until backend `name` (default: the current one) has finished its queued work.

    Only asynchronous (device) backends queue work; time GPU code with this.

    >>> import mytensor as mt
    >>> mt.synchronize("numpy_ref")
    """
    get_backend(name).synchronize()


def backends() -> list[BackendInfo]:
    """Every discovered backend with its status; loads each to report its capabilities.

    >>> import mytensor as mt
    >>> "numpy_ref" in [b.name for b in mt.backends()]
    True
    """
    REGISTRY.discover()
    for name, info in list(REGISTRY.infos.items()):
        if info.status == "available":
            with contextlib.suppress(BackendError):
                REGISTRY.get(name)
    return sorted(REGISTRY.infos.values(), key=lambda i: i.name)


class _Switches:
    """An attribute bag standing in for PyTorch's `torch.backends.<library>` modules."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


# PyTorch programs set `torch.backends.cudnn.deterministic = True` and ask
# `torch.backends.mps.is_available()`; mytensor uses neither library, so these switches
# only record what a program sets (`mytensor.backends()` still lists the backends)
backends.cudnn = _Switches(enabled=True, benchmark=False, deterministic=False)  # type: ignore[attr-defined]
backends.mps = _Switches(is_available=lambda: False, is_built=lambda: False)  # type: ignore[attr-defined]
