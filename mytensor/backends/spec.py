"""The backend contract: what a compute backend must provide, and how it plugs in.

A backend owns memory and kernels, nothing else. Every kernel receives
`Strided` descriptors — ``(buffer, shape, strides, offset, dtype)`` with strides
and offset counted in elements — that the core has already broadcast (stride-0
views), promoted (all inputs of a ``zip`` share the output's dtype, except
comparisons, whose output is bool) and allocated. Autograd, broadcasting and
dtype promotion never reach a backend.

Plugging in is pluggy over the entry-point group ``mytensor.backends``: the
entry point names a module (or object) carrying a ``mytensor_backends`` hook
implementation that returns `BackendEntry` records. Nothing heavy runs then;
the factory runs the first time someone uses the backend.

Required primitives
-------------------
``allocate(size, dtype)``
    A new uninitialised buffer of ``size`` elements.
``from_host(array)``
    A new buffer holding a 1-d C-contiguous numpy array (already the right dtype).
``to_host(src)``
    A numpy array of ``src.shape`` and ``src.dtype`` with the values of ``src``.
``copy(out, src)``
    Write ``src`` into the view ``out`` (same shape), casting as numpy's
    ``astype`` does when the dtypes differ (float to int truncates toward zero,
    anything to bool is ``!= 0``).
``map(op, out, a)``
    ``out = op(a)`` elementwise, ``op`` one of `MAP_OPS`.
``zip(op, out, a, b)``
    ``out = op(a, b)`` elementwise, ``op`` one of `ZIP_OPS`.
``where(out, cond, a, b)``
    ``out = cond ? a : b``; ``cond`` is bool.
``reduce(op, out, a, dims)``
    Reduce ``a`` over the axes ``dims`` (a sorted tuple) into ``out``, which has
    ``a``'s rank with size 1 on the reduced axes. ``op`` is one of `REDUCE_OPS`;
    for ``argmax``/``argmin`` ``dims`` has one axis and ``out`` is int64. A
    reduction over zero elements gives the op's identity (sum 0, prod 1, any
    False, all True); the core never asks for an empty max/min/argmax/argmin.
    ``sum``/``prod`` accumulate in ``out.dtype`` (int64 for integer and bool
    inputs); ``any``/``all`` read a bool input.

Optional primitives (the core has a composite default for each)
---------------------------------------------------------------
``matmul(out, a, b)``
    Batched ``out[..., i, j] = sum_k a[..., i, k] * b[..., k, j]``; the batch
    dimensions of all three are equal (already broadcast by the core).
``gather(out, a, index, dim)``
    ``out[i][j] = a[i][index[i][j]]`` along ``dim`` (shown for ``dim=1``);
    ``index`` is int64 with ``out``'s shape, already bounds-checked.
``scatter_add(out, index, src, dim)``
    ``out[i][index[i][j]] += src[i][j]`` along ``dim``, accumulating repeats.
``random(out, distribution, seed)``
    Fill ``out`` with ``"uniform"`` [0, 1) or ``"normal"`` (0, 1) samples from a
    stream determined by ``seed`` alone.
``softmax(out, a, dim, log)``
    ``exp(a - m) / sum(exp(a - m))`` along ``dim``, ``m`` the maximum along ``dim``
    (NaN-propagating); with ``log``, ``(a - m') - log(sum(exp(a - m')))`` where ``m'`` is
    ``m`` except 0 for a row of only -inf. ``a`` and ``out`` are float of one shape and
    dtype, not empty. A row holding NaN or +inf, or only -inf, gives NaN throughout.
``sgd_update(param, grad, momentum_buffer, step)``
    One SGD step in place, elementwise: with the constants of ``step`` (an `SGDStep`)
    each rounded once to the dtype, ``g = -grad`` if ``maximize`` else ``grad``;
    ``g = g + param * weight_decay`` if ``weight_decay``; when ``momentum``:
    ``buf = g`` on the first step, else ``buf = buf * momentum + g * (1 - dampening)``,
    then ``g = g + buf * momentum`` if ``nesterov`` else ``buf``; ``param = param - g * lr``.
    Every operation rounds to the dtype, in this order, so a native kernel matches the
    core's composite bit for bit (no fused multiply-add). ``momentum_buffer`` is None
    without momentum. All operands are C-contiguous, of one float dtype and one shape;
    the core sends anything else to its composite.
``adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step)``
    One Adam/AdamW step in place, elementwise, with ``c = step.constants()`` (see
    `AdamStep`) rounded once to the dtype: ``g = -grad`` if ``maximize``; then with
    ``weight_decay``, ``param = param * c.decay`` (decoupled, AdamW) or
    ``g = g + param * weight_decay``; ``m = m + (g - m) * c.one_minus_beta1``;
    ``v = v * beta2 + (g * g) * c.one_minus_beta2``; with ``amsgrad``,
    ``vmax = maximum(vmax, v)`` (NaN wins) and ``v`` reads ``vmax`` below;
    ``param = param - (m * c.step_size) / (sqrt(v) / c.bias_correction2_sqrt + eps)``.
    Rounding, layout and dtype as ``sgd_update``; ``max_exp_avg_sq`` is None without
    amsgrad.
``lstm_cell(hc, saved, gates, c)``
    One LSTM step: ``gates`` (B, 4H) holds the pre-activations i, f, g, o (PyTorch's
    order), ``c`` (B, H) the cell state. Writes ``saved`` (B, 5H) = [sigmoid(i),
    sigmoid(f), tanh(g), sigmoid(o), tanh(c')] and ``hc`` (B, 2H) = [h', c'] with
    ``c' = sigmoid(f) * c + sigmoid(i) * tanh(g)`` (the two products rounded, then the sum)
    and ``h' = sigmoid(o) * tanh(c')``. ``hc`` and ``saved`` are C-contiguous (at any
    offset); ``gates`` and ``c`` may have any layout; one real float dtype.
``lstm_cell_backward(d_gates, d_c, d_hc, saved, c)``
    The gradients of `lstm_cell` from ``d_hc`` (B, 2H) = [dh', dc'] and the forward's
    ``saved`` and ``c``, in this order with one rounding per operation:
    ``dc = dc' + ((1 - tanh_c * tanh_c) * o) * dh'``; ``d_o = (dh' * tanh_c) * (o * (1 - o))``,
    ``d_i = (dc * g) * (i * (1 - i))``, ``d_f = (dc * c) * (f * (1 - f))``,
    ``d_g = (dc * i) * (1 - g * g)`` written into ``d_gates`` (B, 4H) as [d_i, d_f, d_g,
    d_o], and ``d_c = dc * f``. No transcendental function: a native kernel matches the
    composite bit for bit. ``d_gates``, ``d_c`` and ``saved`` are C-contiguous (at
    any offset); ``d_hc`` and ``c`` may have any layout.
``lstm_sequence(states, saved, gi, w_t, reverse)``
    One direction of an LSTM layer over T steps of batch B, hidden H: step t (taken in
    the order 0..T-1, or T-1..0 when ``reverse``) computes ``gates = h @ w_t`` (the
    product rounded to the dtype, summed in any order), then ``gates + gi[t*B:(t+1)*B]``
    rounded, then `lstm_cell` of those gates and the previous c. ``states`` (T + 1, B,
    2H) holds [h | c] per block: on entry the initial state in block 0 (block T when
    ``reverse``); step t reads block t (t + 1) and writes block t + 1 (t). ``saved`` (T,
    B, 5H) receives each step's `lstm_cell` saved values. ``states``, ``saved`` and
    ``w_t`` (H, 4H: W_hh transposed) are C-contiguous (at any offset); ``gi`` (T * B,
    4H) may have any layout; one real float dtype; T, B, H >= 1.
``lstm_sequence_backward(d_gates, d_h0, d_c0, d_hc, states, saved, w_hh, reverse)``
    The recurrence of `lstm_sequence` backwards, in the reverse of the forward's step
    order, from ``d_hc`` (T, B, 2H), the gradient of the written blocks (step t's [h |
    c]; any layout): the first step taken back uses ``d_hc[t]`` as it is, each later one
    ``d_hc[t] + [dh | dc]`` (rounded) with the running ``dh``, ``dc`` of the step after
    it; `lstm_cell_backward` of that, the step's ``saved`` and its previous c (in
    ``states``) writes the step's rows of ``d_gates`` (T * B, 4H) and the new ``dc``;
    then ``dh = d_gates[t*B:(t+1)*B] @ w_hh`` (rounded, summed in any order). At the end
    ``d_h0``, ``d_c0`` (B, H) hold ``dh`` and ``dc``. ``d_gates``, ``d_h0``, ``d_c0``,
    ``states`` and ``saved`` are C-contiguous (at any offset); ``w_hh`` (4H, H) may have
    any layout. W_hh's own gradient is one product over all steps, left to the core.
``layer_norm(out, mean, rstd, x, weight, bias, eps)``
    Normalize each row of ``x`` (rows, cols): ``mean`` (rows,) its mean, ``rstd`` (rows,)
    ``1 / sqrt(var + eps)`` with the biased variance, ``out = (x - mean) * rstd``, times
    ``weight`` and plus ``bias`` (each (cols,) or None). All C-contiguous (at any offset),
    one real float dtype; rows and cols >= 1. Sums may accumulate wider than the dtype.
``layer_norm_backward(dx, dweight, dbias, dy, x, mean, rstd, weight)``
    With ``xhat = (x - mean) * rstd`` and ``g = dy * weight`` (``dy`` without weight):
    ``dx = rstd * (g - mean(g) - xhat * mean(g * xhat))`` (means along each row),
    ``dweight = sum over rows of dy * xhat``, ``dbias = sum over rows of dy``;
    ``dweight``/``dbias`` None when not wanted. Layouts as ``layer_norm``.
``softmax_backward(dx, y, g, dim, log)``
    The gradient of ``softmax`` (``log`` False) or ``log_softmax`` (True) along ``dim``
    from the forward's output ``y`` and the output's gradient ``g``: ``dx = y * (g -
    sum(g * y))`` or ``dx = g - exp(y) * sum(g)``, the sums along ``dim``. Each operation
    rounds to the dtype in this order (the products ``g * y`` before they are summed);
    the sums may accumulate in any order and wider than the dtype. ``y`` and ``g`` may
    have any layouts (``g`` stride 0 where it was broadcast); ``dx`` is C-contiguous, one
    real float dtype, not empty.
``cross_entropy_backward(d_logits, logp, target, scale)``
    The gradient of cross-entropy with respect to (N, C) logits, from the forward's
    ``logp`` (their log_softmax along dim 1): ``d_logits = (exp(logp) - onehot(target)) *
    scale``, where ``target`` (N,) int64 holds each row's class (in ``[0, C)``: the core
    checks) and ``scale`` (N,) each row's factor (stride 0 when one serves every row). In
    this order, each operation rounded to the dtype: ``p = exp(logp)`` as this backend's
    ``map("exp")`` computes it, ``p - 1`` at the target, ``p * scale``; a native kernel
    then matches the core's composite bit for bit. ``d_logits`` and ``logp`` are
    C-contiguous (at any offset), one real float dtype; ``target`` and ``scale`` may have
    any stride.
``max_pool(out, indices, x, kernel, stride, padding, dilation)``
    Max pooling of ``x`` (N, C, *spatial), 1 to 3 spatial dims, into ``out`` (N, C,
    *out_spatial): each output is the maximum over its window's in-bounds positions
    ``o * stride - padding + t * dilation`` (t < kernel, per dim); ``indices`` (int64,
    ``out``'s shape) gets its flat position in ``spatial``. The window is scanned in
    row-major order and the first maximum wins; a NaN counts as the largest (the first
    NaN wins); a window whose values all equal the dtype's lowest (-inf for floats)
    points at its first in-bounds position. Every window holds one in-bounds position at
    least (the core checks the geometry). All C-contiguous (at any offset); ``x`` and
    ``out`` of one real dtype, float or integer (decline the ones a kernel lacks through
    ``supports``); not empty.
``synchronize()``
    Block until every kernel queued so far has finished (asynchronous device
    backends; ``to_host`` must synchronize by itself). The default does nothing.

Optional primitives whose default is a host fallback
----------------------------------------------------
Their default (``mytensor/core/host_fallbacks.py``) copies the operands to the
host, runs numpy and copies the results back: exact everywhere, slow on a device.
None of them is differentiated by the backend; the core's backward rules use ops.

``argsort(out, a, dim, descending)``
    int64 indices that sort ``a`` along ``dim``, stably (equal values keep their
    order). NaN sorts last ascending; descending is the reverse of the ascending
    sort of ``a`` flipped along ``dim`` (so ties still keep their order, NaN first).
``searchsorted(out, sorted_seq, values, right)``
    For each element of ``values``, the int64 insertion index into the 1-d
    ascending ``sorted_seq`` (same dtype): the first position whose element is
    ``>= value`` (``> value`` when ``right``), with NaN the largest value.
``nonzero(out, a)``
    The coordinates of ``a``'s non-zero elements in row-major order: ``out`` is
    int64 of shape ``(count, a.ndim)``; the core counted them to allocate ``out``.
``cumulative(op, out, a, dim)``
    The inclusive scan (``op`` "sum" or "prod") of ``a`` along ``dim``, ``a``
    already cast to ``out.dtype``.
``linalg(op, outs, ins)``
    A decomposition or solve of the batched float matrices ``ins`` (``(..., n, n)``
    or ``(..., m, n)``), written into the tuple ``outs``; ``op`` is one of
    `LINALG_OPS`: ``inv`` (inverse), ``det``, ``slogdet`` (sign, log|det|),
    ``solve`` (``ins`` = (A, B), B of shape ``(..., n, k)``), ``cholesky`` (lower
    L), ``qr`` / ``qr_complete`` (Q, R as numpy's ``mode="reduced"/"complete"``),
    ``eigh`` (ascending eigenvalues, eigenvectors as columns), ``svd`` /
    ``svd_full`` (U, S descending, Vh as numpy's ``full_matrices=False/True``).
    A singular input to inv/solve, or a cholesky input that is not positive
    definite, raises ValueError naming the op.
``fft(op, out, a, axes, norm)``
    A discrete Fourier transform over the distinct ``axes`` (a tuple of non-negative
    ints) with numpy.fft's ``norm`` ("backward", "ortho" or "forward"); ``op`` is one
    of `FFT_OPS`: ``fft`` / ``ifft`` (complex ``a`` to complex ``out`` of its shape, as
    ``numpy.fft.fftn`` / ``ifftn``), ``rfft`` (real ``a`` to complex ``out`` whose
    last transformed axis is ``n // 2 + 1`` long, as ``rfftn``), ``irfft`` (complex
    ``a`` to real ``out``, as ``irfftn`` with ``s`` the sizes of ``out`` on ``axes``; ``a``
    is ``n // 2 + 1`` long on the last one). The core has already padded or truncated
    the input, so no transformed axis is empty.

Declared op names
-----------------
A backend lists the op names its ``map``, ``zip`` and ``reduce`` accept in three
attributes, ``map_ops``, ``zip_ops`` and ``reduce_ops`` (collections of strings):
every name of `MAP_OPS`, `ZIP_OPS` and `REDUCE_OPS` respectively, plus whichever of
`OPTIONAL_MAP_OPS` / `OPTIONAL_ZIP_OPS` (the array API's elementwise functions beyond
the core vocabulary: ``acos``, ``atan2``, ``bitwise_and``, ``real``, ...) it runs
natively. An optional name a backend does not list never reaches its ``map``/``zip``:
the core runs the reference kernel on the host instead (``to_host``, the numpy kernel
of `mytensor.core.primitives.numpy_kernels`, ``from_host`` + ``copy``: exact, and slow
on a device backend, so implement the name natively there). Bitwise ops never see bool
(the core sends bool to ``logical_*``), shifts see integers only, and
``real``/``imag``/``conj`` see complex inputs only.

Dtypes
------
``dtypes`` lists the dtype names a backend holds (of the array API's 13: bool,
int8/16/32/64, uint8/16/32/64, float32/64, complex64/128). `MIN_DTYPES` (bool, int64,
float32) are the least a backend must hold, because the core cannot work without them:
bool is what every comparison, predicate, mask and ``where`` condition is; int64 is
the index dtype (argmax/argmin, argsort, nonzero, gather/scatter indices, integer
indexing) and the dtype of Python ints; float32 is the default float dtype (``ones``,
``rand``, Python floats). float64 is not required, so an accelerator without double
precision can be a backend (asking it for float64 raises the error below); the other
core dtypes (int32, float64) are expected wherever the hardware has them. The
core never allocates or uploads a dtype a backend does not declare: it raises a
`mytensor.core.dtypes.UnsupportedDTypeError` that names the backend, the dtype,
what is supported, and the fix. A backend that declares the complex dtypes gets
them in the arithmetic (add sub mul div pow neg), the float functions (exp log
sqrt sin ... reciprocal, and the optional acos ... log10), sign, round, eq, ne,
the predicates, sum/prod and ``abs`` (complex in, real out), with numpy's values.

Optional convolution (all three or none; the core's default is a graph of
views, ``stack`` and ``matmul``, see ``mytensor/core/ops/_conv_composite.py``)
------------------------------------------------------------------------------------
One N-d primitive for N = 1, 2, 3 spatial dims, its input gradient (which is also the
transposed convolution) and its weight gradient. Shapes: ``x`` (N, C, *spatial),
``weight`` (O, C/groups, *kernel), ``out`` (N, O, *out_spatial), all of rank N + 2;
``stride``, ``padding`` (zeros, implicit, the same before and after) and ``dilation``
are N-tuples of ints; ``groups`` divides C and O; all operands share one float dtype;
every size of ``out_spatial`` is >= 1 (the core checks). The core uses the three only
when a backend defines all of them. Each is the others' derivative, so they also serve
higher-order gradients. A backend may handle N = 1 and 2 as N = 3 with leading size-1
dims (a stride-0 view) or specialise per N.

``conv(out, x, weight, stride, padding, dilation, groups)``
    ``out[n, o, y] = sum_{c, t} xpad[n, g*C/groups + c, y*stride + t*dilation]
    * weight[o, c, t]`` (``y``, ``t`` N-d indices, ``g = o // (O/groups)``):
    cross-correlation.
``conv_grad_input(grad_x, grad_out, weight, stride, padding, dilation, groups)``
    Write d(sum(conv(x) * grad_out))/dx into ``grad_x`` (x's shape; ``grad_out`` has
    conv's output shape). Every ``grad_x`` element is written (zeros where no window
    reads it). This adjoint is the transposed convolution of ``grad_out``: the core's
    ``conv_transpose1d/2d/3d`` call it with ``grad_out`` = their input.
``conv_grad_weight(grad_weight, x, grad_out, stride, padding, dilation, groups)``
    Write d(sum(conv(x) * grad_out))/dweight into ``grad_weight``.

Declining a dtype: ``supports(primitive, dtype) -> bool``
---------------------------------------------------------
Optional. A backend that implements a name for some dtypes only (a sort with no complex
comparator, a kernel with no float16 path) says so here, and the core takes its own path
for the rest: the host fallback for an elementwise op or reduction (the numpy kernel on
``to_host`` copies) and for the host-fallback primitives and ``conv`` (numpy's), the
composite for ``matmul``/``gather``/``scatter_add``/``random``. ``primitive`` is an op
name the backend declares in ``map_ops``/``zip_ops``/``reduce_ops``, or the name of an
optional primitive it defines (``conv`` for the three convolution primitives);
``dtype`` is a `mytensor.core.dtypes.DType` the backend declares, that of the operand
the op reads (``a``; ``src`` for scatter_add, ``out`` for random, the first input for
linalg and conv). The answers are asked once, at load, for every declared name and
dtype, so dispatch pays one set lookup per call and only on backends that decline
something. Without ``supports`` a backend runs everything it declares.

Checked at load
---------------
When a backend's factory first runs, the registry checks the object against this
contract: its ``name`` equals the entry's, the required primitives are callable, the
declared optional primitives are callable, the convolution primitives are all there or
none, ``dtypes`` names known dtypes and holds `MIN_DTYPES`, ``map_ops``/``zip_ops``/
``reduce_ops`` hold every required name and no unknown one, and ``supports`` (if
defined) answers True or False. A backend that fails is reported as "broken" by
``mytensor backends`` with every problem and its fix, and selecting it raises
`mytensor.core.registry.BackendError`. A kernel that still raises ``KeyError`` for a
name it declared fails with a `BackendError` naming the backend, primitive, op and
dtype, not with a bare ``KeyError``.

Aliasing and immutability
-------------------------
``out`` may be the very same view as an input (in-place elementwise ops), but
never a different, overlapping view of it. A descriptor is never modified
after it is created, which is what makes ``Strided.cache`` safe. Which dtypes
each op receives is stated by the op records in ``mytensor.core.ops`` (e.g.
arithmetic never sees bool; float-only functions only see floats).

Semantics of the op names
-------------------------
The numpy reference backend (``mytensor.backends.numpy_ref``) is the executable
definition of every name below, edge cases included: ``sqrt(-1)`` is NaN,
``1/0`` is inf, ``max`` propagates NaN, ``neg(0.0)`` is ``-0.0``, integer ``//``
and ``%`` floor like Python, integer division by zero is the backend's choice
but must not crash.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import pluggy

from mytensor.core.dtypes import DType

__all__ = [
    "CONV_PRIMITIVES",
    "FFT_OPS",
    "FUSED_UPDATES",
    "LINALG_OPS",
    "MAP_OPS",
    "MIN_DTYPES",
    "OPTIONAL_MAP_OPS",
    "OPTIONAL_PRIMITIVES",
    "OPTIONAL_ZIP_OPS",
    "REDUCE_OPS",
    "REQUIRED_PRIMITIVES",
    "ZIP_OPS",
    "AdamConstants",
    "AdamStep",
    "Backend",
    "BackendEntry",
    "BackendHooks",
    "BackendUnavailable",
    "SGDStep",
    "Strided",
    "hookimpl",
    "hookspec",
]

PROJECT = "mytensor"
ENTRY_POINT_GROUP = "mytensor.backends"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

MAP_OPS = (
    "neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh",
    "sigmoid", "relu", "sign", "floor", "ceil", "round", "reciprocal", "erf",
    "logical_not", "isnan", "isinf", "isfinite",
)  # fmt: skip
ZIP_OPS = (
    "add", "sub", "mul", "div", "floor_divide", "remainder", "pow",
    "maximum", "minimum", "lt", "le", "eq", "ne", "gt", "ge",
    "logical_and", "logical_or", "logical_xor",
)  # fmt: skip
OPTIONAL_MAP_OPS = (
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cosh", "sinh", "tan", "log2",
    "log10", "trunc", "signbit", "bitwise_invert", "real", "imag", "conj",
)  # fmt: skip
OPTIONAL_ZIP_OPS = (
    "atan2", "copysign", "hypot", "logaddexp", "nextafter", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
)  # fmt: skip
REDUCE_OPS = ("sum", "prod", "max", "min", "argmax", "argmin", "any", "all")
MIN_DTYPES = ("bool", "int64", "float32")  # the least a backend holds (see "Dtypes")
REQUIRED_PRIMITIVES = (
    "allocate", "from_host", "to_host", "copy", "map", "zip", "where", "reduce",
)  # fmt: skip
OPTIONAL_PRIMITIVES = (
    "matmul", "gather", "scatter_add", "random", "synchronize", "softmax",
    "argsort", "searchsorted", "nonzero", "cumulative", "linalg", "fft",
    "sgd_update", "adam_update", "lstm_cell", "lstm_cell_backward", "lstm_sequence",
    "lstm_sequence_backward", "layer_norm", "layer_norm_backward", "softmax_backward",
    "cross_entropy_backward", "max_pool",
)  # fmt: skip
# the optimizer updates: native only for C-contiguous operands of one shape (the core
# routes other layouts to its composite)
FUSED_UPDATES = ("sgd_update", "adam_update")
LINALG_OPS = (
    "inv", "det", "slogdet", "solve", "cholesky", "qr", "qr_complete", "eigh", "svd", "svd_full",
)  # fmt: skip
FFT_OPS = ("fft", "ifft", "rfft", "irfft")
CONV_PRIMITIVES = ("conv", "conv_grad_input", "conv_grad_weight")


class Strided:
    """A strided view of a backend buffer, as every kernel receives it.

    ``strides`` and ``offset`` are in elements, not bytes; a stride may be 0
    (broadcast) or negative (flipped). ``cache`` is a free slot a backend may
    use to keep a native handle for this exact view (the core creates one
    descriptor per tensor and reuses it).
    """

    __slots__ = ("buffer", "cache", "dtype", "offset", "shape", "strides")

    def __init__(
        self,
        buffer: Any,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        offset: int,
        dtype: DType,
    ) -> None:
        self.buffer = buffer
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
        self.cache = None

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __repr__(self) -> str:
        return (
            f"Strided(shape={self.shape}, strides={self.strides}, "
            f"offset={self.offset}, dtype={self.dtype.name})"
        )


@dataclass(frozen=True)
class SGDStep:
    """The hyperparameters of one `sgd_update` (PyTorch's SGD options; `first` is the
    step that creates the momentum buffer)."""

    lr: float
    weight_decay: float = 0.0
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    maximize: bool = False
    first: bool = False


class AdamConstants(NamedTuple):
    decay: float  # AdamW's 1 - lr * weight_decay
    one_minus_beta1: float
    beta2: float
    one_minus_beta2: float
    step_size: float  # lr / (1 - beta1 ** step)
    bias_correction2_sqrt: float  # sqrt(1 - beta2 ** step)
    eps: float
    weight_decay: float


@dataclass(frozen=True)
class AdamStep:
    """The hyperparameters of one `adam_update`; `step` counts from 1."""

    lr: float
    beta1: float
    beta2: float
    eps: float
    step: int
    weight_decay: float = 0.0
    decoupled: bool = False
    amsgrad: bool = False
    maximize: bool = False

    def constants(self) -> AdamConstants:
        """The derived constants, computed in Python floats (float64) as PyTorch does."""
        return AdamConstants(
            1 - self.lr * self.weight_decay,
            1 - self.beta1,
            self.beta2,
            1 - self.beta2,
            self.lr / (1 - self.beta1**self.step),
            math.sqrt(1 - self.beta2**self.step),
            self.eps,
            self.weight_decay,
        )


@runtime_checkable
class Backend(Protocol):
    """The object a backend factory returns; see the module docstring for semantics.

    Besides the required methods it declares ``name``, ``device`` (e.g. "cpu",
    "cuda"), ``dtypes`` (the dtype names it supports) and ``map_ops`` / ``zip_ops`` /
    ``reduce_ops`` (the op names its ``map``/``zip``/``reduce`` accept: the required
    ones and the optional ones it runs natively); optionally ``supports(primitive,
    dtype)`` (False declines a name for a dtype) and ``host_buffers = True`` (its
    buffers are 1-d numpy arrays in host memory, so `mytensor.from_dlpack` may wrap a
    producer's memory as a buffer). Optional primitives
    are methods of the names in `OPTIONAL_PRIMITIVES`; a backend that lacks one
    simply does not define it, and the core uses its composite.
    """

    name: str
    device: str
    dtypes: frozenset[str]
    map_ops: frozenset[str]
    zip_ops: frozenset[str]
    reduce_ops: frozenset[str]

    def allocate(self, size: int, dtype: DType) -> Any: ...
    def from_host(self, array: np.ndarray) -> Any: ...
    def to_host(self, src: Strided) -> np.ndarray: ...
    def copy(self, out: Strided, src: Strided) -> None: ...
    def map(self, op: str, out: Strided, a: Strided) -> None: ...
    def zip(self, op: str, out: Strided, a: Strided, b: Strided) -> None: ...
    def where(self, out: Strided, cond: Strided, a: Strided, b: Strided) -> None: ...
    def reduce(self, op: str, out: Strided, a: Strided, dims: tuple[int, ...]) -> None: ...


class BackendUnavailable(RuntimeError):
    """Raised by a factory whose backend cannot run here: a package or the hardware is missing.

    The registry reports such a backend as "unavailable" with this message (which should
    say what is missing and how to get it), not as "broken".
    """


@dataclass(frozen=True)
class BackendEntry:
    """What a plugin registers: a name and a zero-argument factory, nothing heavy.

    ``priority`` orders backends when several are installed and none is chosen
    (the highest working one is the default unless ``MYTENSOR_BACKEND`` says
    otherwise; the reference backend has priority 0).
    """

    name: str
    factory: Callable[[], Backend]
    device: str = "cpu"
    priority: int = 0
    description: str = ""


class BackendHooks:
    """The hook specifications a backend plugin implements."""

    @hookspec
    def mytensor_backends(self) -> list[BackendEntry]:  # type: ignore[empty-body]
        """Return the backends this plugin provides (cheap: no kernels compiled here)."""
