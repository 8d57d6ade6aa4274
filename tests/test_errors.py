"""Bad input: every error names the op and what was wrong, and leaves its inputs untouched."""

from __future__ import annotations

import re

import numpy as np
import pytest

import mytensor as mt
from mytensor import BackendError


def snapshot(*tensors: mt.Tensor) -> list:
    return [(t.shape, t.dtype, t.numpy().copy(), t._storage.version) for t in tensors]


def unchanged(before: list, *tensors: mt.Tensor) -> bool:
    return all(
        t.shape == s and t.dtype is d and np.array_equal(t.numpy(), v, equal_nan=True)
        and t._storage.version == ver
        for t, (s, d, v, ver) in zip(tensors, before, strict=True)
    )  # fmt: skip


X34 = mt.arange(12).reshape(3, 4).float()


@pytest.mark.parametrize(
    ("call", "exc", "pattern"),
    [
        (lambda x: x + mt.ones(5), ValueError,
         r"add(): shapes (3, 4) and (5,) cannot be broadcast (dimension -1: 4 vs 5)"),
        (lambda x: mt.mul(x, mt.ones(2, 1)), ValueError,
         r"mul(): shapes (3, 4) and (2, 1) cannot be broadcast (dimension -2: 3 vs 2)"),
        (lambda x: x < mt.ones(3), ValueError, r"lt(): shapes (3, 4) and (3,)"),
        (lambda x: mt.where(x > 0, x, mt.ones(2)), ValueError, r"where(): shapes"),
        (lambda x: x.sum(dim=2), IndexError,
         r"sum(): dim 2 is out of range for a tensor of rank 2"),
        (lambda x: x.softmax(dim=-3), IndexError, r"softmax(): dim -3 is out of range"),
        (lambda x: x.transpose(0, 5), IndexError, r"transpose(): dim 5"),
        (lambda x: x.unsqueeze(4), IndexError, r"unsqueeze(): dim 4"),
        (lambda x: mt.cat([x, x], dim=3), IndexError, r"cat(): dim 3"),
        (lambda x: x.argmax(dim=2), IndexError, r"argmax(): dim 2"),
        (lambda x: x.view(5, 3), ValueError, r"view(): shape (5, 3) is invalid for a tensor of 12"),
        (lambda x: x.reshape(5, -1), ValueError,
         r"reshape(): shape (5, -1) is invalid for a tensor of 12 elements"),
        (lambda x: x.T.view(12), RuntimeError,
         r"view(): shape (12,) is incompatible with the layout of the input (shape (4, 3)"),
        (lambda x: x[3], IndexError,
         r"index 3 is out of bounds for dimension 0 with size 3"),
        (lambda x: x[0, -5], IndexError, r"index -5 is out of bounds for dimension 1 with size 4"),
        (lambda x: x[np.array([0, 7])], IndexError, r"index 7 is out of bounds"),
        (lambda x: x[5, np.array([0])], IndexError, r"index 5 is out of bounds"),
        (lambda x: x[0, 0, 0], IndexError, r"too many indices for a tensor of rank 2"),
        (lambda x: x[..., ...], IndexError, r"single ellipsis"),
        (lambda x: x[np.ones(4, dtype=bool)], IndexError, r"boolean mask of shape (4,)"),
        (lambda x: x[np.array([0.5])], IndexError, r"integer or bool"),
        (lambda x: x @ mt.ones(3, 2), ValueError,
         r"matmul(): shapes (3, 4) and (3, 2) are not aligned: 4 (dim -1 of the first) != 3"),
        (lambda x: mt.ones(3) @ mt.ones(4), ValueError, r"matmul(): shapes (3,) and (4,)"),
        (lambda x: x @ mt.tensor(2.0), ValueError, r"matmul(): both operands need at least 1"),
        (lambda x: mt.ones(2, 3, 4) @ mt.ones(3, 4, 5), ValueError,
         r"matmul(): shapes (2,) and (3,) cannot be broadcast"),
        (lambda x: mt.cat([x, mt.ones(3, 5), mt.ones(2, 4)]), ValueError,
         r"cat(): tensors[1] has shape (3, 5), which does not match tensors[0]'s (3, 4) "
         r"outside dimension 0"),
        (lambda x: mt.cat([x, mt.ones(4)]), ValueError, r"cat(): tensors[1] has shape (4,)"),
        (lambda x: mt.cat([]), ValueError, r"cat(): expected a non-empty sequence"),
        (lambda x: mt.stack([x, x.T]), ValueError,
         r"stack(): tensors[1] has shape (4, 3) but tensors[0] has (3, 4)"),
        (lambda x: x.expand(3, 5), ValueError, r"expand(): shapes (3, 4) and (3, 5)"),
        (lambda x: x.permute(1, 0, 2), IndexError, r"permute(): dim 2"),
        (lambda x: mt.zeros(0, 2).max(dim=0), IndexError,
         r"max(): cannot reduce over dimension 0 of size 0 (input shape (0, 2))"),
        (lambda x: mt.zeros(0).argmax(), ValueError, r"argmax(): the input (shape (0,)) is empty"),
        (lambda x: x.item(), ValueError, r"item(): only a tensor with one element"),
        (lambda x: bool(x), ValueError, r"truth value of a tensor of shape (3, 4) is ambiguous"),
        (lambda x: x + "a", TypeError, r"add(): unsupported operand of type str"),
        (lambda x: x.astype(mt.bool_) + True, TypeError, r"add(): not defined for two bool"),
        (lambda x: mt.exp(np.ones(2)), TypeError, r"exp(): input must be a Tensor, got ndarray"),
        (lambda x: x.long().mean(), TypeError, r"mean(): expected a floating-point tensor"),
        (lambda x: mt.tensor([[1, 2], [3]]), ValueError, r"tensor(): cannot make a tensor"),
        (lambda x: mt.tensor(["a"]), TypeError, r"tensor(): cannot make a tensor from data"),
        (lambda x: mt.zeros(-1), ValueError, r"zeros(): negative dimension in shape (-1,)"),
        (lambda x: mt.ones(2, dtype="float128"), TypeError, r"unsupported dtype 'float128'"),
        (lambda x: mt.gather(x, 1, mt.tensor([5])), ValueError,
         r"gather(): index (shape (1,)) must have the same rank as the input (shape (3, 4))"),
        (lambda x: mt.gather(x, 1, mt.tensor([[5], [0], [0]])), IndexError,
         r"gather(): index 5 is out of bounds for dimension 1 with size 4"),
        (lambda x: x.split([1, 1]), ValueError, r"split(): sizes [1, 1] must be non-negative"),
        (lambda x: mt.randn(2, dtype=mt.int64), TypeError, r"randn(): dtype must be floating"),
        (lambda x: mt.squeeze(x, 0), ValueError,
         r"squeeze(): dimension 0 of shape (3, 4) has size 3"),  # the array API's squeeze
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_bad_input_error_messages(call, exc, pattern):
    x = X34.clone()
    before = snapshot(x)
    with pytest.raises(exc, match=re.escape(pattern)):
        call(x)
    assert unchanged(before, x)


@pytest.mark.parametrize("dtype", [mt.int32, mt.int64, mt.bool_])
def test_int_tensor_requires_grad(dtype):
    pattern = rf"only floating-point tensors can require grad.*{dtype.name}"
    with pytest.raises(TypeError, match=pattern):
        mt.ones(2, dtype=dtype).requires_grad_()


def test_backward_twice_message():
    x = mt.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through \w+\(\) a second time.*retain_graph"):
        y.backward()
    assert x.grad.tolist() == [2.0]  # the failed call added nothing


def test_mixing_backends_message():
    a, b = mt.ones(2), mt.ones(2, backend="minimal")
    before = snapshot(a, b)
    with pytest.raises(RuntimeError, match=re.escape(
            "add(): tensors are on different backends ('numpy_ref' and 'minimal'); "
            "move one with .to('numpy_ref') or .to('minimal')")):  # fmt: skip
        a + b
    with pytest.raises(RuntimeError, match="different backends"):
        a += b
    assert unchanged(before, a, b)


def test_unknown_backend_message():
    pattern = re.escape("unknown backend 'cuda9'; installed backends: ")
    with pytest.raises(BackendError, match=pattern + ".*numpy_ref"):
        mt.zeros(1, backend="cuda9")


# -- failing in-place calls leave the target untouched -----------------------------------------
@pytest.mark.parametrize(
    ("update", "exc", "pattern"),
    [
        (lambda x: x.__iadd__(mt.ones(5)), ValueError, "cannot be broadcast"),
        (lambda x: x.__imul__(mt.ones(2, 3, 4)), ValueError, "in-place ops cannot change"),
        (lambda x: x.add_(mt.ones(4, 1)), ValueError, "cannot be broadcast"),
        (lambda x: x.__setitem__(slice(0, 2), mt.ones(3)), ValueError, "cannot be broadcast"),
        (lambda x: x.__setitem__(7, 1.0), IndexError, "out of bounds"),
        (lambda x: x.__setitem__(np.array([0, 9]), 1.0), IndexError, "out of bounds"),
        (lambda x: x.__setitem__(mt.ones(3, 4, dtype=mt.bool_), mt.ones(2)), ValueError,
         "setitem(): shapes"),
    ],
)  # fmt: skip
def test_failed_in_place_leaves_input_unchanged(update, exc, pattern):
    x = X34.clone()
    before = snapshot(x)
    with pytest.raises(exc, match=re.escape(pattern)):
        update(x)
    assert unchanged(before, x)


@pytest.mark.parametrize(("value", "target"), [(1.5, mt.int64), (1.5, mt.int32), (2, mt.bool_)])
def test_in_place_type_widening_raises(value, target):
    x = mt.tensor([1, 0, 3], dtype=target)
    before = snapshot(x)
    with pytest.raises(TypeError, match=rf"cannot be stored in place into a {target.name} tensor"):
        x += value
    assert unchanged(before, x)


def test_int_tensor_in_place_with_float_tensor_raises():
    x = mt.tensor([1, 2])
    before = snapshot(x)
    with pytest.raises(TypeError, match=r"float32 cannot be stored in place into a int64"):
        x *= mt.tensor([0.5, 0.5])
    assert unchanged(before, x)
    x += 1  # same kind: fine
    assert x.tolist() == [2, 3]
    y = mt.tensor([1.0, 2.0])
    y += mt.tensor([1, 1])  # int into float: fine
    assert y.dtype is mt.float32 and y.tolist() == [2.0, 3.0]


def test_in_place_on_leaf_requiring_grad_leaves_it_unchanged():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    before = snapshot(x)
    with pytest.raises(RuntimeError, match=r"__iadd__\(\): a leaf tensor that requires grad"):
        x += 1.0
    assert unchanged(before, x)
    assert x.is_leaf and x.grad_fn is None
