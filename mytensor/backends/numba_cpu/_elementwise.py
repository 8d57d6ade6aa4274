"""Elementwise kernels (map, zip, where, copy, gather, scatter_add), compiled from the ops'
scalar specification (`mytensor.core.primitives.scalar`).

Each kernel is a loop skeleton written once below and specialised per op by
`mytensor.backends._specialize.specialize`: the copy's free name ``scalar`` is bound to the
op's jitted scalar function, which numba inlines, so every op gets its own loop (a loop
that switched on the op inside would not vectorise). Three levels per op:

``_run_*(arrays, r, col, s, n, step)``
    ``n`` elements of one row: operand ``j`` at ``r[j] + (col + i) * s[j]``. Indices are
    cast to unsigned, which spares numba's negative-index wraparound (a branch per load that
    stops LLVM from vectorising); LLVM then versions the loop for unit strides. For ``zip``
    a stride-0 operand is read once, outside the loop (``x + 2.0``).
``_chunk(arrays, shape, strides, offsets, start, stop, step)``
    The elements ``[start, stop)`` in row-major order of the plan: an odometer over the
    outer dimensions, one ``run`` per row of the last dimension.
``_serialN(o, a, ..., shape, strides, offsets, start, stop, step)`` / ``_parallelN(...,
nchunks, step)``
    The entry points for ``N`` operands: ``chunk`` on one slice, or on ``nchunks`` equal
    slices in parallel (``prange``).

``arrays`` is the tuple of operand buffers, the output first. ``run`` and ``chunk`` are
inlined into the two entry points, so each op compiles to two functions, on first use, per
dtype, cached on disk (see `_specialize` for how the cache stays keyed to the
specification).
"""

from __future__ import annotations

import numpy as np

from mytensor.backends._specialize import compile_specification, specialize
from mytensor.backends.numba_cpu._jit import inline, jit, pjit, prange
from mytensor.backends.numba_cpu._vmath import MATH
from mytensor.core.primitives import scalar as spec

U = np.uint64


@inline
def _fmod(x, y):
    return np.fmod(x, y)  # numba has no math.fmod; IEEE fmod, NaN for x = inf or y = 0


# the specification, jitted for inlining (numpy's fmod standing in for math.fmod, and
# vectorisable substitutes for some of math's functions)
SCALAR = compile_specification(inline, _fmod=_fmod, math=MATH)


@inline
def _copy(x):
    return x


# -- one row -------------------------------------------------------------------------------
def _run_map(arrays, r, col, s, n, step):
    o, a = arrays
    po, pa, so, sa = r[0] + col * s[0], r[1] + col * s[1], s[0], s[1]
    for i in range(n):
        o[U(po + i * so)] = scalar(a[U(pa + i * sa)])  # noqa: F821 (bound per op)


def _run_zip(arrays, r, col, s, n, step):
    o, a, b = arrays
    po, pa, pb = r[0] + col * s[0], r[1] + col * s[1], r[2] + col * s[2]
    so, sa, sb = s[0], s[1], s[2]
    if sb == 0:
        y = b[U(pb)]
        for i in range(n):
            o[U(po + i * so)] = scalar(a[U(pa + i * sa)], y)  # noqa: F821
    elif sa == 0:
        x = a[U(pa)]
        for i in range(n):
            o[U(po + i * so)] = scalar(x, b[U(pb + i * sb)])  # noqa: F821
    else:
        for i in range(n):
            o[U(po + i * so)] = scalar(a[U(pa + i * sa)], b[U(pb + i * sb)])  # noqa: F821


def _run_where(arrays, r, col, s, n, step):
    o, c, a, b = arrays
    po, pc, pa, pb = (r[0] + col * s[0], r[1] + col * s[1], r[2] + col * s[2],
                      r[3] + col * s[3])  # fmt: skip
    so, sc, sa, sb = s[0], s[1], s[2], s[3]
    # both values loaded, then a select: loading only the chosen one is a branch per
    # element, which a random mask mispredicts half the time (7 ns an element). A stride-0
    # operand (a scalar, as in relu's gradient) is read once, outside the loop
    if sa == 0:
        x = a[U(pa)]
        for i in range(n):
            y = b[U(pb + i * sb)]
            o[U(po + i * so)] = x if c[U(pc + i * sc)] else y
    elif sb == 0:
        y = b[U(pb)]
        for i in range(n):
            x = a[U(pa + i * sa)]
            o[U(po + i * so)] = x if c[U(pc + i * sc)] else y
    else:
        for i in range(n):
            x = a[U(pa + i * sa)]
            y = b[U(pb + i * sb)]
            o[U(po + i * so)] = x if c[U(pc + i * sc)] else y


def _run_gather(arrays, r, col, s, n, step):
    # a's plan has stride 0 on the gathered dim; the index moves along it by `step`
    o, ix, a = arrays
    po, pi, pa = r[0] + col * s[0], r[1] + col * s[1], r[2] + col * s[2]
    for i in range(n):
        o[U(po + i * s[0])] = a[U(pa + i * s[2] + ix[U(pi + i * s[1])] * step)]


