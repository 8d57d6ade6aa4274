"""vmap's one hook in the op path: batched values, the batching-rule table, the dispatch.

A batched value is a `BatchedTensor`: a physical tensor whose leading dim is the batch,
tagged with the vmap level that owns that dim; its `shape` is the logical (per-sample)
shape. Nested vmaps nest the wrappers (the highest level outermost), so the innermost
physical tensor holds every batch dim in front, outermost vmap first.

While no vmap is active, an op pays one global check (`ACTIVE[0]`, a list item). While one
is, an op given a batched value runs its batching rule: the rule gets the physical values
(batch dim in front, or unbatched) and returns physical outputs with the batch dim in front,
which are wrapped again. Elementwise rules sit in their records (`Unary.batch`,
`Binary.batch`); every other rule sits beside its op in `core/ops/` (`register_rule`).
A composite op (mean, var, gelu, ...) needs no rule: its parts have theirs. An op with no
rule that touches a batched value's buffer raises an error naming the op.

Random draws all pass through `creation._random`, whose one vmap hook is `random_draw`:
each active level outside the running rule applies its randomness ('error' refuses,
'different' adds its batch dim to the draw, 'same' shares it), so rand, randn, normal,
bernoulli, dropout, ... draw per sample at every level of nested vmaps.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mytensor.core.tensor import Tensor

ACTIVE = [0]  # the number of active vmap levels: the op path's one global check


@dataclass
class Level:
    """One active vmap: its level number, batch size and randomness mode."""

    level: int
    size: int
    randomness: str = "error"


LEVELS: list[Level] = []  # the active vmaps, outermost first
RULES: dict[str, Callable] = {}
DECOMPOSITIONS: dict[str, Callable] = {}
RANDOM_OPS: set[str] = set()
# the level of each batching rule now running, innermost last: inside a rule the values are
# physical at that level and above, so a random draw there batches only the levels below
IN_RULE: list[int] = []


def no_rule_error(name: str) -> RuntimeError:
    return RuntimeError(
        f"vmap: no batching rule for {name!r}; the op was called with a batched tensor "
        "inside vmap. Add one beside the op in mytensor/core/ops/ with "
        f"`register_rule({name!r}, rule)` (a rule takes the physical values with the batch "
        "dim in front and returns outputs batched in front), or move the op out of vmap"
    )


def _caller_op() -> str:
    """The public op whose code touched a batched value's buffer (for the error only)."""
    frame = sys._getframe(2)
    name = "?"
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if (not module.startswith("mytensor.") or module.startswith("mytensor.func")
                or module in (__name__, "mytensor.core.autograd")):  # fmt: skip
            break
        if frame.f_code.co_name not in ("backward", "<lambda>", "<listcomp>", "op", "_op"):
            name = frame.f_code.co_name
        frame = frame.f_back
    return name


class _BatchedStorage:
    """A batched value's storage: its backend is known, its buffer is not per-sample."""

    __slots__ = ("backend",)

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    @property
    def buffer(self) -> Any:
        raise no_rule_error(_caller_op())

    @property
    def version(self) -> Any:
        raise no_rule_error(_caller_op())


def _internal(self: Any) -> Any:
    raise no_rule_error(_caller_op())


class BatchedTensor(Tensor):
    """A tensor batched along one vmap level: `_value` holds the batch dim in front."""

    __slots__ = ("_level", "_value")

    _d = property(_internal)  # type: ignore[assignment]
    _desc = property(_internal)  # type: ignore[assignment]
    _strides = property(_internal)  # type: ignore[assignment]
    _offset = property(_internal)  # type: ignore[assignment]

    @property  # type: ignore[override]
    def _storage(self) -> _BatchedStorage:
        value = self._value
        while isinstance(value, BatchedTensor):
            value = value._value
        return _BatchedStorage(value._storage.backend)

    def detach(self) -> Tensor:
        return wrap(self._value.detach(), self._level)

    def __repr__(self) -> str:
        return f"BatchedTensor(level={self._level}, shape={self.shape}, value={self._value!r})"


def wrap(value: Tensor, level: int) -> BatchedTensor:
    t = object.__new__(BatchedTensor)
    t._value = value
    t._level = level
    t.shape = value.shape[1:]
    t.dtype = value.dtype
    t.requires_grad = False
    t.grad = None
    t._node = None
    t._leaf = None
    t._base = None
    return t


@dataclass
class Batch:
    """What a rule knows: the batch size, which args are batched (0: in front, None: not;
    a tuple for a list argument), the kwargs' batching, and the public op to call."""

    size: int
    dims: tuple
    kw: dict
    op: Callable
    level: Level


