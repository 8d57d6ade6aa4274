"""Random fill: Philox4x32-10, a counter-based generator (Salmon et al., SC'11).

Element ``i`` (row-major position in the output) is the Philox block of counter
``(i_lo, i_hi, 0, 0)`` under key ``(seed_lo, seed_hi)``: four 32-bit words that depend
on the seed and the position alone, so the values are the same for any launch
configuration, on a GPU or in the simulator. The 32-bit words are held in uint64, so
every product of two words fits without overflow (and without the simulator's overflow
warnings).

- uniform float64: 53 bits from two words, ``[0, 1)``; float32: 24 bits from one word,
  so rounding can never reach 1.0.
- normal: Box-Muller from two float64 uniforms (one made ``(0, 1]`` for the log).
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from mytensor.backends.cuda._runtime import MATH as math

__all__ = ["NORMAL", "UNIFORM", "fill", "split_seed"]

UNIFORM, NORMAL = 0, 1
_U = np.uint64
MASK = _U(0xFFFFFFFF)
SHIFT32 = _U(32)
M0, M1 = _U(0xD2511F53), _U(0xCD9E8D57)
W0, W1 = _U(0x9E3779B9), _U(0xBB67AE85)
SHIFT5, SHIFT6, SHIFT8 = _U(5), _U(6), _U(8)
TWO_26, TWO_53, TWO_24 = 67108864.0, 9007199254740992.0, 16777216.0


def split_seed(seed: int) -> tuple[np.uint64, np.uint64]:
    """The two 32-bit key words of a seed (its low 64 bits)."""
    seed &= (1 << 64) - 1
    return _U(seed & 0xFFFFFFFF), _U(seed >> 32)


@cuda.jit(device=True)
def philox(c0, c1, c2, c3, k0, k1):
    """Ten Philox4x32 rounds; all words are uint64 values below 2**32."""
    for _ in range(10):
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = ((p1 >> SHIFT32) ^ c1 ^ k0, p1 & MASK,
                          (p0 >> SHIFT32) ^ c3 ^ k1, p0 & MASK)  # fmt: skip
        k0 = (k0 + W0) & MASK
        k1 = (k1 + W1) & MASK
    return c0, c1, c2, c3


@cuda.jit
def fill(n, shape, o, po, so, k0, k1, distribution, single):
    """o[position i] = sample i of the stream (uniform or normal; `single`: float32 out)."""
    i = cuda.grid(1)
    while i < n:
        io = po
        r = i
        for d in range(len(shape) - 1, -1, -1):
            q = r // shape[d]
            io += (r - q * shape[d]) * so[d]
            r = q
        ui = _U(i)
        w0, w1, w2, w3 = philox(ui & MASK, ui >> SHIFT32, _U(0), _U(0), k0, k1)
        u = ((w0 >> SHIFT5) * TWO_26 + (w1 >> SHIFT6)) / TWO_53
        if distribution == UNIFORM:
            if single:
                u = (w0 >> SHIFT8) / TWO_24
            o[io] = u
        else:
            u2 = ((w2 >> SHIFT5) * TWO_26 + (w3 >> SHIFT6)) / TWO_53
            radius = math.sqrt(-2.0 * math.log(1.0 - u))
            o[io] = radius * math.cos(2.0 * math.pi * u2)
        i += cuda.gridsize(1)
