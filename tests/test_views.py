"""Views, indexing, conversion and joining, checked against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from _util import assert_same

import mytensor as mt


def arange(*shape: int, dtype=np.float32) -> tuple[mt.Tensor, np.ndarray]:
    a = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    return mt.tensor(a), a


def shares_storage(a: mt.Tensor, b: mt.Tensor) -> bool:
    return a._storage is b._storage


# -- reshape / view ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "new"),
    [((2, 3, 4), (6, 4)), ((2, 3, 4), (4, -1)), ((24,), (2, 3, 4)), ((2, 3, 4), (24,)),
     ((1, 6), (3, 1, 2)), ((), (1, 1)), ((1,), ()), ((0, 3), (3, 0)), ((0, 3), (-1,))],
)  # fmt: skip
def test_view_shares_storage_and_writes_through(shape, new):
    x, a = arange(*shape)
    v = x.view(*new)
    expected = a.reshape(new)
    assert_same(v, expected)
    assert shares_storage(v, x)
    if v.numel():
        with mt.no_grad():
            v[...] = -1.0
        assert (x.numpy() == -1.0).all()


def test_view_of_contiguous_transpose_pair():
    x, a = arange(2, 3, 4)
    v = x.permute(1, 0, 2).view(3, 2, 2, 2)  # last axis split: still a view
    assert shares_storage(v, x)
    assert_same(v, a.transpose(1, 0, 2).reshape(3, 2, 2, 2))


def test_reshape_of_permuted_tensor_copies():
    x, a = arange(2, 3)
    t = x.T
    r = t.reshape(6)
    assert_same(r, a.T.reshape(6))
    assert not shares_storage(r, x)
    with mt.no_grad():
        r[0] = 100.0
    assert x.numpy()[0, 0] == 0.0


def test_reshape_viewable_shares_storage():
    x, _ = arange(4, 6)
    assert shares_storage(x.reshape(2, 12), x)
    assert shares_storage(x[:, ::2].reshape(4, 3), x)  # strided but still viewable


def test_view_impossible_layout_names_shapes():
    x, _ = arange(2, 3)
    with pytest.raises(RuntimeError, match=r"view\(\).*\(6,\).*\(3, 2\)"):
        x.T.view(6)


@pytest.mark.parametrize("bad", [(4, 2), (7,), (-1, 4), (-1, -1)])
def test_reshape_wrong_total_raises(bad):
    x, _ = arange(2, 3)
    with pytest.raises(ValueError, match=r"reshape\(\)"):
        x.reshape(*bad)


# -- permute / transpose / T / mT ------------------------------------------------------
@pytest.mark.parametrize("dims", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, 0, 1), (2, 1, 0)])
def test_permute(dims):
    x, a = arange(2, 3, 4)
    p = x.permute(*dims)
    assert_same(p, np.transpose(a, dims))
    assert shares_storage(p, x)
    assert_same(mt.permute(x, dims), np.transpose(a, dims))


@pytest.mark.parametrize(("d0", "d1"), [(0, 1), (0, 2), (-1, -2), (1, 1)])
def test_transpose(d0, d1):
    x, a = arange(2, 3, 4)
    assert_same(x.transpose(d0, d1), np.swapaxes(a, d0, d1))


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
def test_T(shape):
    x, a = arange(*shape)
    assert_same(x.T, a.T)


@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3), (1, 0, 3)])
def test_mT(shape):
    x, a = arange(*shape)
    assert_same(x.mT, np.swapaxes(a, -1, -2))


def test_mT_needs_rank_2():
    with pytest.raises(ValueError, match=r"mT.*\(3,\)"):
        _ = mt.ones(3).mT


def test_permute_rejects_non_permutation():
    with pytest.raises(ValueError, match=r"permute\(\).*\(0, 0\)"):
        mt.ones(2, 3).permute(0, 0)


# -- expand / broadcast_to ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "target"),
    [((3, 1), (3, 4)), ((3,), (2, 3)), ((), (2, 2)), ((1, 1), (0, 5)), ((2, 1, 3), (4, 2, 5, 3))],
)
def test_broadcast_to_has_stride_zero(shape, target):
    x, a = arange(*shape)
    b = mt.broadcast_to(x, target)
    assert_same(b, np.broadcast_to(a, target))
    assert shares_storage(b, x)
    lead = len(target) - len(shape)
    for i, size in enumerate(target):
        if i < lead or shape[i - lead] != size:
            assert b.stride(i) == 0


def test_expand_with_minus_one():
    x, a = arange(3, 1)
    e = x.expand(2, -1, 4)
    assert e.shape == (2, 3, 4)
    assert e.stride() == (0, 1, 0)
    assert_same(e, np.broadcast_to(a, (2, 3, 4)))


def test_expand_invalid():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        mt.ones(3).expand(4)
    with pytest.raises(ValueError, match="fewer dims"):
        mt.ones(2, 3).expand(3)


# -- squeeze / unsqueeze / flip / contiguous --------------------------------------------
@pytest.mark.parametrize(
    ("shape", "dim"), [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((1, 3, 1), (0, 2)),
                       ((1,), None), ((), None), ((2, 0, 1), 2)],
)  # fmt: skip
def test_squeeze(shape, dim):
    x, a = arange(*shape)
    assert_same(x.squeeze(dim), np.squeeze(a, axis=dim))


def test_squeeze_non_unit_dim():
    # the array API's function refuses it; PyTorch's method leaves the dim in place
    with pytest.raises(ValueError, match=r"dimension 1 of shape \(1, 3\) has size 3"):
        mt.squeeze(mt.ones(1, 3), 1)
    assert mt.ones(1, 3).squeeze(1).shape == (1, 3)


@pytest.mark.parametrize(("shape", "dim"), [((3,), 0), ((3,), 1), ((3,), -1), ((2, 3), 1),
                                            ((), 0), ((2, 3), -3)])  # fmt: skip
def test_unsqueeze(shape, dim):
    x, a = arange(*shape)
    u = x.unsqueeze(dim)
    assert_same(u, np.expand_dims(a, dim))
    assert shares_storage(u, x)


@pytest.mark.parametrize(("shape", "dims"), [((5,), 0), ((2, 3), None), ((2, 3), 1),
                                             ((2, 3, 4), (0, 2)), ((0, 3), 0), ((), None)])
def test_flip(shape, dims):
    x, a = arange(*shape)
    f = x.flip(dims)
    assert_same(f, np.flip(a, dims))
    assert shares_storage(f, x)


def test_contiguous():
    x, a = arange(3, 4)
    assert x.contiguous() is x
    t = x.T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous()
    assert not shares_storage(c, x)
    assert_same(c, a.T)
    assert c.stride() == (3, 1)
    assert_same(x.flip(0).contiguous(), a[::-1])


# -- basic indexing ----------------------------------------------------------------------
KEYS_4D = [
    (slice(1, 3), slice(None, None, 2), None, Ellipsis, -1),
    (0,),
    (-1, -2),
    (Ellipsis, 0),
    (slice(None, None, -1),),
    (slice(None), slice(None, None, -2), slice(3, 0, -1)),
    (slice(-3, None), None, 1, Ellipsis),
    (None, None),
    (slice(5, 10),),  # empty
    (1, 2, 3, 4),
    (Ellipsis,),
    (slice(None, None, 3), Ellipsis, slice(None, None, -3)),
]


@pytest.mark.parametrize("key", KEYS_4D, ids=repr)
def test_basic_indexing_is_a_view(key):
    x, a = arange(3, 4, 5, 6)
    v = x[key]
    assert_same(v, a[key])
    assert shares_storage(v, x)


def test_basic_indexing_writes_through_under_no_grad():
    x, a = arange(3, 4, 5)
    v = x[1:3, ::-2, None, ..., -1]
    with mt.no_grad():
        v[...] = 0.0
    a[1:3, ::-2, None, ..., -1] = 0.0
    assert_same(x, a)


def test_index_0d_and_scalar_tensor_index():
    x, a = arange(4, 3)
    assert_same(x[mt.tensor(2)], a[2])
    s = mt.tensor(7.5)
    assert_same(s[()], np.float32(7.5))
    assert_same(s[None], np.array([7.5], np.float32))
    assert_same(s[...], np.float32(7.5))


# -- advanced indexing -------------------------------------------------------------------
I = np.array([[2, 0], [1, -1]])
J = np.array([1, 3])
MASK_A = np.array([True, False, True])
ADVANCED_KEYS = [
    (np.array([2, 0, 2]),),
    (I,),
    (slice(None), J),
    (I, J),  # adjacent arrays, broadcast together
    (slice(None), J, np.array([0, 4])),  # adjacent arrays after a slice
    (np.array([[1], [2]]), slice(1, 3), np.array([0, 4, 1])),  # non-adjacent: index dims go first
    (np.array([0, 2]), slice(None), np.array([1, 0])),
    (Ellipsis, np.array([4, 0])),
    (1, slice(None), np.array([0, 0, 3])),  # an int counts as an index array
    (MASK_A,),
    (MASK_A, slice(None, None, -1)),
    (slice(None), np.array([True, False, False, True])),
    (np.zeros((3, 4), dtype=bool),),
    (np.array([], dtype=np.int64),),
    (np.array([-3, -1]), None, slice(1, 2)),
]


@pytest.mark.parametrize("key", ADVANCED_KEYS, ids=repr)
def test_advanced_indexing_matches_numpy(key):
    x, a = arange(3, 4, 5)
    assert_same(x[key], a[key])


def test_advanced_indexing_with_tensor_indices_and_full_mask():
    x, a = arange(3, 4)
    mask = a % 3 == 1
    assert_same(x[mt.tensor(mask)], a[mask])
    assert_same(x[x > 6.0], a[a > 6.0])
    assert_same(x[mt.tensor([2, 0]), mt.tensor([3, 1])], a[[2, 0], [3, 1]])


def test_advanced_indexing_copies():
    x, _ = arange(3, 4)
    r = x[np.array([0, 1])]
    assert not shares_storage(r, x)
    with mt.no_grad():
        r[...] = -5.0
    assert x.numpy().min() == 0.0


# -- __setitem__ ------------------------------------------------------------------------
SET_CASES = [
    ((slice(1, 3),), 7.0),
    ((0, slice(None, None, -2)), -1.0),
    ((Ellipsis, 1), np.array([10.0, 20.0, 30.0], np.float32)),
    ((slice(None), None, 2), np.array([[1.0], [2.0], [3.0]], np.float32)),
    ((-1, -1), 9.0),
    ((slice(None, None, -1),), np.arange(4, dtype=np.float32)),
]


@pytest.mark.parametrize(("key", "value"), SET_CASES, ids=repr)
def test_setitem_basic(key, value):
    x, a = arange(3, 4)
    x[key] = mt.tensor(value) if isinstance(value, np.ndarray) else value
    a[key] = value
    assert_same(x, a)


def test_setitem_bool_mask():
    x, a = arange(3, 4)
    x[x > 5.0] = -1.0
    a[a > 5.0] = -1.0
    assert_same(x, a)
    y, b = arange(2, 3)
    y[mt.tensor(b % 2 == 0)] = mt.tensor(100.0)
    b[b % 2 == 0] = 100.0
    assert_same(y, b)


def test_setitem_int_tensor_truncates_value_dtype_kept():
    x = mt.zeros(3, dtype=mt.int64)
    x[1] = 4
    assert x.dtype is mt.int64
    assert x.tolist() == [0, 4, 0]


def test_setitem_self_overlap():
    x, a = arange(6)
    x[1:] = x[:-1]
    a[1:] = a[:-1].copy()
    assert_same(x, a)


# -- conversion ---------------------------------------------------------------------------
def test_item_tolist_numpy():
    assert mt.tensor(2.5).item() == 2.5
    assert isinstance(mt.tensor(3).item(), int)
    assert mt.tensor([[True]]).item() is True
    assert mt.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert mt.tensor(5).tolist() == 5
    x, a = arange(2, 3)
    n = x.T.numpy()
    np.testing.assert_array_equal(n, a.T)
    n[0, 0] = 99  # a copy: the tensor is untouched
    assert x.numpy()[0, 0] == 0
    with pytest.raises(ValueError, match=r"item\(\).*\(2, 3\)"):
        x.item()


@pytest.mark.parametrize("make", [np.asarray, np.array, np.from_dlpack], ids=lambda f: f.__name__)
def test_numpy_protocols(make):
    x, a = arange(2, 3)
    out = make(x[:, ::-1])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, a[:, ::-1])


def test_array_with_dtype_and_dlpack_device():
    x = mt.tensor([1.5, 2.5])
    np.testing.assert_array_equal(np.asarray(x, dtype=np.int64), [1, 2])
    assert x.__dlpack_device__() == (1, 0)
    np.testing.assert_array_equal(np.from_dlpack(mt.tensor([[1, 2]], dtype=mt.int32)), [[1, 2]])


def test_len_iter():
    x, a = arange(3, 2)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3
    for r, ra in zip(rows, a, strict=True):
        assert_same(r, ra)
    assert len(mt.zeros(0, 4)) == 0
    assert list(mt.zeros(0)) == []
    with pytest.raises(TypeError, match="0-d"):
        len(mt.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(mt.tensor(1.0))


def test_repr():
    assert repr(mt.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mt.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mt.tensor([1, 2], dtype=mt.int32)) == "tensor([1, 2], dtype=int32)"
    assert repr(mt.tensor(3.0)) == "tensor(3.)"
    assert repr(mt.zeros(0)) == "tensor([])"
    assert repr(mt.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    y = mt.tensor([1.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<mulBackward>)"
    assert repr(mt.ones(1, backend="minimal")) == "tensor([1.], backend='minimal')"
    assert "..." in repr(mt.zeros(1000))


# -- 0-d and size-0 ------------------------------------------------------------------------
def test_zero_d_tensors_through_view_ops():
    x = mt.tensor(4.0)
    assert x.shape == () and x.ndim == 0 and x.numel() == 1
    assert x.reshape(1, 1).shape == (1, 1)
    assert x.unsqueeze(0).shape == (1,)
    assert x.T.shape == ()
    assert x.flip().item() == 4.0
    assert x.squeeze().shape == ()
    assert mt.broadcast_to(x, (2, 3)).tolist() == [[4.0] * 3] * 2
    assert mt.stack([x, x]).tolist() == [4.0, 4.0]
    assert (x + mt.ones(2)).tolist() == [5.0, 5.0]


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 4)])
def test_size_zero_tensors(shape):
    x, a = arange(*shape)
    assert x.numel() == 0
    assert_same(x.T, a.T)
    assert_same(x.reshape(-1), a.reshape(-1))
    assert_same(x.flip(0), np.flip(a, 0))
    assert_same(x + 1.0, a + 1.0)
    assert_same(x.sum(), np.float32(0.0))
    assert_same(x.prod(), np.float32(1.0))
    assert_same(x[..., None], a[..., None])
    assert_same(mt.cat([x, x]), np.concatenate([a, a]))
    assert x.tolist() == a.tolist()


# -- cat / stack / split -------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(6, 12, dtype=np.float32).reshape(2, 3)
    assert_same(mt.cat([mt.tensor(a), mt.tensor(b).flip(0)], dim),
                np.concatenate([a, b[::-1]], dim))  # fmt: skip


def test_cat_promotes_and_handles_empty():
    out = mt.cat([mt.tensor([1, 2], dtype=mt.int32), mt.tensor([0.5]), mt.zeros(0)])
    assert out.dtype is mt.float32
    assert out.tolist() == [1.0, 2.0, 0.5]


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    a, b = np.ones((2, 3), np.float32), np.arange(6, dtype=np.float32).reshape(2, 3)
    assert_same(mt.stack([mt.tensor(a), mt.tensor(b)], axis=dim), np.stack([a, b], dim))


@pytest.mark.parametrize(("sections", "dim"), [(2, 0), (3, 1), ([1, 4], 1), ([0, 5], 1),
                                               (7, 0), ([2, 0, 3], -1)])  # fmt: skip
def test_split(sections, dim):
    x, a = arange(5, 5)
    pieces = mt.split(x, sections, dim)
    n = a.shape[dim]
    cuts = (list(range(sections, n, sections)) if isinstance(sections, int)
            else np.cumsum(sections)[:-1].tolist())  # fmt: skip
    expected = np.split(a, cuts, axis=dim)
    assert len(pieces) == len(expected)
    for p, e in zip(pieces, expected, strict=True):
        assert_same(p, e)
        assert shares_storage(p, x)


def test_split_wrong_sizes():
    with pytest.raises(ValueError, match=r"sum to 5"):
        mt.split(mt.ones(5), [2, 2])
