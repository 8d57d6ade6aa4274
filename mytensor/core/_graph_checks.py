"""The engine's checks: what a backward rule returns, saved tensors, gradient hooks.

Kept apart from the engine's loop in `autograd.py`; each raises with the op's name, the
input's position and what was expected, so a wrong backward rule is found where it is,
not as a wrongly shaped `.grad` several ops later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mytensor.core.autograd import Node
    from mytensor.core.tensor import Tensor


def check_saved(node: Node) -> None:
    for tensor, version in zip(node.saved, node.versions, strict=True):
        if tensor._storage.version != version:
            raise RuntimeError(
                f"{node.name}(): a tensor of shape {tensor.shape} saved for backward was "
                f"modified in place (its version is {tensor._storage.version}, it was "
                f"{version} when saved); compute on a .clone() instead of modifying it in place"
            )


def wrong_count(node: Node, grads: object) -> None:
    got = len(grads) if isinstance(grads, tuple | list) else f"a {type(grads).__name__}"
    raise RuntimeError(
        f"function {node.name}Backward returned an incorrect number of gradients (expected "
        f"{len(node.edges)}, got {got}): the backward rule of {node.name}() is wrong; it must "
        "return a tuple with one gradient (or None) per input"
    )


def invalid_gradient(node: Node, grads: Sequence) -> None:
    """Raise for the first gradient that does not match its input's shape, dtype or backend.

    Exact matches only: un-broadcasting is the rule's job, and a cast would hide a dtype
    bug. (PyTorch's engine sums a broadcast gradient down and casts float to float, but
    refuses a complex gradient for a real input, as this check does.)
    """
    from mytensor.core.tensor import Tensor

    flat = node.inputs  # (shape, dtype, backend) of each input, one after another
    metas = zip(node.edges, grads, zip(flat[0::3], flat[1::3], flat[2::3], strict=True),
                strict=True)  # fmt: skip
    for i, (edge, g, (shape, dtype, backend)) in enumerate(metas):
        if edge is None or g is None:
            continue
        expected = f"{shape} {dtype.name} on {backend.name!r}"
        if not isinstance(g, Tensor):
            got = f"a {type(g).__name__}, not a Tensor"
        elif g.shape != shape:
            got = f"shape {g.shape}"
            if _broadcasts_to(shape, g.shape):
                got += " (un-broadcasting to the input's shape is the rule's job: sum it down)"
        elif g.dtype is not dtype:
            got = f"dtype {g.dtype.name}"
            if g.dtype.kind == "complex" and dtype.kind != "complex":
                got += " (a real input never receives a complex gradient; PyTorch refuses it too)"
        elif g._storage.backend is not backend:
            got = f"backend {g._storage.backend.name!r}"
        else:
            continue
        raise RuntimeError(
            f"function {node.name}Backward returned an invalid gradient at index {i}: got "
            f"{got}, expected {expected} (input {i} of {node.name}()): the op's backward "
            "rule is wrong; it must return each gradient with its input's exact shape, "
            "dtype and backend"
        )
    raise AssertionError(f"invalid_gradient(): every gradient of {node.name}() is valid")


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    lead = len(target) - len(shape)
    return lead >= 0 and all(s in (1, t) for s, t in zip(shape, target[lead:], strict=True))


def run_hooks(hooks: list, grad: Tensor) -> Tensor:
    """Each hook sees the gradient and may return a replacement (of the same shape)."""
    for hook in list(hooks):
        replaced = hook(grad)
        if replaced is not None:
            if getattr(replaced, "shape", None) != grad.shape:
                raise RuntimeError(
                    f"register_hook(): the hook {getattr(hook, '__name__', hook)!r} returned "
                    f"{type(replaced).__name__} of shape {getattr(replaced, 'shape', None)} for "
                    f"a gradient of shape {grad.shape}; return a tensor of the same shape, "
                    "or None to keep the gradient"
                )
            grad = replaced
    return grad
