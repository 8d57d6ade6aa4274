"""mytensor: a small tensor library with reverse-mode autograd and pluggable backends.

>>> import mytensor as mt
>>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

import math as _math
from importlib.metadata import PackageNotFoundError, version

from mytensor import amp, autograd
from mytensor._dlpack import from_dlpack
from mytensor._info import __array_namespace_info__
from mytensor.amp import autocast, get_autocast_dtype, is_autocast_enabled
from mytensor.core._methods_convert import Size
from mytensor.core.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from mytensor.core.creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    manual_seed,
    numel,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from mytensor.core.device import Device
from mytensor.core.dtypes import (
    DType,
    bfloat16,
    bool_,
    can_cast,
    complex64,
    complex128,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    isdtype,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
    uint16,
    uint32,
    uint64,
)
from mytensor.core.generator import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    seed,
    set_rng_state,
)
from mytensor.core.ops.comparison import allclose, broadcast_tensors, isclose
from mytensor.core.ops.construction import meshgrid
from mytensor.core.ops.conv import conv1d, conv2d, conv3d
from mytensor.core.ops.counting import bincount, histc
from mytensor.core.ops.cumulative import cumulative_prod, cumulative_sum, diff
from mytensor.core.ops.einsum import einsum
from mytensor.core.ops.elementwise import BINARY_OPS as _BINARY
from mytensor.core.ops.elementwise import UNARY_OPS as _UNARY
from mytensor.core.ops.elementwise import astype, clip, positive, square, where
from mytensor.core.ops.indexing import gather, scatter_add
from mytensor.core.ops.linalg import matmul, matrix_transpose, tensordot, vecdot
from mytensor.core.ops.manipulation import (
    broadcast_arrays,
    concat,
    expand_dims,
    flip,
    moveaxis,
    permute_dims,
    repeat,
    reshape,
    squeeze,
    stack,
    tile,
    unstack,
)
from mytensor.core.ops.masking import (
    index_add,
    index_fill,
    index_select,
    masked_fill,
    masked_select,
)
from mytensor.core.ops.moments import nanmean, std, var
from mytensor.core.ops.norms import cdist, dist, norm
from mytensor.core.ops.pointwise import addcdiv, addcmul, clamp_max, clamp_min, fmod, lerp, rsqrt
from mytensor.core.ops.products import addmm, bmm, cross, ger, kron, mm, outer, trace
from mytensor.core.ops.ranking import aminmax, argsort, kthvalue, max, median, min, sort, topk
from mytensor.core.ops.reductions import logsumexp
from mytensor.core.ops.running import cummax, cummin, mode
from mytensor.core.ops.sampling import (
    bernoulli,
    logspace,
    multinomial,
    normal,
    rand_like,
    randint_like,
    randn_like,
    randperm,
)
from mytensor.core.ops.scans import cumprod, cumsum, logcumsumexp
from mytensor.core.ops.scatter import bucketize, nonzero, scatter, take_along_dim, unique
from mytensor.core.ops.selection import searchsorted, take, take_along_axis
from mytensor.core.ops.sets import unique_all, unique_counts, unique_inverse, unique_values
from mytensor.core.ops.shape import (
    broadcast_to,
    cat,
    clone,
    contiguous,
    expand,
    permute,
    split,
    transpose,
    unsqueeze,
    view,
)
from mytensor.core.ops.slicing import (
    chunk,
    diag,
    diagonal,
    flatten,
    movedim,
    narrow,
    select,
    swapaxes,
    t,
    unbind,
    unflatten,
)
from mytensor.core.ops.softmax import log_softmax, softmax
from mytensor.core.ops.statistical import (
    all,
    any,
    argmax,
    argmin,
    count_nonzero,
    mean,
    prod,
    sum,
)
from mytensor.core.ops.statistical import max as amax
from mytensor.core.ops.statistical import min as amin
from mytensor.core.ops.summaries import nansum, std_mean, var_mean
from mytensor.core.ops.tiling import repeat_interleave, roll, tril, triu
from mytensor.core.registry import (
    BackendError,
    backends,
    set_backend,
    synchronize,
    use_backend,
)
from mytensor.core.tensor import Tensor

# isort: split
# the libraries built on the ops (they import the names above, so they come last)
from mytensor import cuda, data, distributed, fft, func, linalg, nn, optim, utils
from mytensor._runtime import (
    are_deterministic_algorithms_enabled,
    get_num_threads,
    set_num_threads,
    use_deterministic_algorithms,
)
from mytensor.serialization import load, save

neg, abs, exp, log, log1p, expm1 = (_UNARY[n] for n in ("neg", "abs", "exp", "log", "log1p",
                                                        "expm1"))  # fmt: skip
sqrt, sin, cos, tanh, sigmoid, relu = (_UNARY[n] for n in ("sqrt", "sin", "cos", "tanh",
                                                           "sigmoid", "relu"))  # fmt: skip
erf = _UNARY["erf"]
sign, floor, ceil, round, reciprocal = (_UNARY[n] for n in ("sign", "floor", "ceil", "round",
                                                            "reciprocal"))  # fmt: skip
logical_not, isnan, isinf, isfinite = (_UNARY[n] for n in ("logical_not", "isnan", "isinf",
                                                           "isfinite"))  # fmt: skip
add, sub, mul, div, floor_divide, remainder, pow = (
    _BINARY[n] for n in ("add", "sub", "mul", "div", "floor_divide", "remainder", "pow")
)
maximum, minimum, lt, le, eq, ne, gt, ge = (
    _BINARY[n] for n in ("maximum", "minimum", "lt", "le", "eq", "ne", "gt", "ge")
)
logical_and, logical_or, logical_xor = (
    _BINARY[n] for n in ("logical_and", "logical_or", "logical_xor")
)
subtract, multiply, divide, negative = sub, mul, div, neg
less, less_equal, equal, not_equal, greater, greater_equal = lt, le, eq, ne, gt, ge
acos, acosh, asin, asinh, atan, atanh = (_UNARY[n] for n in ("acos", "acosh", "asin", "asinh",
                                                            "atan", "atanh"))  # fmt: skip
cosh, sinh, tan, log2, log10, trunc = (_UNARY[n] for n in ("cosh", "sinh", "tan", "log2",
                                                           "log10", "trunc"))  # fmt: skip
signbit, bitwise_invert, real, imag, conj = (
    _UNARY[n] for n in ("signbit", "bitwise_invert", "real", "imag", "conj")
)
atan2, copysign, hypot, logaddexp, nextafter = (
    _BINARY[n] for n in ("atan2", "copysign", "hypot", "logaddexp", "nextafter")
)
bitwise_and, bitwise_or, bitwise_xor, bitwise_left_shift, bitwise_right_shift = (
    _BINARY[n] for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                         "bitwise_right_shift")
)  # fmt: skip
__array_api_version__ = "2024.12"
# the standard's constants
e, pi, inf, nan, newaxis = _math.e, _math.pi, _math.inf, _math.nan, None
# the inspection functions, also at the top level (where the array API test suite looks)
_INFO = __array_namespace_info__()
capabilities, default_device, devices = _INFO.capabilities, _INFO.default_device, _INFO.devices
default_dtypes, dtypes = _INFO.default_dtypes, _INFO.dtypes
clamp = clip
swapdims = swapaxes
# PyTorch's spellings of the device object and of dtypes (`float`, `int`, ... are
# assigned at the end, with `bool`)
device = Device
cfloat, cdouble = complex64, complex128

try:
    __version__ = version("mytensor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "BackendError",
    "DType",
    "Device",
    "Generator",
    "Size",
    "Tensor",
    "__array_api_version__",
    "__array_namespace_info__",
    "__version__",
    "abs",
    "acos",
    "acosh",
    "add",
    "addcdiv",
    "addcmul",
    "addmm",
    "all",
    "allclose",
    "amax",
    "amin",
    "aminmax",
    "amp",
    "any",
    "arange",
    "are_deterministic_algorithms_enabled",
    "argmax",
    "argmin",
    "argsort",
    "as_tensor",
    "asarray",
    "asin",
    "asinh",
    "astype",
    "atan",
    "atan2",
    "atanh",
    "autocast",
    "autograd",
    "backends",
    "bernoulli",
    "bfloat16",
    "bincount",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "bmm",
    "bool",
    "bool_",
    "broadcast_arrays",
    "broadcast_tensors",
    "broadcast_to",
    "bucketize",
    "can_cast",
    "capabilities",
    "cat",
    "cdist",
    "cdouble",
    "ceil",
    "cfloat",
    "chunk",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "clone",
    "complex64",
    "complex128",
    "concat",
    "conj",
    "contiguous",
    "conv1d",
    "conv2d",
    "conv3d",
    "copysign",
    "cos",
    "cosh",
    "count_nonzero",
    "cross",
    "cuda",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "cumulative_prod",
    "cumulative_sum",
    "data",
    "default_device",
    "default_dtypes",
    "default_generator",
    "device",
    "devices",
    "diag",
    "diagonal",
    "diff",
    "dist",
    "distributed",
    "div",
    "divide",
    "double",
    "dtypes",
    "e",
    "einsum",
    "empty",
    "empty_like",
    "enable_grad",
    "eq",
    "equal",
    "erf",
    "exp",
    "expand",
    "expand_dims",
    "expm1",
    "eye",
    "fft",
    "finfo",
    "flatten",
    "flip",
    "float",
    "float16",
    "float32",
    "float64",
    "floor",
    "floor_divide",
    "fmod",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "func",
    "gather",
    "ge",
    "ger",
    "get_autocast_dtype",
    "get_default_dtype",
    "get_num_threads",
    "get_rng_state",
    "greater",
    "greater_equal",
    "gt",
    "half",
    "histc",
    "hypot",
    "iinfo",
    "imag",
    "index_add",
    "index_fill",
    "index_select",
    "inf",
    "inference_mode",
    "initial_seed",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_autocast_enabled",
    "is_grad_enabled",
    "is_tensor",
    "isclose",
    "isdtype",
    "isfinite",
    "isinf",
    "isnan",
    "kron",
    "kthvalue",
    "le",
    "lerp",
    "less",
    "less_equal",
    "linalg",
    "linspace",
    "load",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logaddexp",
    "logcumsumexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logspace",
    "logsumexp",
    "long",
    "lt",
    "manual_seed",
    "masked_fill",
    "masked_select",
    "matmul",
    "matrix_transpose",
    "max",
    "maximum",
    "mean",
    "median",
    "meshgrid",
    "min",
    "minimum",
    "mm",
    "mode",
    "moveaxis",
    "movedim",
    "mul",
    "multinomial",
    "multiply",
    "nan",
    "nanmean",
    "nansum",
    "narrow",
    "ne",
    "neg",
    "negative",
    "newaxis",
    "nextafter",
    "nn",
    "no_grad",
    "nonzero",
    "norm",
    "normal",
    "not_equal",
    "numel",
    "ones",
    "ones_like",
    "optim",
    "outer",
    "permute",
    "permute_dims",
    "pi",
    "positive",
    "pow",
    "prod",
    "promote_types",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "real",
    "reciprocal",
    "relu",
    "remainder",
    "repeat",
    "repeat_interleave",
    "reshape",
    "result_type",
    "roll",
    "round",
    "rsqrt",
    "save",
    "scatter",
    "scatter_add",
    "searchsorted",
    "seed",
    "select",
    "set_backend",
    "set_default_dtype",
    "set_grad_enabled",
    "set_num_threads",
    "set_rng_state",
    "short",
    "sigmoid",
    "sign",
    "signbit",
    "sin",
    "sinh",
    "softmax",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "std_mean",
    "sub",
    "subtract",
    "sum",
    "swapaxes",
    "swapdims",
    "synchronize",
    "t",
    "take",
    "take_along_axis",
    "take_along_dim",
    "tan",
    "tanh",
    "tensor",
    "tensordot",
    "tile",
    "topk",
    "trace",
    "transpose",
    "tril",
    "triu",
    "trunc",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "unbind",
    "unflatten",
    "unique",
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
    "unsqueeze",
    "unstack",
    "use_backend",
    "use_deterministic_algorithms",
    "utils",
    "var",
    "var_mean",
    "vecdot",
    "view",
    "where",
    "zeros",
    "zeros_like",
]

# the array API's name for the bool dtype and PyTorch's dtype aliases; assigned last, so
# that the module above still sees Python's builtins (other modules never import them
# from here)
bool = bool_
float, double = float32, float64
long, int, short = int64, int32, int16
