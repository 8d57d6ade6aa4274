"""PyTorch's closeness and equality tests (isclose, allclose, and the Tensor method
`equal`, which answers one Python bool) and `broadcast_tensors`.

The array API's ``equal(x1, x2)`` is the elementwise ``==`` and keeps that meaning in
the namespace (``mytensor.equal``); PyTorch's whole-tensor ``torch.equal(a, b)`` is
the method ``a.equal(b)``.
"""

from __future__ import annotations

import numpy as np

from mytensor.core.dtypes import FLOAT_DTYPES, float64
from mytensor.core.ops._base import OpRecord, check_tensor, promote_operands, register
from mytensor.core.ops.manipulation import broadcast_views
from mytensor.core.tensor import Tensor

__all__ = ["allclose", "broadcast_tensors", "equal", "isclose"]


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:  # fmt: skip
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (bool, broadcasting), or
    equal values (so infinities of one sign are close); NaN is close to NaN only with
    ``equal_nan=True``.

    >>> import mytensor as mt
    >>> mt.isclose(mt.tensor([1.0, 1.1, float("nan")]), mt.tensor([1.0 + 1e-6, 1.0, 0.0])).tolist()
    [True, False, False]
    """
    input = check_tensor("isclose", input)
    other = check_tensor("isclose", other, "other")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not value >= 0:
            raise ValueError(
                f"isclose(): {name} must be greater than or equal to zero, got {value}"
            )
    a, b, dtype = promote_operands("isclose", input, other)
    close = a == b
    if equal_nan and dtype.is_inexact:
        close = close | (a.isnan() & b.isnan())
    if rtol == 0 and atol == 0:
        return close
    if not dtype.is_inexact:  # exact differences of integers (and bools)
        a, b = a.astype(float64), b.astype(float64)
    error = (a - b).abs()
    allowed = (b * rtol).abs() + atol
    return close | (error.isfinite() & (error <= allowed))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:  # fmt: skip
    """Whether every element of `input` is close to `other` (see `isclose`): a Python bool.

    >>> import mytensor as mt
    >>> mt.allclose(mt.tensor([1.0, 2.0]), mt.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input: Tensor, other: Tensor) -> bool:
    """PyTorch's ``torch.equal``: True if the tensors have the same shape and the same
    values (NaN is never equal), as a Python bool. Used as the method ``a.equal(b)``;
    the namespace's ``mytensor.equal`` is the array API's elementwise ``==``.

    >>> import mytensor as mt
    >>> mt.tensor([1, 2]).equal(mt.tensor([1.0, 2.0])), mt.ones(2).equal(mt.ones(1))
    (True, False)
    """
    input = check_tensor("equal", input)
    other = check_tensor("equal", other, "other")
    if input.shape != other.shape:
        return False
    a, b, _ = promote_operands("equal", input, other)
    return bool((a == b).all().item())


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape, as views (stride-0 where expanded; write
    to a copy, not to them).

    >>> import mytensor as mt
    >>> [t.shape for t in mt.broadcast_tensors(mt.ones(3), mt.ones(2, 1))]
    [(2, 3), (2, 3)]
    """
    return broadcast_views("broadcast_tensors", "tensors", tensors)


def _np_isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _isclose_variants(shapes):
    return [{}, {"rtol": 0.5, "atol": 0.25}, {"rtol": 0.0, "atol": 0.0}, {"equal_nan": True}]


register(OpRecord("isclose", isclose, _np_isclose, arity=2, dtypes=FLOAT_DTYPES, grad=False,
                  shapes="broadcast", variants=_isclose_variants))  # fmt: skip
