"""vmap: real batching. Each op inside runs once on the whole batch, through its batching
rule (`mytensor.core.batching`); no Python loop over samples."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from mytensor.core import batching
from mytensor.core.batching import BatchedTensor, Level, wrap
from mytensor.core.tensor import Tensor
from mytensor.func._pytree import broadcast_prefix, tree_flatten, tree_unflatten

_NUMBERS = itertools.count(1)


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:  # fmt: skip
    """`func` mapped over a batch dim of its inputs, as `torch.func.vmap`.

    `in_dims` gives each positional argument's batch dim (an int, None for an unbatched
    argument, or a tuple/list/dict matching the arguments' pytree); `out_dims` the outputs'.
    `randomness` is 'error' (random ops raise), 'different' or 'same'. `chunk_size` runs
    the batch in chunks of that many samples. Keyword arguments are not batched.

    >>> import mytensor as mt
    >>> from mytensor.func import vmap
    >>> vmap(lambda x, w: x @ w, in_dims=(0, None))(mt.ones(5, 3), mt.ones(3, 2)).shape
    (5, 2)
    """
    if randomness not in ("error", "different", "same"):
        raise ValueError(
            f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}"
        )
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"vmap: chunk_size must be a positive int or None, got {chunk_size}")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if in_dims is None or isinstance(in_dims, int | tuple):
            prefix = in_dims
        else:
            raise ValueError(f"vmap: in_dims must be an int, None or a tuple, got {in_dims!r}")
        if isinstance(prefix, tuple) and len(prefix) != len(args):
            raise ValueError(
                f"vmap: in_dims={in_dims!r} has {len(prefix)} entries but the function got "
                f"{len(args)} positional arguments; pass one entry per argument"
            )
        leaves, spec = tree_flatten(args)
        dims = broadcast_prefix(prefix, args, "in_dims")
        dims, size = _check_inputs(leaves, dims)
        if chunk_size is None or chunk_size >= size:
            return _run(func, leaves, dims, spec, size, out_dims, randomness, kwargs)
        pieces = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = [x.narrow(d, start, n) if d is not None else x
                    for x, d in zip(leaves, dims, strict=True)]  # fmt: skip
            pieces.append(_run(func, part, dims, spec, n, out_dims, randomness, kwargs))
        return _join(pieces, out_dims)

    return wrapped


def _check_inputs(leaves: list, dims: list) -> tuple[list, int]:
    sizes, normal = [], []
    for i, (x, d) in enumerate(zip(leaves, dims, strict=True)):
        if d is None:
            normal.append(None)
            continue
        if not isinstance(x, Tensor):
            raise ValueError(
                f"vmap: input {i} is a {type(x).__name__}, not a Tensor, but in_dims maps it "
                f"over dim {d}; give it in_dims None"
            )
        if not -x.ndim <= d < x.ndim:
            raise ValueError(
                f"vmap: in_dim {d} is out of range for input {i} of shape {x.shape} "
                f"({x.ndim} dims); pass a dim in [-{x.ndim}, {x.ndim - 1}] or None"
            )
        normal.append(d % x.ndim)
        sizes.append(x.shape[d % x.ndim])
    if not sizes:
        raise ValueError("vmap: at least one input must be mapped over (in_dims are all None)")
    if len(set(sizes)) != 1:
        raise ValueError(
            f"vmap: expected all mapped inputs to have the same size in the mapped dim, got "
            f"sizes {sizes}; check in_dims"
        )
    return normal, sizes[0]


def _run(func: Callable, leaves: list, dims: list, spec: Any, size: int, out_dims: Any,
         randomness: str, kwargs: dict) -> Any:  # fmt: skip
    level = Level(next(_NUMBERS), size, randomness)
    batching.LEVELS.append(level)
    batching.ACTIVE[0] += 1
    try:
        inputs = [x if d is None else wrap(x.movedim(d, 0) if d else x, level.level)
                  for x, d in zip(leaves, dims, strict=True)]  # fmt: skip
        out = func(*tree_unflatten(inputs, spec), **kwargs)
        flat, out_spec = tree_flatten(out)
        odims = broadcast_prefix(out_dims, out, "out_dims")
        return tree_unflatten([_unbatch(o, d, level) for o, d in zip(flat, odims, strict=True)],
                              out_spec)  # fmt: skip
    finally:
        batching.LEVELS.pop()
        batching.ACTIVE[0] -= 1


def _unbatch(out: Any, out_dim: int | None, level: Level) -> Any:
    if not isinstance(out, Tensor):
        if out_dim is None:
            return out
        raise ValueError(
            f"vmap: the function returned a {type(out).__name__}, not a Tensor, with out_dim "
            f"{out_dim}; return tensors, or give that output out_dims None"
        )
    if isinstance(out, BatchedTensor) and out._level == level.level:
        value = out._value
    elif out_dim is None:
        return out
    else:  # the same for every sample: broadcast
        value = out.unsqueeze(0).expand(level.size, *out.shape)
    if out_dim is None:
        raise ValueError(
            f"vmap: an output of shape {out.shape} is batched but its out_dim is None; "
            "give it an int out_dim"
        )
    if not -value.ndim <= out_dim < value.ndim:
        raise ValueError(
            f"vmap: out_dim {out_dim} is out of range for an output of {value.ndim} dims"
        )
    return value.movedim(0, out_dim) if out_dim % value.ndim else value


def _join(pieces: list, out_dims: Any) -> Any:
    from mytensor.core.ops.shape import cat

    flats = [tree_flatten(p) for p in pieces]
    spec = flats[0][1]
    odims = broadcast_prefix(out_dims, pieces[0], "out_dims")
    joined = []
    for i, d in enumerate(odims):
        parts = [f[0][i] for f in flats]
        joined.append(parts[0] if d is None else cat(parts, d))
    return tree_unflatten(joined, spec)
