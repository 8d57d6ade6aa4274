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
``_parallel(arrays, shape, strides, offsets, nchunks, step)``
    ``chunk`` on ``nchunks`` equal slices in parallel (``prange``).

``arrays`` is the tuple of operand buffers, the output first. Kernels compile on first use,
per op and dtype, and are cached on disk (see `_specialize` for how the cache stays keyed to
the specification).
"""

from __future__ import annotations

import numpy as np

from mytensor.backends._specialize import compile_specification, specialize
from mytensor.backends.numba_cpu._jit import inline, jit, pjit, prange
from mytensor.core.primitives import scalar as spec

U = np.uint64


@inline
def _fmod(x, y):
    return np.fmod(x, y)  # numba has no math.fmod; IEEE fmod, NaN for x = inf or y = 0


# the specification, jitted for inlining (numpy's fmod standing in for math.fmod)
SCALAR = compile_specification(inline, _fmod=_fmod)


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
    for i in range(n):
        o[U(po + i * s[0])] = a[U(pa + i * s[2])] if c[U(pc + i * s[1])] else b[U(pb + i * s[3])]


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
    s = strides[:, last].copy()
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
        run(arrays, r, col, s, n, step)  # noqa: F821 (bound per op)
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


def _parallel(arrays, shape, strides, offsets, nchunks, step):
    total = 1
    for d in range(shape.shape[0]):
        total *= shape[d]
    for c in prange(nchunks):
        chunk(arrays, shape, strides, offsets, c * total // nchunks,  # noqa: F821
              (c + 1) * total // nchunks, step)  # fmt: skip


def _parallel_rows(arrays, shape, strides, offsets, nchunks, step):
    inner = shape[shape.shape[0] - 1]
    rows = 1
    for d in range(shape.shape[0] - 1):
        rows *= shape[d]
    for c in prange(nchunks):
        chunk(arrays, shape, strides, offsets, c * rows // nchunks * inner,  # noqa: F821
              (c + 1) * rows // nchunks * inner, step)  # fmt: skip


def _build(name: str, run_skeleton, parallel_skeleton=_parallel, **bindings) -> tuple:
    run = jit(specialize(run_skeleton, name, **bindings))
    chunk = jit(specialize(_chunk, name, run=run))
    return chunk, pjit(specialize(parallel_skeleton, name, chunk=chunk))


_KERNELS: dict[tuple[str, str], tuple | None] = {
    ("where", ""): _build("where", _run_where),
    ("copy", ""): _build("copy", _run_map, scalar=_copy),
    ("gather", ""): _build("gather", _run_gather),
    ("scatter_add", ""): _build("scatter_add", _run_scatter_add, _parallel_rows),
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
            found = _build(f"{op}_{kind}", skeleton, scalar=SCALAR[function.__name__])
        _KERNELS[key] = found
    return found
