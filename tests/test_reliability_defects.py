"""Regression tests for defects found by differential fuzzing against PyTorch and numpy and
by array-API clients: one test per defect, each failing before its fix. Where PyTorch
defines the answer the test compares with it; where zero signs or NaNs matter, bitwise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn, optim


def _torch():
    return pytest.importorskip("torch")


def _grad_of(x: mt.Tensor) -> np.ndarray:
    assert x.grad is not None, "no gradient was accumulated"
    return x.grad.numpy()


# -- wrong results ---------------------------------------------------------------------------
@pytest.mark.parametrize("spell", ["method", "method_kw", "namespace_dim", "namespace_axis"])
def test_std_of_a_constant_row_has_zero_gradient(spell):
    torch = _torch()
    rows = np.array([[2.0, 2.0], [1.0, 3.0]])
    calls = {
        "method": lambda t: t.std(1),
        "method_kw": lambda t: t.std(dim=1, correction=0),
        "namespace_dim": lambda t: mt.std(t, 1) if isinstance(t, mt.Tensor) else t.std(1),
        "namespace_axis": lambda t: (
            mt.std(t, axis=1) if isinstance(t, mt.Tensor) else t.std(1, correction=0)
        ),
    }
    x = mt.tensor(rows, requires_grad=True)
    calls[spell](x).sum().backward()
    tx = torch.tensor(rows, requires_grad=True)
    calls[spell](tx).sum().backward()
    np.testing.assert_allclose(_grad_of(x), tx.grad.numpy(), rtol=1e-12)
    assert not np.isnan(_grad_of(x)).any()


@pytest.mark.parametrize("op", ["floor", "ceil", "round", "trunc", "sign"])
def test_zero_gradient_ops_stay_zero_under_an_infinite_upstream_gradient(op):
    torch = _torch()
    x = mt.tensor([0.3], requires_grad=True)
    (mt.tensor([-2.0]) ** (getattr(x, op)() + 0.5)).sum().backward()
    tx = torch.tensor([0.3], requires_grad=True)
    (torch.tensor([-2.0]) ** (getattr(tx, op)() + 0.5)).sum().backward()
    assert tx.grad.item() == 0.0
    np.testing.assert_array_equal(_grad_of(x), tx.grad.numpy())
    g = mt.tensor([float("inf"), 1.0], dtype=mt.float64, requires_grad=True)
    y = mt.tensor([1.5, -2.5], dtype=mt.float64, requires_grad=True)
    (gx,) = mt.autograd.grad(getattr(y, op)(), y, g, create_graph=True)
    assert gx.dtype == mt.float64 and gx.shape == (2,)
    np.testing.assert_array_equal(gx.numpy(), [0.0, 0.0])


def _svd_second_derivative(lib, fn, a):
    x = lib.tensor(a, requires_grad=True)
    (g,) = lib.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert g.requires_grad, "the first derivative is detached from the graph"
    (g * g).sum().backward()
    return x.grad.detach().numpy() if hasattr(x.grad, "detach") else x.grad.numpy()


@pytest.mark.parametrize("which", ["svdvals", "nuc", "2"])
def test_singular_value_functions_are_twice_differentiable(which):
    torch = _torch()
    a = np.random.default_rng(5).standard_normal((2, 4, 3))
    spell = {
        "svdvals": lambda lib: lib.linalg.svdvals,
        "nuc": lambda lib: lambda x: lib.linalg.matrix_norm(x, ord="nuc"),
        "2": lambda lib: lambda x: lib.linalg.matrix_norm(x, ord=2),
    }[which]
    got = _svd_second_derivative(mt, spell(mt), a)
    expected = _svd_second_derivative(torch, spell(torch), a)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])
def test_second_derivative_of_prod_with_zeros(values):
    torch = _torch()
    x = mt.tensor(values, dtype=mt.float64, requires_grad=True)
    (g,) = mt.autograd.grad(x.prod(), x, create_graph=True)
    g.sum().backward()
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(tx.prod(), tx, create_graph=True)
    tg.sum().backward()
    np.testing.assert_array_equal(g.detach().numpy(), tg.detach().numpy())
    np.testing.assert_allclose(_grad_of(x), tx.grad.numpy(), rtol=1e-12)


def test_log_softmax_and_cross_entropy_keep_precision_for_large_logits():
    torch = _torch()
    logits = np.array([[1000.0, 1000.5, 999.0], [-3.0, 2.0, 40000.0]], dtype=np.float32)
    got = mt.log_softmax(mt.tensor(logits), dim=1).numpy()
    expected = torch.log_softmax(torch.tensor(logits), dim=1).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert abs(mt.log_softmax(mt.tensor([1000.0, 1000.5]), dim=0)[0].item() + 0.974077) < 1e-5
    labels = np.array([0, 1])
    loss = F.cross_entropy(mt.tensor(logits), mt.tensor(labels)).item()
    t_loss = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels))
    assert abs(loss - t_loss.item()) <= 1e-6 * abs(t_loss.item())


@pytest.mark.parametrize("bounds", [("nan", None), (None, "nan"), ("nan", "nan")])
def test_clip_with_a_nan_bound_gives_nan(bounds):
    torch = _torch()
    x = np.array([0.5, -1.0], dtype=np.float32)
    lo, hi = (np.full(2, np.nan, np.float32) if b == "nan" else None for b in bounds)
    got = mt.clip(mt.tensor(x), *(None if b is None else mt.tensor(b) for b in (lo, hi)))
    expected = torch.clamp(torch.tensor(x), *(None if b is None else torch.tensor(b)
                                              for b in (lo, hi)))  # fmt: skip
    assert np.isnan(np.clip(x, lo, hi)).all()
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    scalar = [None if b is None else float("nan") for b in bounds]
    got = mt.clip(mt.tensor(x), *scalar)
    np.testing.assert_array_equal(got.numpy(), torch.clamp(torch.tensor(x), *scalar).numpy())


def test_pinv_gradient_with_repeated_singular_values():
    torch = _torch()
    for a in (2.0 * np.eye(3), np.diag([1.0, 1.0, 3.0]), np.ones((2, 3))):
        x = mt.tensor(a, requires_grad=True)
        mt.linalg.pinv(x).sum().backward()
        tx = torch.tensor(a, requires_grad=True)
        torch.linalg.pinv(tx).sum().backward()
        np.testing.assert_allclose(_grad_of(x), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    a = np.random.default_rng(2).standard_normal((3, 2))
    got = _svd_second_derivative(mt, mt.linalg.pinv, a)
    np.testing.assert_allclose(got, _svd_second_derivative(torch, torch.linalg.pinv, a), rtol=1e-9)


@pytest.mark.parametrize("key", [[], ([], []), (slice(None), [])])
def test_indexing_with_an_empty_list(key):
    torch = _torch()
    a = np.arange(6.0).reshape(3, 2)
    got = mt.tensor(a)[key]
    assert got.shape == a[key].shape == tuple(torch.tensor(a)[key].shape)
    assert got.dtype == mt.float64
    x = mt.tensor(a)
    x[key] = 7.0
    np.testing.assert_array_equal(x.numpy(), a)


# -- defects array-API clients hit -----------------------------------------------------------
@pytest.mark.parametrize("integer", [np.int64, np.int32, np.uint8])
def test_numpy_integers_as_axes_dims_and_sizes(integer):
    one, two = integer(1), integer(2)
    x = mt.ones((2, 3))
    assert mt.diff(x, axis=one).shape == (2, 2)
    assert mt.sum(x, axis=one).shape == (2,)
    assert mt.expand_dims(x, axis=one).shape == (2, 1, 3)
    assert mt.squeeze(mt.ones((2, 1)), axis=one).shape == (2,)
    assert mt.flip(x, axis=one).shape == (2, 3)
    assert mt.roll(x, one, axis=one).shape == (2, 3)
    assert mt.concat([x, x], axis=one).shape == (2, 6)
    assert mt.stack([x, x], axis=one).shape == (2, 2, 3)
    assert mt.argmax(x, axis=one).shape == (2,)
    assert mt.cumulative_sum(x, axis=one).shape == (2, 3)
    assert mt.sort(x, axis=one).shape == (2, 3)
    assert mt.take(x, mt.tensor([0]), axis=one).shape == (2, 1)
    assert mt.moveaxis(x, one, integer(0)).shape == (3, 2)
    assert mt.ones((two, integer(3))).shape == (2, 3)
    assert mt.zeros(two).shape == (2,)
    assert mt.full((two,), 1.0).shape == (2,)
    assert mt.empty((two, one)).shape == (2, 1)
    assert mt.eye(two).shape == (2, 2)
    assert mt.reshape(x, (integer(3), two)).shape == (3, 2)
    assert x.reshape(integer(6)).shape == (6,)
    assert mt.broadcast_to(mt.ones(3), (two, integer(3))).shape == (2, 3)
    assert mt.tile(mt.ones(2), (two,)).shape == (4,)
    assert mt.repeat(mt.ones(2), two).shape == (4,)
    assert mt.tril(x, k=one).shape == (2, 3)
    assert mt.arange(two).tolist() == [0, 1]
    assert mt.linspace(0.0, 1.0, integer(3)).shape == (3,)
    assert x.sum(dim=one).shape == (2,)
    assert x.transpose(integer(0), one).shape == (3, 2)
    assert x.size(one) == 3
    assert x.unsqueeze(one).shape == (2, 1, 3)
    assert x.flatten(integer(0), one).shape == (6,)
    assert x[one, one].item() == 1.0
    assert x[:, one].shape == (2,)
    assert x.max(one).values.shape == (2,)
    assert x.view(integer(6)).shape == (6,)
    assert x.new_zeros((two,)).shape == (2,)
    assert [p.shape for p in mt.split(x, two, dim=one)] == [(2, 2), (2, 1)]
    assert len(mt.chunk(x, two, dim=one)) == 2
    assert mt.tensordot(x, x.mT, axes=one).shape == (2, 2)
    assert mt.diff(x, n=two, axis=one).shape == (2, 1)
    assert mt.norm(x, p="fro", dim=one).shape == (2,)
    assert mt.movedim(x, one, integer(0)).shape == (3, 2)
    images = mt.ones((1, 1, 4, 4))
    assert nn.Conv2d(1, 1, integer(3), padding=one)(images).shape == (1, 1, 4, 4)
    assert F.max_pool2d(images, two).shape == (1, 1, 2, 2)
    assert F.adaptive_avg_pool2d(images, one).shape == (1, 1, 1, 1)
    assert F.adaptive_max_pool2d(images, (one, two)).shape == (1, 1, 1, 2)
    assert nn.LayerNorm(integer(4))(images).shape == (1, 1, 4, 4)
    assert F.layer_norm(images, (integer(4),)).shape == (1, 1, 4, 4)
    assert F.group_norm(mt.ones((2, 2, 3)), one).shape == (2, 2, 3)
    assert nn.Unflatten(1, (two, integer(3)))(mt.ones((4, 6))).shape == (4, 2, 3)


def test_boolean_mask_setitem_on_a_0d_tensor():
    for mask, value, expected in ((True, [5.0], 5.0), (False, [], 2.0), (True, 5.0, 5.0)):
        x = mt.asarray(2.0)
        x[mt.asarray(mask)] = mt.asarray(value)
        reference = np.asarray(2.0)
        reference[np.asarray(mask)] = np.asarray(value)
        assert x.shape == () and x.item() == reference.item() == expected


def test_asarray_of_float64_0d_tensors_keeps_float64():
    torch = _torch()
    f = mt.asarray(1.5, dtype=mt.float64)
    for parts in ([f, f], [[f], [f]], (f, mt.asarray(2.0, dtype=mt.float64))):
        got = mt.asarray(parts)
        assert got.dtype == mt.float64
        np.testing.assert_array_equal(got.numpy(), np.asarray(parts, dtype=np.float64))
    assert mt.asarray([mt.asarray(3, dtype=mt.int32)] * 2).dtype == mt.int32
    tf = torch.tensor(1.5, dtype=torch.float64)
    assert mt.tensor([f, f]).dtype == mt.float64
    assert torch.tensor([tf, tf]).dtype == torch.float64


def test_format_spec_on_tensors():
    torch = _torch()
    for value in (1.5, -0.0, 3):
        assert f"{mt.asarray(value):.3f}" == f"{torch.tensor(value):.3f}" == f"{value:.3f}"
        assert format(mt.asarray(value), "") == format(torch.tensor(value), "")
    x = mt.tensor([1.0, 2.0])
    assert f"{x}" == str(x)
    with pytest.raises(TypeError, match="format"):
        f"{x:.3f}"
    with pytest.raises(TypeError):
        f"{torch.tensor([1.0, 2.0]):.3f}"


@pytest.mark.parametrize("make", ["broadcast_to", "meshgrid", "broadcast_arrays", "expand"])
def test_writing_through_a_broadcast_view_is_an_error(make):
    base = mt.zeros(3)
    view = {
        "broadcast_to": lambda: mt.broadcast_to(base, (2, 3)),
        "meshgrid": lambda: mt.meshgrid(base, mt.zeros(2), indexing="ij")[0],
        "broadcast_arrays": lambda: mt.broadcast_arrays(base, mt.zeros((2, 1)))[0],
        "expand": lambda: base.expand(2, 3),
    }[make]()
    before = view.numpy().copy()
    with pytest.raises(RuntimeError, match=r"setitem\(\).*clone\(\)"):
        view[0, 0] = 1.0
    with pytest.raises(RuntimeError, match=r"setitem\(\).*clone\(\)"):
        view[mt.tensor([0])] = 1.0
    with pytest.raises(RuntimeError, match=r"add_\(\).*clone\(\)"):
        view.add_(1.0)
    np.testing.assert_array_equal(view.numpy(), before)
    np.testing.assert_array_equal(base.numpy(), np.zeros(3))
    copy = view.clone()
    copy[0, 0] = 1.0
    assert copy.numpy().sum() == 1.0


def test_numba_where_at_two_to_the_21_elements():
    pytest.importorskip("numba")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 2048)).astype(np.float32)
    with mt.use_backend("numba_cpu"):
        x = mt.tensor(a)
        clipped = mt.clip(x, -1.0, 1.0)
        chosen = mt.where(x > 0, x, mt.zeros_like(x))
    np.testing.assert_array_equal(clipped.numpy(), np.clip(a, -1.0, 1.0))
    np.testing.assert_array_equal(chosen.numpy(), np.where(a > 0, a, 0.0))


# -- bad input that mutates or misleads -------------------------------------------------------
OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.1),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, weight_decay=0.1),
    "Adadelta": lambda ps: optim.Adadelta(ps, weight_decay=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.1, weight_decay=0.1),
}


def _state_snapshot(opt) -> list:
    return [
        sorted((k, v.tolist() if isinstance(v, mt.Tensor) else v) for k, v in state.items())
        for state in opt.state.values()
    ]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("bad", ["shape", "dtype"])
def test_optimizer_step_with_a_bad_gradient_changes_nothing(name, bad):
    first, second = nn.Parameter(mt.ones(2)), nn.Parameter(mt.ones(2))
    opt = OPTIMIZERS[name]([first, second])
    first.grad = mt.ones(2)
    second.grad = mt.ones(3) if bad == "shape" else mt.ones(2, dtype=mt.float64)
    before = _state_snapshot(opt)
    with pytest.raises(RuntimeError, match=rf"{name}\.step\(\).*parameter 1 .*{bad}"):
        opt.step()
    np.testing.assert_array_equal(first.detach().numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(second.detach().numpy(), [1.0, 1.0])
    assert _state_snapshot(opt) == before
    second.grad = mt.ones(2)
    opt.step()
    assert (first.detach().numpy() != 1.0).all()


def test_cross_entropy_and_embedding_errors_name_the_op():
    torch = _torch()
    logits = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(RuntimeError):
        torch.nn.functional.cross_entropy(
            torch.tensor(logits), torch.tensor([0, 1, 2], dtype=torch.int32)
        )
    with pytest.raises((RuntimeError, TypeError), match=r"cross_entropy\(\).*int64"):
        F.cross_entropy(mt.tensor(logits), mt.tensor([0, 1, 2], dtype=mt.int32))
    with pytest.raises(IndexError, match=r"cross_entropy\(\)"):
        F.cross_entropy(mt.tensor(logits), mt.tensor([0, 1, 7]))
    with pytest.raises(IndexError, match=r"embedding\(\).*5"):
        nn.Embedding(4, 2)(mt.tensor([5]))
    with pytest.raises(IndexError, match=r"embedding\(\)"):
        F.embedding(mt.tensor([[0, -5]]), mt.ones((4, 2)))


@pytest.mark.parametrize("loss", ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"])
def test_elementwise_losses_warn_on_mismatched_sizes(loss):
    torch = _torch()
    pred, target = np.ones((4, 1), np.float32), np.zeros(4, np.float32)
    with pytest.warns(UserWarning, match="target size") as mine:
        got = getattr(F, loss)(mt.tensor(pred), mt.tensor(target))
    with pytest.warns(UserWarning, match="target size") as theirs:
        expected = getattr(torch.nn.functional, loss)(torch.tensor(pred), torch.tensor(target))
    assert str(mine[0].message).startswith(f"{loss}(): Using a target size ((4,))")
    assert "input size ((4, 1))" in str(mine[0].message)
    assert mine[0].filename == theirs[0].filename == __file__
    assert got.item() == pytest.approx(expected.item())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, loss)(mt.tensor(target), mt.tensor(target))


@pytest.mark.parametrize("make", [mt.zeros, mt.ones, mt.empty])
def test_huge_allocation_names_op_shape_bytes_and_backend(make):
    with pytest.raises(MemoryError, match=r"(?s)\(1099511627776, 1099511627776\).*bytes.*numpy"):
        make(2**40, 2**40)
    with pytest.raises(MemoryError, match=make.__name__):
        make((2**40, 2**40), dtype=mt.float64)
