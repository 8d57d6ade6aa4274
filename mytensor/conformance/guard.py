"""A contract-checking wrapper around the backend under test.

The conformance plugin swaps each backend under test for `GuardedBackend` while a
suite test runs. Every primitive call is counted (``--primitive-coverage``) and its
effects are checked against the contract of `mytensor.backends.spec`:

- a kernel returns None: it writes its result into ``out``, it does not return it;
- a kernel writes nothing outside its ``out`` views (the rest of each touched buffer
  keeps its bytes);
- ``to_host`` returns a numpy array of the descriptor's shape and dtype;
- ``copy`` gets an ``out`` and a ``src`` of the same shape.

A breach raises `ContractViolation` naming the backend and the primitive.

>>> from mytensor.backends.numpy_ref.backend import NumpyBackend
>>> guarded = GuardedBackend(NumpyBackend())
>>> guarded.name
'numpy_ref'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from mytensor.backends.spec import Strided

__all__ = [
    "CALLS", "ContractViolation", "GuardedBackend", "coverage_table", "guarded_methods"
]  # fmt: skip

# (backend, primitive, op name or "", dtype name) -> number of calls, over the whole process
CALLS: Counter[tuple[str, str, str, str]] = Counter()

# where each primitive's outputs are among its arguments: an index, or "outs" (a tuple)
_OUT_POSITION: dict[str, int | str] = {
    "copy": 0, "where": 0, "matmul": 0, "gather": 0, "scatter_add": 0, "random": 0,
    "argsort": 0, "searchsorted": 0, "nonzero": 0, "conv": 0, "conv_grad_input": 0,
    "conv_grad_weight": 0, "map": 1, "zip": 1, "reduce": 1, "cumulative": 1, "linalg": 1,
    "fft": 1,
}  # fmt: skip
_WITH_OP = ("map", "zip", "reduce", "cumulative", "linalg", "fft")
KERNELS = tuple(_OUT_POSITION)


class ContractViolation(AssertionError):
    """A backend primitive broke the contract of `mytensor.backends.spec`."""


def _index_set(desc: Strided) -> np.ndarray:
    """The flat buffer positions a descriptor names."""
    index = np.full(desc.shape, desc.offset, dtype=np.int64)
    for axis, (size, stride) in enumerate(zip(desc.shape, desc.strides, strict=True)):
        shape = [1] * len(desc.shape)
        shape[axis] = size
        index = index + (np.arange(size, dtype=np.int64) * stride).reshape(shape)
    return index.reshape(-1)


def _buffer_size(buffer: Any) -> int | None:
    size = getattr(buffer, "size", None)
    if isinstance(size, int | np.integer):
        return int(size)
    try:
        return len(buffer)
    except TypeError:
        return None


class GuardedBackend:
    """`impl` with every primitive counted and checked; other attributes pass through."""

    def __init__(self, impl: Any) -> None:
        self._impl = impl

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._impl, name)
        if name in KERNELS and callable(value):
            return self._kernel(name, value)
        if name == "to_host" and callable(value):
            return self._to_host
        return value

    def _fail(self, primitive: str, message: str) -> ContractViolation:
        return ContractViolation(f"backend {self._impl.name!r}, primitive {primitive}: {message}")

    def _to_host(self, src: Strided) -> np.ndarray:
        CALLS[self._impl.name, "to_host", "", src.dtype.name] += 1
        got = self._impl.to_host(src)
        if not isinstance(got, np.ndarray):
            raise self._fail("to_host", f"returned a {type(got).__name__}, not a numpy array")
        if got.shape != tuple(src.shape) or got.dtype != src.dtype.numpy:
            raise self._fail(
                "to_host",
                f"returned shape {got.shape} dtype {got.dtype} for a descriptor of shape "
                f"{tuple(src.shape)} dtype {src.dtype.name}",
            )
        return got

    def _snapshot(self, desc: Strided) -> np.ndarray | None:
        """The whole buffer's values; None where nothing lies outside the view."""
        size = _buffer_size(desc.buffer)
        if size is None:
            return None
        repeats = any(st == 0 and n > 1 for n, st in zip(desc.shape, desc.strides, strict=True))
        if desc.size == size and not repeats:
            return None  # the view names every element of its buffer
        whole = Strided(desc.buffer, (size,), (1,), 0, desc.dtype)
        return np.array(self._impl.to_host(whole), copy=True)

    def _kernel(self, primitive: str, method: Callable) -> Callable:
        position = _OUT_POSITION[primitive]

        def checked(*args: Any) -> None:
            outs = args[position] if primitive == "linalg" else (args[position],)
            op = args[0] if primitive in _WITH_OP else ""
            dtype = (args[position + 1] if primitive == "linalg" else outs)[0].dtype.name
            if primitive in ("map", "zip", "reduce", "copy", "cumulative"):
                dtype = args[position + 1].dtype.name  # the input's dtype
            CALLS[self._impl.name, primitive, str(op), dtype] += 1
            if primitive == "copy" and tuple(args[0].shape) != tuple(args[1].shape):
                raise self._fail(
                    "copy",
                    f"out has shape {tuple(args[0].shape)} but src has shape "
                    f"{tuple(args[1].shape)}; the contract asks for equal shapes",
                )
            before = {id(o.buffer): (o, self._snapshot(o)) for o in outs}
            result = method(*args)
            if result is not None:
                raise self._fail(
                    f"{primitive}{'(' + repr(op) + ')' if op else ''}",
                    f"returned a {type(result).__name__} instead of None: a kernel writes "
                    "its result into out",
                )
            for key, (desc, old) in before.items():
                if old is not None:
                    self._check_outside(primitive, op, desc, old, [o for o in outs
                                        if id(o.buffer) == key])  # fmt: skip

        return checked

    def _check_outside(self, primitive: str, op: Any, desc: Strided, old: np.ndarray,
                       views: list[Strided]) -> None:  # fmt: skip
        new = self._snapshot(desc)
        if new is None or new.shape != old.shape:
            return
        width = old.dtype.itemsize
        changed = old.view(np.uint8).reshape(old.size, width) != new.view(np.uint8).reshape(
            new.size, width
        )
        changed = changed.any(axis=1)
        for view in views:
            inside = _index_set(view)
            changed[inside[(inside >= 0) & (inside < changed.size)]] = False
        if changed.any():
            where = np.flatnonzero(changed)
            name = f"{primitive}({op!r})" if op else primitive
            raise self._fail(
                name,
                f"wrote outside out ({desc!r}): buffer element {int(where[0])} changed from "
                f"{old[where[0]]} to {new[where[0]]} ({where.size} elements outside "
                "the view changed)",
            )


