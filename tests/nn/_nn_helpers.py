"""Helpers shared by the nn tests: random float64 tensors and module gradchecks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import mytensor as mt
from mytensor import nn
from mytensor.autograd import gradcheck


def rand64(rng: np.random.Generator, *shape: int, grad: bool = True) -> mt.Tensor:
    return mt.tensor(rng.standard_normal(shape), dtype=mt.float64, requires_grad=grad)


def module_gradcheck(module: nn.Module, *inputs: mt.Tensor, name: str = "") -> bool:
    """gradcheck `module` in its inputs and all its parameters (float64) at once."""
    module.double()
    named = list(module.named_parameters())

    def owner(key: str) -> tuple[nn.Module, str]:
        path, _, leaf = key.rpartition(".")
        return module.get_submodule(path), leaf

    def call(*args: mt.Tensor) -> mt.Tensor:
        xs, ps = args[: len(inputs)], args[len(inputs) :]
        saved = []
        for (key, _), value in zip(named, ps, strict=True):
            mod, leaf = owner(key)
            saved.append((mod, leaf, mod._parameters[leaf]))
            mod._parameters[leaf] = value  # a plain tensor stands in for the parameter
        try:
            return module(*xs)
        finally:
            for mod, leaf, original in saved:
                mod._parameters[leaf] = original

    return gradcheck(call, [*inputs, *(p for _, p in named)], name=name or repr(module))


def fn_gradcheck(fn: Callable[..., mt.Tensor], *inputs: mt.Tensor) -> bool:
    return gradcheck(fn, list(inputs), name=getattr(fn, "__name__", "fn"))


def close(t: mt.Tensor, expected, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    expected = np.asarray(expected)
    got = t.numpy()
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
