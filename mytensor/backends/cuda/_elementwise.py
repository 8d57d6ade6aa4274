"""Elementwise kernels (map, zip, where, copy/cast, fill, gather, scatter_add), compiled
from the ops' scalar specification (`mytensor.core.primitives.scalar`).

Each kernel is a grid-stride loop written once below and specialised per op by
`mytensor.backends._specialize.specialize`: the copy's free name ``scalar`` is bound to
the op's device function (`_scalar.SCALAR`), so every op gets its own kernel, compiled
lazily on first use (numba then specialises it per dtype and rank, once). Two variants
of each loop:

``linear``, for rank-1 plans: ``o[po + i*so] = scalar(a[pa + i*sa], ...)``, no index
division. Contiguous operands, same-layout operands and a broadcast scalar (stride 0)
all plan to rank 1: this is the contiguous fast path.
``strided``, for rank >= 2: each index ``i`` is unravelled over the plan's shape (a
tuple) and dotted with each operand's strides (tuples).

Metadata travels as kernel parameters: shape and strides are tuples of ints and the
offsets ints, passed by value in the launch. Nothing is copied to the device.
"""

from __future__ import annotations

from collections.abc import Callable

from numba import cuda

from mytensor.backends._specialize import specialize
from mytensor.backends.cuda._runtime import jit
from mytensor.backends.cuda._scalar import DIGEST, SCALAR, device
from mytensor.core.primitives import scalar as spec

__all__ = ["CASTS", "KERNELS", "kernels", "op_kernels"]


# -- the loops -------------------------------------------------------------------------------
# `scalar` is a free name, bound per op by `specialize`; the strided variants unravel the
# index once and step every operand's offset with the same coordinates.
def _map_linear(n, o, po, so, a, pa, sa):
    i = cuda.grid(1)
    while i < n:
        o[po + i * so] = scalar(a[pa + i * sa])  # noqa: F821 (bound per op)
        i += cuda.gridsize(1)


def _map_strided(n, shape, o, po, so, a, pa, sa):
    i = cuda.grid(1)
    while i < n:
        io, ia, rest = po, pa, i
        for d in range(len(shape) - 1, -1, -1):
            q = rest // shape[d]
            c = rest - q * shape[d]
            io += c * so[d]
            ia += c * sa[d]
            rest = q
        o[io] = scalar(a[ia])  # noqa: F821
        i += cuda.gridsize(1)


def _zip_linear(n, o, po, so, a, pa, sa, b, pb, sb):
    i = cuda.grid(1)
    while i < n:
        o[po + i * so] = scalar(a[pa + i * sa], b[pb + i * sb])  # noqa: F821
        i += cuda.gridsize(1)


def _zip_strided(n, shape, o, po, so, a, pa, sa, b, pb, sb):
    i = cuda.grid(1)
    while i < n:
        io, ia, ib, rest = po, pa, pb, i
        for d in range(len(shape) - 1, -1, -1):
            q = rest // shape[d]
            c = rest - q * shape[d]
            io += c * so[d]
            ia += c * sa[d]
            ib += c * sb[d]
            rest = q
        o[io] = scalar(a[ia], b[ib])  # noqa: F821
        i += cuda.gridsize(1)


def _where_linear(n, o, po, so, c, pc, sc, a, pa, sa, b, pb, sb):
    i = cuda.grid(1)
    while i < n:
        o[po + i * so] = a[pa + i * sa] if c[pc + i * sc] else b[pb + i * sb]
        i += cuda.gridsize(1)


def _where_strided(n, shape, o, po, so, c, pc, sc, a, pa, sa, b, pb, sb):
    i = cuda.grid(1)
    while i < n:
        io, ic, ia, ib, rest = po, pc, pa, pb, i
        for d in range(len(shape) - 1, -1, -1):
            q = rest // shape[d]
            k = rest - q * shape[d]
            io += k * so[d]
            ic += k * sc[d]
            ia += k * sa[d]
            ib += k * sb[d]
            rest = q
        o[io] = a[ia] if c[ic] else b[ib]
        i += cuda.gridsize(1)


def _fill_linear(n, o, po, so, value):
    i = cuda.grid(1)
    while i < n:
        o[po + i * so] = value
        i += cuda.gridsize(1)


def _fill_strided(n, shape, o, po, so, value):
    i = cuda.grid(1)
    while i < n:
        io, rest = po, i
        for d in range(len(shape) - 1, -1, -1):
            q = rest // shape[d]
            io += (rest - q * shape[d]) * so[d]
            rest = q
        o[io] = value
        i += cuda.gridsize(1)


