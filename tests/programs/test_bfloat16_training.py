"""Program (n): low-precision training as PyTorch users write it on the CPU, on PyTorch and
on mytensor: an MLP converted whole to bfloat16 (`model.to(torch.bfloat16)`), the same MLP
kept in float32 and run under `torch.autocast("cpu", dtype=torch.bfloat16)`, and a float16
autocast run whose loss is scaled by `torch.amp.GradScaler("cpu")` (overflowing steps
skipped and the scale backed off).

Tolerance. bfloat16 keeps 8 significant bits: one ulp is 2**-8 to 2**-7 of a value.
mytensor rounds each bfloat16 op once from float32, as PyTorch does, but PyTorch's CPU
log_softmax rounds a step of its own on the way (nearly a third of its bfloat16 outputs are
one ulp from the correctly rounded value mytensor gives), so the pure bfloat16 run's
losses start one ulp apart and drift by a few: they are compared to rtol 2**-5 (4 ulps at
the coarsest spacing). Its weights take updates smaller than their own ulp, which land or
not by the last bit upstream, so they are compared on the scale of the largest weights
(|w| ~ 1.5): atol 2**-5, 4 ulps there. Both models must end at the same accuracy within
one point. The autocast runs cast to the low dtype only for the linear layers, where
both frameworks round once from float32 (cross_entropy runs in float32), so they agree to
float32 precision here; they are compared to one bfloat16 ulp (rtol 2**-8), the size a
different summation order in another CPU's kernel could move a rounding by.
"""

from __future__ import annotations

import numpy as np
import pytest
from _frameworks import assert_same_run, run_on_pytorch

rng = np.random.default_rng(8)
CENTERS = np.array([[2.0, 0.0], [-1.0, 1.8], [-1.0, -1.8]], dtype=np.float32)
LABELS = np.repeat(np.arange(3), 40)
POINTS = (CENTERS[LABELS] + rng.normal(0, 0.7, size=(120, 2))).astype(np.float32)
BF16_ULPS = 2.0**-5  # 4 bfloat16 ulps: losses relative, weights absolute
MIXED_RTOL, MIXED_ATOL = 2.0**-8, 2.0**-12


def bfloat16_training(torch, nn, optim, data, steps: int = 12) -> dict:
    """Three small training runs: pure bfloat16, float32 under bfloat16 autocast, and
    float16 autocast with a GradScaler; losses, dtypes, weights and accuracies."""
    F = nn.functional
    x, y = torch.from_numpy(POINTS), torch.from_numpy(LABELS)

    def make_model(seed):
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
        init = np.random.default_rng(seed)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.from_numpy(init.uniform(-0.5, 0.5, size=tuple(p.shape))))
        return model

    def accuracy(model, inputs):
        with torch.no_grad():
            return (model(inputs).argmax(1) == y).float().mean().item()

    # 1. Everything in bfloat16: parameters, inputs, activations, gradients, optimizer state.
    model = make_model(1).to(torch.bfloat16)
    opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    xb = x.to(torch.bfloat16)
    bf16_losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(xb), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bf16_losses.append(loss.item())
    pure = {
        "losses": bf16_losses,
        "dtypes": [str(loss.dtype).split(".")[-1], str(model[0].weight.grad.dtype).split(".")[-1]],
        "weights": [p.detach().float().numpy() for p in model.parameters()],
        "accuracy": accuracy(model, xb),
    }

    # 2. float32 weights, bfloat16 compute: forward (and loss) under autocast only.
    model = make_model(1)
    opt = optim.Adam(model.parameters(), lr=0.05)
    autocast_losses = []
    for _ in range(steps):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
            loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        autocast_losses.append(loss.item())
    mixed = {
        "losses": autocast_losses,
        "dtypes": [str(t.dtype).split(".")[-1] for t in (logits, loss, model[0].weight.grad)],
        "weights": [p.detach().numpy() for p in model.parameters()],
        "accuracy": accuracy(model, x),
    }

    # 3. float16 autocast with loss scaling: the first steps overflow and are skipped.
    model = make_model(2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**20, growth_interval=3)
    scaled_losses, scales = [], []
    for _ in range(steps):
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.float16):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scaled_losses.append(loss.item())
        scales.append(scaler.get_scale())
    scaled = {
        "losses": scaled_losses,
        "scales": scales,
        "weights": [p.detach().numpy() for p in model.parameters()],
        "accuracy": accuracy(model, x),
    }
    return {"bfloat16": pure, "autocast_bfloat16": mixed, "grad_scaler_float16": scaled}


def test_bfloat16_training_matches_pytorch_within_a_few_ulps(mytensor_modules):
    torch = mytensor_modules[0]
    backend = torch.ones(1).backend
    info = next(b for b in torch.backends() if b.name == backend)
    if "bfloat16" not in info.dtypes:  # the example plugin: required dtypes only
        pytest.skip(f"backend {backend!r} has no 16-bit floats (dtypes {info.dtypes})")
    theirs = run_on_pytorch(bfloat16_training)
    ours = bfloat16_training(*mytensor_modules)
    for name in theirs:
        assert theirs[name]["losses"][-1] < theirs[name]["losses"][0] / 2, name
        assert theirs[name]["accuracy"] > 0.9, name
        assert abs(ours[name].pop("accuracy") - theirs[name].pop("accuracy")) <= 0.01, name
    assert theirs["bfloat16"]["dtypes"] == ["bfloat16", "bfloat16"]
    assert theirs["autocast_bfloat16"]["dtypes"] == ["bfloat16", "float32", "float32"]
    assert theirs["grad_scaler_float16"]["scales"][0] < 2.0**20  # an overflow was skipped
    pure, pure_theirs = ours.pop("bfloat16"), theirs.pop("bfloat16")
    assert_same_run(pure["dtypes"], pure_theirs["dtypes"])
    assert_same_run(pure["losses"], pure_theirs["losses"], rtol=BF16_ULPS, atol=0.0)
    assert_same_run(pure["weights"], pure_theirs["weights"], rtol=0.0, atol=BF16_ULPS)
    assert_same_run(ours, theirs, rtol=MIXED_RTOL, atol=MIXED_ATOL)
