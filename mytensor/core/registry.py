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
        from mytensor.core.dispatch import Dispatch, SupportsError

        problem = validate(backend, name)
        dispatch = None
        if problem is None:
            try:
                dispatch = Dispatch(backend)  # asks `supports` about every name and dtype
            except SupportsError as exc:
                problem = f"{exc}: supports(primitive, dtype) must answer True or False"
        if dispatch is None:
            info.status, info.error = "broken", problem
            raise BackendError(f"backend {name!r} is broken: {problem}")
        info.status = "loaded"
        info.dtypes = tuple(sorted(backend.dtypes))
        info.native = dispatch.native
        self.instances[name] = dispatch
        return dispatch

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


def validate(backend: Any, entry_name: str | None = None) -> str | None:
    """Why `backend` does not meet the contract (every problem, each with its fix, joined
    by "; "), or None if it does. `entry_name` is the name it was registered under.
    (``supports``' answers are checked when the backend is wrapped for dispatch, which
    asks them once.)

    >>> from mytensor.backends.numpy_ref.backend import NumpyBackend
    >>> validate(NumpyBackend(), "numpy_ref") is None
    True
    >>> class NoExp(NumpyBackend):
    ...     map_ops = NumpyBackend.map_ops - {"exp"}
    >>> print(validate(NoExp(), "numpy_ref"))
    map_ops lacks the required op(s) exp: implement them in map and list them in map_ops
    """
    missing = [p for p in spec.REQUIRED_PRIMITIVES if not _has(backend, p)]
    if missing:
        return f"missing required primitive(s): {', '.join(missing)}"
    absent = [a for a in ("name", "device", "dtypes") if not hasattr(backend, a)]
    if absent:
        return f"missing attribute(s) {', '.join(absent)} (see mytensor.backends.spec.Backend)"
    problems = []
    if entry_name is not None and backend.name != entry_name:
        problems.append(
            f"its name attribute is {backend.name!r} but it is registered as {entry_name!r}: "
            "give the backend object and its BackendEntry the same name"
        )
    problems += _dtype_problems(backend)
    problems += _op_problems(backend)
    problems += _optional_problems(backend)
    return "; ".join(problems) or None


def _dtype_problems(backend: Any) -> list[str]:
    from mytensor.core.dtypes import to_dtype

    try:
        names = {to_dtype(d).name for d in backend.dtypes}
    except (TypeError, ValueError) as exc:
        return [f"declares an unknown dtype: {exc}"]
    lacking = [d for d in spec.MIN_DTYPES if d not in names]
    if not lacking:
        return []
    return [
        f"dtypes lacks {', '.join(lacking)}, which the core cannot work without (the least "
        f"is {', '.join(spec.MIN_DTYPES)}: masks, indices, default floats): add them to dtypes"
    ]


_OP_TABLES = {
    "map_ops": ("map", spec.MAP_OPS, spec.OPTIONAL_MAP_OPS),
    "zip_ops": ("zip", spec.ZIP_OPS, spec.OPTIONAL_ZIP_OPS),
    "reduce_ops": ("reduce", spec.REDUCE_OPS, ()),
}


def _op_problems(backend: Any) -> list[str]:
    """map_ops / zip_ops / reduce_ops: every required name, no unknown one."""
    problems = []
    for attr, (primitive, required, optional) in _OP_TABLES.items():
        declared = getattr(backend, attr, None)
        if declared is None:
            problem = (
                f"declares no {attr}: list the op names its {primitive} accepts, "
                f'e.g. {attr} = frozenset(spec.{primitive.upper()}_OPS) (see spec, "Declared '
                'op names")'
            )
            if hasattr(backend, "ops"):
                problem += " (its ops attribute is the old spelling of the optional names)"
            problems.append(problem)
            continue
        if isinstance(declared, str) or not all(isinstance(n, str) for n in declared):
            problems.append(f"{attr} must be a collection of op names, got {declared!r}")
            continue
        lacking = [n for n in required if n not in declared]
        if lacking:
            problems.append(
                f"{attr} lacks the required op(s) {', '.join(lacking)}: "
                f"implement them in {primitive} and list them in {attr}"
            )
        for name in sorted(set(declared) - set(required) - set(optional)):
            home = next((a for a, t in _OP_TABLES.items() if name in t[1] + t[2]), None)
            fix = f"list it in {home}" if home else "remove it (the core never sends it)"
            kind = f"a {_OP_TABLES[home][0]} op" if home else f"not a {primitive} op name"
            problems.append(f"{attr} declares {name!r}, which is {kind}: {fix}")
    return problems


def _optional_problems(backend: Any) -> list[str]:
    """Optional primitives and supports are methods; conv primitives all or none."""
    problems = []
    for name in (*spec.OPTIONAL_PRIMITIVES, *spec.CONV_PRIMITIVES, "supports"):
        value = getattr(backend, name, None)
        if value is not None and not callable(value):
            problems.append(
                f"{name} is a {type(value).__name__}, not a method: define it as a method, "
                "or remove it so the core uses its default"
            )
    conv = [p for p in spec.CONV_PRIMITIVES if _has(backend, p)]
    if conv and len(conv) < len(spec.CONV_PRIMITIVES):
        lacking = [p for p in spec.CONV_PRIMITIVES if p not in conv]
        problems.append(
            f"defines {', '.join(conv)} but not {', '.join(lacking)}: the core uses the "
            "convolution primitives together; define all of them, or none (the core's "
            "composite runs then)"
        )
    return problems


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
