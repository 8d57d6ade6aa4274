"""jacrev (vmap over vjp_fn: one forward, one batched backward), jacfwd (vmap over jvp)
and hessian (jacfwd of jacrev)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mytensor.core.tensor import Tensor
from mytensor.func._pytree import tree_flatten, tree_unflatten
from mytensor.func._transforms import _argnums, jvp, vjp
from mytensor.func._vmap import vmap


def _basis(t: Tensor) -> Tensor:
    from mytensor.core.creation import eye

    n = t.numel()
    return eye(n, dtype=t.dtype, backend=t.backend).reshape(n, *t.shape)


def _partial(func: Callable, args: tuple, nums: tuple[int, ...], kwargs: dict) -> Callable:
    def f(*diff: Any) -> Any:
        full = list(args)
        for i, v in zip(nums, diff, strict=True):
            full[i] = v
        return func(*full, **kwargs)

    return f


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:  # fmt: skip
    """The Jacobian of `func` w.r.t. argument(s) `argnums` by reverse mode, as
    `torch.func.jacrev`: one forward pass, then the vjps of every basis cotangent as one
    vmapped (batched) backward pass. Shape: output shape + input shape.

    >>> import mytensor as mt
    >>> from mytensor.func import jacrev
    >>> jacrev(lambda x: x * x)(mt.tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args))
        diff = tuple(args[i] for i in nums)
        res = vjp(_partial(func, args, nums, kwargs), *diff, has_aux=has_aux)
        out, vjp_fn = res[0], res[1]
        flat_out, out_spec = tree_flatten(out)
        per_output = []
        for k, o in enumerate(flat_out):

            def pull(ct: Tensor, k: int = k) -> tuple:
                cts = [ct if j == k else q.detach()._full_like(0) for j, q in enumerate(flat_out)]
                return vjp_fn(tree_unflatten(cts, out_spec))

            rows = vmap(pull, chunk_size=chunk_size)(_basis(o))  # one per output element
            jac = tuple(tree_unflatten([r.reshape(*o.shape, *x.shape) for r, x in
                                        zip(*(tree_flatten(g)[0] for g in (rg, dg)), strict=True)],
                                       tree_flatten(dg)[1])
                        for rg, dg in zip(rows, diff, strict=True))  # fmt: skip
            per_output.append(jac[0] if isinstance(argnums, int) else jac)
        result = tree_unflatten(per_output, out_spec)
        return (result, res[2]) if has_aux else result

    return wrapped


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:  # fmt: skip
    """The Jacobian of `func` by forward mode, as `torch.func.jacfwd`: the jvps of every
    basis tangent as one vmapped jvp per input. Shape: output shape + input shape.

    >>> import mytensor as mt
    >>> from mytensor.func import jacfwd
    >>> jacfwd(lambda x: x.sum() * x)(mt.tensor([1.0, 2.0])).tolist()
    [[4.0, 1.0], [2.0, 5.0]]
    """

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args))
        f = _partial(func, args, nums, kwargs)
        diff = tuple(args[i] for i in nums)
        per_input, aux = [], None
        for i, x in enumerate(diff):
            if not isinstance(x, Tensor):
                raise TypeError(f"jacfwd: argument {nums[i]} must be a Tensor")

            def push(t: Tensor, i: int = i) -> Any:
                tangents = tuple(t if j == i else d.detach()._full_like(0)
                                 for j, d in enumerate(diff))  # fmt: skip
                res = jvp(f, diff, tangents, has_aux=has_aux)
                return (res[1], res[2]) if has_aux else res[1]

            cols = vmap(push, randomness=randomness)(_basis(x))
            if has_aux:
                cols, aux = cols[0], tree_unflatten([a[0] for a in tree_flatten(cols[1])[0]],
                                                    tree_flatten(cols[1])[1])  # fmt: skip
            flat, spec = tree_flatten(cols)
            per_input.append(tree_unflatten(
                [c.movedim(0, -1).reshape(*c.shape[1:], *x.shape) for c in flat], spec))
        if isinstance(argnums, int):
            result = per_input[0]
        else:
            flats = [tree_flatten(p) for p in per_input]
            result = tree_unflatten([tuple(f[0][k] for f in flats) for k in
                                     range(len(flats[0][0]))], flats[0][1])  # fmt: skip
        return (result, aux) if has_aux else result

    return wrapped


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of a scalar function: ``jacfwd(jacrev(func, argnums), argnums)``.

    >>> import mytensor as mt
    >>> from mytensor.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(mt.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacfwd(jacrev(func, argnums), argnums)


__all__ = ["hessian", "jacfwd", "jacrev"]