# gather and scatter_add: `scalar(o, io, a, ia, shift)` moves one element, `shift` being
# the index times the indexed dimension's stride (that dimension has stride 0 in the plan)
def _indexed_linear(n, o, po, so, ix, pi, si, a, pa, sa, step):
    i = cuda.grid(1)
    while i < n:
        scalar(o, po + i * so, a, pa + i * sa, ix[pi + i * si] * step)  # noqa: F821
        i += cuda.gridsize(1)


def _indexed_strided(n, shape, o, po, so, ix, pi, si, a, pa, sa, step):
    i = cuda.grid(1)
    while i < n:
        io, ii, ia, rest = po, pi, pa, i
        for d in range(len(shape) - 1, -1, -1):
            q = rest // shape[d]
            c = rest - q * shape[d]
            io += c * so[d]
            ii += c * si[d]
            ia += c * sa[d]
            rest = q
        scalar(o, io, a, ia, ix[ii] * step)  # noqa: F821
        i += cuda.gridsize(1)


# -- the element functions of the kernels that are not ops ----------------------------------
@device
def _same(x):
    return x  # copy: a store converts (float to int truncates toward zero)


@device
def _nonzero(x):
    return x != 0  # a cast to bool


def _saturate(x):
    # float to int: in range truncates toward zero; NaN and out-of-range values give the
    # smallest integer (what numpy's astype gives on x86) on every device
    return x if (x >= LOW and x < HIGH) else SMALLEST  # noqa: F821 (bound per dtype)


@device
def _gather(o, io, a, ia, shift):
    o[io] = a[ia + shift]


@device
def _scatter_add(o, io, a, ia, shift):
    cuda.atomic.add(o, io + shift, a[ia])  # repeated indices add atomically


def _cast_to(bits: int) -> Callable:
    bound = float(2 ** (bits - 1))  # exact in float32 and float64
    return device(specialize(_saturate, f"int{bits}", LOW=-bound, HIGH=bound,
                             SMALLEST=-(2 ** (bits - 1))))  # fmt: skip


CASTS = {"int32": _cast_to(32), "int64": _cast_to(64)}
_LOOPS = {
    "map": (_map_linear, _map_strided), "zip": (_zip_linear, _zip_strided),
    "where": (_where_linear, _where_strided), "fill": (_fill_linear, _fill_strided),
    "indexed": (_indexed_linear, _indexed_strided),
}  # fmt: skip
# kernel name -> (loop, element function)
KERNELS = {
    "where": ("where", None), "fill": ("fill", None), "copy": ("map", _same),
    "to_bool": ("map", _nonzero), "cast_int32": ("map", CASTS["int32"]),
    "cast_int64": ("map", CASTS["int64"]), "gather": ("indexed", _gather),
    "scatter_add": ("indexed", _scatter_add),
}  # fmt: skip
if set(KERNELS) & set(SCALAR):  # a shared name would share a cached kernel
    raise RuntimeError(f"cuda: kernel names {sorted(set(KERNELS) & set(SCALAR))} are also "
                       "names of the scalar specification; rename them in KERNELS")  # fmt: skip
_COMPILED: dict[tuple[str, str], tuple[Callable, Callable]] = {}


def _pair(name: str, loop: str, element: Callable | None) -> tuple[Callable, Callable]:
    key = (loop, name)
    pair = _COMPILED.get(key)
    if pair is None:
        bindings = {} if element is None else {"scalar": element}
        pair = _COMPILED[key] = tuple(jit(specialize(skeleton, f"{name}_{DIGEST}", **bindings))
                                      for skeleton in _LOOPS[loop])  # fmt: skip
    return pair


def kernels(name: str) -> tuple[Callable, Callable]:
    """The (linear, strided) kernels `name` of `KERNELS` (where, fill, copy, the casts,
    gather, scatter_add). Each compiles on its first launch."""
    loop, element = KERNELS[name]
    return _pair(name, loop, element)


def op_kernels(op: str, kind: str, arity: int) -> tuple[Callable, Callable] | None:
    """The (linear, strided) map (`arity` 1) or zip (2) kernels of `op` for inputs of
    dtype kind `kind` ("float", "int", "uint", "bool"), or None where the specification
    defines no scalar function of `op` for that kind. Ops whose float and integer
    definitions are one function share their kernels (numba specialises them per dtype)."""
    function = spec.scalar_function(op, kind)
    if function is None:
        return None
    name = function.__name__
    return _pair(name, "map" if arity == 1 else "zip", SCALAR[name])
