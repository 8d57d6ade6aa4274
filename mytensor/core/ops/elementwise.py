"""Elementwise ops, generated from the records in `core.primitives.elementwise` so every op checks
and errs the same way, plus `where`, `astype`, `clip`, `positive` and `square`.

The kernel names of the core vocabulary go straight to ``backend.map``/``zip``; the
optional ones (``acos``, ``atan2``, ``bitwise_and``, ...) go through
``backend.elementwise``, which runs the backend's kernel if it has one and the
reference kernel on the host otherwise. Signatures follow the array API standard:
``add(x1, x2, /)``, ``exp(x, /)``; either operand of a binary op may be a Python
scalar (weakly typed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

import numpy as np

from mytensor.backends.spec import Strided
from mytensor.core import autograd
from mytensor.core.autograd import GRAD_MODE
from mytensor.core.batching import ACTIVE, UNBATCHED, batchable, broadcast_rule, pass_rule, run
from mytensor.core.batching import register_rule as register_batch_rule
from mytensor.core.dtypes import (
    bool_,
    default_float,
    promote_with_scalar,
    real_dtype,
    to_dtype,
)
from mytensor.core.layout import broadcast_shapes
from mytensor.core.ops._base import (
    OpRecord,
    cast,
    check_tensor,
    expanded,
    promote_operands,
    register,
    same_backend,
    scalar_tensor,
    unbroadcast,
)
from mytensor.core.primitives.complex_grads import cast_grad
from mytensor.core.primitives.elementwise import (
    BINARY,
    BOOL_KERNELS,
    NUMERIC,
    RULES,
    UNARY,
    Binary,
    PerInput,
    Unary,
    describe_kinds,
    zero_grad,
)
from mytensor.core.tensor import Tensor


def _kind_error(name: str, dtype: Any, kinds: tuple[str, ...], what: str) -> TypeError:
    hint = ""
    if dtype is bool_ and "int" in kinds:
        if what != "a tensor":
            return TypeError(
                f"{name}(): not defined for two bool tensors; use logical_and/logical_or, "
                "or convert with .astype(mytensor.int64)"
            )
        hint = "; use logical_not, or convert with .astype(mytensor.int64)"
    elif dtype.kind == "complex" and "float" in kinds:
        hint = "; take mytensor.real / imag / abs first"
    return TypeError(
        f"{name}(): not defined for {what} of dtype {dtype.name} (it takes "
        f"{describe_kinds(kinds)} tensors){hint}"
    )


# comparisons of uint64 with a signed integer need no common dtype: where the signed
# operand is negative the answer is known, elsewhere both fit in uint64
_SWAPPED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}
_WHEN_NEGATIVE = {"lt": False, "le": False, "gt": True, "ge": True, "eq": False, "ne": True}


def _mixed_signs(a: Any, b: Any) -> bool:
    return (isinstance(a, Tensor) and isinstance(b, Tensor)
            and {a.dtype.kind, b.dtype.kind} == {"int", "uint"})  # fmt: skip


def _compare_mixed_signs(name: str, a: Tensor, b: Tensor) -> Tensor:
    """`a op b` for a uint64 and a signed integer tensor, exactly (as numpy does)."""
    if a.dtype.kind == "int":  # put the unsigned operand first
        a, b, name = b, a, _SWAPPED[name]
    negative = BINARY_OPS["lt"](b, 0)
    agree = BINARY_OPS[name](a, b.astype(a.dtype))
    return where(negative, _WHEN_NEGATIVE[name], agree)


def _out_dtype(out: str, dtype: Any) -> Any:
    return bool_ if out == "bool" else real_dtype(dtype) if out == "real" else dtype


def _unary_op(spec: Unary) -> Callable[[Tensor], Tensor]:
    name, grad_rule, rule = spec.name, spec.grad, RULES[spec.rule]
    kinds, optional = rule.accepts, spec.optional
    complex_rule, complex_saves = spec.complex_rule(), spec.complex_saves or spec.saves

    def op(x: Tensor, /) -> Tensor:
        if ACTIVE[0]:
            out = run(name, op, None, spec.batch, (x,), {})
            if out is not UNBATCHED:
                return out
        x = check_tensor(name, x)
        dtype = x.dtype
        if dtype.kind not in kinds:
            raise _kind_error(name, dtype, kinds, "a tensor")
        if rule.cast_bool and dtype is not bool_:
            dtype = bool_
            x = x.astype(dtype)
        elif rule.to_float and not dtype.is_inexact:
            dtype = default_float()
            x = x.astype(dtype)
        if spec.real_input is not None and dtype.kind != "complex":
            return spec.real_input(x)
        backend = x._storage.backend
        out = Tensor._empty(backend, x.shape, _out_dtype(rule.out, dtype))
        if dtype is bool_ and name in BOOL_KERNELS:
            backend.map(BOOL_KERNELS[name], out._d, x._d)
        elif optional:
            backend.elementwise(name, out._d, x._d)
        else:
            backend.map(name, out._d, x._d)
        if grad_rule is not None and autograd.needs_grad(x):
            saved_out = out.detach()
            rule_now, saves = grad_rule, spec.saves
            if dtype.kind == "complex" and complex_rule is not None:
                rule_now, saves = complex_rule, complex_saves
            saved = (x,) if saves == "x" else (saved_out,) if saves == "out" else ()

            def backward(g: Tensor) -> tuple:
                # building a higher-order graph (create_graph): the output must stay
                # differentiable in x, so recompute it rather than use the detached copy
                y = op(x) if autograd.is_grad_enabled() and saves == "out" else saved_out
                return (rule_now(g, x, y),)

            autograd.record(out, name, (x,), backward, saved)
        return out

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _unary_doc(spec)
    return op


def _unary_doc(spec: Unary) -> str:
    what = spec.doc or spec.name
    rule = spec.rule
    sample = {"predicate": "[1.0, nan]", "logical": "[1.0, nan]", "bitwise": "[1, 2]",
              "shift": "[1, 2]", "real_numeric": "[0.5, 1.5]"}.get(rule, "[0.5, 0.75]")  # fmt: skip
    return (
        f"Elementwise {what}.\n\n"
        f">>> import mytensor as mt\n"
        f">>> mt.{spec.name}(mt.tensor({sample})).shape\n(2,)\n"
    ).replace("nan]", "float('nan')]")


def _everywhere(t: Tensor, shape: tuple[int, ...]) -> Strided:
    """A 0-d tensor's descriptor as a stride-0 view of `shape`."""
    return Strided(t._storage.buffer, shape, (0,) * len(shape), t._offset, t.dtype)


