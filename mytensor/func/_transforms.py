"""grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian: built on the core's autograd.

Inside vmap, a differentiated input is materialised batched along every active vmap level
and its innermost physical tensor becomes the leaf, so one physical backward gives
per-sample gradients. A vjp_fn called under more vmaps than its vjp (jacrev) runs the
backward pass itself batched: its cotangents stay batched along the extra levels and each
backward rule goes through the batching rules. jvp is the double-vjp trick: the vjp is
linear in its cotangent, so differentiating it against a dummy cotangent gives J @ t.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytensor.core import autograd, batching
from mytensor.core.batching import BatchedTensor, Level, wrap
from mytensor.core.tensor import Tensor
from mytensor.func._pytree import tree_flatten, tree_unflatten

_DEPTH = [0]  # transforms in progress: a nested one keeps its graph (create_graph)


def _materialize(x: Tensor, levels: list[Level]) -> Tensor:
    if not levels:
        return x
    top = levels[-1]
    if isinstance(x, BatchedTensor) and x._level == top.level:
        inner = x._value
    else:
        inner = x.unsqueeze(0).expand(top.size, *x.shape)
    return wrap(_materialize(inner, levels[:-1]), top.level)


def _physical(x: Tensor) -> Tensor:
    while isinstance(x, BatchedTensor):
        x = x._value
    return x


def _rewrap(p: Tensor, levels: list[Level]) -> Tensor:
    for level in levels:
        p = wrap(p, level.level)
    return p


def _prepare(args: tuple, argnums: tuple[int, ...], levels: list[Level]) -> tuple:
    """The args with each differentiated leaf replaced by a fresh leaf (physical, batched
    along `levels`); returns (args, physical leaves, specs, connected)."""
    args, leaves, specs, connected = list(args), [], [], False
    for i in argnums:
        flat, spec = tree_flatten(args[i])
        new = []
        for x in flat:
            if not isinstance(x, Tensor) or not x.dtype.is_inexact:
                raise TypeError(
                    f"grad/vjp: argument {i} must hold floating-point tensors to differentiate, "
                    f"got {getattr(x, 'dtype', type(x).__name__)}"
                )
            p = _physical(_materialize(x, levels))
            if p.requires_grad and autograd.is_grad_enabled():
                leaf, connected = p.clone(), True  # stays differentiable for an outer transform
            else:
                leaf = p.detach().requires_grad_(True)
            leaves.append(leaf)
            new.append(_rewrap(leaf, levels))
        args[i] = tree_unflatten(new, spec)
        specs.append((spec, len(flat)))
    return tuple(args), leaves, specs, connected


def _argnums(argnums: int | tuple[int, ...], n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError("grad: argnums must name at least one argument")
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise ValueError(f"grad: argnums {argnums!r} out of range for {n} positional arguments")
    return tuple(a % n for a in nums)


def _split(grads: list, specs: list, single: bool) -> Any:
    out, k = [], 0
    for spec, count in specs:
        out.append(tree_unflatten(grads[k : k + count], spec))
        k += count
    return out[0] if single else tuple(out)


def _call(func: Callable, args: tuple, kwargs: dict, has_aux: bool) -> tuple[Any, Any]:
    _DEPTH[0] += 1
    try:
        with autograd.enable_grad():
            out = func(*args, **kwargs)
    finally:
        _DEPTH[0] -= 1
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise ValueError("has_aux=True: the function must return a tuple (output, aux)")
    return out


def _backward(outs: list, leaves: list, seeds: list, create: bool) -> list:
    pairs = [(o, s) for o, s in zip(outs, seeds, strict=True) if o.requires_grad]
    if not pairs:
        return [None] * len(leaves)
    return list(autograd.grad([o for o, _ in pairs], leaves, [s for _, s in pairs],
                              create_graph=create, allow_unused=True))  # fmt: skip


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable:  # fmt: skip
    """Like `grad`, but returns ``(gradient, value)`` (``((gradient, (value, aux)))`` with aux).

    >>> import mytensor as mt
    >>> from mytensor.func import grad_and_value
    >>> g, v = grad_and_value(lambda x: (x * x).sum())(mt.tensor([1.0, 2.0]))
    >>> g.tolist(), v.item()
    ([2.0, 4.0], 5.0)
    """

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        levels = list(batching.LEVELS)
        nums = _argnums(argnums, len(args))
        new_args, leaves, specs, connected = _prepare(args, nums, levels)
        out, aux = _call(func, new_args, kwargs, has_aux)
        if not isinstance(out, Tensor) or out.shape != ():
            shape = getattr(out, "shape", type(out).__name__)
            raise RuntimeError(
                f"grad(f): f must return a scalar (0-d) tensor, got {shape}; reduce it "
                "(.sum()) or use vjp/jacrev for non-scalar outputs"
            )
        create = connected or _DEPTH[0] > 0
        phys = _physical(_materialize(out, levels))
        found = _backward([phys], leaves, [phys._full_like(1)], create)
        grads = [_rewrap(g if g is not None else leaf.detach()._full_like(0), levels)
                 for g, leaf in zip(found, leaves, strict=True)]  # fmt: skip
        value = out if create else out.detach()
        g = _split(grads, specs, isinstance(argnums, int))
        return (g, (value, aux)) if has_aux else (g, value)

    return wrapped


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function with respect to argument(s) `argnums` (pytrees of
    tensors allowed), as `torch.func.grad`; with `has_aux`, f returns (output, aux) and
    grad returns (gradient, aux). Composes with vmap (per-sample gradients) and itself.

    >>> import mytensor as mt
    >>> from mytensor.func import grad
    >>> grad(lambda x: (x ** 3).sum())(mt.tensor([1.0, 2.0])).tolist()
    [3.0, 12.0]
    """
    both = grad_and_value(func, argnums, has_aux)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapped


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(output, vjp_fn)``: vjp_fn(cotangents) gives one gradient per primal (a tuple),
    as `torch.func.vjp`. vjp_fn may be vmapped (that is jacrev).

    >>> import mytensor as mt
    >>> from mytensor.func import vjp
    >>> out, fn = vjp(lambda x: x * 3, mt.tensor([1.0, 2.0]))
    >>> fn(mt.ones(2))[0].tolist()
    [3.0, 3.0]
    """
    levels = list(batching.LEVELS)
    new, leaves, specs, connected = _prepare(primals, tuple(range(len(primals))), levels)
    out, aux = _call(func, new, {}, has_aux)
    flat_out, out_spec = tree_flatten(out)
    phys_out = [_physical(_materialize(o, levels)) for o in flat_out]
    create_outer = connected or _DEPTH[0] > 0

    def vjp_fn(cotangents: Any) -> tuple:
        flat_ct, _ = tree_flatten(cotangents)
        if len(flat_ct) != len(flat_out):
            raise ValueError(f"vjp_fn: expected {len(flat_out)} cotangents, got {len(flat_ct)}")
        now = list(batching.LEVELS)
        if now[: len(levels)] != levels:
            raise RuntimeError("vjp_fn: call it under the vmaps its vjp was computed under")
        extra = now[len(levels):]
        seeds = [_seed(c, o, levels, extra) for c, o in zip(flat_ct, flat_out, strict=True)]
        create = create_outer or _DEPTH[0] > 0 or any(_physical(c).requires_grad for c in flat_ct)
        found = _backward(phys_out, leaves, seeds, create)
        grads = [_unseed(g, leaf, levels, extra) for g, leaf in zip(found, leaves, strict=True)]
        return tuple(tree_unflatten(grads[k - n : k], spec) for (spec, n), k in
                     zip(specs, _ends(specs), strict=True))  # fmt: skip

    value = out if create_outer else tree_unflatten([o.detach() for o in flat_out], out_spec)
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def _ends(specs: list) -> list[int]:
    ends, k = [], 0
    for _, n in specs:
        k += n
        ends.append(k)
    return ends


def _seed(ct: Tensor, out: Tensor, levels: list[Level], extra: list[Level]) -> Tensor:
    """A cotangent as the graph's physical output sees it, still batched along `extra`."""
    if ct.shape != out.shape:
        raise ValueError(
            f"vjp_fn: cotangent of shape {ct.shape} for an output of shape {out.shape}"
        )
    p = _physical(_materialize(ct, levels + extra))
    n, m = len(levels), len(extra)
    if m and n:
        p = p.permute(*range(n, n + m), *range(n), *range(n + m, p.ndim))
    return _rewrap(p, extra)