def _top_level(values: Any) -> int:
    top = -1
    for v in values:
        if isinstance(v, BatchedTensor):
            top = max(top, v._level)
        elif isinstance(v, list | tuple):
            top = max(top, _top_level(v))
    return top


def _unwrap(value: Any, level: int) -> tuple[Any, Any]:
    if isinstance(value, BatchedTensor) and value._level == level:
        return value._value, 0
    if isinstance(value, list | tuple) and any(isinstance(v, Tensor) for v in value):
        pairs = [_unwrap(v, level) for v in value]
        return type(value)(p[0] for p in pairs), tuple(p[1] for p in pairs)
    return value, None


def _wrap_out(out: Any, level: int) -> Any:
    if isinstance(out, Tensor):
        return wrap(out, level)
    if isinstance(out, tuple) and hasattr(out, "_fields"):  # a named tuple (values, indices)
        return type(out)(*(_wrap_out(o, level) for o in out))
    if isinstance(out, list | tuple):
        return type(out)(_wrap_out(o, level) for o in out)
    return out


def find_level(number: int) -> Level:
    for lv in LEVELS:
        if lv.level == number:
            return lv
    raise RuntimeError(f"vmap: a batched tensor of level {number} escaped its vmap")


UNBATCHED = object()  # run()'s answer when no argument is batched and fn is None


def run(name: str, op: Callable, fn: Callable | None, rule: Callable | None, args: tuple,
        kwargs: dict) -> Any:  # fmt: skip
    """Run `op` under vmap: its rule at the highest level among its batched arguments."""
    number = max(_top_level(args), _top_level(kwargs.values()))
    if number < 0:
        if fn is None:  # the caller runs its own body (the elementwise builders)
            return UNBATCHED
        if name in RANDOM_OPS and LEVELS:
            return random_unbatched(name, op, fn, args, kwargs)
        return fn(*args, **kwargs)
    if name in DECOMPOSITIONS:
        return DECOMPOSITIONS[name](*args, **kwargs)
    if rule is None:
        raise no_rule_error(name)
    level = find_level(number)
    pairs = [_unwrap(a, number) for a in args]
    kw_pairs = {k: _unwrap(v, number) for k, v in kwargs.items()}
    batch = Batch(level.size, tuple(p[1] for p in pairs), {k: p[1] for k, p in kw_pairs.items()},
                  op, level)  # fmt: skip
    IN_RULE.append(number)
    try:
        out = rule(batch, *(p[0] for p in pairs), **{k: p[0] for k, p in kw_pairs.items()})
    finally:
        IN_RULE.pop()
    return _wrap_out(out, number)


def random_unbatched(name: str, op: Callable, fn: Callable, args: tuple, kwargs: dict) -> Any:
    """A random op with no batched input, inside vmap: 'same' draws once; 'different'
    draws per sample (the input materialised along the innermost level)."""
    level = LEVELS[-1]
    check_random(name, level)
    if level.randomness == "same" or not args or not isinstance(args[0], Tensor):
        return fn(*args, **kwargs)
    x = args[0]
    batched = wrap(x.unsqueeze(0).expand(level.size, *x.shape), level.level)
    return op(batched, *args[1:], **kwargs)


def check_random(name: str, level: Level) -> None:
    if level.randomness == "error":
        raise RuntimeError(
            f"vmap: called random operation {name!r} while in randomness='error' mode; "
            "pass vmap(..., randomness='different') for independent draws per sample or "
            "randomness='same' for one draw shared by the batch"
        )


def random_draw(op: str, shape: tuple, draw: Callable[[tuple], Tensor]) -> Tensor:
    """A creation-level random op (rand, randn, randint, normal, bernoulli, ...) under vmap:
    each level outside the running rule checks its randomness; the 'different' ones add
    their batch dim in front (one draw for the whole batch, a sample per batch element at
    every level), the 'same' ones share the draw. `draw(shape)` makes the physical tensor."""
    top = IN_RULE[-1] if IN_RULE else None
    levels = [lv for lv in LEVELS if top is None or lv.level < top]
    for lv in levels:
        check_random(op, lv)
    different = [lv for lv in levels if lv.randomness == "different"]
    out = draw((*(lv.size for lv in different), *shape))
    for lv in different:  # the outermost level wraps first: its dim is the physical front
        out = wrap(out, lv.level)
    return out


