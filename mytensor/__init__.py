"""mytensor: a small tensor library with reverse-mode autograd and pluggable backends.

>>> import mytensor as mt
>>> x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

from importlib.metadata import PackageNotFoundError, version

from mytensor import autograd
from mytensor.core import tensor as _tensor_module
from mytensor.core.autograd import enable_grad, is_grad_enabled, no_grad
from mytensor.core.creation import (
    arange,
    asarray,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from mytensor.core.dtypes import (
    DType,
    bool_,
    float32,
    float64,
    int32,
    int64,
    promote_types,
    result_type,
)
from mytensor.core.ops.conv import conv1d, conv2d
from mytensor.core.ops.elementwise import BINARY_OPS as _BINARY
from mytensor.core.ops.elementwise import UNARY_OPS as _UNARY
from mytensor.core.ops.elementwise import astype, clip, where
from mytensor.core.ops.indexing import gather, scatter_add
from mytensor.core.ops.linalg import matmul
from mytensor.core.ops.reductions import (
    all,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    std,
    sum,
    var,
)
from mytensor.core.ops.shape import (
    broadcast_to,
    cat,
    clone,
    contiguous,
    expand,
    flip,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    view,
)
from mytensor.core.registry import (
    BackendError,
    backends,
    set_backend,
    synchronize,
    use_backend,
)
from mytensor.core.tensor import Tensor

_tensor_module._install_methods()

# the libraries built on the ops (they import the names above, so they come last)
from mytensor import data, nn, optim  # noqa: E402
from mytensor.serialization import load, save  # noqa: E402

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
amax, amin, clamp, concat = max, min, clip, cat

try:
    __version__ = version("mytensor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "BackendError",
    "DType",
    "Tensor",
    "__version__",
    "abs",
    "add",
    "all",
    "amax",
    "amin",
    "any",
    "arange",
    "argmax",
    "argmin",
    "asarray",
    "astype",
    "autograd",
    "backends",
    "bool_",
    "broadcast_to",
    "cat",
    "ceil",
    "clamp",
    "clip",
    "clone",
    "concat",
    "contiguous",
    "conv1d",
    "conv2d",
    "cos",
    "data",
    "div",
    "divide",
    "empty",
    "empty_like",
    "enable_grad",
    "eq",
    "erf",
    "exp",
    "expand",
    "expm1",
    "eye",
    "flip",
    "float32",
    "float64",
    "floor",
    "floor_divide",
    "full",
    "full_like",
    "gather",
    "ge",
    "gt",
    "int32",
    "int64",
    "is_grad_enabled",
    "isfinite",
    "isinf",
    "isnan",
    "le",
    "linspace",
    "load",
    "log",
    "log1p",
    "log_softmax",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logsumexp",
    "lt",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "multiply",
    "ne",
    "neg",
    "negative",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "permute",
    "pow",
    "prod",
    "promote_types",
    "rand",
    "randint",
    "randn",
    "reciprocal",
    "relu",
    "remainder",
    "reshape",
    "result_type",
    "round",
    "save",
    "scatter_add",
    "set_backend",
    "sigmoid",
    "sign",
    "sin",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "subtract",
    "sum",
    "synchronize",
    "tanh",
    "tensor",
    "transpose",
    "unsqueeze",
    "use_backend",
    "var",
    "view",
    "where",
    "zeros",
    "zeros_like",
]
