"""Kernels specialised per op from one written loop skeleton, without generated source.

A skeleton is an ordinary function in a backend's module that calls the op's scalar
function through a free name (``scalar`` by convention). `specialize` makes a copy of it
whose globals bind that name (and any others) to jitted functions, and gives the copy its
own qualified name. The compiler then sees a plain function calling a known function and
inlines it: one loop per op, as if written out by hand, while the loop is written once.

numba's on-disk cache keys a function by its module file, qualified name and bytecode, not
by the globals it calls, so the qualified name carries a digest of the specification module
(`SPEC_DIGEST`): editing an op's scalar function recompiles its kernels instead of loading
stale machine code. (A closure over the jitted function, or passing it as an argument, was
measured first: numba re-compiles those on every run, because the dispatcher it captures
pickles differently each time.)
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mytensor.core.primitives import scalar as _scalar_spec

# the specification module's own machinery, not scalar functions
_INFRASTRUCTURE = frozenset({"unary", "binary", "_registrar", "scalar_function", "evaluate"})
SPEC_DIGEST = hashlib.sha256(Path(_scalar_spec.__file__).read_bytes()).hexdigest()[:12]


def specialize(skeleton: Callable, name: str, **bindings: Any) -> Callable:
    """A copy of `skeleton` whose free globals in `bindings` are bound, named
    ``<skeleton>.<name>_<digest>`` (unjitted: the caller applies its jit decorator).

    >>> def twice(x):
    ...     return scalar(x) * 2  # noqa: F821 (bound per copy)
    >>> specialize(twice, "neg", scalar=lambda v: -v)(3)
    -6
    """
    namespace = dict(skeleton.__globals__)
    namespace.update(bindings)
    copy = types.FunctionType(skeleton.__code__, namespace, f"{skeleton.__name__}_{name}",
                              skeleton.__defaults__, skeleton.__closure__)  # fmt: skip
    copy.__qualname__ = f"{skeleton.__qualname__}.{name}_{SPEC_DIGEST}"
    copy.__module__ = skeleton.__module__
    copy.__doc__ = skeleton.__doc__
    return copy


def compile_specification(decorator: Callable, **bindings: Any) -> dict[str, Callable]:
    """Every function of the scalar specification compiled with `decorator` (e.g.
    ``numba.njit(inline="always")`` or ``cuda.jit(device=True)``), by name.

    The copies share one namespace in which each function's name means its compiled copy,
    so a specification function that calls a helper (``floor_divide`` calls ``_divmod``)
    calls the compiled helper; `bindings` replace further globals (``math`` by a device's
    math library, or a helper by the target's own version of it). Nothing compiles until
    a kernel first calls a function."""
    namespace = dict(vars(_scalar_spec))
    namespace.update(bindings)
    compiled: dict[str, Callable] = {}
    for name, value in vars(_scalar_spec).items():
        if name in _INFRASTRUCTURE:
            continue
        if name in bindings:
            compiled[name] = bindings[name]
        elif isinstance(value, types.FunctionType) and value.__module__ == _scalar_spec.__name__:
            copy = types.FunctionType(value.__code__, namespace, value.__name__,
                                      value.__defaults__, value.__closure__)  # fmt: skip
            copy.__qualname__ = value.__qualname__
            copy.__module__ = value.__module__
            compiled[name] = decorator(copy)
    namespace.update(compiled)
    return compiled


def rebind(function: Callable, **bindings: Any) -> Callable:
    """`function` with some of its globals replaced (e.g. ``math`` by a device's math
    library), under its own name: how a scalar specification is compiled for a target
    whose math functions live elsewhere."""
    namespace = dict(function.__globals__)
    namespace.update(bindings)
    copy = types.FunctionType(function.__code__, namespace, function.__name__,
                              function.__defaults__, function.__closure__)  # fmt: skip
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    return copy
