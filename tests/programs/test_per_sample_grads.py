"""Program (g): per-sample gradients by a loop over the batch (torch.func.vmap comes later),
checked against the batch gradient, on PyTorch and on mytensor, value for value."""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch

rng = np.random.default_rng(11)
INPUTS = rng.standard_normal((5, 4)).astype(np.float32)
TARGETS = rng.standard_normal((5, 2)).astype(np.float32)


def per_sample_grads(torch, nn, optim, data) -> dict:
    """Each sample's gradient two ways (backward + .grad, and autograd.grad), their sum
    against the gradient of the summed batch loss, and the per-sample norms a DP-SGD step
    would clip by."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    init = np.random.default_rng(1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.as_tensor(init.uniform(-1, 1, size=tuple(p.shape)), dtype=p.dtype))
    loss_fn = nn.MSELoss(reduction="sum")
    x, y = torch.from_numpy(INPUTS), torch.from_numpy(TARGETS)
    params = list(model.parameters())

    by_backward = []
    for i in range(x.size(0)):
        model.zero_grad()
        loss = loss_fn(model(x[i].unsqueeze(0)), y[i : i + 1])
        loss.backward()
        by_backward.append([p.grad.detach().clone() for p in params])

    by_grad = []
    for xi, yi in zip(x, y, strict=True):
        loss = loss_fn(model(xi[None]), yi[None])
        by_grad.append(torch.autograd.grad(loss, params))

    model.zero_grad()
    loss_fn(model(x), y).backward()
    batch = [p.grad for p in params]
    stacked = [torch.stack([g[k] for g in by_backward]) for k in range(len(params))]
    norms = torch.stack([torch.cat([g.flatten() for g in grads]).norm() for grads in by_grad])
    scale = (1.0 / norms).clamp(max=1.0)
    clipped = [(s * scale.view(-1, *[1] * (s.dim() - 1))).sum(0) for s in stacked]
    return {
        "per_sample": [s.numpy() for s in stacked],
        "per_sample_by_grad": [
            torch.stack([g[k] for g in by_grad]).numpy() for k in range(len(params))
        ],
        "sum_of_samples": [s.sum(0).numpy() for s in stacked],
        "batch": [g.numpy() for g in batch],
        "norms": norms.tolist(),
        "clipped_sum": [c.numpy() for c in clipped],
    }


def test_per_sample_gradients_match_pytorch_and_sum_to_the_batch_gradient(mytensor_modules):
    theirs = run_on_pytorch(per_sample_grads)
    ours = per_sample_grads(*mytensor_modules)
    for result in (theirs, ours):
        assert_same_run(result["sum_of_samples"], result["batch"])
        assert_same_run(result["per_sample_by_grad"], result["per_sample"])
    assert_same_run(ours, theirs)
