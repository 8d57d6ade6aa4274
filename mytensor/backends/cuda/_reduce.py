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

Two shapes of block, one source:

- ``rows`` (``BX = 1``): every thread of a block works on one output; for long
  reductions whose elements are adjacent in memory (``sum(axis=-1)``).
- ``lanes`` (``BX = 32`` on a GPU): a warp spans 32 adjacent outputs, so each load of a
  reduced position is coalesced across the warp (``sum(axis=0)`` of a row-major
  matrix), and short reductions don't leave most of a block idle.

Accumulators: float64 for float inputs (float32 sums keep their digits, like numba_cpu)
and int64 for integers and bools. ``zero`` (a kernel argument) types the accumulator;
for floats it is -0.0, the true identity of addition, so ``sum([-0.0])`` stays -0.0.
``max``/``min``/``argmax``/``argmin`` start from the output's first reduced element,
which is neutral for them (max(x, x0) with x0 one of the inputs), so idle threads need
no identity. Ties and NaN follow numpy: the first maximum wins, a NaN beats every
number and the first NaN wins.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
from numba import cuda

from mytensor.backends.cuda import _scalar
from mytensor.backends.cuda._runtime import REDUCE_BLOCK, SIMULATOR

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

_INIT = {"sum": "acc = zero", "prod": "acc = zero + 1", "any": "acc = zero",
         "all": "acc = zero + 1", "max": "acc = a[ia] + zero", "min": "acc = a[ia] + zero",
         "argmax": "acc = a[ia] + zero\n_best = 0",
         "argmin": "acc = a[ia] + zero\n_best = 0"}  # fmt: skip
_STEP = {"sum": "acc += v", "prod": "acc *= v", "max": "acc = fmax(acc, v)",
         "min": "acc = fmin(acc, v)", "any": "if v != 0:\n    acc = zero + 1",
         "all": "if v == 0:\n    acc = zero",
         "argmax": "if arg_better(v, j, acc, _best, True):\n    acc = v\n    _best = j",
         "argmin": "if arg_better(v, j, acc, _best, False):\n    acc = v\n    _best = j",
         }  # fmt: skip
_MERGE = {"sum": "vals[ty, tx] += vals[ty + half, tx]",
          "prod": "vals[ty, tx] *= vals[ty + half, tx]",
          "max": "vals[ty, tx] = fmax(vals[ty, tx], vals[ty + half, tx])",
          "min": "vals[ty, tx] = fmin(vals[ty, tx], vals[ty + half, tx])",
          "any": "vals[ty, tx] = vals[ty, tx] | vals[ty + half, tx]",
          "all": "vals[ty, tx] = vals[ty, tx] & vals[ty + half, tx]"}  # fmt: skip
for _op, _largest in (("argmax", True), ("argmin", False)):
    _MERGE[_op] = (
        f"if arg_better(vals[ty + half, tx], idxs[ty + half, tx], vals[ty, tx], "
        f"idxs[ty, tx], {_largest}):\n"
        "    vals[ty, tx] = vals[ty + half, tx]\n"
        "    idxs[ty, tx] = idxs[ty + half, tx]"
    )
_FINAL = {"any": "vals[0, tx] != 0", "all": "vals[0, tx] != 0", "argmax": "idxs[0, tx]",
          "argmin": "idxs[0, tx]"}  # fmt: skip


@cuda.jit(device=True)
def arg_better(v, j, best, where, largest):
    """Whether (value v at position j) beats (best at where) for argmax (argmin)."""
    if best != best:
        return v != v and j < where
    if v != v:
        return True
    if v == best:
        return j < where
    return v > best if largest else v < best


def _indent(text: str, pad: str) -> list[str]:
    return [pad + line for line in text.split("\n")]