def _binary_op(spec: Binary) -> Callable[[Any, Any], Tensor]:
    name, grad_rule, rule = spec.name, spec.grad, RULES[spec.rule]
    kinds, optional = rule.accepts, spec.optional
    saves_out, saves_inputs = spec.saves == "abo", spec.saves == "ab"
    out_kind, float_fix = rule.out, spec.float_fix
    complex_rule = spec.complex_grad
    if grad_rule is not None and "complex" in kinds and complex_rule is None:
        raise RuntimeError(f"{name}: an op that takes complex operands needs a complex_grad rule")
    cast_bool, to_float = rule.cast_bool, rule.to_float

    def op(x1: Tensor | complex, x2: Tensor | complex, /) -> Tensor:
        if ACTIVE[0]:
            out = run(name, op, None, spec.batch, (x1, x2), {})
            if out is not UNBATCHED:
                return out
        a, b = x1, x2
        if (
            isinstance(a, Tensor)
            and isinstance(b, Tensor)
            and a.dtype is b.dtype
            and a._storage.backend is b._storage.backend
        ):
            dtype = a.dtype  # the common case, without the general promotion's calls
        elif type(b) is float and isinstance(a, Tensor) and a.dtype.kind == "float":
            dtype = a.dtype  # a float tensor and a Python float (weak): the tensor's dtype
            b = scalar_tensor(b, dtype, a._storage.backend)
        elif type(a) is float and isinstance(b, Tensor) and b.dtype.kind == "float":
            dtype = b.dtype
            a = scalar_tensor(a, dtype, b._storage.backend)
        else:
            try:
                a, b, dtype = promote_operands(name, a, b)
            except TypeError:
                if out_kind == "bool" and not cast_bool and _mixed_signs(a, b):
                    return _compare_mixed_signs(name, a, b)
                raise
        if cast_bool:
            a, b, dtype = cast(a, bool_), cast(b, bool_), bool_
        elif dtype.kind not in kinds:
            raise _kind_error(name, dtype, kinds, "operands promoted to")
        elif to_float and not dtype.is_inexact:
            a, b, dtype = a.astype(default_float()), b.astype(default_float()), default_float()
        backend = a._storage.backend
        if a.shape == b.shape:
            shape, da, db = a.shape, a._d, b._d
        elif not b.shape:  # a 0-d operand (a scalar): broadcast by stride 0, nothing to check
            shape, da, db = a.shape, a._d, _everywhere(b, a.shape)
        elif not a.shape:
            shape, da, db = b.shape, _everywhere(a, b.shape), b._d
        else:
            shape = broadcast_shapes(name, a.shape, b.shape)
            da, db = expanded(a, shape), expanded(b, shape)
        out = Tensor._empty(backend, shape, bool_ if out_kind == "bool" else dtype)
        if dtype is bool_ and name in BOOL_KERNELS:
            backend.zip(BOOL_KERNELS[name], out._d, da, db)
        elif optional:
            backend.elementwise(name, out._d, da, db)
        else:
            backend.zip(name, out._d, da, db)
        if float_fix is not None and dtype.kind == "float":
            with autograd.no_grad():
                out = float_fix(out, a, b)
        if grad_rule is not None and GRAD_MODE.enabled and (a.requires_grad or b.requires_grad):
            y = out.detach() if saves_out else None
            rule_now = grad_rule
            if dtype.kind == "complex" and complex_rule is not None:
                rule_now = complex_rule  # always, where the op takes complex operands

            def backward(g: Tensor) -> tuple:
                # under create_graph, recompute the output so it stays differentiable
                y_now = op(a, b) if saves_out and autograd.is_grad_enabled() else y
                if type(rule_now) is PerInput:  # only the gradients wanted
                    return (
                        unbroadcast(rule_now.a(g, a, b, y_now), a.shape) if a.requires_grad
                        else None,
                        unbroadcast(rule_now.b(g, a, b, y_now), b.shape) if b.requires_grad
                        else None,
                    )  # fmt: skip
                grad_a, grad_b = rule_now(g, a, b, y_now)
                return (
                    unbroadcast(grad_a, a.shape) if a.requires_grad else None,
                    unbroadcast(grad_b, b.shape) if b.requires_grad else None,
                )

            saved = (a, b, y) if saves_out else (a, b) if saves_inputs else ()
            autograd.record(out, name, (a, b), backward, saved)
        return out

    op.__name__ = op.__qualname__ = name
    verb = f"`x1 {spec.symbol} x2`" if spec.symbol else f"{name}(x1, x2)"
    sample = "mt.tensor([1, 4]), 2" if spec.rule in ("bitwise", "shift") else \
        "mt.tensor([1.0, 4.0]), 2.0"  # fmt: skip
    op.__doc__ = (
        f"Elementwise {verb}, broadcasting by numpy's rules; scalars are weakly typed.\n\n"
        f">>> import mytensor as mt\n>>> mt.{name}({sample}).shape\n(2,)\n"
    )
    return op


