"""In-place operators: the direct-write path (no graph, no promotion) and the general one
agree, keep the buffer, and bump the version that autograd checks."""

import numpy as np
import pytest

import mytensor as mt


@pytest.mark.parametrize("op", ["__iadd__", "__isub__", "__imul__", "__itruediv__",
                                "__ifloordiv__", "__imod__", "__ipow__"])  # fmt: skip
@pytest.mark.parametrize("other", ["tensor", "row", "scalar"])
def test_in_place_writes_into_the_same_buffer(op, other):
    base = np.array([[1.5, -2.0, 3.0], [4.0, 0.5, -1.0]], dtype=np.float32)
    values = {"tensor": base + 1, "row": np.array([2.0, 0.5, 1.5], np.float32), "scalar": 1.5}
    x = mt.tensor(base)
    operand = values[other] if other == "scalar" else mt.tensor(values[other])
    storage, version = x._storage, x._storage.version
    result = getattr(x, op)(operand)
    assert result is x and x._storage is storage
    assert x._storage.version == version + 1
    with np.errstate(all="ignore"):  # the oracle's NaN/inf are the expected values too
        expected = getattr(base.copy(), op)(values[other])
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)


def test_in_place_on_a_strided_view_updates_the_base():
    base = mt.zeros(3, 4)
    column = base[:, 1]
    column += 2.0
    assert base.numpy()[:, 1].tolist() == [2.0, 2.0, 2.0]
    assert base.numpy()[:, 0].tolist() == [0.0, 0.0, 0.0]


def test_in_place_from_an_overlapping_view_reads_before_writing():
    x = mt.arange(5.0)
    x[1:] += x[:-1]
    assert x.tolist() == [0.0, 1.0, 3.0, 5.0, 7.0]


def test_in_place_under_no_grad_leaves_no_graph():
    w = mt.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    with mt.no_grad():
        w -= 0.5 * w.grad
    assert w.is_leaf and w.grad_fn is None
    assert w.tolist() == [0.0, 0.0, 0.0]
