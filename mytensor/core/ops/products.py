"""PyTorch's product spellings: mm, bmm, addmm, outer (ger), kron, cross and trace.

Each checks PyTorch's shape rules and then composes `matmul`, views and elementwise
ops, so gradients (of any order) come for free and every backend runs them.
"""

from __future__ import annotations

import numpy as np

from mytensor.core import _autocast
from mytensor.core.batching import batchable, register_rule
from mytensor.core.dtypes import NUMERIC_DTYPES
from mytensor.core.layout import broadcast_shapes, normalize_dim
from mytensor.core.ops._base import OpRecord, check_tensor, is_scalar, register
from mytensor.core.ops.linalg import batch_matmul, matmul
from mytensor.core.tensor import Tensor

__all__ = ["addmm", "bmm", "cross", "ger", "kron", "mm", "outer", "trace"]


def _rank(op: str, t: Tensor, ndim: int, arg: str) -> None:
    if t.ndim != ndim:
        raise ValueError(
            f"{op}(): {arg} must be a {ndim}-d tensor, got shape {t.shape}"
            + ("; use matmul for other ranks" if op in ("mm", "bmm") else "")
        )


def _matrices(
    op: str, a: Tensor, b: Tensor, ndim: int, names: tuple[str, str] = ("input", "mat2")
) -> tuple[Tensor, Tensor]:
    """The two factors of a product (called `names`), checked to be `ndim`-d tensors."""
    a, b = check_tensor(op, a, names[0]), check_tensor(op, b, names[1])
    _rank(op, a, ndim, names[0])
    _rank(op, b, ndim, names[1])
    return a, b


@batchable("mm")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The matrix product of two 2-d tensors, (n, k) @ (k, m) -> (n, m) (no broadcasting;
    `matmul` broadcasts).

    >>> import mytensor as mt
    >>> mt.mm(mt.ones(2, 3), mt.ones(3, 4)).shape
    (2, 4)
    """
    input, mat2 = _matrices("mm", input, mat2, 2)
    if input.shape[1] != mat2.shape[0]:
        raise ValueError(
            f"mm(): input and mat2 shapes cannot be multiplied ({input.shape[0]}x"
            f"{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]}): the columns of input "
            "must equal the rows of mat2"
        )
    return matmul(input, mat2)


@batchable("bmm")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-d tensors, (b, n, k) @ (b, k, m) -> (b, n, m), with
    equal batch sizes (no broadcasting; `matmul` broadcasts).

    >>> import mytensor as mt
    >>> mt.bmm(mt.ones(5, 2, 3), mt.ones(5, 3, 4)).shape
    (5, 2, 4)
    """
    input, mat2 = _matrices("bmm", input, mat2, 3)
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise ValueError(
            f"bmm(): shapes {input.shape} and {mat2.shape} do not match: need the same batch "
            "size (dim 0) and input's dim 2 equal to mat2's dim 1"
        )
    return matmul(input, mat2)


