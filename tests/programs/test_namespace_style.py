"""Program (j): feature standardisation and a softmax-regression evaluation written in the
namespace-function style of much PyTorch code (`torch.mean(x, 0)`, `torch.sum(p, 1)`,
`torch.argmax(logits, 1)`, `torch.stack(columns, 1)`: the dim passed positionally), on
PyTorch and on mytensor, value for value."""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch

rng = np.random.default_rng(9)
FEATURES = (rng.standard_normal((20, 3)) * [1.0, 5.0, 0.1] + [0.0, 3.0, -1.0]).astype(np.float32)
LABELS = rng.integers(0, 3, size=20)


def namespace_style(torch, nn, optim, data, steps: int = 5) -> dict:
    """Standardise the features with namespace reductions, fit a softmax regression by
    hand-written gradient descent, and score it."""
    x = torch.from_numpy(FEATURES)
    y = torch.from_numpy(LABELS)
    mean, std = torch.mean(x, 0), torch.std(x, 0)
    x = (x - mean) / std
    w = torch.zeros(3, 3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    losses = []
    for _ in range(steps):
        logits = torch.matmul(x, w) + b
        log_probs = logits - torch.logsumexp(logits, 1, keepdim=True)
        picked = torch.gather(log_probs, 1, torch.unsqueeze(y, 1))
        loss = -torch.mean(torch.squeeze(picked, 1))
        loss.backward()
        with torch.no_grad():
            w -= 0.5 * w.grad
            b -= 0.5 * b.grad
            w.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
    with torch.no_grad():
        probs = torch.softmax(torch.matmul(x, w) + b, 1)
        predicted = torch.argmax(probs, 1)
        confidence, _ = torch.max(probs, 1)
        per_class = torch.stack([torch.sum(predicted == k) for k in range(3)], 0)
        report = torch.stack([torch.sum(probs, 1), confidence], 1)
    return {
        "standardised": [torch.mean(x, 0).numpy(), torch.std(x, 0).numpy()],
        "losses": losses,
        "accuracy": torch.sum(predicted == y).item() / len(y),
        "per_class": per_class.tolist(),
        "report": report.numpy(),
        "row_norms": torch.norm(x, 2, 1).numpy(),
        "any_negative": torch.any(x < 0, 1).tolist(),
        "argmin": torch.argmin(x, 0).tolist(),
    }


def test_namespace_style_matches_pytorch(mytensor_modules):
    theirs = run_on_pytorch(namespace_style)
    ours = namespace_style(*mytensor_modules)
    assert theirs["losses"][-1] < theirs["losses"][0]
    assert_same_run(ours, theirs)
