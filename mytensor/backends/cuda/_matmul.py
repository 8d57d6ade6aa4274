"""Tiled shared-memory matmul: batched, any sizes, strided operands.

``out[z, i, j] = sum_t a[z, i, t] * b[z, t, j]`` over a flattened batch ``z``. A block of
``TILE x TILE`` threads computes one ``TILE x TILE`` tile of one batch's output: for each
step of ``TILE`` along ``k`` it stages a tile of ``a`` and one of ``b`` in shared memory
(zeros past the edges, so no size needs to be a multiple of the tile), synchronizes,
and accumulates a row-times-column of the staged tiles. Blocks walk the flattened
(batch, tile-row, tile-column) space in a grid-stride loop, so no grid dimension limit
applies. ``k = 0`` leaves every accumulator at zero.

The batch dimensions (already broadcast by the core, possibly stride 0) travel as a
shape tuple with one stride tuple per operand, like every other kernel's metadata.
The accumulator has the output's dtype (float32 accumulates in float32, as cuBLAS does).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import cuda, from_dtype

from mytensor.backends._specialize import specialize
from mytensor.backends.cuda._runtime import TILE, jit

__all__ = ["kernel"]


def _tiled(n, m, k, batch, bshape, o, po, sbo, so0, so1, a, pa, sba, sa0, sa1,
           b, pb, sbb, sb0, sb1, zero):  # fmt: skip
    tile_a = cuda.shared.array((TILE, TILE), ACC)  # noqa: F821 (ACC: bound per dtype)
    tile_b = cuda.shared.array((TILE, TILE), ACC)  # noqa: F821
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tiles_n = (n + TILE - 1) // TILE
    tiles_m = (m + TILE - 1) // TILE
    total = batch * tiles_n * tiles_m
    t = cuda.blockIdx.x
    while t < total:
        z = t // (tiles_n * tiles_m)
        rest = t - z * (tiles_n * tiles_m)
        row = (rest // tiles_m) * TILE + ty
        col = (rest - (rest // tiles_m) * tiles_m) * TILE + tx
        ia = pa
        ib = pb
        io = po
        r = z
        for d in range(len(bshape) - 1, -1, -1):
            q = r // bshape[d]
            c = r - q * bshape[d]
            ia += c * sba[d]
            ib += c * sbb[d]
            io += c * sbo[d]
            r = q
        acc = zero
        for k0 in range(0, k, TILE):
            if row < n and k0 + tx < k:
                tile_a[ty, tx] = a[ia + row * sa0 + (k0 + tx) * sa1]
            else:
                tile_a[ty, tx] = zero
            if col < m and k0 + ty < k:
                tile_b[ty, tx] = b[ib + (k0 + ty) * sb0 + col * sb1]
            else:
                tile_b[ty, tx] = zero
            cuda.syncthreads()
            for s in range(TILE):
                acc += tile_a[ty, s] * tile_b[s, tx]
            cuda.syncthreads()
        if row < n and col < m:
            o[io + row * so0 + col * so1] = acc
        t += cuda.gridDim.x


_KERNELS: dict[np.dtype, Callable] = {}


def kernel(dtype: np.dtype) -> Callable:
    """The tiled matmul kernel accumulating in `dtype` (compiled on first launch)."""
    compiled = _KERNELS.get(dtype)
    if compiled is None:
        tiled = specialize(_tiled, f"{dtype}_{TILE}", ACC=from_dtype(dtype))  # see _runtime.jit
        compiled = _KERNELS[dtype] = jit(tiled)
    return compiled