def _unravel(index: str, shape: str, targets: tuple[tuple[str, str], ...], pad: str) -> list[str]:
    """Lines adding the offsets of row-major `index` over `shape` to each (var, strides)."""
    p = "    "
    return [
        f"{pad}r = {index}",
        f"{pad}for d in range(len({shape}) - 1, -1, -1):",
        f"{pad}{p}q = r // {shape}[d]",
        f"{pad}{p}c = r - q * {shape}[d]",
        *(f"{pad}{p}{var} += c * {strides}[d]" for var, strides in targets),
        f"{pad}{p}r = q",
    ]


def source(op: str) -> str:
    """The Python source of the reduction kernel of `op` (BX, BY and ACC are globals)."""
    p = "    "
    arg = op in ("argmax", "argmin")
    lines = [
        "def kernel(outputs, reduced, kshape, kas, kos, rshape, ras, o, po, a, pa, zero,",
        "           pieces, chunk, ps):",
        f"{p}vals = cuda.shared.array((BY, BX), ACC)",
        *([f"{p}idxs = cuda.shared.array((BY, BX), INDEX)"] if arg else []),
        f"{p}tx = cuda.threadIdx.x",
        f"{p}ty = cuda.threadIdx.y",
        f"{p}total = outputs * pieces",
        f"{p}k0 = cuda.blockIdx.x * BX",
        f"{p}while k0 < total:",
        f"{p * 2}k = k0 + tx",
        f"{p * 2}ia = pa",
        f"{p * 2}io = po",
        f"{p * 2}if k < total:",
        f"{p * 3}kept = k // pieces",
        f"{p * 3}piece = k - kept * pieces",
        f"{p * 3}io += piece * ps",
        *_unravel("kept", "kshape", (("ia", "kas"), ("io", "kos")), p * 3),
        *_indent(_INIT[op], p * 3),
        f"{p * 3}j = piece * chunk + ty",
        f"{p * 3}stop = min(reduced, (piece + 1) * chunk)",
        f"{p * 3}while j < stop:",
        f"{p * 4}ja = ia",
        *_unravel("j", "rshape", (("ja", "ras"),), p * 4),
        f"{p * 4}v = a[ja]",
        *_indent(_STEP[op], p * 4),
        f"{p * 4}j += BY",
        f"{p * 3}vals[ty, tx] = acc",
        *([f"{p * 3}idxs[ty, tx] = _best"] if arg else []),
        f"{p * 2}cuda.syncthreads()",
        f"{p * 2}half = BY // 2",
        f"{p * 2}while half > 0:",
        f"{p * 3}if ty < half and k < total:",
        *_indent(_MERGE[op], p * 4),
        f"{p * 3}cuda.syncthreads()",
        f"{p * 3}half //= 2",
        f"{p * 2}if ty == 0 and k < total:",
        f"{p * 3}o[io] = {_FINAL.get(op, 'vals[0, tx]')}",
        f"{p * 2}cuda.syncthreads()",  # vals is rewritten by the next group
        f"{p * 2}k0 += cuda.gridDim.x * BX",
    ]
    return "\n".join(lines) + "\n"


_KERNELS: dict[tuple[str, str, str], Callable] = {}


def kernel(op: str, layout: str, acc: str) -> tuple[Callable, tuple[int, int]]:
    """The compiled reduction kernel of `op` for block shape `layout` (see `LAYOUTS`) and
    accumulator kind `acc` ("float" or "int"), with its (BX, BY) block."""
    bx, by = LAYOUTS[layout]
    key = (op, layout, acc)
    compiled = _KERNELS.get(key)
    if compiled is None:
        namespace = {
            "cuda": cuda, "BX": bx, "BY": by, "INDEX": numba.int64,
            "ACC": numba.float64 if acc == "float" else numba.int64,
            "fmax": _scalar.fmax, "fmin": _scalar.fmin, "arg_better": arg_better,
        }  # fmt: skip
        exec(compile(source(op), f"<mytensor.cuda reduce.{op}>", "exec"), namespace)
        compiled = _KERNELS[key] = cuda.jit(namespace["kernel"])
    return compiled, (bx, by)
