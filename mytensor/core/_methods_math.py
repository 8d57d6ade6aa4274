"""The math, linear algebra, comparison and random-fill methods of PyTorch (mm, bmm,
addmm, norm, fmod, allclose, uniform_, normal_, ...), as a mixin of `Tensor`.

The methods are written in the class body so that type checkers, IDEs and `help()`
see them. The op modules import `Tensor`, so each method imports its op module when
called rather than at the top of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mytensor.core.generator import Generator
    from mytensor.core.tensor import Tensor


def _inplace(self: Tensor, name: str, op: Any, *args: Any, **kwargs: Any) -> Tensor:
    from mytensor.core.ops.methods import run_inplace

    return run_inplace(self, name, op, *args, **kwargs)


class MathMethods:
    """Products, norms, PyTorch's pointwise extras and random fills (see the op modules
    `products`, `norms`, `pointwise`, `comparison` and `sampling`)."""

    __slots__ = ()

    # -- products ------------------------------------------------------------------------
    def mm(self: Tensor, mat2: Tensor) -> Tensor:
        """See `mytensor.mm`: the product of two 2-d tensors."""
        from mytensor.core.ops import products

        return products.mm(self, mat2)

    def bmm(self: Tensor, mat2: Tensor) -> Tensor:
        """See `mytensor.bmm`: the batched product of two 3-d tensors."""
        from mytensor.core.ops import products

        return products.bmm(self, mat2)

    def addmm(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
              alpha: float = 1) -> Tensor:  # fmt: skip
        """See `mytensor.addmm`: ``beta * self + alpha * (mat1 @ mat2)``."""
        from mytensor.core.ops import products

        return products.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
               alpha: float = 1) -> Tensor:  # fmt: skip
        """`addmm` in place (the product must have self's shape).

        >>> import mytensor as mt
        >>> mt.zeros(2, 2).addmm_(mt.eye(2), mt.ones(2, 2), beta=0.5).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
        """
        from mytensor.core.ops import products

        return _inplace(self, "addmm_", products.addmm, mat1, mat2, beta=beta, alpha=alpha)

    def outer(self: Tensor, vec2: Tensor) -> Tensor:
        """See `mytensor.outer`."""
        from mytensor.core.ops import products

        return products.outer(self, vec2)

    def ger(self: Tensor, vec2: Tensor) -> Tensor:
        """See `mytensor.outer` (ger is its old name)."""
        from mytensor.core.ops import products

        return products.outer(self, vec2)

    def kron(self: Tensor, other: Tensor) -> Tensor:
        """See `mytensor.kron`."""
        from mytensor.core.ops import products

        return products.kron(self, other)

    def cross(self: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
        """See `mytensor.cross`."""
        from mytensor.core.ops import products

        return products.cross(self, other, dim)

    def trace(self: Tensor) -> Tensor:
        """See `mytensor.trace`: the sum of a 2-d tensor's diagonal."""
        from mytensor.core.ops import products

        return products.trace(self)

    # -- norms -----------------------------------------------------------------------------
    def norm(self: Tensor, p: float | str | None = "fro", dim: int | Sequence[int] | None = None,
             keepdim: bool = False, dtype: Any = None) -> Tensor:  # fmt: skip
        """See `mytensor.norm`.

        >>> import mytensor as mt
        >>> mt.tensor([3.0, 4.0]).norm().item()
        5.0
        """
        from mytensor.core.ops import norms

        return norms.norm(self, p, dim, keepdim, dtype)

    def dist(self: Tensor, other: Tensor, p: float = 2) -> Tensor:
        """See `mytensor.dist`: the p-norm of ``self - other``."""
        from mytensor.core.ops import norms

        return norms.dist(self, other, p)

    # -- pointwise -------------------------------------------------------------------------
    def rsqrt(self: Tensor) -> Tensor:
        """See `mytensor.rsqrt`: ``1 / sqrt(self)``."""
        from mytensor.core.ops import pointwise

        return pointwise.rsqrt(self)

    def rsqrt_(self: Tensor) -> Tensor:
        """`rsqrt` in place."""
        from mytensor.core.ops import pointwise

        return _inplace(self, "rsqrt_", pointwise.rsqrt)

    def fmod(self: Tensor, other: Tensor | float) -> Tensor:
        """See `mytensor.fmod`: the remainder with the sign of self."""
        from mytensor.core.ops import pointwise

        return pointwise.fmod(self, other)

    def fmod_(self: Tensor, other: Tensor | float) -> Tensor:
        """`fmod` in place."""
        from mytensor.core.ops import pointwise

        return _inplace(self, "fmod_", pointwise.fmod, other)

    def clamp_min(self: Tensor, min: Tensor | float) -> Tensor:
        """See `mytensor.clamp_min`."""
        from mytensor.core.ops import pointwise

        return pointwise.clamp_min(self, min)

    def clamp_min_(self: Tensor, min: Tensor | float) -> Tensor:
        """`clamp_min` in place."""
        from mytensor.core.ops import pointwise

        return _inplace(self, "clamp_min_", pointwise.clamp_min, min)

    def clamp_max(self: Tensor, max: Tensor | float) -> Tensor:
        """See `mytensor.clamp_max`."""
        from mytensor.core.ops import pointwise

        return pointwise.clamp_max(self, max)

    def clamp_max_(self: Tensor, max: Tensor | float) -> Tensor:
        """`clamp_max` in place."""
        from mytensor.core.ops import pointwise

        return _inplace(self, "clamp_max_", pointwise.clamp_max, max)

    def lerp(self: Tensor, end: Tensor, weight: Tensor | float) -> Tensor:
        """See `mytensor.lerp`: ``self + weight * (end - self)``."""
        from mytensor.core.ops import pointwise

        return pointwise.lerp(self, end, weight)

    def lerp_(self: Tensor, end: Tensor, weight: Tensor | float) -> Tensor:
        """`lerp` in place (an exponential moving average: ``avg.lerp_(x, 0.1)``)."""
        from mytensor.core.ops import pointwise

        return _inplace(self, "lerp_", pointwise.lerp, end, weight)

    def addcmul(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
        """See `mytensor.addcmul`: ``self + value * tensor1 * tensor2``."""
        from mytensor.core.ops import pointwise

        return pointwise.addcmul(self, tensor1, tensor2, value=value)

    def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
        """`addcmul` in place (an optimizer's second-moment update).

        >>> import mytensor as mt
        >>> mt.ones(2).addcmul_(mt.tensor([1.0, 2.0]), mt.tensor([1.0, 2.0]), value=0.5).tolist()
        [1.5, 3.0]
        """
        from mytensor.core.ops import pointwise

        return _inplace(self, "addcmul_", pointwise.addcmul, tensor1, tensor2, value=value)

    def addcdiv(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
        """See `mytensor.addcdiv`: ``self + value * tensor1 / tensor2``."""
        from mytensor.core.ops import pointwise

        return pointwise.addcdiv(self, tensor1, tensor2, value=value)

    def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
        """`addcdiv` in place (an optimizer's step: ``p.addcdiv_(m, denom, value=-lr)``)."""
        from mytensor.core.ops import pointwise

        return _inplace(self, "addcdiv_", pointwise.addcdiv, tensor1, tensor2, value=value)

    # -- comparison ------------------------------------------------------------------------
    def isclose(self: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:  # fmt: skip
        """See `mytensor.isclose`."""
        from mytensor.core.ops import comparison

        return comparison.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:  # fmt: skip
        """See `mytensor.allclose`: a Python bool."""
        from mytensor.core.ops import comparison

        return comparison.allclose(self, other, rtol, atol, equal_nan)

    def equal(self: Tensor, other: Tensor) -> bool:
        """PyTorch's ``torch.equal``: True if `other` has self's shape and values (a Python
        bool). Unlike the namespace's elementwise `mytensor.equal` (the array API's ``==``).

        >>> import mytensor as mt
        >>> mt.tensor([1, 2]).equal(mt.tensor([1, 2])), mt.tensor([1, 2]).equal(mt.tensor([1]))
        (True, False)
        """
        from mytensor.core.ops import comparison

        return comparison.equal(self, other)

    # -- random ----------------------------------------------------------------------------
    def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *,
                 generator: Generator | None = None) -> Tensor:  # fmt: skip
        """Fill self in place with uniform samples from [from_, to) (PyTorch's
        ``uniform_(from=0, to=1)``; pass the bounds positionally).

        >>> import mytensor as mt
        >>> x = mt.empty(100).uniform_(-2.0, 2.0)
        >>> bool(((x >= -2) & (x < 2)).all())
        True
        """
        from mytensor.core.ops import sampling

        return sampling.uniform_(self, from_, to, generator=generator)

    def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *,
                generator: Generator | None = None) -> Tensor:  # fmt: skip
        """Fill self in place with normal samples of the given mean and standard deviation.

        >>> import mytensor as mt
        >>> mt.empty(2, 3).normal_(0.0, 0.02).shape
        (2, 3)
        """
        from mytensor.core.ops import sampling

        return sampling.normal_(self, mean, std, generator=generator)

    def bernoulli(self: Tensor, p: float | None = None, *,
                  generator: Generator | None = None) -> Tensor:  # fmt: skip
        """See `mytensor.bernoulli`: 0/1 samples with probabilities self (or `p`)."""
        from mytensor.core.ops import sampling

        return sampling.bernoulli(self, p, generator=generator)

    def bernoulli_(self: Tensor, p: float | Tensor = 0.5, *,
                   generator: Generator | None = None) -> Tensor:  # fmt: skip
        """Fill self in place with 0/1 samples, 1 with probability `p`.

        >>> import mytensor as mt
        >>> mt.empty(4).bernoulli_(1.0).tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        from mytensor.core.ops import sampling

        return sampling.bernoulli_(self, p, generator=generator)

    def exponential_(self: Tensor, lambd: float = 1.0, *,
                     generator: Generator | None = None) -> Tensor:  # fmt: skip
        """Fill self in place with exponential samples of rate `lambd`.

        >>> import mytensor as mt
        >>> bool((mt.empty(10).exponential_(2.0) >= 0).all())
        True
        """
        from mytensor.core.ops import sampling

        return sampling.exponential_(self, lambd, generator=generator)

    def random_(self: Tensor, from_: int | None = None, to: int | None = None, *,
                generator: Generator | None = None) -> Tensor:  # fmt: skip
        """Fill self in place with integers uniform in [from_, to); ``random_(n)`` draws
        from [0, n), no bounds from [0, the dtype's largest exact integer].

        >>> import mytensor as mt
        >>> bool((mt.empty(10, dtype=mt.int64).random_(3) < 3).all())
        True
        """
        from mytensor.core.ops import sampling

        return sampling.random_(self, from_, to, generator=generator)

    def multinomial(self: Tensor, num_samples: int, replacement: bool = False, *,
                    generator: Generator | None = None) -> Tensor:  # fmt: skip
        """See `mytensor.multinomial`: category indices drawn from the weights self."""
        from mytensor.core.ops import sampling

        return sampling.multinomial(self, num_samples, replacement, generator=generator)