def _number(op: str, name: str, value: float) -> None:
    if not is_scalar(value):
        raise TypeError(f"{op}(): {name} must be a number, got {type(value).__name__}")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:  # fmt: skip
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-d `mat1`, `mat2`; `input` broadcasts
    to the (n, m) result. With ``beta=0`` `input` is ignored (its NaN and inf too).

    >>> import mytensor as mt
    >>> mt.addmm(mt.ones(3), mt.ones(2, 4), mt.ones(4, 3), alpha=0.5).tolist()
    [[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
    """
    input = check_tensor("addmm", input)
    mat1, mat2 = _matrices("addmm", mat1, mat2, 2, ("mat1", "mat2"))
    if _autocast.STATE.active is not None:
        input, mat1, mat2 = _autocast.lower("addmm", input, mat1, mat2)
    _number("addmm", "beta", beta)
    _number("addmm", "alpha", alpha)
    if mat1.shape[1] != mat2.shape[0]:
        raise ValueError(
            f"addmm(): mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
            f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    shape = (mat1.shape[0], mat2.shape[1])
    if not _broadcasts_to(input.shape, shape):
        raise ValueError(
            f"addmm(): input of shape {input.shape} does not broadcast to the product's shape "
            f"{shape}"
        )
    product = matmul(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (input if beta == 1 else input * beta)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(shape[::-1], target[::-1], strict=False))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-d tensors: ``out[i, j] = input[i] * vec2[j]``.

    >>> import mytensor as mt
    >>> mt.outer(mt.tensor([1, 2]), mt.tensor([1, 10, 100])).tolist()
    [[1, 10, 100], [2, 20, 200]]
    """
    input = check_tensor("outer", input)
    vec2 = check_tensor("outer", vec2, "vec2")
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(
            f"outer(): needs two 1-d tensors, got shapes {input.shape} and {vec2.shape}; "
            "flatten them first or use broadcasting (a[..., None] * b)"
        )
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """An old name of `outer`.

    >>> import mytensor as mt
    >>> mt.ger(mt.ones(2), mt.ones(3)).shape
    (2, 3)
    """
    return outer(input, vec2)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: blocks ``input[i...] * other`` laid out like `input`; the
    shorter shape is padded with leading 1s, so the result's sizes are the products.

    >>> import mytensor as mt
    >>> mt.kron(mt.eye(2), mt.tensor([[1.0, 2.0]])).tolist()
    [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    """
    input = check_tensor("kron", input)
    other = check_tensor("kron", other, "other")
    ndim = max(input.ndim, other.ndim)
    a_shape = (1,) * (ndim - input.ndim) + input.shape
    b_shape = (1,) * (ndim - other.ndim) + other.shape
    # interleave: a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...)
    a = input.reshape(*(s for size in a_shape for s in (size, 1)))
    b = other.reshape(*(s for size in b_shape for s in (1, size)))
    return (a * b).reshape(*(x * y for x, y in zip(a_shape, b_shape, strict=True)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along `dim` (the other dims broadcast). Without
    `dim`, PyTorch's old default: the first dim of size 3 (prefer ``dim=-1``, which is
    what `mytensor.linalg.cross` uses).

    >>> import mytensor as mt
    >>> mt.cross(mt.tensor([1.0, 0.0, 0.0]), mt.tensor([0.0, 1.0, 0.0]), dim=0).tolist()
    [0.0, 0.0, 1.0]
    """
    input = check_tensor("cross", input)
    other = check_tensor("cross", other, "other")
    if input.ndim != other.ndim:
        raise ValueError(
            f"cross(): input and other must have the same number of dimensions, got shapes "
            f"{input.shape} and {other.shape}"
        )
    shape = broadcast_shapes("cross", input.shape, other.shape)
    if dim is None:
        dim = next((d for d, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise ValueError(
                f"cross(): no dimension of size 3 in shapes {input.shape} and {other.shape}"
            )
    d = normalize_dim("cross", dim, len(shape))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ValueError(
            f"cross(): dim {dim} must have size 3 in both inputs, got shapes {input.shape} "
            f"and {other.shape}"
        )
    from mytensor import linalg

    return linalg.cross(input, other, axis=d - len(shape))


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-d tensor (a 0-d tensor; integer inputs sum in
    int64, as `sum` does).

    >>> import mytensor as mt
    >>> mt.trace(mt.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
    5.0
    """
    if _autocast.STATE.active is not None:
        (input,) = _autocast.fp32("trace", input)
    input = check_tensor("trace", input)
    if input.ndim != 2:
        raise ValueError(
            f"trace(): expected a 2-d tensor, got shape {input.shape}; for batches use "
            "mytensor.linalg.trace"
        )
    n = min(input.shape)
    diagonal = input.reshape(-1)[0 : max(n - 1, 0) * (input.shape[1] + 1) + 1 : input.shape[1] + 1]
    from mytensor.core.ops.statistical import sum as sum_

    return sum_(diagonal[:n])


def _np_kron(a, b):
    return np.kron(a, b) if a.ndim or b.ndim else a * b


register(OpRecord("kron", kron, _np_kron, arity=2, dtypes=NUMERIC_DTYPES, shapes="broadcast"))

# vmap: mm and bmm of batched operands are matmuls of one more dim
register_rule("mm", lambda b, x, y: batch_matmul(b, x, y))
register_rule("bmm", lambda b, x, y: batch_matmul(b, x, y))
