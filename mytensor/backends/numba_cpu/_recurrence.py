"""A layer direction's LSTM recurrence as one numba kernel each way (`lstm_sequence`,
`lstm_sequence_backward`): per step numpy's BLAS product (`_gemm`) and the cell's rows of
`_cells`, with no Python between the steps.

Called from Python, a step cost a product, an add and a cell kernel plus three calls'
overhead: at batch 16, hidden 128, 32 steps, the forward took 1.69 ms, of which 0.73
outside the products; in one kernel 0.88-0.93 ms. The products are the composite's
(`_blas_threads.matmul`): the same GEMM, on one BLAS thread below `SMALL_PRODUCT`, a
short product as two halves of rows, so the values are the composite's bit for bit.

The batch's rows never meet: row b of every step reads only row b of the step before
(``h @ W`` row by row), forward and backward. So where the products run as two halves
anyway, the halves are `parts` that run the whole recurrence each, on two threads at
once (`*_parallel`): one parallel launch per direction, with no barrier between steps.
"""

from __future__ import annotations

import numba
import numpy as np

from mytensor.backends.numba_cpu import _gemm
from mytensor.backends.numba_cpu._cells import _backward_row, _forward_row_f32
from mytensor.backends.numba_cpu._jit import CACHE_DIR, prange

_CACHE = CACHE_DIR is not None
_njit = numba.njit(cache=_CACHE, error_model="numpy", nogil=True)
_pnjit = numba.njit(cache=_CACHE, error_model="numpy", nogil=True, parallel=True)
_inline = numba.njit(inline="always")
U = np.uint64
NO_TRANS = _gemm.NO_TRANS


@_inline
def _forward_rows(fn, states, s0, saved, v0, gi, gi0, gir, gic, w_t, w0, gates, c_prev, steps,
                  batch, hidden, reverse, lo, hi):  # fmt: skip
    """Rows ``lo .. hi`` of the batch through every step. `gates` (B * 4H) and `c_prev`
    (B * H) are scratch, used in these rows: the previous c is copied out of `states` so
    that the cell's loops, which write `states`, read another array (and vectorise)."""
    h2, h4 = 2 * hidden, 4 * hidden
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        previous, written = (t + 1, t) if reverse else (t, t + 1)
        before = s0 + previous * batch * h2
        _gemm.gemm(fn, NO_TRANS, NO_TRANS, hi - lo, h4, hidden, states[before + lo * h2 :], h2,
                   w_t[w0:], h4, 0.0, gates[lo * h4 :], h4)  # fmt: skip
        for b in range(lo, hi):
            row = gi0 + (t * batch + b) * gir
            if gic == 1:
                for j in range(h4):
                    gates[U(b * h4 + j)] = gates[U(b * h4 + j)] + gi[U(row + j)]
            else:
                for j in range(h4):
                    gates[U(b * h4 + j)] = gates[U(b * h4 + j)] + gi[U(row + j * gic)]
            for j in range(hidden):
                c_prev[U(b * hidden + j)] = states[U(before + b * h2 + hidden + j)]
        for b in range(lo, hi):
            _forward_row_f32(states, s0 + (written * batch + b) * h2, saved,
                             v0 + (t * batch + b) * 5 * hidden, gates, b * h4, 1, c_prev,
                             b * hidden, 1, hidden)  # fmt: skip