@overload
def where(condition: Tensor, /) -> tuple[Tensor, ...]: ...
@overload
def where(condition: Tensor, x1: Tensor | complex, x2: Tensor | complex, /) -> Tensor: ...
@batchable("where")
def where(condition: Tensor, x1: Tensor | complex | None = None,
          x2: Tensor | complex | None = None, /) -> Any:  # fmt: skip
    """Elementwise `x1 if condition else x2`, broadcasting all three (scalars allowed).
    PyTorch's one-argument ``where(condition)`` is ``nonzero(condition, as_tuple=True)``.

    >>> import mytensor as mt
    >>> x = mt.tensor([-1.0, 2.0])
    >>> mt.where(x > 0, x, 0.0).tolist()
    [0.0, 2.0]
    >>> [i.tolist() for i in mt.where(x > 0)]
    [[1]]
    """
    condition = check_tensor("where", condition, "condition")
    if x1 is None and x2 is None:
        from mytensor.core.ops.selection import nonzero

        return nonzero(condition)
    if x1 is None or x2 is None:
        raise TypeError(
            "where(): pass both values (where(condition, x1, x2)) or neither "
            "(where(condition), the indices where condition holds)"
        )
    a, b = x1, x2
    if condition.dtype is not bool_:
        condition = condition.astype(bool_)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        dtype = promote_with_scalar(promote_with_scalar(bool_, a), b)
        a = scalar_tensor(a, dtype, condition._storage.backend)
    a, b, dtype = promote_operands("where", a, b)
    same_backend("where", condition, a)
    shape = broadcast_shapes("where", condition.shape, a.shape, b.shape)
    backend = a._storage.backend
    out = Tensor._empty(backend, shape, dtype)
    backend.where(out._d, expanded(condition, shape), expanded(a, shape), expanded(b, shape))
    if autograd.needs_grad(a, b):

        def backward(g: Tensor) -> tuple:
            return (
                None,
                unbroadcast(where(condition, g, 0.0), a.shape) if a.requires_grad else None,
                unbroadcast(where(condition, 0.0, g), b.shape) if b.requires_grad else None,
            )

        autograd.record(out, "where", (condition, a, b), backward)
    return out


