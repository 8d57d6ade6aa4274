"""Helpers shared by the nn tests against PyTorch: the tolerance, the CPU backends they
run on, random float32 inputs, a torch twin of a layer, and the comparison of the two.

Importing this module skips the importing test module where torch is not installed."""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt
from mytensor import nn

torch = pytest.importorskip("torch")

TOL = {"rtol": 1e-4, "atol": 1e-5}
BACKENDS = [
    info.name
    for info in mt.backends()
    if info.status == "loaded" and info.name in ("numpy_ref", "numba_cpu")
]
_UPSTREAM = np.random.default_rng(2024)


def f32(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Standard-normal float32 values of `shape` drawn from `rng`."""
    return rng.standard_normal(shape).astype(np.float32)


def torch_twin(module: nn.Module, name: str, args: tuple, kwargs: dict):
    """torch.nn.`name`(*args, **kwargs) holding `module`'s state, in its training mode."""
    twin = getattr(torch.nn, name)(*args, **kwargs).double().float()
    state = {k: torch.from_numpy(v.numpy()) for k, v in module.state_dict().items()}
    twin.load_state_dict(state)
    twin.train(module.training)
    return twin


def compare(module: nn.Module, twin, x_np: np.ndarray, *, grad_input: bool = True) -> None:
    """`module` and its `twin` on `x_np`: the same output, and after one random upstream
    gradient the same input gradient (unless `grad_input` is False) and parameter ones."""
    floating = x_np.dtype.kind == "f"
    x = mt.tensor(x_np, requires_grad=floating and grad_input)
    tx = torch.tensor(x_np, requires_grad=floating and grad_input)
    out, tout = module(x), twin(tx)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    upstream = f32(_UPSTREAM, *out.shape)
    params = dict(module.named_parameters())
    if not (x.requires_grad or params):
        return
    out.backward(mt.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    if x.requires_grad:
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL)
    for name, tp in twin.named_parameters():
        np.testing.assert_allclose(params[name].grad.numpy(), tp.grad.numpy(), err_msg=name, **TOL)
