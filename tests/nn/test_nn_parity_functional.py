"""nn.functional against PyTorch (skipped where torch is not installed): pad, interpolate,
one_hot, the norm-based functions, group_norm, adaptive max pooling, bilinear and the
new losses; values and gradients, plus the errors bad input gets."""

from __future__ import annotations

import numpy as np
import pytest
from _nn_parity import BACKENDS, TOL, f32, torch

import mytensor as mt
import mytensor.nn.functional as F

TF = torch.nn.functional

RNG = np.random.default_rng(5)


def _check(name: str, arrays: list[np.ndarray], kwargs: dict, *, grads: tuple = ()) -> None:
    """F.name(*arrays, **kwargs) against torch: values, and the gradients of the arrays
    whose positions are in `grads` (all float arrays when empty)."""
    grads = grads or tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")
    ours = [mt.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    out, tout = getattr(F, name)(*ours, **kwargs), getattr(TF, name)(*theirs, **kwargs)
    assert out.shape == tuple(tout.shape), (out.shape, tout.shape)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), err_msg=name, **TOL)
    upstream = RNG.standard_normal(out.shape).astype(np.float32)
    out.backward(mt.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    for i in grads:
        np.testing.assert_allclose(
            ours[i].grad.numpy(), theirs[i].grad.numpy(), err_msg=f"{name} arg {i}", **TOL
        )


# -- pad -----------------------------------------------------------------------------------
PADS = [
    ("constant", (2, 3), (2, 5)),
    ("constant", (1, -2, 0, 1, 2, 0), (2, 3, 5)),
    ("constant", (1, 1, 1, 1, 1, 1, 1, 1), (1, 2, 2, 2)),
    ("reflect", (2, 3), (2, 3, 5)),
    ("reflect", (-1, 2, 1, 0), (1, 2, 3, 5)),
    ("reflect", (1, 1, 2, 2, 1, 0), (2, 3, 4, 5)),
    ("replicate", (3, 1), (3, 4)),
    ("replicate", (-1, 2, 2, 1), (2, 3, 4, 5)),
    ("replicate", (1, 2, 0, 1, 2, 0), (1, 2, 3, 4, 5)),
    ("circular", (2, 1), (2, 3, 4)),
    ("circular", (-1, 2, 1, 3), (1, 2, 3, 4)),
    ("circular", (4, 0), (1, 2, 4)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode,pad,shape", PADS)
def test_pad_matches_torch(backend, mode, pad, shape):
    kwargs = {"mode": mode, **({"value": -1.5} if mode == "constant" else {})}
    with mt.use_backend(backend):
        _check("pad", [f32(RNG, *shape)], {"pad": pad, **kwargs})


def test_pad_size_0_batch_and_non_contiguous_input():
    _check("pad", [f32(RNG, 0, 3, 4)], {"pad": (1, 2), "mode": "reflect"})
    x = f32(RNG, 4, 3, 5)
    ours, theirs = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.pad(ours.transpose(0, 2), (2, 1), mode="replicate")
    tout = TF.pad(theirs.transpose(0, 2), (2, 1), mode="replicate")
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy())
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)


def test_pad_errors_follow_torch_rules():
    x = mt.ones(1, 3, 4)
    with pytest.raises(ValueError, match=r"pad\(\): reflect padding \(4, 0\).*less than"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(ValueError, match=r"pad\(\): circular padding.*more than once"):
        F.pad(x, (5, 0), mode="circular")
    with pytest.raises(NotImplementedError, match=r"pad\(\): reflect padding of 1 dim.*1-d"):
        F.pad(mt.ones(4), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match=r"pad\(\): replicate padding of 3 dim"):
        F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate")
    with pytest.raises(ValueError, match=r"pad\(\): padding mode \"reflect\" does not take"):
        F.pad(x, (1, 1), mode="reflect", value=2.0)
    with pytest.raises(ValueError, match=r"pad\(\): mode must be one of"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(ValueError, match=r"pad\(\).*even length"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match=r"pad\(\).*more than 2 \* 3"):
        F.pad(x, (1,) * 8)


# -- interpolate ---------------------------------------------------------------------------
INTERPOLATE = [
    ((1, 2, 5, 7), {"size": (9, 4)}),
    ((1, 2, 5, 7), {"scale_factor": 2.3}),
    ((2, 3, 6), {"scale_factor": 2}),
    ((2, 3, 6), {"size": 4, "mode": "nearest-exact"}),
    ((1, 2, 5, 7), {"scale_factor": (0.5, 1.7), "mode": "bilinear"}),
    ((1, 2, 5, 7), {"size": (3, 11), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 5, 7), {"size": (8, 13), "mode": "bilinear"}),
    ((1, 2, 5, 7), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
    ((2, 3, 6), {"scale_factor": 1.5, "mode": "linear"}),
    ((2, 3, 6), {"size": 1, "mode": "linear", "align_corners": True}),
    ((2, 3, 6), {"size": 11, "mode": "linear", "align_corners": False}),
    ((1, 2, 6, 9), {"size": (4, 4), "mode": "area"}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape,kwargs", INTERPOLATE)
def test_interpolate_matches_torch(backend, shape, kwargs):
    with mt.use_backend(backend):
        _check("interpolate", [f32(RNG, *shape)], kwargs)


def test_interpolate_errors():
    x = mt.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(NotImplementedError, match=r"'bilinear' needs a 4-d input"):
        F.interpolate(mt.ones(1, 1, 4), size=2, mode="bilinear")
    with pytest.raises(ValueError, match=r"size \(2, 2, 2\) must have one entry per spatial"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not supported"):
        F.interpolate(x, size=2, mode="bicubic")
    with pytest.raises(ValueError, match="should be greater than 0"):
        F.interpolate(x, scale_factor=0.1)


# -- one_hot and norms ---------------------------------------------------------------------
def test_one_hot_matches_torch():
    idx = RNG.integers(0, 5, size=(3, 4))
    for num_classes in (-1, 7):
        ours = F.one_hot(mt.tensor(idx), num_classes)
        theirs = TF.one_hot(torch.tensor(idx), num_classes)
        assert ours.dtype is mt.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert F.one_hot(mt.tensor(2), 3).tolist() == [0, 0, 1]
    assert F.one_hot(mt.zeros(0, dtype=mt.int64), 3).shape == (0, 3)
    with pytest.raises(ValueError, match="smaller than num_classes=3"):
        F.one_hot(mt.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(mt.tensor([-1, 0]), 3)
    with pytest.raises(ValueError, match="empty tensor"):
        F.one_hot(mt.zeros(0, dtype=mt.int64))
    with pytest.raises(TypeError, match="integer index tensor"):
        F.one_hot(mt.tensor([1.0]))


NORMS = [
    ("normalize", {}),
    ("normalize", {"p": 1.0, "dim": 0}),
    ("normalize", {"p": 3.0, "dim": -1, "eps": 1e-3}),
    ("normalize", {"p": float("inf")}),
]


@pytest.mark.parametrize("name,kwargs", NORMS)
def test_normalize_matches_torch_including_zero_rows(name, kwargs):
    x = f32(RNG, 4, 5)
    x[1] = 0.0
    _check(name, [x], kwargs)


COSINE_CASES = [
    (((4, 5), (4, 5)), {}),
    (((3, 1, 6), (4, 6)), {"dim": -1}),
    (((2, 5, 3), (2, 5, 3)), {"dim": 1, "eps": 0.5}),
]


@pytest.mark.parametrize("shapes,kwargs", COSINE_CASES)
def test_cosine_similarity_matches_torch(shapes, kwargs):
    arrays = [f32(RNG, *s) for s in shapes]
    arrays[0].reshape(-1, arrays[0].shape[-1])[0] = 0.0  # a zero vector: clamped by eps
    _check("cosine_similarity", arrays, kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"p": 3.0, "eps": 1e-3},
                                    {"keepdim": True}, {"p": float("inf")}])  # fmt: skip
def test_pairwise_distance_matches_torch(kwargs):
    _check("pairwise_distance", [f32(RNG, 4, 6), f32(RNG, 4, 6)], kwargs)
    _check("pairwise_distance", [f32(RNG, 6), f32(RNG, 6)], kwargs)


def test_cosine_similarity_errors():
    with pytest.raises(ValueError, match=r"cosine_similarity\(\).*\(3, 4\).*\(2, 4\)"):
        F.cosine_similarity(mt.ones(3, 4), mt.ones(2, 4))


# -- normalisation, pooling, bilinear, losses ----------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape,groups", [((4, 6, 5), 3), ((2, 4, 3, 3), 1), ((3, 6), 6),
                                          ((2, 8, 2, 3), 4)])  # fmt: skip
def test_group_norm_matches_torch(backend, shape, groups):
    c = shape[1]
    arrays = [f32(RNG, *shape), f32(RNG, c), f32(RNG, c)]
    with mt.use_backend(backend):
        ours = [mt.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = F.group_norm(ours[0], groups, ours[1], ours[2], 1e-4)
        tout = TF.group_norm(theirs[0], groups, theirs[1], theirs[2], 1e-4)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
        upstream = f32(RNG, *shape)
        out.backward(mt.tensor(upstream))
        tout.backward(torch.tensor(upstream))
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"group_norm\(\).*channels \(6.*num_groups \(4\)"):
        F.group_norm(mt.ones(2, 6, 3), 4)
    with pytest.raises(ValueError, match=r"group_norm\(\): weight must have shape \(6,\)"):
        F.group_norm(mt.ones(2, 6, 3), 3, mt.ones(3))


ADAPTIVE_MAX = [
    ("adaptive_max_pool2d", (2, 3, 7, 5), (3, 2)),
    ("adaptive_max_pool2d", (2, 3, 7, 5), (4, None)),
    ("adaptive_max_pool2d", (3, 8, 8), 3),
    ("adaptive_max_pool2d", (1, 2, 4, 6), (4, 6)),
    ("adaptive_max_pool1d", (2, 3, 11), 4),
    ("adaptive_max_pool1d", (3, 10), 10),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,shape,size", ADAPTIVE_MAX)
def test_adaptive_max_pool_matches_torch_with_ties(backend, name, shape, size):
    x = np.maximum(f32(RNG, *shape), 0.0)  # many zeros: ties inside bins
    with mt.use_backend(backend):
        _check(name, [x], {"output_size": size})
        _, idx = getattr(F, name)(mt.tensor(x), size, return_indices=True)
        _, tidx = getattr(TF, name)(torch.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_bilinear_matches_torch():
    arrays = [f32(RNG, 2, 3, 4), f32(RNG, 2, 3, 5), f32(RNG, 6, 4, 5), f32(RNG, 6)]
    _check("bilinear", arrays, {})
    _check("bilinear", [f32(RNG, 7, 2), f32(RNG, 7, 3), f32(RNG, 1, 2, 3)], {})
    with pytest.raises(ValueError, match=r"bilinear\(\).*do not fit weight"):
        F.bilinear(mt.ones(2, 3), mt.ones(2, 5), mt.ones(6, 4, 5))
    with pytest.raises(ValueError, match=r"bilinear\(\).*same leading"):
        F.bilinear(mt.ones(2, 4), mt.ones(3, 5), mt.ones(6, 4, 5))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber_loss_matches_torch(reduction, delta):
    target = f32(RNG, 4, 5) * 2
    _check("huber_loss", [f32(RNG, 4, 5), target], {"reduction": reduction, "delta": delta},
           grads=(0, 1))  # fmt: skip
    weight = np.abs(f32(RNG, 4, 5))
    ours = F.huber_loss(mt.tensor(target), mt.zeros(4, 5), reduction, delta, mt.tensor(weight))
    theirs = TF.huber_loss(torch.tensor(target), torch.zeros(4, 5), reduction, delta,
                           torch.tensor(weight))  # fmt: skip
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_loss_matches_torch(reduction, margin):
    target = RNG.choice([-1.0, 1.0], size=6).astype(np.float32)
    _check("margin_ranking_loss", [f32(RNG, 6), f32(RNG, 6), target],
           {"margin": margin, "reduction": reduction}, grads=(0, 1))  # fmt: skip


def test_new_loss_errors():
    with pytest.raises(ValueError, match=r"huber_loss\(\): delta must be positive"):
        F.huber_loss(mt.ones(2), mt.ones(2), delta=0.0)
    with pytest.raises(ValueError, match=r"huber_loss\(\): reduction must be one of"):
        F.huber_loss(mt.ones(2), mt.ones(2), reduction="avg")
    with pytest.raises(ValueError, match=r"margin_ranking_loss\(\).*same number of dims"):
        F.margin_ranking_loss(mt.ones(2, 1), mt.ones(2), mt.ones(2))


EMPTY_BATCHES = [
    ("conv_transpose2d", [(0, 2, 3, 3), (2, 3, 3, 3)], {"stride": 2}),
    ("interpolate", [(0, 2, 3, 3)], {"scale_factor": 2, "mode": "bilinear"}),
    ("unfold", [(0, 2, 4, 4)], {"kernel_size": 2}),
    ("fold", [(0, 8, 4)], {"output_size": 3, "kernel_size": 2}),
    ("adaptive_max_pool2d", [(0, 2, 5, 5)], {"output_size": 2}),
    ("group_norm", [(0, 4, 3)], {"num_groups": 2}),
    ("pad", [(0, 2, 3)], {"pad": (1, 1), "mode": "circular"}),
    ("normalize", [(0, 3)], {}),
    ("cosine_similarity", [(0, 3), (0, 3)], {}),
    ("bilinear", [(0, 2), (0, 3), (4, 2, 3)], {}),
    ("huber_loss", [(0, 3), (0, 3)], {"reduction": "sum"}),
]


@pytest.mark.parametrize("name,shapes,kwargs", EMPTY_BATCHES, ids=[c[0] for c in EMPTY_BATCHES])
def test_size_0_batches_match_torch(name, shapes, kwargs):
    _check(name, [f32(RNG, *shape) for shape in shapes], kwargs)
