"""Program (e): the gradient tricks of everyday PyTorch code (register_hook, retain_grad,
autograd.grad with create_graph, detach, no_grad, requires_grad_, in-place updates under
no_grad, clip_grad_norm_), on PyTorch and on mytensor, value for value."""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch


def gradient_tricks(torch, nn, optim, data) -> dict:
    """Each block is a small, common use of autograd; the results are collected by name."""
    out = {}

    # hooks and retained gradients of a non-leaf
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.clone()) or g * 2)
    (3 * y).sum().backward()
    out["hook_saw"] = seen[0].tolist()
    out["x_grad_doubled"] = x.grad.tolist()
    out["y_grad"] = y.grad.tolist()
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    out["x_grad_after_remove"] = x.grad.tolist()
    out["leaf_flags"] = [x.is_leaf, y.is_leaf, x.requires_grad, y.requires_grad]

    # second derivatives: d/dx of d/dx (x^3 + sin x)
    x = torch.linspace(-1.0, 1.0, 5, requires_grad=True)
    f = (x**3 + torch.sin(x)).sum()
    (dfdx,) = torch.autograd.grad(f, x, create_graph=True)
    (d2fdx2,) = torch.autograd.grad(dfdx.sum(), x)
    out["first"] = dfdx.detach().numpy()
    out["second"] = d2fdx2.numpy()
    out["first_has_graph"] = dfdx.requires_grad

    # a gradient penalty: backward through a gradient into the weights
    w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    inp = torch.tensor([[1.0, 2.0]], requires_grad=True)
    score = torch.tanh(inp @ w).sum()
    (g_inp,) = torch.autograd.grad(score, inp, create_graph=True)
    penalty = (g_inp.norm(2, dim=1) - 1).pow(2).mean()
    penalty.backward()
    out["penalty"] = penalty.item()
    out["penalty_w_grad"] = w.grad.numpy()

    # detach and no_grad cut the graph; requires_grad_ turns it on for a plain tensor
    a = torch.ones(3)
    out["a_requires_grad_before"] = a.requires_grad
    a.requires_grad_()
    b = (a * 2).detach()
    with torch.no_grad():
        c = a * 3
    d = (a * 4).sum()
    out["cut"] = [b.requires_grad, c.requires_grad, d.requires_grad, torch.is_grad_enabled()]
    d.backward()
    out["a_grad"] = a.grad.tolist()

    # in-place parameter updates under no_grad, gradient clipping, then an optimizer step
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.zero_()
            p.add_(torch.arange(p.numel(), dtype=p.dtype).reshape(p.shape) * 0.1 - 0.2 * i)
            p.mul_(0.5)
    loss = model(torch.tensor([[1.0, -1.0, 2.0], [0.5, 0.5, 0.5]])).pow(2).mean()
    loss.backward()
    total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    out["total_norm"] = total_norm.item()
    out["clipped_norm"] = torch.stack([p.grad.norm() for p in model.parameters()]).norm().item()
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.step()
    out["weights"] = [p.detach().numpy() for p in model.parameters()]
    out["weights_are_leaves"] = all(p.is_leaf for p in model.parameters())
    return out


def test_gradient_tricks_match_pytorch(mytensor_modules):
    theirs = run_on_pytorch(gradient_tricks)
    ours = gradient_tricks(*mytensor_modules)
    assert theirs["clipped_norm"] <= 0.5 + 1e-6 < theirs["total_norm"]
    np.testing.assert_allclose(theirs["second"], 6 * np.linspace(-1, 1, 5) - np.sin(
        np.linspace(-1, 1, 5)), rtol=1e-6)  # fmt: skip
    assert_same_run(ours, theirs)
