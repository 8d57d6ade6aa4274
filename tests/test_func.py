"""mytensor.func against torch.func (the oracle): values and shapes of every transform."""

import numpy as np
import pytest
import torch
import torch.func as tf

import mytensor as mt
import mytensor.nn as nn
import mytensor.nn.functional as F
from mytensor.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    vjp,
    vmap,
)  # fmt: skip

X = np.array([0.5, -1.0, 2.0])


def f_mt(x):
    return (x.sin() * x.sum()).sum() * x[0]


def f_t(x):
    return (x.sin() * x.sum()).sum() * x[0]


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a.tolist()), b.detach().numpy(), rtol=tol, atol=tol)


def test_grad_argnums_has_aux_and_value():
    x, y = mt.tensor(X), mt.tensor([1.0, 2.0, 3.0])
    xt, yt = torch.tensor(X), torch.tensor([1.0, 2.0, 3.0])
    g = grad(lambda a, b: (a * b * a).sum(), argnums=(0, 1))(x, y)
    gt = tf.grad(lambda a, b: (a * b * a).sum(), argnums=(0, 1))(xt, yt)
    close(g[0], gt[0]), close(g[1], gt[1])
    (g, (v, aux)) = grad_and_value(lambda a: ((a * a).sum(), a * 2), has_aux=True)(x)
    close(g, 2 * xt), close(v, (xt * xt).sum()), close(aux, xt * 2)


def test_grad_pytree_input():
    p = {"w": mt.tensor(X), "b": [mt.tensor([1.0])]}
    g = grad(lambda p: (p["w"] * p["b"][0]).sum())(p)
    assert g["w"].tolist() == [1.0, 1.0, 1.0] and g["b"][0].tolist() == [sum(X)]


def test_grad_of_non_scalar_raises():
    with pytest.raises(RuntimeError, match="scalar"):
        grad(lambda x: x * 2)(mt.tensor(X))


def test_vjp_and_jvp():
    x, xt = mt.tensor(X), torch.tensor(X)
    out, fn = vjp(lambda a: a.sin() * a, x)
    outt, fnt = tf.vjp(lambda a: a.sin() * a, xt)
    ct = torch.tensor([1.0, -2.0, 0.5])
    close(out, outt), close(fn(mt.tensor(ct.numpy()))[0], fnt(ct)[0])
    o, t = jvp(lambda a: a.exp() * a.sum(), (x,), (mt.tensor(ct.numpy()),))
    ot, tt = tf.jvp(lambda a: a.exp() * a.sum(), (xt,), (ct,))
    close(o, ot), close(t, tt)


def test_jacobians_and_hessian():
    x, xt = mt.tensor(X), torch.tensor(X)
    g = lambda a: a.tanh() * a.sum()  # noqa: E731
    close(jacrev(g)(x), tf.jacrev(g)(xt))
    close(jacfwd(g)(x), tf.jacfwd(g)(xt))
    close(hessian(f_mt)(x), tf.hessian(f_t)(xt))
    close(jacrev(jacrev(f_mt))(x), tf.hessian(f_t)(xt))
    j = jacrev(lambda a, b: a * b, argnums=(0, 1))(x, x)
    assert j[0].shape == (3, 3) and j[1].shape == (3, 3)


def test_jacobians_through_matmul():
    # matmul's backward runs on jacrev's batched cotangents (it used to fail: no rule)
    w = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])

    def m(a):
        return (mt.tensor(w) @ a).tanh()

    def mw(a):
        return (torch.tensor(w) @ a).tanh()

    x, xt = mt.tensor(X), torch.tensor(X)
    close(jacrev(m)(x), tf.jacrev(mw)(xt))
    close(jacfwd(m)(x), tf.jacfwd(mw)(xt))
    close(hessian(lambda a: m(a).sum())(x), tf.hessian(lambda a: mw(a).sum())(xt))
    pair = jacrev(lambda a, b: a @ b, argnums=(0, 1))(mt.tensor(w), mt.tensor(w.T))
    pair_t = tf.jacrev(lambda a, b: a @ b, argnums=(0, 1))(torch.tensor(w), torch.tensor(w.T))
    close(pair[0], pair_t[0]), close(pair[1], pair_t[1])


def _mlp():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    return model, {k: v.detach() for k, v in model.named_parameters()}