@batchable("astype")
def astype(x: Tensor, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Tensor:
    """`x` converted to `dtype` (float to int truncates toward zero), on `device` if given.

    With ``copy=False`` the input itself is returned when nothing changes. Complex to
    real is refused (take mytensor.real or abs first). Differentiable between floats and
    from a float or complex dtype to a complex one (a real input gets the real part of the
    gradient, as in PyTorch).

    >>> import mytensor as mt
    >>> mt.astype(mt.tensor([1.7, -1.7]), mt.int64).tolist()
    [1, -1]
    """
    x = check_tensor("astype", x)
    dtype = to_dtype(dtype)
    if device is not None:
        from mytensor.core.creation import to_backend
        from mytensor.core.device import backend_name

        x = to_backend(x, backend_name("astype", device))
    if x.dtype.kind == "complex" and dtype.kind not in ("complex", "bool"):
        raise TypeError(
            f"astype(): casting {x.dtype.name} to {dtype.name} would drop the imaginary "
            "part; use mytensor.real(x) or mytensor.abs(x) first"
        )
    if dtype is x.dtype and not copy:
        return x
    backend = x._storage.backend
    out = Tensor._empty(backend, x.shape, dtype)
    backend.copy(out._d, x._d)
    if dtype.kind == "float" and autograd.needs_grad(x):
        autograd.record(out, "astype", (x,), lambda g: (g.astype(x.dtype),))
    elif dtype.kind == "complex" and autograd.needs_grad(x):
        autograd.record(out, "astype", (x,), lambda g: (cast_grad(g, x.dtype),))
    return out


def clip(
    x: Tensor, /, min: Tensor | float | None = None, max: Tensor | float | None = None
) -> Tensor:
    """Limit `x` to [min, max] (keeping x's dtype); the gradient passes where
    min <= x <= max. NaN stays NaN.

    >>> import mytensor as mt
    >>> mt.clip(mt.tensor([-2.0, 0.5, 3.0]), -1.0, 1.0).tolist()
    [-1.0, 0.5, 1.0]
    """
    x = check_tensor("clip", x)
    if x.dtype.kind == "complex":
        raise _kind_error("clip", x.dtype, RULES["real_numeric"].accepts, "a tensor")
    out = x
    if min is not None:
        out = where(_or_nan(out < min, min), _like(min, out), out)
    if max is not None:
        out = where(_or_nan(out > max, max), _like(max, out), out)
    if out is x:
        return x.clone()
    return out if out.dtype is x.dtype else out.astype(x.dtype)


def _or_nan(beyond: Tensor, bound: Tensor | float) -> Tensor:
    """Where `x` lies beyond `bound`, or the bound is NaN (a NaN bound gives NaN, as in
    numpy and PyTorch)."""
    if isinstance(bound, Tensor):
        return beyond | bound.isnan() if bound.dtype.kind == "float" else beyond
    return beyond | (bound != bound)


def _like(bound: Tensor | float, x: Tensor) -> Tensor | float:
    return bound.astype(x.dtype) if isinstance(bound, Tensor) else bound


def _check_numeric(op: str, x: Tensor) -> Tensor:
    x = check_tensor(op, x)
    if x.dtype.kind not in NUMERIC:
        raise _kind_error(op, x.dtype, NUMERIC, "a tensor")
    return x


def positive(x: Tensor, /) -> Tensor:
    """Elementwise `+x`: a copy of a numeric tensor.

    >>> import mytensor as mt
    >>> mt.positive(mt.tensor([-1.0, 2.0])).tolist()
    [-1.0, 2.0]
    """
    return _check_numeric("positive", x).clone()


def square(x: Tensor, /) -> Tensor:
    """Elementwise `x * x`.

    >>> import mytensor as mt
    >>> mt.square(mt.tensor([-3, 2])).tolist()
    [9, 4]
    """
    x = _check_numeric("square", x)
    return BINARY_OPS["mul"](x, x)


UNARY_OPS = {spec.name: _unary_op(spec) for spec in UNARY}
BINARY_OPS = {spec.name: _binary_op(spec) for spec in BINARY}

for _spec in UNARY:
    register(
        OpRecord(
            name=_spec.name,
            func=UNARY_OPS[_spec.name],
            ref=_spec.ref,
            dtypes=RULES[_spec.rule].tested,
            domain=_spec.domain,
            grad=_spec.grad is not None and _spec.grad is not zero_grad,
        )
    )
for _spec in BINARY:
    register(
        OpRecord(
            name=_spec.name,
            func=BINARY_OPS[_spec.name],
            ref=_spec.ref,
            arity=2,
            dtypes=RULES[_spec.rule].tested,
            domain=_spec.domain,
            grad=_spec.grad is not None,
            shapes="broadcast",
            exclude_zero=_spec.exclude_zero,
        )
    )
_NUMERIC_TESTED = RULES["numeric"].tested
register(OpRecord("where", where, lambda c, a, b: np.where(c, a, b), arity=3, shapes="where"))
register(OpRecord("astype", astype, None, shapes="custom"))
register_batch_rule("where", broadcast_rule)
register_batch_rule("astype", pass_rule)
register(OpRecord("clip", clip, lambda x, min=None, max=None: np.clip(x, min, max),
                  variants=lambda shapes: [{"min": -1.0, "max": 1.5}, {"min": 0.5}]))  # fmt: skip
register(OpRecord("positive", positive, np.positive, dtypes=_NUMERIC_TESTED))
register(OpRecord("square", square, np.square, dtypes=_NUMERIC_TESTED))
