"""The LSTM cell's backward (`lstm_cell_backward`) as one kernel, instead of the
composite's twenty `zip` calls per step. (The forward runs numpy's SIMD sigmoid and tanh
on views: see the backend.)

Operands arrive as (buffer, offset, row stride, column stride): one compiled kernel per
dtype whatever the layouts. The kernel follows the contract's rounding order exactly, so
it matches the composite bit for bit.
"""

from __future__ import annotations

import numba

from mytensor.backends.numba_cpu._jit import CACHE_DIR

_njit = numba.njit(cache=CACHE_DIR is not None, error_model="numpy", nogil=True)


@_njit
def backward(d_gates, dg0, d_c, dc0, d_hc, h0, hr, hcol, saved, s0, c, c0, cr, cc, batch,
             hidden, one):  # fmt: skip
    # `one` is 1 in the buffers' dtype: every operation below rounds in that dtype;
    # d_gates, d_c and saved are C-contiguous from their offsets dg0, dc0, s0
    for b in range(batch):
        for j in range(hidden):
            row = s0 + b * 5 * hidden + j
            i, f, g = saved[row], saved[row + hidden], saved[row + 2 * hidden]
            o, t = saved[row + 3 * hidden], saved[row + 4 * hidden]
            at = h0 + b * hr + j * hcol
            d_h, d_c_new = d_hc[at], d_hc[at + hidden * hcol]
            dc = d_c_new + ((one - t * t) * o) * d_h
            out = dg0 + b * 4 * hidden + j
            d_gates[out] = (dc * g) * (i * (one - i))
            d_gates[out + hidden] = (dc * c[c0 + b * cr + j * cc]) * (f * (one - f))
            d_gates[out + 2 * hidden] = (dc * i) * (one - g * g)
            d_gates[out + 3 * hidden] = (d_h * t) * (o * (one - o))
            d_c[dc0 + b * hidden + j] = dc * f
