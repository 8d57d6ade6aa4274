"""autocast and GradScaler against torch.autocast("cpu") and torch.amp.GradScaler."""

import numpy as np
import pytest

import mytensor as mt
import mytensor.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

_DTYPES = {mt.float32: torch.float32, mt.bfloat16: torch.bfloat16, mt.float16: torch.float16}


def _calls(lib, fn):
    """(name, thunk) per op autocast treats, on the same float32 data in both libraries."""
    rng = np.random.default_rng(0)
    a, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 3), (5, 3), (5,)))
    img, ker = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    img, ker = img.astype(np.float32), ker.astype(np.float32)
    x, wt, bias, im, k = (lib.tensor(v) for v in (a, w, b, img, ker))
    target = lib.tensor(np.array([0, 4, 1, 2]))
    low = x.bfloat16()
    return [
        ("matmul", lambda: x @ wt.T), ("mm", lambda: lib.mm(x, wt.T)),
        ("bmm", lambda: lib.bmm(x[None], wt.T[None])),
        ("addmm", lambda: lib.addmm(bias, x, wt.T)),
        ("linear", lambda: fn.linear(x, wt, bias)),
        ("conv2d", lambda: fn.conv2d(im, k, padding=1)),
        ("conv1d", lambda: fn.conv1d(im[:, :, 0], k[:, :, 0])),
        ("cross_entropy", lambda: fn.cross_entropy(low, target % 3)),
        ("nll_loss", lambda: fn.nll_loss(fn.log_softmax(low[:, :3], 1), target % 3)),
        ("softmax", lambda: fn.softmax(low, 1)), ("log_softmax", lambda: fn.log_softmax(x, 1)),
        ("sum", lambda: low.sum()), ("add", lambda: x + low), ("relu", lambda: fn.relu(low)),
        ("float64 matmul", lambda: x.double() @ wt.T.double()),
    ]  # fmt: skip


def test_output_dtypes_match_torch_autocast_cpu():
    ours, theirs = _calls(mt, F), _calls(torch, TF)
    with mt.autocast("cpu"), torch.autocast("cpu"):
        for (name, mine), (_, ref) in zip(ours, theirs, strict=True):
            got, want = mine(), ref()
            assert str(want.dtype) == "torch." + got.dtype.name, name
    with mt.autocast("cpu", dtype=mt.float16), torch.autocast("cpu", dtype=torch.float16):
        assert str(theirs[4][1]().dtype) == "torch." + ours[4][1]().dtype.name


def _fp32_calls(lib, fn):
    """(name, thunk) per op on CPU autocast's float32 list, on bfloat16 inputs."""
    rng = np.random.default_rng(2)
    p, q, r = (lib.tensor(rng.uniform(0.1, 0.9, (3, 4)).astype(np.float32)).bfloat16()
               for _ in range(3))  # fmt: skip
    sq = lib.tensor((np.eye(3) * 3 + 0.1).astype(np.float32)).bfloat16()
    sign = lib.tensor(np.array([1.0, -1.0, 1.0], np.float32)).bfloat16()
    return [
        ("prod", lambda: lib.prod(p)), ("cdist", lambda: lib.cdist(p, q)),
        ("trace", lambda: lib.trace(sq)), ("cholesky", lambda: lib.linalg.cholesky(sq)),
        ("inverse", lambda: lib.linalg.inv(sq)),
        ("binary_cross_entropy", lambda: fn.binary_cross_entropy(p, q)),
        ("bce_with_logits", lambda: fn.binary_cross_entropy_with_logits(p, q)),
        ("mse_loss", lambda: fn.mse_loss(p, q)), ("l1_loss", lambda: fn.l1_loss(p, q)),
        ("smooth_l1_loss", lambda: fn.smooth_l1_loss(p, q)),
        ("huber_loss", lambda: fn.huber_loss(p, q)), ("kl_div", lambda: fn.kl_div(p, q)),
        ("margin_ranking_loss", lambda: fn.margin_ranking_loss(p[0, :3], q[0, :3], sign)),
        ("cosine_embedding_loss", lambda: fn.cosine_embedding_loss(p, q, sign)),
        ("triplet_margin_loss", lambda: fn.triplet_margin_loss(p, q, r)),
        ("reflection_pad", lambda: fn.pad(p[None], (1, 1), mode="reflect")),
        ("replication_pad", lambda: fn.pad(p[None], (1, 1), mode="replicate")),
        ("constant pad", lambda: fn.pad(p, (1, 1))), ("cumsum", lambda: lib.cumsum(p, 0)),
    ]  # fmt: skip


def test_float32_list_matches_torch_autocast_cpu():
    ours, theirs = _fp32_calls(mt, F), _fp32_calls(torch, TF)
    with mt.autocast("cpu"), torch.autocast("cpu"):
        for (name, mine), (_, ref) in zip(ours, theirs, strict=True):
            assert str(ref().dtype) == "torch." + mine().dtype.name, name
    assert ours[0][1]().dtype is mt.bfloat16  # outside a region: the input's dtype
    assert mt.amp.get_autocast_dtype("cpu") is mt.bfloat16