@_inline
def _backward_rows(fn, d_gates, g0, d_h, dh0, d_c, dc0, d_hc, hc0, hs0, hs1, hs2, states, s0,
                   saved, v0, w, w0, trans_w, ldw, carry, steps, batch, hidden, reverse, one,
                   lo, hi):  # fmt: skip
    """Rows ``lo .. hi`` back through every step; `carry` (B * 2H) is scratch."""
    h2, h4 = 2 * hidden, 4 * hidden
    for k in range(steps):
        t = k if reverse else steps - 1 - k
        previous = t + 1 if reverse else t
        for b in range(lo, hi):
            src = hc0 + t * hs0 + b * hs1
            if k:
                for j in range(hidden):
                    carry[U(b * h2 + j)] = d_hc[U(src + j * hs2)] + d_h[U(dh0 + b * hidden + j)]
                for j in range(hidden):
                    carry[U(b * h2 + hidden + j)] = (d_hc[U(src + (hidden + j) * hs2)]
                                                     + d_c[U(dc0 + b * hidden + j)])  # fmt: skip
            else:
                for j in range(h2):
                    carry[U(b * h2 + j)] = d_hc[U(src + j * hs2)]
        for b in range(lo, hi):
            _backward_row(d_gates, g0 + (t * batch + b) * h4, d_c, dc0 + b * hidden, carry,
                          b * h2, 1, saved, v0 + (t * batch + b) * 5 * hidden, states,
                          s0 + (previous * batch + b) * h2 + hidden, 1, hidden, one)  # fmt: skip
        _gemm.gemm(fn, NO_TRANS, trans_w, hi - lo, hidden, h4,
                   d_gates[g0 + (t * batch + lo) * h4 :], h4, w[w0:], ldw, 0.0,
                   d_h[dh0 + lo * hidden :], hidden)  # fmt: skip


@_njit
def forward_f32(fn, parts, states, s0, saved, v0, gi, gi0, gir, gic, w_t, w0, gates, c_prev,
                steps, batch, hidden, reverse):  # fmt: skip
    """The contract's `lstm_sequence`, float32, the batch in `parts` one after the other."""
    for part in range(parts):
        _forward_rows(fn, states, s0, saved, v0, gi, gi0, gir, gic, w_t, w0, gates, c_prev,
                      steps, batch, hidden, reverse, part * batch // parts,
                      (part + 1) * batch // parts)  # fmt: skip


@_pnjit
def forward_f32_parallel(fn, parts, states, s0, saved, v0, gi, gi0, gir, gic, w_t, w0, gates,
                         c_prev, steps, batch, hidden, reverse):  # fmt: skip
    """`forward_f32` with the parts on numba's threads."""
    for part in prange(parts):
        _forward_rows(fn, states, s0, saved, v0, gi, gi0, gir, gic, w_t, w0, gates, c_prev,
                      steps, batch, hidden, reverse, part * batch // parts,
                      (part + 1) * batch // parts)  # fmt: skip


@_njit
def backward(fn, parts, d_gates, g0, d_h, dh0, d_c, dc0, d_hc, hc0, hs0, hs1, hs2, states,
             s0, saved, v0, w, w0, trans_w, ldw, carry, steps, batch, hidden, reverse,
             one):  # fmt: skip
    """The contract's `lstm_sequence_backward`, float32 or float64 (`one` is 1 in that
    dtype). `d_h`/`d_c` (from `dh0`/`dc0`) hold the running gradients; `w` is W_hh (4H,
    H) from `w0`, row-major with leading dim `ldw`, or its transpose's when `trans_w` is
    TRANS."""
    for part in range(parts):
        _backward_rows(fn, d_gates, g0, d_h, dh0, d_c, dc0, d_hc, hc0, hs0, hs1, hs2, states,
                       s0, saved, v0, w, w0, trans_w, ldw, carry, steps, batch, hidden,
                       reverse, one, part * batch // parts,
                       (part + 1) * batch // parts)  # fmt: skip


@_pnjit
def backward_parallel(fn, parts, d_gates, g0, d_h, dh0, d_c, dc0, d_hc, hc0, hs0, hs1, hs2,
                      states, s0, saved, v0, w, w0, trans_w, ldw, carry, steps, batch, hidden,
                      reverse, one):  # fmt: skip
    """`backward` with the parts on numba's threads."""
    for part in prange(parts):
        _backward_rows(fn, d_gates, g0, d_h, dh0, d_c, dc0, d_hc, hc0, hs0, hs1, hs2, states,
                       s0, saved, v0, w, w0, trans_w, ldw, carry, steps, batch, hidden,
                       reverse, one, part * batch // parts,
                       (part + 1) * batch // parts)  # fmt: skip
