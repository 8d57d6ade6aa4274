"""The op table: every public op, defined once (forward, backward, dtype rule, record)."""

from mytensor.core.ops import conv, elementwise, indexing, linalg, reductions, shape
from mytensor.core.ops._base import OPS, OpRecord

__all__ = ["OPS", "OpRecord", "conv", "elementwise", "indexing", "linalg", "reductions", "shape"]
