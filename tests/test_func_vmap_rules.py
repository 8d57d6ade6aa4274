"""Every op with a batching rule: vmap(op) over a batch equals stacking op per sample,
with batched and unbatched arguments mixed, and non-zero in_dims."""

import numpy as np
import pytest

import mytensor as mt
import mytensor.nn.functional as F
from mytensor.func import vmap

rng = np.random.default_rng(0)


def T(*shape):
    return mt.tensor(rng.standard_normal(shape))


def I(high, *shape):  # noqa: E743
    return mt.tensor(rng.integers(0, high, shape))


def check(fn, args, in_dims):
    out = vmap(fn, in_dims=in_dims)(*args)
    size = next(a.shape[d] for a, d in zip(args, in_dims, strict=True) if d is not None)
    per = [fn(*[a if d is None else a.select(d, i) for a, d in zip(args, in_dims, strict=True)])
           for i in range(size)]  # fmt: skip
    if isinstance(out, tuple):
        for k, o in enumerate(out):
            np.testing.assert_allclose(o.numpy(), np.stack([p[k].numpy() for p in per]), 1e-6, 1e-6)
    else:
        np.testing.assert_allclose(out.numpy(), np.stack([p.numpy() for p in per]), 1e-6, 1e-6)


CASES = [
    ("add_bcast", lambda a, b: a + b, [T(3, 4), T(2, 1, 4)], (0, None)),
    ("mul_both", lambda a, b: a * b, [T(3, 4), T(4, 3)], (0, 1)),
    ("exp", lambda a: a.exp(), [T(2, 3)], (1,)),
    ("where", lambda c, a: mt.where(c > 0, a, 0.0), [T(3, 4), T(4)], (0, None)),
    ("clamp", lambda a: mt.clamp(a, -0.5, 0.5), [T(3, 4)], (0,)),
    ("activations", lambda a: F.gelu(a) + F.relu(a) + a.tanh() + a.sigmoid(), [T(3, 4)], (0,)),
    ("sum", lambda a: a.sum(-1), [T(3, 4, 2)], (1,)),
    ("mean_keep", lambda a: a.mean(0, keepdim=True), [T(3, 4)], (0,)),
    ("amax", lambda a: mt.amax(a, 1), [T(3, 4, 2)], (0,)),
    ("max_min_prod", lambda a: a.max() + a.min() + a.prod(), [T(3, 4)], (0,)),
    ("var_std", lambda a: a.var(0) + a.std(), [T(3, 4, 2)], (2,)),
    ("logsumexp", lambda a: mt.logsumexp(a, 1), [T(3, 4, 2)], (0,)),
    ("argmax", lambda a: a.argmax(), [T(3, 4)], (0,)),
    ("matmul_mv", lambda a, b: a @ b, [T(3, 4), T(4, 2)], (0, None)),
    ("matmul_vm", lambda a, b: a @ b, [T(4), T(3, 4, 2)], (None, 0)),
    ("matmul_both", lambda a, b: a @ b, [T(3, 2, 4), T(4, 3, 5)], (0, 1)),
    ("mm", lambda a, b: mt.mm(a, b), [T(3, 2, 4), T(4, 5)], (0, None)),
    ("bmm", lambda a, b: mt.bmm(a, b), [T(2, 3, 2, 4), T(2, 4, 5)], (1, None)),
    ("linear", lambda x, w, b: F.linear(x, w, b), [T(3, 4), T(5, 4), T(5)], (0, None, None)),
    ("linear_w", lambda x, w, b: F.linear(x, w, b), [T(2, 4), T(3, 5, 4), T(3, 5)], (None, 0, 0)),
    ("softmax", lambda a: F.softmax(a, -1) + F.log_softmax(a, 0), [T(3, 2, 4)], (0,)),
    ("reshape_view", lambda a: a.reshape(-1).view(2, 4), [T(3, 2, 4)], (0,)),
    ("flatten_T", lambda a: a.flatten() + a.transpose(0, 1).flatten(), [T(3, 2, 2)], (0,)),
    ("permute", lambda a: a.permute(2, 0, 1), [T(2, 3, 4, 5)], (1,)),
    ("squeeze", lambda a: a.unsqueeze(0).squeeze() + a.squeeze(0).sum(), [T(3, 1, 4)], (0,)),
    ("expand", lambda a: a.expand(2, 4), [T(3, 4)], (0,)),
    ("movedim", lambda a: a.movedim(0, -1), [T(3, 2, 4)], (0,)),
    ("cat_stack", lambda a, b: mt.cat([a, b]) + mt.stack([a, b], 1).sum(1).repeat(2),
     [T(3, 4), T(4)], (0, None)),
    ("getitem", lambda a: a[1:, ::2] + a[0, None, :2], [T(3, 3, 4)], (0,)),
    ("getitem_tensor", lambda a, i: a[i] + a[:, i[:3]].sum(), [T(3, 4, 4), I(4, 2)], (0, None)),
    ("getitem_batched_index", lambda a, i: a[i, 1:], [T(4, 3), I(3, 3, 5)], (None, 1)),
    ("getitem_apart", lambda a, i: a[i, :, i] + a[1, :, i], [T(3, 4, 2, 4), I(3, 4, 2)], (1, 0)),
    ("getitem_mask_int", lambda a, i, m: a[..., i[0]] + a[:, m].sum(),
     [T(2, 3, 4), I(4, 2, 3), T(4) > 0], (0, 0, None)),
    ("gather", lambda a, i: mt.gather(a, 1, i), [T(3, 4, 5), I(5, 2, 3, 2)], (0, 1)),
    ("gather_x", lambda a, i: mt.gather(a, -1, i), [T(3, 4, 5), I(5, 4, 3)], (0, None)),
    ("scatter_add", lambda a, i, s: mt.scatter_add(a, 0, i, s), [T(3, 5, 2), I(5, 4, 2), T(4, 2)],
     (0, None, None)),
    ("scatter", lambda a, i, s: a.scatter(1, i, s) + a.scatter(0, i, 2.0, reduce="add"),
     [T(5, 4), I(4, 3, 2, 4), T(3, 2, 4)], (None, 1, 1)),
    ("index_select", lambda a, i: mt.index_select(a, 1, i) + mt.index_select(a, 0, i[:1]).sum(),
     [T(3, 4, 5), I(5, 3)], (0, None)),
    ("index_select_both", lambda a, i: mt.index_select(a, -1, i), [T(4, 3, 5), I(5, 2, 3)], (1, 1)),
    ("embedding", lambda i, w: F.embedding(i, w), [I(3, 3, 2), T(3, 3, 4)], (0, 0)),
    ("embedding_w", lambda i, w: F.embedding(i, w), [I(3, 2, 4), T(2, 3, 4)], (None, 0)),
    ("cumsum_cumprod", lambda a: mt.cumsum(a, 0) + mt.cumprod(a, -1) + a.sum().cumsum(0),
     [T(3, 4, 2)], (1,)),
    ("sort_argsort_topk", lambda a: mt.sort(a, 0).values + mt.argsort(a, 1) + a.topk(2, 0)[0].sum(),
     [T(3, 4, 2)], (2,)),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, padding=1), [T(3, 2, 4, 7), T(5, 4, 3), T(5)],
     (0, None, None)),
    ("conv1d_w", lambda x, w, b: F.conv1d(x, w, b, stride=2, groups=2),
     [T(4, 7), T(6, 3, 2, 3), T(6, 3)], (None, 1, 1)),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b), [T(3, 2, 5, 5), T(3, 4, 2, 3, 3), T(4)],
     (0, 0, None)),
    ("conv2d_bias", lambda x, w, b: F.conv2d(x, w, b), [T(2, 5, 5, 3), T(4, 2, 3, 3), T(3, 4)],
     (3, None, 0)),
    ("norm_layers", lambda a, w: F.layer_norm(a, (4,), w) + F.group_norm(a, 2) + F.batch_norm(
        a, mt.zeros(4), mt.ones(4), training=False).sum(), [T(3, 2, 4), T(3, 4)], (0, 0)),
    ("where_cond", lambda c, a: mt.where(c > 0, a, -a), [T(3, 4), T(4)], (0, None)),
    ("vector_norm", lambda a: mt.linalg.vector_norm(a, axis=1) + a.norm(), [T(3, 4, 2)], (0,)),
    ("einsum", lambda a, b: mt.einsum("ij,kj->ik", a, b), [T(3, 2, 4), T(5, 4)], (0, None)),
    ("inplace", lambda a, b: a.clone().add_(b).mul_(2.0).exp_(), [T(3, 4), T(4)], (0, None)),
    ("inplace_into_batched", lambda a, b: b.clone().sub_(a, alpha=2), [T(4), T(3, 4)], (None, 0)),
]


@pytest.mark.parametrize("name,fn,args,in_dims", CASES, ids=[c[0] for c in CASES])
def test_rule_matches_loop(name, fn, args, in_dims):
    check(fn, args, in_dims)


def test_cross_entropy_and_nll_loss():
    logits, target = T(5, 3), mt.tensor([0, 2, 1, 1, 0])
    check(lambda a, t: F.cross_entropy(a.unsqueeze(0), t.unsqueeze(0)), [logits, target], (0, 0))
    check(lambda a, t: F.nll_loss(F.log_softmax(a, 0), t), [logits, target], (0, 0))
    check(lambda a, t: F.cross_entropy(a, t, label_smoothing=0.1), [T(2, 4, 3), T(4, 3).exp()],
          (0, None))  # fmt: skip


def test_errors_of_new_rules():
    with pytest.raises(RuntimeError, match="batched boolean mask"):
        vmap(lambda a: a[a > 0])(T(2, 3))
    with pytest.raises(RuntimeError, match=r"add_\(\) would write a value batched"):
        vmap(lambda a, b: b.add_(a), in_dims=(0, None))(T(2, 3), T(3))