def batched_random_rule(name: str) -> Callable:
    """The rule of a random op drawing per element of a tensor input (bernoulli(p),
    normal(mean, std), multinomial(weights)): 'different' runs the op once on the physical
    values; 'same' with a batched input is refused, as torch.func refuses it."""

    def rule(b: Batch, *args: Any, **kwargs: Any) -> Any:
        check_random(name, b.level)
        if b.level.randomness == "same":
            raise RuntimeError(
                f"vmap: {name}() got a batched tensor input in randomness='same' mode; one "
                "shared draw cannot follow per-sample parameters (torch.func refuses it too). "
                f"Use randomness='different', or draw uniform samples once and compare"
            )
        ndim = max(logical_ndim(a, d) for a, d in zip(args, b.dims, strict=False)
                   if isinstance(a, Tensor))  # fmt: skip
        args = tuple(materialize(pad_to(a, d, ndim), d, b.size) if isinstance(a, Tensor) else a
                     for a, d in zip(args, b.dims, strict=False))  # fmt: skip
        return b.op(*args, **kwargs)

    return rule


def batchable(name: str, random: bool = False) -> Callable[[Callable], Callable]:
    """Give op `name` the vmap check: when a vmap is active it runs the op's rule (looked
    up by name in `RULES` when called, so the rule can sit below the op)."""

    def decorate(fn: Callable) -> Callable:
        def op(*args: Any, **kwargs: Any) -> Any:
            if ACTIVE[0]:
                return run(name, op, fn, RULES.get(name), args, kwargs)
            return fn(*args, **kwargs)

        if random:
            RANDOM_OPS.add(name)
        return functools.update_wrapper(op, fn)

    return decorate


def register_rule(name: str, rule: Callable) -> None:
    RULES[name] = rule


def register_decomposition(name: str, composite: Callable) -> None:
    """Under vmap, op `name` runs `composite` on the batched values (its ops have rules)."""
    DECOMPOSITIONS[name] = composite


# -- helpers for rules ------------------------------------------------------------------
def logical_ndim(x: Any, bdim: Any) -> int:
    return x.ndim - (bdim is not None)


def shift_dim(dim: int, ndim: int) -> int:
    """A logical dim (negative allowed) as the physical dim behind the batch dim."""
    if not -ndim - 1 < dim < max(ndim, 1):
        raise IndexError(f"dimension {dim} is out of range for a tensor of {ndim} dims")
    return (dim % max(ndim, 1)) + 1


def shift_dims(dim: Any, ndim: int) -> Any:
    if dim is None:
        return tuple(range(1, ndim + 1))
    if isinstance(dim, int):
        return shift_dim(dim, ndim)
    return tuple(shift_dim(d, ndim) for d in dim)


def materialize(x: Tensor, bdim: Any, size: int) -> Tensor:
    """`x` with the batch dim in front: an unbatched value is broadcast (a view)."""
    if bdim is not None:
        return x
    return x.unsqueeze(0).expand(size, *x.shape)


def pad_to(x: Tensor, bdim: Any, ndim: int) -> Tensor:
    """A batched `x` with size-1 dims after the batch dim up to `ndim` logical dims, so it
    broadcasts against unbatched values from the right."""
    missing = ndim - logical_ndim(x, bdim)
    if bdim is None or missing <= 0:
        return x
    return x.reshape(x.shape[0], *([1] * missing), *x.shape[1:])


def broadcast_rule(b: Batch, *args: Any) -> Any:
    """The rule of every broadcasting op (elementwise, where, clamp): align the logical
    ranks behind the batch dim, then run the op once on the physical values."""
    ndim = max((logical_ndim(a, d) for a, d in zip(args, b.dims, strict=True)
                if isinstance(a, Tensor)), default=0)  # fmt: skip
    return b.op(*(pad_to(a, d, ndim) if isinstance(a, Tensor) else a
                  for a, d in zip(args, b.dims, strict=True)))  # fmt: skip


def pass_rule(b: Batch, x: Tensor, *args: Any, **kwargs: Any) -> Any:
    """The rule of an op that maps each element alone and takes no dims (astype, detach)."""
    return b.op(x, *args, **kwargs)


def one_dim_rule(b: Batch, x: Tensor, dim: int = -1, *args: Any, **kwargs: Any) -> Any:
    """The rule of an op along one dim that keeps the shape (cumsum, cumprod); a 0-d
    sample runs as a 1-d one."""
    if x.ndim == 1:
        return b.op(x.unsqueeze(1), 1, *args, **kwargs).squeeze(1)
    return b.op(x, shift_dim(dim, x.ndim - 1), *args, **kwargs)


def dim_rule(b: Batch, x: Tensor, dim: Any = None, *args: Any, **kwargs: Any) -> Any:
    """The rule of an op of one tensor with a `dim` argument (reductions, softmax)."""
    return b.op(x, shift_dims(dim, x.ndim - 1), *args, **kwargs)
