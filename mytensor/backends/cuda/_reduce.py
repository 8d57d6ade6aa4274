"""Reduction kernels: a shared-memory tree per output element, any reduced length.

A block is ``BX x BY`` threads and owns ``BX`` adjacent output elements (one column of
threads each). The ``BY`` threads of a column stride over that output's reduced
positions (``ty, ty + BY, ...``) accumulating privately, then halve a shared
``(BY, BX)`` array in ``log2(BY)`` steps. Nothing bounds the reduced length: longer
reductions only make each thread's private loop longer. Blocks loop over groups of
outputs (a block-stride loop), so the grid never has to match the output count.

A long reduction into few outputs (a whole tensor to a scalar) would leave the GPU to a
few blocks, so it runs in two passes (`split`): the reduced range of each output is
cut into ``pieces`` chunks, each reduced by its own block into a partial
(``kernel(..., pieces, chunk, ps)`` with the partials ``ps`` apart), and the partials
are reduced by a second launch. ``max``/``min`` partials are exact, and ``sum``/``prod``
partials keep the wide accumulator type. ``argmax``/``argmin`` never split.

Two shapes of block, one loop:

- ``rows`` (``BX = 1``): every thread of a block works on one output; for long
  reductions whose elements are adjacent in memory (``sum(axis=-1)``).
- ``lanes`` (``BX = 32`` on a GPU): a warp spans 32 adjacent outputs, so each load of a
  reduced position is coalesced across the warp (``sum(axis=0)`` of a row-major
  matrix), and short reductions don't leave most of a block idle.

The loops are written once (`_values`, `_positions`) and specialised per op and block
shape (`_specialize.specialize`): ``combine`` is the op's scalar function from the
specification (``add``, ``mul``, ``maximum``, ``minimum``, ``logical_or``,
``logical_and``), used both to accumulate and to merge the tree; ``start`` gives a
thread's initial accumulator; ``BX``, ``BY`` and the accumulator type ``ACC`` are
constants of each copy.

Accumulators: float64 for float inputs (float32 sums keep their digits, like numba_cpu),
int64 for integers, bool for ``any``/``all``. ``zero`` (a kernel argument) types the
accumulator; for floats it is -0.0, the true identity of addition, so ``sum([-0.0])``
stays -0.0. ``max``/``min``/``argmax``/``argmin`` start from the output's first reduced
element, which is neutral for them (max(x, x0) with x0 one of the inputs), so idle
threads need no identity. Ties and NaN follow numpy: the first maximum wins, a NaN beats
every number and the first NaN wins.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
from numba import cuda

from mytensor.backends._specialize import specialize
from mytensor.backends.cuda._runtime import REDUCE_BLOCK, SIMULATOR, jit
from mytensor.backends.cuda._scalar import DIGEST, SCALAR, device

__all__ = ["LAYOUTS", "arg_better", "kernel", "split"]

# split a reduction into partials when it has fewer outputs than SPLIT_OUTPUTS and more
# than SPLIT_MIN reduced elements per output; each partial covers SPLIT_CHUNK at least
SPLIT_OUTPUTS, SPLIT_MIN, SPLIT_CHUNK, SPLIT_PIECES = (
    (2, 64, 32, 8) if SIMULATOR else (264, 1 << 15, 1 << 13, 1024)
)


def split(op: str, outputs: int, reduced: int) -> int:
    """How many pieces to cut each output's reduced range into (1: no split)."""
    if op in ("argmax", "argmin") or outputs >= SPLIT_OUTPUTS or reduced < SPLIT_MIN:
        return 1
    return min(SPLIT_PIECES, -(-reduced // SPLIT_CHUNK))


# (BX, BY) per block shape; BY is a power of two
LAYOUTS = {"rows": (1, REDUCE_BLOCK), "lanes": (2, 4) if SIMULATOR else (32, 8)}


@device
def arg_better(v, j, best, where, largest):
    """Whether (value v at position j) beats (best at where) for argmax (argmin)."""
    if best != best:
        return v != v and j < where
    if v != v:
        return True
    if v == best:
        return j < where
    return v > best if largest else v < best


@device
def _locate(kept, kshape, kas, kos, ia, io):
    """`ia` and `io` moved to the kept position `kept` (row-major over `kshape`)."""
    for d in range(len(kshape) - 1, -1, -1):
        q = kept // kshape[d]
        c = kept - q * kshape[d]
        ia += c * kas[d]
        io += c * kos[d]
        kept = q
    return ia, io


@device
def _offset(j, rshape, ras):
    """The offset of reduced position `j` (row-major over `rshape`)."""
    offset = 0
    for d in range(len(rshape) - 1, -1, -1):
        q = j // rshape[d]
        offset += (j - q * rshape[d]) * ras[d]
        j = q
    return offset


# a thread's first accumulator: the op's identity, or the output's first element
@device
def _zero(a, ia, zero):
    return zero


@device
def _one(a, ia, zero):
    return zero + 1


@device
def _first(a, ia, zero):
    return a[ia] + zero  # in the accumulator's type; -0.0 + -0.0 keeps the sign


@device
def _false(a, ia, zero):
    return zero != zero


@device
def _true(a, ia, zero):
    return zero == zero


# op -> (the specification's scalar function that combines, start)
_VALUE_OPS = {"sum": ("add", _zero), "prod": ("mul", _one), "max": ("maximum", _first),
              "min": ("minimum", _first), "any": ("logical_or", _false),
              "all": ("logical_and", _true)}  # fmt: skip


def _values(outputs, reduced, kshape, kas, kos, rshape, ras, o, po, a, pa, zero,
            pieces, chunk, ps):  # fmt: skip
    vals = cuda.shared.array((BY, BX), ACC)  # noqa: F821 (BY, BX, ACC: bound per copy)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    total = outputs * pieces
    k0 = cuda.blockIdx.x * BX  # noqa: F821
    while k0 < total:
        k = k0 + tx
        io = po
        if k < total:
            kept = k // pieces
            piece = k - kept * pieces
            ia, io = _locate(kept, kshape, kas, kos, pa, po + piece * ps)
            acc = start(a, ia, zero)  # noqa: F821 (bound per op)
            j = piece * chunk + ty
            stop = min(reduced, (piece + 1) * chunk)
            while j < stop:
                acc = combine(acc, a[ia + _offset(j, rshape, ras)])  # noqa: F821
                j += BY  # noqa: F821
            vals[ty, tx] = acc
        cuda.syncthreads()
        half = BY // 2  # noqa: F821
        while half > 0:
            if ty < half and k < total:
                vals[ty, tx] = combine(vals[ty, tx], vals[ty + half, tx])  # noqa: F821
            cuda.syncthreads()
            half //= 2
        if ty == 0 and k < total:
            o[io] = vals[0, tx]
        cuda.syncthreads()  # vals is rewritten by the next group
        k0 += cuda.gridDim.x * BX  # noqa: F821


def _positions(outputs, reduced, kshape, kas, kos, rshape, ras, o, po, a, pa, zero,
               pieces, chunk, ps):  # fmt: skip
    vals = cuda.shared.array((BY, BX), ACC)  # noqa: F821
    idxs = cuda.shared.array((BY, BX), numba.int64)  # noqa: F821
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    total = outputs * pieces
    k0 = cuda.blockIdx.x * BX  # noqa: F821
    while k0 < total:
        k = k0 + tx
        io = po
        if k < total:
            kept = k // pieces
            piece = k - kept * pieces
            ia, io = _locate(kept, kshape, kas, kos, pa, po + piece * ps)
            acc = a[ia] + zero
            best = 0
            j = piece * chunk + ty
            stop = min(reduced, (piece + 1) * chunk)
            while j < stop:
                v = a[ia + _offset(j, rshape, ras)]
                if arg_better(v, j, acc, best, LARGEST):  # noqa: F821
                    acc = v
                    best = j
                j += BY  # noqa: F821
            vals[ty, tx] = acc
            idxs[ty, tx] = best
        cuda.syncthreads()
        half = BY // 2  # noqa: F821
        while half > 0:
            if (ty < half and k < total
                    and arg_better(vals[ty + half, tx], idxs[ty + half, tx], vals[ty, tx],
                                   idxs[ty, tx], LARGEST)):  # noqa: F821  # fmt: skip
                vals[ty, tx] = vals[ty + half, tx]
                idxs[ty, tx] = idxs[ty + half, tx]
            cuda.syncthreads()
            half //= 2
        if ty == 0 and k < total:
            o[io] = idxs[0, tx]
        cuda.syncthreads()
        k0 += cuda.gridDim.x * BX  # noqa: F821


_KERNELS: dict[tuple[str, str, str], Callable] = {}


def kernel(op: str, layout: str, acc: str) -> tuple[Callable, tuple[int, int]]:
    """The reduction kernel of `op` for block shape `layout` (see `LAYOUTS`) and
    accumulator kind `acc` ("float" or "int"; ``any``/``all`` accumulate bools), with its
    (BX, BY) block. Compiled on first launch."""
    bx, by = LAYOUTS[layout]
    key = (op, layout, acc)
    compiled = _KERNELS.get(key)
    if compiled is None:
        accumulator = numba.float64 if acc == "float" else numba.int64
        constants = {"BX": bx, "BY": by, "ACC": accumulator}
        name = f"{op}_{bx}x{by}_{acc}_{DIGEST}"  # every constant: see _runtime.jit
        if op in ("argmax", "argmin"):
            skeleton = specialize(_positions, name, LARGEST=op == "argmax", **constants)
        else:
            combine, start = _VALUE_OPS[op]
            if op in ("any", "all"):
                constants["ACC"] = numba.boolean
            skeleton = specialize(_values, name, combine=SCALAR[combine], start=start,
                                  **constants)  # fmt: skip
        compiled = _KERNELS[key] = jit(skeleton)
    return compiled, (bx, by)