def _unseed(g: Tensor | None, leaf: Tensor, levels: list[Level], extra: list[Level]) -> Tensor:
    if g is None:
        g = leaf.detach()._full_like(0)
    p = _physical(_materialize(g, extra))
    n, m = len(levels), len(extra)
    if m and n:
        p = p.permute(*range(m, m + n), *range(m), *range(n + m, p.ndim))
    return _rewrap(p, levels + extra)


def jvp(func: Callable, primals: tuple, tangents: tuple, has_aux: bool = False) -> tuple:
    """``(output, jvp_out)``: the forward-mode derivative of `func` at `primals` along
    `tangents`, as `torch.func.jvp` (computed as the derivative of a vjp: two backward
    passes, no forward-mode rules needed).

    >>> import mytensor as mt
    >>> from mytensor.func import jvp
    >>> jvp(lambda x: x * x, (mt.tensor([3.0]),), (mt.tensor([1.0]),))[1].tolist()
    [6.0]
    """
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    levels = list(batching.LEVELS)
    new, leaves, _, connected = _prepare(primals, tuple(range(len(primals))), levels)
    out, aux = _call(func, new, {}, has_aux)
    flat_out, out_spec = tree_flatten(out)
    phys_out = [_physical(_materialize(o, levels)) for o in flat_out]
    flat_t = [_physical(_materialize(t, levels)) for t in tree_flatten(tangents)[0]]
    dummies = [o.detach()._full_like(0).requires_grad_(True) for o in phys_out]
    with autograd.enable_grad():
        gs = _backward(phys_out, leaves, dummies, True)
    pairs = [(g, t) for g, t in zip(gs, flat_t, strict=True) if g is not None and g.requires_grad]
    create = connected or _DEPTH[0] > 0
    if pairs:
        found = autograd.grad([g for g, _ in pairs], dummies, [t for _, t in pairs],
                              create_graph=create, allow_unused=True)  # fmt: skip
    else:
        found = (None,) * len(dummies)
    tangents_out = [_rewrap(f if f is not None else d.detach(), levels)
                    for f, d in zip(found, dummies, strict=True)]  # fmt: skip
    value = out if create else tree_unflatten([o.detach() for o in flat_out], out_spec)
    result = (value, tree_unflatten(tangents_out, out_spec))
    return (*result, aux) if has_aux else result
