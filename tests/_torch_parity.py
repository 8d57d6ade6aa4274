"""Helpers for the tests that compare PyTorch's spellings with PyTorch itself: one input
as a mytensor tensor and a torch tensor (optionally a non-contiguous view), results
compared by shape, dtype and value, gradients through a fixed random cotangent."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import mytensor as mt

BACKENDS = [info.name for info in mt.backends() if info.status == "loaded"]


def pair(torch, values, *, grad: bool = False, transposed: bool = False, backend="numpy_ref"):
    """(leaf, input) for mytensor and for torch. With `transposed` the input is the
    transpose of a contiguous leaf (a non-contiguous view); else it is the leaf."""
    array = np.asarray(values)
    if transposed:
        array = np.ascontiguousarray(array.T)
    ours = mt.tensor(array, backend=backend)
    theirs = torch.tensor(array)
    if grad:
        ours.requires_grad_()
        theirs.requires_grad_()
    if transposed:
        order = tuple(reversed(range(array.ndim)))
        return (ours, ours.permute(*order)), (theirs, theirs.permute(*order))
    return (ours, ours), (theirs, theirs)


def same(got, expected) -> None:
    """`got` (a mytensor tensor) has `expected`'s (a torch tensor) shape, dtype and values."""
    want = expected.detach().numpy()
    have = got.numpy()
    assert tuple(got.shape) == tuple(expected.shape), (got.shape, tuple(expected.shape))
    assert have.dtype == want.dtype, (have.dtype, want.dtype)
    np.testing.assert_allclose(have, want, rtol=1e-6, atol=1e-9, equal_nan=True)


def same_grads(out, ref, leaves: list, torch_leaves: list, seed: int = 0) -> None:
    """Backpropagate one random cotangent through `out` and `ref`; the leaves' gradients
    must match (an input the result ignores has no or a zero gradient on both sides)."""
    cotangent = np.random.default_rng(seed).standard_normal(tuple(ref.shape))
    import torch

    (out * mt.tensor(cotangent, out.dtype, backend=out.backend)).sum().backward()
    (ref * torch.tensor(cotangent, dtype=ref.dtype)).sum().backward()
    for k, (ours, theirs) in enumerate(zip(leaves, torch_leaves, strict=True)):
        want = theirs.grad if theirs.grad is not None else torch.zeros_like(theirs)
        have = ours.grad if ours.grad is not None else mt.zeros_like(ours)
        assert tuple(have.shape) == tuple(want.shape), f"leaf {k}: {have.shape} vs {want.shape}"
        np.testing.assert_allclose(have.numpy(), want.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=f"gradient of leaf {k}")  # fmt: skip


def compare(torch, fn: Callable, torch_fn: Callable, *arrays, transposed: bool = False,
            backend="numpy_ref", grad: bool = True) -> None:  # fmt: skip
    """`fn` on mytensor inputs against `torch_fn` on torch inputs: values, and with `grad`
    the gradients of every float input."""
    pairs = [pair(torch, a, grad=grad and np.asarray(a).dtype.kind == "f",
                  transposed=transposed, backend=backend) for a in arrays]  # fmt: skip
    out = fn(*[p[0][1] for p in pairs])
    ref = torch_fn(*[p[1][1] for p in pairs])
    same(out, ref)
    if grad and ref.requires_grad:
        leaves = [p[0][0] for p in pairs if p[0][0].requires_grad]
        torch_leaves = [p[1][0] for p in pairs if p[1][0].requires_grad]
        same_grads(out, ref, leaves, torch_leaves)
