"""The optimizer trajectory the optim tests compare: a least-squares line fitted by
mytensor.optim or torch.optim, step by step."""

from __future__ import annotations

from types import ModuleType

import numpy as np

import mytensor as mt


def trajectory(
    lib: ModuleType,
    name: str,
    options: dict,
    data: tuple[np.ndarray, ...],
    steps: int,
    *,
    noncontiguous: bool = False,
) -> np.ndarray:
    """The parameters (weight then bias) after each of `steps` steps of `lib.optim.name`
    minimising the mean squared error of ``X @ w + b`` against `y`, where `data` is
    (X, y (N, 1), w0, b0) and `lib` is mytensor or torch. The bias is a second parameter
    group at half the learning rate; with `noncontiguous` the weight is a transposed view.
    """
    X, y, w0, b0 = data
    Xt, yt = lib.tensor(X), lib.tensor(y)
    if noncontiguous:
        w = lib.tensor(np.ascontiguousarray(w0.T)).T.detach().requires_grad_(True)
    else:
        w = lib.tensor(w0).requires_grad_(True)
    b = lib.tensor(b0).requires_grad_(True)
    extra = {} if lib is mt else {"foreach": False}
    groups = [{"params": [w]}, {"params": [b], "lr": options.get("lr", 1.0) / 2}]
    opt = getattr(lib.optim, name)(groups, **options, **extra)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        ((Xt @ w + b - yt) ** 2).mean().backward()
        opt.step()
        path.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy()]))
    return np.array(path)
