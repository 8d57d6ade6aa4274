"""Elementwise ops, generated from two tables so every op checks and errs the same way.

A row is one op: its kernel name in the backend vocabulary, its dtype rule,
its backward rule (in mytensor ops), and the metadata conformance reads.
Dtype rules: "float" computes in floating point (ints become float32),
"numeric" keeps the dtype but refuses bool, "predicate" returns bool from any
dtype, "logical" casts inputs to bool.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mytensor.core import autograd
from mytensor.core.autograd import GRAD_MODE
from mytensor.core.dtypes import (
    ALL_DTYPES,
    DEFAULT_FLOAT,
    FLOAT_DTYPES,
    NUMERIC_DTYPES,
    bool_,
    promote_with_scalar,
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
from mytensor.core.tensor import Tensor

_KINDS = {
    "float": ("int", "float", "bool"),
    "numeric": ("int", "float"),
    "predicate": ("bool", "int", "float"),
    "logical": ("bool", "int", "float"),
}


@dataclass(frozen=True)
class _Unary:
    name: str
    rule: str
    grad: Callable[[Tensor, Tensor, Tensor], Tensor] | None  # (grad, x, out) -> grad_x
    saves: str  # which values the backward reads: "x", "out", "" (neither)
    ref: Callable[[np.ndarray], np.ndarray]
    domain: tuple[float, float] = (-3.0, 3.0)
    doc: str = ""


def _zero_grad(g: Tensor, x: Tensor, out: Tensor) -> Tensor:
    return g * 0.0


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _sigmoid_ref(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


UNARY = [
    _Unary("neg", "numeric", lambda g, x, y: -g, "", np.negative, doc="-x"),
    _Unary("abs", "numeric", lambda g, x, y: g * x.sign(), "x", np.abs, doc="|x|"),
    _Unary("exp", "float", lambda g, x, y: g * y, "out", np.exp, doc="e**x"),
    _Unary("log", "float", lambda g, x, y: g / x, "x", np.log, (0.1, 5.0), "natural log"),
    _Unary("log1p", "float", lambda g, x, y: g / (x + 1.0), "x", np.log1p, (-0.9, 5.0),
           "log(1 + x), accurate near 0"),
    _Unary("expm1", "float", lambda g, x, y: g * (y + 1.0), "out", np.expm1,
           doc="e**x - 1, accurate near 0"),
    _Unary("sqrt", "float", lambda g, x, y: g / (y * 2.0), "out", np.sqrt, (0.1, 5.0)),
    _Unary("sin", "float", lambda g, x, y: g * x.cos(), "x", np.sin),
    _Unary("cos", "float", lambda g, x, y: -g * x.sin(), "x", np.cos),
    _Unary("tanh", "float", lambda g, x, y: g * (1.0 - y * y), "out", np.tanh),
    _Unary("sigmoid", "float", lambda g, x, y: g * y * (1.0 - y), "out", _sigmoid_ref,
           doc="1 / (1 + e**-x), stable for large |x|"),
    _Unary("relu", "numeric", lambda g, x, y: g * (x > 0), "x", lambda x: np.maximum(x, 0),
           doc="max(x, 0)"),
    _Unary("sign", "numeric", _zero_grad, "", np.sign, doc="-1, 0 or 1 (NaN stays NaN)"),
    _Unary("floor", "numeric", _zero_grad, "", np.floor),
    _Unary("ceil", "numeric", _zero_grad, "", np.ceil),
    _Unary("round", "numeric", _zero_grad, "", np.round, doc="to nearest, ties to even"),
    _Unary("reciprocal", "float", lambda g, x, y: -g * y * y, "out", np.reciprocal,
           (0.2, 3.0), "1 / x"),
    _Unary("erf", "float", lambda g, x, y: g * (-x * x).exp() * _TWO_OVER_SQRT_PI, "x",
           np.vectorize(math.erf, otypes=[np.float64]), doc="the error function (for GELU)"),
    _Unary("logical_not", "logical", None, "", np.logical_not),
    _Unary("isnan", "predicate", None, "", np.isnan),
    _Unary("isinf", "predicate", None, "", np.isinf),
    _Unary("isfinite", "predicate", None, "", np.isfinite),
]  # fmt: skip


def _unary_op(spec: _Unary) -> Callable[[Tensor], Tensor]:
    name, rule, grad_rule, kinds = spec.name, spec.rule, spec.grad, _KINDS[spec.rule]

    def op(x: Tensor) -> Tensor:
        x = check_tensor(name, x)
        dtype = x.dtype
        if dtype.kind not in kinds:
            raise TypeError(f"{name}(): not defined for {dtype.name} tensors")
        if rule == "float" and dtype.kind != "float":
            dtype = DEFAULT_FLOAT
            x = x.astype(dtype)
        elif rule == "logical" and dtype is not bool_:
            x = x.astype(bool_)
        out_dtype = bool_ if rule in ("predicate", "logical") else dtype
        out = Tensor._empty(x._storage.backend, x.shape, out_dtype)
        x._storage.backend.map(name, out._d, x._d)
        if grad_rule is not None and autograd.needs_grad(x):
            saved_out = out.detach()
            saved = (x,) if spec.saves == "x" else (saved_out,) if spec.saves == "out" else ()

            def backward(g: Tensor) -> tuple:
                # building a higher-order graph (create_graph): the output must stay
                # differentiable in x, so recompute it rather than use the detached copy
                y = op(x) if autograd.is_grad_enabled() and spec.saves == "out" else saved_out
                return (grad_rule(g, x, y),)

            autograd.record(out, name, (x,), backward, saved)
        return out

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _unary_doc(spec)
    return op


def _unary_doc(spec: _Unary) -> str:
    what = spec.doc or spec.name
    sample = "[0.5, 1.0]" if spec.rule in ("float", "numeric") else "[1.0, nan]"
    return (
        f"Elementwise {what}.\n\n"
        f">>> import mytensor as mt\n"
        f">>> mt.{spec.name}(mt.tensor({sample})).shape\n(2,)\n"
    ).replace("nan]", "float('nan')]")


@dataclass(frozen=True)
class _Binary:
    name: str
    rule: str  # "arith", "true_div", "compare", "logical"
    grad: Callable[[Tensor, Tensor, Tensor, Tensor], tuple] | None  # (g, a, b, out)
    saves: str  # "ab", "abo", ""
    ref: Callable[[np.ndarray, np.ndarray], np.ndarray]
    symbol: str = ""
    domain: tuple[float, float] = (-3.0, 3.0)
    exclude_zero: bool = False


def _pow_grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple:
    grad_a = g * where(b == 0, 0.0, b * a ** (b - 1.0))
    grad_b = g * where((a == 0) & (b >= 0), 0.0, out * a.log())
    return grad_a, grad_b


def _extremum_grad(pick: str) -> Callable:
    def grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple:
        wins = (a > b) if pick == "max" else (a < b)
        share_a = where(a == b, 0.5, wins.astype(g.dtype))
        return g * share_a, g * (1.0 - share_a)

    return grad


BINARY = [
    _Binary("add", "arith", lambda g, a, b, y: (g, g), "", np.add, "+"),
    _Binary("sub", "arith", lambda g, a, b, y: (g, -g), "", np.subtract, "-"),
    _Binary("mul", "arith", lambda g, a, b, y: (g * b, g * a), "ab", np.multiply, "*"),
    _Binary("div", "true_div", lambda g, a, b, y: (g / b, -g * y / b), "abo", np.true_divide,
            "/", exclude_zero=True),
    _Binary("floor_divide", "arith", None, "", np.floor_divide, "//", exclude_zero=True),
    _Binary("remainder", "arith", lambda g, a, b, y: (g, -g * (a // b)), "ab", np.remainder,
            "%", exclude_zero=True),
    _Binary("pow", "arith", _pow_grad, "abo", np.power, "**", domain=(0.2, 2.0)),
    _Binary("maximum", "arith", _extremum_grad("max"), "ab", np.maximum),
    _Binary("minimum", "arith", _extremum_grad("min"), "ab", np.minimum),
    _Binary("lt", "compare", None, "", np.less, "<"),
    _Binary("le", "compare", None, "", np.less_equal, "<="),
    _Binary("eq", "compare", None, "", np.equal, "=="),
    _Binary("ne", "compare", None, "", np.not_equal, "!="),
    _Binary("gt", "compare", None, "", np.greater, ">"),
    _Binary("ge", "compare", None, "", np.greater_equal, ">="),
    _Binary("logical_and", "logical", None, "", np.logical_and, "&"),
    _Binary("logical_or", "logical", None, "", np.logical_or, "|"),
    _Binary("logical_xor", "logical", None, "", np.logical_xor, "^"),
]  # fmt: skip


def _binary_op(spec: _Binary) -> Callable[[Any, Any], Tensor]:
    name, rule, grad_rule = spec.name, spec.rule, spec.grad
    saves_out = spec.saves == "abo"

    def op(a: Tensor | float, b: Tensor | float) -> Tensor:
        if (
            isinstance(a, Tensor)
            and isinstance(b, Tensor)
            and a.dtype is b.dtype
            and a._storage.backend is b._storage.backend
        ):
            dtype = a.dtype  # the common case, without the general promotion's calls
        else:
            a, b, dtype = promote_operands(name, a, b)
        if rule == "logical":
            a, b, dtype = cast(a, bool_), cast(b, bool_), bool_
        elif dtype is bool_ and rule != "compare":
            raise TypeError(
                f"{name}(): not defined for two bool tensors; use logical_and/logical_or, "
                "or convert with .astype(mytensor.int64)"
            )
        elif rule == "true_div" and dtype.kind != "float":
            a, b, dtype = a.astype(DEFAULT_FLOAT), b.astype(DEFAULT_FLOAT), DEFAULT_FLOAT
        backend = a._storage.backend
        if a.shape == b.shape:
            shape = a.shape
            out = Tensor._empty(backend, shape, bool_ if rule == "compare" else dtype)
            backend.zip(name, out._d, a._d, b._d)
        else:
            shape = broadcast_shapes(name, a.shape, b.shape)
            out = Tensor._empty(backend, shape, bool_ if rule == "compare" else dtype)
            backend.zip(name, out._d, expanded(a, shape), expanded(b, shape))
        if grad_rule is not None and GRAD_MODE.enabled and (a.requires_grad or b.requires_grad):
            y = out.detach() if saves_out else None

            def backward(g: Tensor) -> tuple:
                # under create_graph, recompute the output so it stays differentiable
                y_now = op(a, b) if saves_out and autograd.is_grad_enabled() else y
                grad_a, grad_b = grad_rule(g, a, b, y_now)
                return (
                    unbroadcast(grad_a, a.shape) if a.requires_grad else None,
                    unbroadcast(grad_b, b.shape) if b.requires_grad else None,
                )

            saved = {"": (), "ab": (a, b), "abo": (a, b, y)}[spec.saves]
            autograd.record(out, name, (a, b), backward, saved)
        return out

    op.__name__ = op.__qualname__ = name
    verb = f"`a {spec.symbol} b`" if spec.symbol else f"{name}(a, b)"
    op.__doc__ = (
        f"Elementwise {verb}, broadcasting by numpy's rules; scalars are weakly typed.\n\n"
        f">>> import mytensor as mt\n>>> mt.{name}(mt.tensor([1.0, 4.0]), 2.0).shape\n(2,)\n"
    )
    return op


def where(condition: Tensor, a: Tensor | float, b: Tensor | float) -> Tensor:
    """Elementwise `a if condition else b`, broadcasting all three.

    >>> import mytensor as mt
    >>> x = mt.tensor([-1.0, 2.0])
    >>> mt.where(x > 0, x, 0.0).tolist()
    [0.0, 2.0]
    """
    condition = check_tensor("where", condition, "condition")
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


def astype(x: Tensor, dtype: Any) -> Tensor:
    """A copy of `x` converted to `dtype` (float to int truncates toward zero).

    >>> import mytensor as mt
    >>> mt.astype(mt.tensor([1.7, -1.7]), mt.int64).tolist()
    [1, -1]
    """
    x = check_tensor("astype", x)
    dtype = to_dtype(dtype)
    backend = x._storage.backend
    out = Tensor._empty(backend, x.shape, dtype)
    backend.copy(out._d, x._d)
    if dtype.kind == "float" and autograd.needs_grad(x):
        autograd.record(out, "astype", (x,), lambda g: (g.astype(x.dtype),))
    return out


def clip(x: Tensor, min: Tensor | float | None = None, max: Tensor | float | None = None) -> Tensor:
    """Limit `x` to [min, max]; the gradient passes where min <= x <= max. NaN stays NaN.

    >>> import mytensor as mt
    >>> mt.clip(mt.tensor([-2.0, 0.5, 3.0]), -1.0, 1.0).tolist()
    [-1.0, 0.5, 1.0]
    """
    x = check_tensor("clip", x)
    out = x
    if min is not None:
        out = where(out < min, _like(min, out), out)
    if max is not None:
        out = where(out > max, _like(max, out), out)
    return out if out is not x else x.clone()


def _like(bound: Tensor | float, x: Tensor) -> Tensor | float:
    return bound.astype(x.dtype) if isinstance(bound, Tensor) else bound


UNARY_OPS = {spec.name: _unary_op(spec) for spec in UNARY}
BINARY_OPS = {spec.name: _binary_op(spec) for spec in BINARY}

for _spec in UNARY:
    register(
        OpRecord(
            name=_spec.name,
            func=UNARY_OPS[_spec.name],
            ref=_spec.ref,
            dtypes=FLOAT_DTYPES
            if _spec.rule == "float"
            else (NUMERIC_DTYPES if _spec.rule == "numeric" else ALL_DTYPES),
            domain=_spec.domain,
            grad=_spec.grad is not None and _spec.grad is not _zero_grad,
        )
    )
for _spec in BINARY:
    register(
        OpRecord(
            name=_spec.name,
            func=BINARY_OPS[_spec.name],
            ref=_spec.ref,
            arity=2,
            dtypes=ALL_DTYPES if _spec.rule in ("compare", "logical") else NUMERIC_DTYPES,
            domain=_spec.domain,
            grad=_spec.grad is not None,
            shapes="broadcast",
            exclude_zero=_spec.exclude_zero,
        )
    )
register(OpRecord("where", where, lambda c, a, b: np.where(c, a, b), arity=3, shapes="where"))
register(OpRecord("astype", astype, None, shapes="custom"))
register(OpRecord("clip", clip, lambda x, min=None, max=None: np.clip(x, min, max),
                  variants=lambda shapes: [{"min": -1.0, "max": 1.5}, {"min": 0.5}]))  # fmt: skip
