"""Program (m): per-sample gradients with torch.func (functional_call, vmap over grad),
checked against a loop of single-sample backward passes, then a few DP-SGD steps (each
sample's gradient clipped to a norm bound, Gaussian noise added); and jacrev, jacfwd and
hessian of small functions. On PyTorch and on mytensor, value for value."""

from __future__ import annotations

import numpy as np
import pytest
from _frameworks import assert_same_run, run_on_pytorch

rng = np.random.default_rng(21)
INPUTS = rng.standard_normal((6, 5)).astype(np.float32)
LABELS = np.array([0, 2, 1, 2, 0, 1])
NOISE = rng.standard_normal((3, 200)).astype(np.float32)  # one draw per DP-SGD step


def vmap_per_sample_grads(torch, nn, optim, data, dp_steps: int = 3) -> dict:
    """Per-sample gradients by vmap(grad) and by a loop, a clipped noisy update, Jacobians."""
    F = nn.functional
    func = torch.func
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    init = np.random.default_rng(2)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(init.uniform(-0.6, 0.6, size=tuple(p.shape)).astype("f4")))
    x, y = torch.from_numpy(INPUTS), torch.from_numpy(LABELS)

    def loss_fn(params, sample, target):
        logits = func.functional_call(model, params, (sample.unsqueeze(0),))
        return F.cross_entropy(logits, target.unsqueeze(0))

    params = {name: p.detach() for name, p in model.named_parameters()}
    per_sample = func.vmap(func.grad(loss_fn), in_dims=(None, 0, 0))(params, x, y)

    looped = {name: [] for name in params}
    for i in range(x.size(0)):
        model.zero_grad()
        F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]).backward()
        for name, p in model.named_parameters():
            looped[name].append(p.grad.clone())
    looped = {name: torch.stack(grads) for name, grads in looped.items()}

    # DP-SGD: clip each sample's whole gradient to norm <= max_norm, sum, add noise, average
    max_norm, sigma, lr = 1.0, 0.5, 0.5
    losses, clip_factors = [], []
    for step in range(dp_steps):
        params = {name: p.detach() for name, p in model.named_parameters()}
        grads = func.vmap(func.grad(loss_fn), in_dims=(None, 0, 0))(params, x, y)
        flat = torch.cat([g.reshape(g.size(0), -1) for g in grads.values()], dim=1)
        factor = (max_norm / (flat.norm(dim=1) + 1e-6)).clamp(max=1.0)
        clip_factors.append(factor.tolist())
        noise = torch.from_numpy(NOISE[step])
        offset = 0
        with torch.no_grad():
            for name, p in model.named_parameters():
                clipped = torch.einsum("n,n...->...", factor, grads[name])
                n = p.numel()
                noisy = clipped + sigma * max_norm * noise[offset : offset + n].view_as(p)
                offset += n
                p.sub_(lr * noisy / x.size(0))
            losses.append(F.cross_entropy(model(x), y).item())

    def layer(v):
        return torch.tanh(model[0](v))

    def energy(v):
        return (v**3).sum() + v[0] * v[1] - v.sin().prod()

    v = x[0].detach()
    return {
        "per_sample": {name: g.numpy() for name, g in per_sample.items()},
        "looped": {name: g.numpy() for name, g in looped.items()},
        "dp_losses": losses,
        "clip_factors": clip_factors,
        "dp_weights": [p.detach().numpy() for p in model.parameters()],
        "jacrev": func.jacrev(layer)(v).detach().numpy(),
        "jacfwd": func.jacfwd(layer)(v).detach().numpy(),
        "batched_jacobians": func.vmap(func.jacrev(layer))(x[:3]).detach().numpy(),
        "hessian": func.hessian(energy)(v).detach().numpy(),
        "param_jacobian": {
            name: j.detach().numpy() for name, j in func.jacrev(loss_fn)(params, x[0], y[0]).items()
        },
    }


# a notice from inside PyTorch's torch.func, not from this program
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_vmap_per_sample_grads_match_a_loop_and_pytorch(mytensor_modules):
    theirs = run_on_pytorch(vmap_per_sample_grads)
    ours = vmap_per_sample_grads(*mytensor_modules)
    for result in (theirs, ours):
        assert_same_run(result["per_sample"], result["looped"])
        assert_same_run(result["jacrev"], result["jacfwd"])
        assert_same_run(result["batched_jacobians"][0], result["jacrev"])
        np.testing.assert_allclose(result["hessian"], result["hessian"].T, rtol=1e-5)
    assert min(min(f) for f in theirs["clip_factors"]) < 1.0  # some samples were clipped
    assert_same_run(ours, theirs)
