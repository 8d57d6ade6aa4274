"""The op table: every public op, defined once (forward, backward, dtype rule, record)."""

from mytensor.core.ops import (
    construction,
    conv,
    cumulative,
    elementwise,
    indexing,
    linalg,
    manipulation,
    reductions,
    selection,
    sets,
    shape,
    slicing,
    sorting,
    statistical,
)
from mytensor.core.ops._base import OPS, OpRecord

__all__ = [
    "OPS", "OpRecord", "construction", "conv", "cumulative", "elementwise", "indexing", "linalg",
    "manipulation", "reductions", "selection", "sets", "shape", "slicing", "sorting", "statistical",
]  # fmt: skip