def test_gradients_reach_float32_parameters_and_match_torch():
    rng = np.random.default_rng(1)
    a, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((6, 4), (3, 4), (3,)))
    target = np.array([0, 2, 1, 1, 0, 2])
    grads = []
    for lib, fn in ((mt, F), (torch, TF)):
        weight, bias = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        with lib.autocast("cpu"):
            loss = fn.cross_entropy(fn.linear(lib.tensor(a), weight, bias), lib.tensor(target))
        loss.backward()
        grads.append((weight.grad, bias.grad))
    (gw, gb), (tw, tb) = grads
    assert gw.dtype is mt.float32 and gb.dtype is mt.float32
    np.testing.assert_allclose(gw.numpy(), tw.numpy(), atol=2e-2)
    np.testing.assert_allclose(gb.numpy(), tb.numpy(), atol=2e-3)  # bfloat16 steps


def test_nesting_disabling_decorator_and_queries():
    x = mt.ones(2, 2)
    with mt.autocast("cpu"):
        assert mt.amp.is_autocast_enabled("cpu") and not mt.amp.is_autocast_enabled("cuda")
        with mt.autocast("cpu", enabled=False):
            assert (x @ x).dtype is mt.float32 and not mt.amp.is_autocast_enabled("cpu")
            with mt.amp.autocast("cpu", dtype=mt.float16):
                assert (x @ x).dtype is mt.float16
            assert (x @ x).dtype is mt.float32
        assert (x @ x).dtype is mt.bfloat16
        with mt.autocast("cuda"):  # another device type: the CPU region stays on (torch's)
            assert (x @ x).dtype is mt.bfloat16 and mt.amp.is_autocast_enabled("cuda")
            assert mt.amp.is_autocast_enabled("cpu")
            with mt.autocast("cpu", enabled=False):
                assert (x @ x).dtype is mt.float32 and mt.amp.is_autocast_enabled("cuda")
                assert mt.amp.get_autocast_dtype("cuda") is mt.float16
    assert (x @ x).dtype is mt.float32 and not mt.amp.is_autocast_enabled("cpu")

    @mt.autocast("cpu")
    def product(a):
        return a @ a

    assert product(x).dtype is mt.bfloat16 and (x @ x).dtype is mt.float32
    with pytest.raises(ValueError, match="device_type must be 'cpu' or 'cuda'"):
        mt.autocast("tpu")
    with pytest.raises(ValueError, match=r"bfloat16 or mytensor\.float16"):
        mt.autocast("cpu", dtype=mt.int32)


def test_weight_casts_are_cached_within_a_region():
    w = mt.ones(3, 3, requires_grad=True)
    from mytensor.core._autocast import STATE

    with mt.autocast("cpu"):
        first, second = mt.ones(1, 3) @ w, mt.ones(1, 3) @ w
        assert [entry[0] for entry in STATE.active["cpu"].cache.values()] == [w]  # cast once
    with mt.autocast("cpu", cache_enabled=False):
        mt.ones(1, 3) @ w
        assert STATE.active["cpu"].cache is None
    (first.float().sum() + second.float().sum()).backward()
    assert w.grad.tolist() == [[2.0] * 3] * 3


def _run_scaler(lib, scaler_cls, grads):
    """Steps of SGD on a 2-element parameter with the given raw gradients (via a linear
    loss whose gradient is exactly them): the scale and parameter after each update."""
    param = lib.nn.Parameter(lib.tensor([1.0, -1.0]))
    opt = lib.optim.SGD([param], lr=0.5)
    scaler = scaler_cls("cpu", init_scale=4.0, growth_interval=2)
    seen = []
    for g in grads:
        opt.zero_grad()
        scaler.scale((param * lib.tensor(g)).sum()).backward()
        scaler.step(opt)
        scaler.update()
        seen.append((scaler.get_scale(), [float(v) for v in param.detach().tolist()]))
    return seen, scaler.state_dict()


def test_grad_scaler_matches_torch():
    inf = float("inf")
    grads = [[1.0, 2.0], [0.5, 0.5], [inf, 1.0], [1.0, float("nan")], [0.25, 1.0], [1.0, 1.0]]
    ours, our_state = _run_scaler(mt, mt.amp.GradScaler, grads)
    theirs, their_state = _run_scaler(torch, torch.amp.GradScaler, grads)
    for (s, p), (ts, tp) in zip(ours, theirs, strict=True):
        assert s == ts
        np.testing.assert_array_equal(p, tp)
    assert our_state["scale"] == their_state["scale"]
    assert our_state["_growth_tracker"] == their_state["_growth_tracker"]
    restored = mt.amp.GradScaler("cpu")
    restored.load_state_dict(our_state)
    assert restored.state_dict() == our_state


def test_grad_scaler_errors_and_disabled():
    p = mt.nn.Parameter(mt.ones(1))
    opt = mt.optim.SGD([p], lr=0.1)
    scaler = mt.amp.GradScaler("cpu")
    scaler.scale(p.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    off = mt.amp.GradScaler("cpu", enabled=False)
    loss = p.sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
