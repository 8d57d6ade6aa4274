"""The op table: every public op, defined once (forward, backward, dtype rule, record)."""

from mytensor.core.ops import (
    comparison,
    construction,
    conv,
    cumulative,
    einsum,
    elementwise,
    indexing,
    linalg,
    manipulation,
    nn_ops,
    normalization,
    norms,
    pointwise,
    pooling,
    products,
    recurrent,
    reductions,
    sampling,
    selection,
    sets,
    shape,
    slicing,
    softmax,
    sorting,
    statistical,
)
from mytensor.core.ops._base import OPS, OpRecord

# isort: split
# Tensor's method mixins call the op modules, which import Tensor: bind them now
from mytensor.core import _methods_binary, _methods_core, _methods_unary
from mytensor.core.ops import methods  # noqa: F401

for _mixin in (_methods_binary, _methods_core, _methods_unary):
    _mixin.bind()

__all__ = [
    "OPS", "OpRecord", "comparison", "construction", "conv", "cumulative", "einsum",
    "elementwise", "indexing", "linalg", "manipulation", "nn_ops", "normalization", "norms",
    "pointwise", "pooling", "products", "recurrent", "reductions", "sampling", "selection", "sets",
    "shape", "slicing", "softmax", "sorting", "statistical",
]  # fmt: skip