def _run_scatter_add(arrays, r, col, s, n, step):
    # o's plan has stride 0 on the scattered dim, kept last and whole by the plan, so the
    # parallel version splits rows and no two threads add into the same element
    o, ix, src = arrays
    po, pi, ps = r[0] + col * s[0], r[1] + col * s[1], r[2] + col * s[2]
    for i in range(n):
        o[U(po + i * s[0] + ix[U(pi + i * s[1])] * step)] += src[U(ps + i * s[2])]


# -- the rows of a slice, and slices in parallel ---------------------------------------------
def _chunk(arrays, shape, strides, offsets, start, stop, step):
    count = strides.shape[0]
    last = shape.shape[0] - 1
    inner = shape[last]
    r = offsets.copy()
    index = np.zeros(last + 1, np.int64)
    rest = start // inner
    col = start - rest * inner
    for d in range(last - 1, -1, -1):
        q = rest // shape[d]
        index[d] = rest - q * shape[d]
        for j in range(count):
            r[j] += index[d] * strides[j, d]
        rest = q
    pos = start
    while pos < stop:
        n = min(inner - col, stop - pos)
        run(arrays, r, col, strides[:, last], n, step)  # noqa: F821 (bound per op)
        pos += n
        col = 0
        d = last - 1
        while d >= 0:
            index[d] += 1
            for j in range(count):
                r[j] += strides[j, d]
            if index[d] < shape[d]:
                break
            for j in range(count):
                r[j] -= shape[d] * strides[j, d]
            index[d] = 0
            d -= 1


# -- the entry points: operands as separate arguments (numba types a tuple of arrays at
# each call from Python, ~0.5 us; separate arrays cost less), slices in parallel -------------
def _serial2(o, a, shape, strides, offsets, start, stop, step):
    chunk((o, a), shape, strides, offsets, start, stop, step)  # noqa: F821 (bound per op)


def _serial3(o, a, b, shape, strides, offsets, start, stop, step):
    chunk((o, a, b), shape, strides, offsets, start, stop, step)  # noqa: F821


def _serial4(o, c, a, b, shape, strides, offsets, start, stop, step):
    chunk((o, c, a, b), shape, strides, offsets, start, stop, step)  # noqa: F821


def _slices(total, nchunks, c):
    return c * total // nchunks, (c + 1) * total // nchunks


def _parallel2(o, a, shape, strides, offsets, nchunks, step):
    total = 1
    for d in range(shape.shape[0]):
        total *= shape[d]
    for c in prange(nchunks):
        start, stop = _slices(total, nchunks, c)
        chunk((o, a), shape, strides, offsets, start, stop, step)  # noqa: F821


def _parallel3(o, a, b, shape, strides, offsets, nchunks, step):
    total = 1
    for d in range(shape.shape[0]):
        total *= shape[d]
    for c in prange(nchunks):
        start, stop = _slices(total, nchunks, c)
        chunk((o, a, b), shape, strides, offsets, start, stop, step)  # noqa: F821


def _parallel4(o, c, a, b, shape, strides, offsets, nchunks, step):
    total = 1
    for d in range(shape.shape[0]):
        total *= shape[d]
    for k in prange(nchunks):
        start, stop = _slices(total, nchunks, k)
        chunk((o, c, a, b), shape, strides, offsets, start, stop, step)  # noqa: F821


def _parallel_rows3(o, ix, src, shape, strides, offsets, nchunks, step):
    # whole rows per slice: scatter_add's plan keeps the scattered dim last (see above)
    inner = shape[shape.shape[0] - 1]
    rows = 1
    for d in range(shape.shape[0] - 1):
        rows *= shape[d]
    for c in prange(nchunks):
        start, stop = _slices(rows, nchunks, c)
        chunk((o, ix, src), shape, strides, offsets, start * inner, stop * inner, step)  # noqa: F821


_ENTRIES = {2: (_serial2, _parallel2), 3: (_serial3, _parallel3), 4: (_serial4, _parallel4)}


def _build(name: str, operands: int, run_skeleton, parallel_skeleton=None, **bindings) -> tuple:
    run = inline(specialize(run_skeleton, name, **bindings))
    chunk = inline(specialize(_chunk, name, run=run))
    serial, parallel = _ENTRIES[operands]
    parallel = parallel_skeleton or parallel
    return (jit(specialize(serial, name, chunk=chunk)),
            pjit(specialize(parallel, name, chunk=chunk, _slices=_inline_slices)))  # fmt: skip


_inline_slices = inline(_slices)


_KERNELS: dict[tuple[str, str], tuple | None] = {
    ("where", ""): _build("where", 4, _run_where),
    ("copy", ""): _build("copy", 2, _run_map, scalar=_copy),
    ("gather", ""): _build("gather", 3, _run_gather),
    ("scatter_add", ""): _build("scatter_add", 3, _run_scatter_add, _parallel_rows3),
}


def kernels(op: str, kind: str = "", arity: int = 1) -> tuple | None:
    """``(chunk, parallel)`` for `op` on inputs of dtype kind `kind` ("float", "int",
    "uint", "bool"), or None where the specification has no scalar function for it.
    Nothing compiles here: numba compiles each on its first call."""
    key = (op, kind)
    found = _KERNELS.get(key, False)
    if found is False:
        function = spec.scalar_function(op, kind)
        found = None
        if function is not None:
            skeleton = _run_map if arity == 1 else _run_zip
            found = _build(f"{op}_{kind}", arity + 1, skeleton, scalar=SCALAR[function.__name__])
        _KERNELS[key] = found
    return found
