"""Backward rules for complex inputs, in PyTorch's convention: the gradient held for a
complex z is dL/dRe(z) + i dL/dIm(z) (the real loss L's conjugate Wirtinger derivative,
doubled). For w = f(z) that gives ``g * conj(df/dz) + conj(g) * df/dconj(z)``: for a
holomorphic f the second term vanishes, so the rule is ``g * conj(f'(z))``.

The rules are written with mytensor ops (so they run on every backend and differentiate
again) and are picked only when an op's input is complex: the real rules in
`core.primitives.elementwise` stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from mytensor.core.dtypes import DType
from mytensor.core.tensor import Tensor

__all__ = [
    "as_complex_grad", "cast_grad", "complex_div_grad", "complex_mul_grad",
    "complex_pow_grad", "conj_grad", "holomorphic", "imag_grad", "real_grad", "sgn_grad",
]  # fmt: skip

UnaryRule = Callable[[Tensor, Tensor, Tensor], Tensor]


def _conj(x: Tensor) -> Tensor:
    from mytensor.core.ops.elementwise import UNARY_OPS

    return UNARY_OPS["conj"](x)


def _where(condition: Tensor, a: Tensor | float, b: Tensor | float) -> Tensor:
    from mytensor.core.ops.elementwise import where

    return where(condition, a, b)


def holomorphic(rule: UnaryRule) -> UnaryRule:
    """The complex form of a real rule ``g * f'(x)`` for a holomorphic f: ``g * conj(f'(z))``,
    computed as ``conj(rule(conj(g), z, y))`` so that f' is evaluated exactly as the real
    rule writes it (branch cuts included).

    >>> import mytensor as mt
    >>> rule = holomorphic(lambda g, x, y: g * y)  # exp's
    >>> z = mt.tensor([1j])
    >>> rule(mt.tensor([1 + 0j]), z, mt.exp(z)).tolist() == [complex(mt.exp(-z).item())]
    True
    """

    def grad(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
        return _conj(rule(_conj(g), x, y))

    return grad


def as_complex_grad(g: Tensor, x: Tensor) -> Tensor:
    """A real gradient as the complex gradient of `x` (no imaginary part).

    >>> import mytensor as mt
    >>> as_complex_grad(mt.tensor([2.0]), mt.tensor([1j])).tolist()
    [(2+0j)]
    """
    return g if g.dtype is x.dtype else g.astype(x.dtype)


def real_grad(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """``real(z)``: the real gradient g becomes g + 0i.

    >>> import mytensor as mt
    >>> real_grad(mt.tensor([2.0]), mt.tensor([1j]), mt.tensor([0.0])).tolist()
    [(2+0j)]
    """
    return as_complex_grad(g, x)


def imag_grad(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """``imag(z)``: the real gradient g becomes 0 + ig.

    >>> import mytensor as mt
    >>> imag_grad(mt.tensor([2.0]), mt.tensor([1j]), mt.tensor([1.0])).tolist()
    [2j]
    """
    return as_complex_grad(g, x) * 1j


def conj_grad(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """``conj(z)``: conj(g).

    >>> import mytensor as mt
    >>> conj_grad(mt.tensor([1 + 2j]), mt.tensor([1j]), mt.tensor([-1j])).tolist()
    [(1-2j)]
    """
    return _conj(g)


def sgn_grad(g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """``sign(z) = z / |z|`` (PyTorch's sgn) is not holomorphic: its gradient is
    ``(g - s**2 * conj(g)) / (2 |z|)`` with s = sign(z), and 0 at z = 0.

    >>> import mytensor as mt
    >>> sgn_grad(mt.tensor([1j]), mt.tensor([2 + 0j]), mt.tensor([1 + 0j])).tolist()
    [0.5j]
    """
    size, s = x.abs(), x.sign()
    at_zero = size == 0
    safe_size = _where(at_zero, 1.0, size)
    return _where(at_zero, 0.0, (g - s * s * _conj(g)) / (safe_size * 2.0))


def complex_mul_grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple[Tensor, Tensor]:
    """``a * b``: g * conj(b) and g * conj(a).

    >>> import mytensor as mt
    >>> [t.tolist() for t in complex_mul_grad(mt.tensor([1 + 0j]), mt.tensor([1j]),
    ...                                       mt.tensor([2 + 0j]), mt.tensor([2j]))]
    [[(2+0j)], [-1j]]
    """
    return g * _conj(b), g * _conj(a)


def complex_div_grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple[Tensor, Tensor]:
    """``a / b``: g / conj(b) and -g * conj(out / b).

    >>> import mytensor as mt
    >>> grads = complex_div_grad(mt.tensor([1 + 0j]), mt.tensor([2 + 0j]), mt.tensor([1j]),
    ...                          mt.tensor([-2j]))
    >>> [t.tolist() for t in grads] == [[1j], [2]]
    True
    """
    grad_a = g / _conj(b)
    return grad_a, -grad_a * _conj(out)


def complex_pow_grad(g: Tensor, a: Tensor, b: Tensor, out: Tensor) -> tuple[Tensor, Tensor]:
    """``a ** b``: g * conj(b * a ** (b - 1)) (0 where b is 0) and g * conj(out * log(a))
    (0 where a is 0 and b is real and >= 0, as in PyTorch: 0 ** b has no derivative in b).

    >>> import mytensor as mt
    >>> grads = complex_pow_grad(mt.tensor([1 + 0j]), mt.tensor([1 + 0j]), mt.tensor([2j]),
    ...                          mt.tensor([1 + 0j]))
    >>> [t.tolist() for t in grads] == [[-2j], [0]]
    True
    """
    from mytensor.core.ops.elementwise import UNARY_OPS

    grad_a = g * _conj(_where(b == 0, 0.0, b * a ** (b - 1.0)))
    real_b, imag_b = UNARY_OPS["real"](b), UNARY_OPS["imag"](b)
    flat = (a == 0) & (imag_b == 0) & (real_b >= 0)
    grad_b = g * _conj(_where(flat, 0.0, out * a.log()))
    return grad_a, grad_b


def cast_grad(g: Tensor, dtype: DType) -> Tensor:
    """The gradient of a cast to a complex dtype, as the input's (of `dtype`): a real
    input takes the real part.

    >>> import mytensor as mt
    >>> cast_grad(mt.tensor([1 + 2j]), mt.float32).tolist()
    [1.0]
    """
    from mytensor.core.ops.elementwise import UNARY_OPS

    if dtype.kind != "complex" and g.dtype.kind == "complex":
        g = UNARY_OPS["real"](g)
    return g if g.dtype is dtype else g.astype(dtype)