def guarded_methods(dispatch: Any) -> dict[str, Callable]:
    """The checked versions of the primitives `dispatch` (a loaded backend, as the core
    calls it) binds from its backend object: ``{attribute: guarded method}``.

    >>> from mytensor.core.registry import get_backend
    >>> sorted(guarded_methods(get_backend("numpy_ref")))[:3]
    ['conv', 'conv_grad_input', 'conv_grad_weight']
    """
    guarded = GuardedBackend(dispatch.impl)
    return {name: getattr(guarded, name) for name in (*KERNELS, "to_host")
            if name in vars(dispatch)}  # fmt: skip


def coverage_table(backend: str, dtypes: list[str]) -> str:
    """A table of `backend`'s primitives (and ops) by input dtype: how many calls ran.

    >>> CALLS["doc", "map", "exp", "float32"] += 3
    >>> print(coverage_table("doc", ["float32", "int64"]))
    primitive  float32  int64
    map.exp          3      -
    """
    rows = sorted({(p, op) for name, p, op, _ in CALLS if name == backend})
    labels = {row: row[0] + (f".{row[1]}" if row[1] else "") for row in rows}
    width = max([len("primitive"), *(len(v) for v in labels.values())])
    widths = [max(5, len(d)) for d in dtypes]
    columns = list(zip(dtypes, widths, strict=True))
    lines = ["primitive".ljust(width) + "".join(f"  {d:>{w}}" for d, w in columns)]
    for row in rows:
        cells = [CALLS.get((backend, *row, d), 0) or "-" for d, _ in columns]
        lines.append(labels[row].ljust(width) + "".join(
            f"  {c:>{w}}" for c, (_, w) in zip(cells, columns, strict=True)))  # fmt: skip
    return "\n".join(lines)
