"""The op table: every public op, defined once (forward, backward, dtype rule, record)."""

from mytensor.core.ops import elementwise, indexing, linalg, reductions, shape
from mytensor.core.ops._base import OPS, OpRecord

__all__ = ["OPS", "OpRecord", "elementwise", "indexing", "linalg", "reductions", "shape"]
