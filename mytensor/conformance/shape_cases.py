"""Case makers for the ops with their own conformance ("custom" records).

Each maker draws the op's arguments for input values `x` and returns
``(func, ref, kwargs)``: `func` applies the op to mytensor tensors, `ref` to
numpy arrays, `kwargs` describes the draw for failure messages.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import mytensor as mt


def _dims(draw, ndim: int, min_size: int = 0) -> tuple[int, ...]:
    return tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=min_size, unique=True))) \
        if ndim else ()  # fmt: skip


def reshape_target(draw, shape) -> tuple[int, ...]:
    n = math.prod(shape)
    options = [(-1,), tuple(reversed(shape)), (*shape, 1), (1, *shape)]
    options += [(n // k, k) for k in (2, 3) if n and n % k == 0]
    options += [(-1, k) for k in (2, 3) if n and n % k == 0]
    if n == 1:
        options.append(())
    return draw(st.sampled_from(options))


def make_reshape(draw, shape):
    target = reshape_target(draw, shape)
    return (lambda t: t.reshape(*target)), (lambda a: a.reshape(target)), {"shape": target}


def make_view(draw, shape):
    target = reshape_target(draw, shape)
    return (lambda t: t.view(*target)), (lambda a: a.reshape(target)), {"shape": target}


def make_permute(draw, shape):
    order = tuple(draw(st.permutations(range(len(shape)))))
    return (lambda t: t.permute(*order)), (lambda a: a.transpose(order)), {"dims": order}


def make_transpose(draw, shape):
    bound = max(len(shape), 1)
    d0, d1 = draw(st.integers(-bound, bound - 1)), draw(st.integers(-bound, bound - 1))
    ref = (lambda a: np.swapaxes(a, d0, d1)) if shape else (lambda a: a)
    return (lambda t: t.transpose(d0, d1)), ref, {"dim0": d0, "dim1": d1}


def _broadcast_target(draw, shape, allow_minus_one: bool):
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    body = []
    for s in shape:
        if s == 1:
            body.append(draw(st.integers(0, 3)))
        elif allow_minus_one and draw(st.booleans()):
            body.append(-1)
        else:
            body.append(s)
    target = (*lead, *body)
    final = (*lead, *(s if b == -1 else b for s, b in zip(shape, body, strict=True)))
    return target, final


def make_expand(draw, shape):
    target, final = _broadcast_target(draw, shape, True)
    return (lambda t: t.expand(*target)), (lambda a: np.broadcast_to(a, final)), {"shape": target}


def make_broadcast_to(draw, shape):
    _, final = _broadcast_target(draw, shape, False)
    return (lambda t: mt.broadcast_to(t, final)), (lambda a: np.broadcast_to(a, final)), \
        {"shape": final}  # fmt: skip


def make_squeeze(draw, shape):
    ones = [d for d, s in enumerate(shape) if s == 1]
    dim = draw(st.sampled_from([None, *ones, tuple(ones)]))
    return (lambda t: t.squeeze(dim)), (lambda a: np.squeeze(a, axis=dim)), {"dim": dim}


def make_unsqueeze(draw, shape):
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    return (lambda t: t.unsqueeze(dim)), (lambda a: np.expand_dims(a, dim)), {"dim": dim}


def make_flip(draw, shape):
    dims = draw(st.sampled_from([None, _dims(draw, len(shape))]))
    return (lambda t: t.flip(dims)), (lambda a: np.flip(a, axis=dims) if shape else a), \
        {"dims": dims}  # fmt: skip


def make_contiguous(draw, shape):
    return (lambda t: t.contiguous()), (lambda a: a), {}


def make_clone(draw, shape):
    return (lambda t: t.clone()), (lambda a: a), {}


def make_split(draw, shape):
    assume(shape)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    if n and draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
        arg = sizes
    else:
        arg = draw(st.integers(1, 3))
        sizes = [arg] * (n // arg) + ([n % arg] if n % arg else []) or [0]
    edges = np.cumsum(sizes)[:-1].tolist()
    return (lambda t: mt.split(t, arg, dim)), (lambda a: tuple(np.split(a, edges, axis=dim))), \
        {"split": arg, "dim": dim}  # fmt: skip


SINGLE = {
    "reshape": make_reshape, "view": make_view, "permute": make_permute,
    "transpose": make_transpose, "expand": make_expand, "broadcast_to": make_broadcast_to,
    "squeeze": make_squeeze, "unsqueeze": make_unsqueeze, "flip": make_flip,
    "contiguous": make_contiguous, "clone": make_clone, "split": make_split,
}  # fmt: skip


# -- keys ---------------------------------------------------------------------------------
def basic_key(draw, shape) -> tuple:
    """Ints, slices (negative steps too), None and Ellipsis."""
    items: list = []
    for s in shape:
        kind = draw(st.sampled_from(["int", "slice", "slice", "full"]))
        if kind == "int" and s:
            items.append(draw(st.integers(-s, s - 1)))
        elif kind == "slice":
            step = draw(st.sampled_from([None, 1, 2, -1, -2, 3]))
            start = draw(st.one_of(st.none(), st.integers(-s - 1, s + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-s - 1, s + 1)))
            items.append(slice(start, stop, step))
        else:
            items.append(slice(None))
    if items and draw(st.booleans()):
        p = draw(st.integers(0, len(items) - 1))
        c = draw(st.integers(0, len(items) - p))
        items[p : p + c] = [Ellipsis]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


def advanced_key(draw, shape, values_np) -> tuple:
    """An integer array on one or two dims, or a boolean mask (over a prefix of dims)."""
    kind = draw(st.sampled_from(["int", "two", "mask"]))
    if not shape:
        return basic_key(draw, shape)  # 0-d masks (x[True]) are a known core gap
    if kind == "mask" or not any(shape):
        k = draw(st.integers(1, len(shape)))
        mask = np.array(draw(st.lists(st.booleans(), min_size=math.prod(shape[:k]),
                                      max_size=math.prod(shape[:k]))), dtype=bool)  # fmt: skip
        return (mask.reshape(shape[:k]),)
    dims = [d for d, s in enumerate(shape) if s]
    chosen = sorted(draw(st.lists(st.sampled_from(dims), min_size=1,
                                  max_size=2 if kind == "two" else 1, unique=True)))  # fmt: skip
    index_shape = draw(st.sampled_from([(0,), (1,), (3,), (2, 2)]))
    key: list = [slice(None)] * (max(chosen) + 1)
    for d in chosen:
        picks = draw(
            st.lists(
                st.integers(-shape[d], shape[d] - 1),
                min_size=math.prod(index_shape),
                max_size=math.prod(index_shape),
            )
        )
        key[d] = np.array(picks, dtype=np.int64).reshape(index_shape)
    return tuple(key)


def as_mt_key(key: tuple, backend: str) -> tuple:
    """The key with numpy index arrays passed as mytensor tensors."""
    return tuple(
        mt.tensor(k, backend=backend) if isinstance(k, np.ndarray) else k for k in key
    )  # fmt: skip