def test_per_sample_grads_match_loop_and_torch():
    model, params = _mlp()
    x = mt.randn(6, 4)
    y = mt.tensor([0, 2, 1, 1, 0, 2])

    def loss(p, xi, yi):
        return F.cross_entropy(functional_call(model, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))

    g = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    tparams = {k: torch.tensor(v.numpy()) for k, v in params.items()}

    def tloss(p, xi, yi):
        out = tf.functional_call(tmodel, p, (xi.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(out, yi.unsqueeze(0))

    gt = tf.vmap(tf.grad(tloss), in_dims=(None, 0, 0))(
        tparams, torch.tensor(x.numpy()), torch.tensor(y.numpy()))
    for k in params:
        loop = np.stack([grad(loss)(params, x[i], y[i])[k].numpy() for i in range(6)])
        np.testing.assert_allclose(g[k].numpy(), loop, rtol=1e-6, atol=1e-6)
        close(g[k], gt[k])


def test_functional_call_restores_even_on_error():
    model, params = _mlp()
    before = model[0].weight
    zeros = {k: mt.zeros(v.shape) for k, v in params.items()}
    assert functional_call(model, zeros, mt.ones(1, 4)).tolist() == [[0.0, 0.0, 0.0]]
    assert model[0].weight is before
    with pytest.raises(ValueError):
        functional_call(model, zeros, mt.ones(1, 7))
    assert model[0].weight is before
    with pytest.raises(RuntimeError, match="missing"):
        functional_call(model, {"0.weight": zeros["0.weight"]}, mt.ones(1, 4), strict=True)


def test_vmap_in_out_dims_nested_and_pytrees():
    a = mt.randn(3, 4)
    out = vmap(lambda t: t * 2, in_dims=1, out_dims=1)(a)
    assert np.allclose(out.numpy(), a.numpy() * 2)
    outer = vmap(vmap(lambda u, v: u * v), in_dims=(0, None))(mt.randn(2, 3), mt.randn(3))
    assert outer.shape == (2, 3)
    d = vmap(lambda p: {"s": p["x"].sum(), "t": (p["x"], p["y"])}, in_dims=({"x": -1, "y": None},))(
        {"x": a, "y": mt.ones(2)})
    assert d["s"].shape == (4,) and d["t"][0].shape == (4, 3) and d["t"][1].shape == (4, 2)
    chunked = vmap(lambda t: t.sum(), chunk_size=2)(a)
    assert np.allclose(chunked.numpy(), a.numpy().sum(1))


def test_vmap_errors():
    with pytest.raises(ValueError, match="out of range"):
        vmap(lambda t: t)(mt.ones(()))
    with pytest.raises(ValueError, match="same size"):
        vmap(lambda s, t: s + t)(mt.ones(2), mt.ones(3))
    with pytest.raises(RuntimeError, match="no batching rule for 'diag'"):
        vmap(lambda t: mt.diag(t))(mt.ones(2, 3, 3))
    with pytest.raises(RuntimeError, match="randomness='error'"):
        vmap(lambda t: F.dropout(t, 0.5))(mt.ones(2, 3))


def test_vmap_randomness():
    ones = mt.ones(8, 50)
    diff = vmap(lambda t: F.dropout(t, 0.5), randomness="different")(ones).numpy()
    same = vmap(lambda t: F.dropout(t, 0.5), randomness="same")(ones).numpy()
    assert not (diff == diff[0]).all() and (same == same[0]).all()


@pytest.mark.parametrize("name,draw", [
    ("rand", lambda t: mt.rand(4)), ("randn", lambda t: mt.randn(4)),
    ("randint", lambda t: mt.randint(0, 1000, (4,))), ("rand_like", lambda t: mt.rand_like(t)),
    ("randn_like", lambda t: mt.randn_like(t)), ("normal", lambda t: mt.normal(0.0, 1.0, (4,))),
    ("bernoulli", lambda t: mt.bernoulli(mt.full((4,), 0.5))),
    ("multinomial", lambda t: mt.multinomial(mt.ones(50), 4)),
])  # fmt: skip
def test_vmap_randomness_of_creation_ops(name, draw):
    x = mt.zeros(6, 4)
    with pytest.raises(RuntimeError, match=f"random operation '{name}'.*randomness='error'"):
        vmap(draw)(x)
    diff = vmap(draw, randomness="different")(x).numpy()
    same = vmap(draw, randomness="same")(x).numpy()
    assert diff.shape == same.shape == (6, 4)
    assert (same == same[0]).all() and not (diff == diff[0]).all()


def test_vmap_randomness_nested_and_batched_inputs():
    x = mt.zeros(5, 6, 3)
    both = vmap(vmap(lambda t: t + mt.randn(3), randomness="different"),
                randomness="different")(x).numpy()  # fmt: skip
    assert len({tuple(v) for v in both.reshape(-1, 3).tolist()}) == 30  # every sample
    inner_same = vmap(vmap(lambda t: t + mt.randn(3), randomness="same"),
                      randomness="different")(x).numpy()  # fmt: skip
    assert (inner_same == inner_same[:, :1]).all() and not (inner_same == inner_same[:1]).all()
    drop = vmap(vmap(lambda t: F.dropout(t, 0.5), randomness="different"),
                randomness="different")(mt.ones(4, 3, 40)).numpy()  # fmt: skip
    assert not (drop == drop[:1]).all() and not (drop == drop[:, :1]).all()
    p = mt.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    assert vmap(mt.bernoulli, randomness="different")(p).tolist() == p.tolist()
    assert vmap(lambda m: mt.normal(m, 0.0), randomness="different")(p).tolist() == p.tolist()
    picks = vmap(lambda w: mt.multinomial(w, 1), randomness="different")(p[:, :2])
    assert picks.tolist() == [[1], [0]]
    with pytest.raises(RuntimeError, match=r"bernoulli.*randomness='same'"):
        vmap(mt.bernoulli, randomness="same")(p)
