"""Saving and loading a module's state: which tensors it holds and how values load."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from mytensor.core.autograd import no_grad
from mytensor.core.creation import asarray
from mytensor.core.tensor import Tensor

if TYPE_CHECKING:
    from mytensor.nn.module import Module


class IncompatibleKeys(NamedTuple):
    """What `Module.load_state_dict(strict=False)` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def state_items(module: Module, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
    """(key, tensor) for every parameter and persistent buffer, in state_dict order."""
    for module_prefix, sub in module.named_modules(prefix=prefix, remove_duplicate=False):
        head = f"{module_prefix}." if module_prefix else ""
        for name, p in sub._parameters.items():
            if p is not None:
                yield head + name, p
        for name, b in sub._buffers.items():
            if b is not None and name not in sub._non_persistent:
                yield head + name, b


def load_state(module: Module, state_dict: Mapping[str, Any], strict: bool) -> IncompatibleKeys:
    """`Module.load_state_dict`: check everything first, then copy in place."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_state_dict(): expected a mapping, got {type(state_dict).__name__}")
    own = dict(state_items(module))
    missing = [key for key in own if key not in state_dict]
    unexpected = [key for key in state_dict if key not in own]
    errors, pairs = [], []
    for key, target in own.items():
        if key not in state_dict:
            continue
        value = state_dict[key]
        shape = tuple(value.shape) if hasattr(value, "shape") else np.shape(value)
        if shape != target.shape:
            errors.append(
                f"size mismatch for {key}: copying a value of shape {shape} from the "
                f"state_dict, the shape in the current model is {target.shape}."
            )
            continue
        pairs.append((target, value))
    if strict and unexpected:
        errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
    if strict and missing:
        errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
    if errors:
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(module).__name__}:\n\t" + "\n\t".join(errors)
        )
    with no_grad():
        for target, value in pairs:
            target[...] = asarray(value, dtype=target.dtype, backend=target.backend)
    return IncompatibleKeys(missing, unexpected)
