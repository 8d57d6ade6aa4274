"""PyTorch's random functions and in-place random fills, all drawn from the backend's
seeded ``random`` primitive (uniform or normal samples), so `mytensor.manual_seed`
makes every one of them reproducible on every backend.

The discrete samplers are composed from uniform samples: `randperm` sorts random keys,
`multinomial` without replacement races exponential clocks (the first `k` to ring,
each at rate ``weight``, are a weighted sample without replacement), and with
replacement searches the cumulative weights. Samples carry no gradient; `normal` and
`bernoulli` give their tensor arguments a zero gradient, as PyTorch does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mytensor.core import autograd, creation
from mytensor.core.batching import batchable, batched_random_rule, register_rule
from mytensor.core.dtypes import DType, default_float, float64, int64, promote_types, to_dtype
from mytensor.core.generator import Generator
from mytensor.core.layout import broadcast_shapes
from mytensor.core.ops._base import check_tensor, is_scalar
from mytensor.core.tensor import Tensor

__all__ = [
    "bernoulli", "bernoulli_", "exponential_", "logspace", "multinomial", "normal",
    "normal_", "rand_like", "randint_like", "randn_like", "random_", "randperm", "uniform_",
]  # fmt: skip


def _samples(op: str, distribution: str, shape: tuple[int, ...], dtype: DType,
             backend: str | None, generator: Generator | None = None) -> Tensor:  # fmt: skip
    return creation._random(op, distribution, shape, dtype, backend, False, generator)


def _zero_gradient(out: Tensor, name: str, *args: Any) -> Tensor:
    """Record `out` as constant in its tensor arguments (their gradient is 0)."""
    inputs = tuple(a for a in args if isinstance(a, Tensor))
    if autograd.needs_grad(*inputs):
        autograd.record(out, name, inputs, lambda g: tuple(creation.zeros_like(t) for t in inputs))
    return out


# -- new tensors --------------------------------------------------------------------------
def randperm(n: int, *, generator: Generator | None = None, dtype: Any = int64,
             device: Any = None, backend: str | None = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A random permutation of ``0 .. n-1`` (int64 unless `dtype` says otherwise).

    >>> import mytensor as mt
    >>> sorted(mt.randperm(5).tolist())
    [0, 1, 2, 3, 4]
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"randperm(): n must be a non-negative int, got {n!r}")
    name = creation._backend("randperm", device, backend)
    keys = _samples("randperm", "uniform", (int(n),), float64, name, generator)
    from mytensor.core.ops.sorting import argsort

    order = argsort(keys).astype(to_dtype(dtype))
    return creation._finish(order, requires_grad)


def _like(op: str, distribution: str, input: Tensor, generator: Generator | None, dtype: Any,
          device: Any, requires_grad: bool) -> Tensor:  # fmt: skip
    input = check_tensor(op, input)
    target = to_dtype(dtype) if dtype is not None else input.dtype
    name = creation._backend(op, device, None) or input.backend
    return creation._random(op, distribution, input.shape, target, name, requires_grad,
                            generator)  # fmt: skip


def rand_like(input: Tensor, *, generator: Generator | None = None, dtype: Any = None,
              device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Uniform samples from [0, 1) with the shape, (float) dtype and backend of `input`.

    >>> import mytensor as mt
    >>> mt.rand_like(mt.zeros(2, 3, dtype=mt.float64)).dtype
    mytensor.float64
    """
    return _like("rand_like", "uniform", input, generator, dtype, device, requires_grad)


def randn_like(input: Tensor, *, generator: Generator | None = None, dtype: Any = None,
               device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Standard normal samples with the shape, (float) dtype and backend of `input`.

    >>> import mytensor as mt
    >>> mt.randn_like(mt.zeros(2, 3)).shape
    (2, 3)
    """
    return _like("randn_like", "normal", input, generator, dtype, device, requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *,
                 generator: Generator | None = None, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Uniform integers in [low, high) with the shape, dtype and backend of `input`;
    ``randint_like(input, high)`` draws from [0, high).

    >>> import mytensor as mt
    >>> x = mt.randint_like(mt.zeros(4, dtype=mt.int32), 3, 6)
    >>> x.dtype, bool(((x >= 3) & (x < 6)).all())
    (mytensor.int32, True)
    """
    input = check_tensor("randint_like", input)
    if high is None:
        low, high = 0, low
    target = to_dtype(dtype) if dtype is not None else input.dtype
    name = creation._backend("randint_like", device, None) or input.backend
    out = creation.randint(low, high, input.shape, generator=generator, dtype=target,
                           backend=name)  # fmt: skip
    return creation._finish(out, requires_grad)


@batchable("normal")
def normal(mean: Tensor | float, std: Tensor | float = 1.0, size: Sequence[int] | None = None,
           *, generator: Generator | None = None, dtype: Any = None, device: Any = None,
           backend: str | None = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Normal samples with the given `mean` and standard deviation `std`: tensors (which
    broadcast; the result takes their float dtype and backend), or two numbers and a
    `size` (float32 unless `dtype` says otherwise).

    >>> import mytensor as mt
    >>> mt.normal(mt.zeros(3), 1.0).shape, mt.normal(2.0, 0.5, size=(2, 2)).shape
    ((3,), (2, 2))
    """
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    for name, value in (("mean", mean), ("std", std)):
        if not isinstance(value, Tensor) and not is_scalar(value):
            raise TypeError(f"normal(): {name} must be a Tensor or a number, got {value!r}")
    if not tensors:
        if size is None:
            raise TypeError("normal(): with a number for both mean and std, pass size=")
        if std < 0:
            raise ValueError(f"normal(): std must be >= 0, got {std}")
        where = creation._backend("normal", device, backend)
        dtype = to_dtype(dtype or default_float())
        z = _samples("normal", "normal", tuple(size), dtype, where, generator)
        return creation._finish(z * std + mean, requires_grad)
    if size is not None:
        raise TypeError(
            "normal(): size= is only for a number mean and std; the tensors set the shape"
        )
    for t in tensors:
        if t.dtype.kind != "float":
            raise TypeError(
                f"normal(): mean and std must be floating-point tensors, got {t.dtype.name}"
            )
    if isinstance(std, Tensor) and bool((std < 0).any()):
        raise ValueError("normal(): every element of std must be >= 0")
    if not isinstance(std, Tensor) and std < 0:
        raise ValueError(f"normal(): std must be >= 0, got {std}")
    shape = broadcast_shapes("normal", *(t.shape for t in tensors))
    dtype_out = tensors[0].dtype
    if len(tensors) == 2:
        dtype_out = promote_types(tensors[0].dtype, tensors[1].dtype)
    z = _samples("normal", "normal", shape, dtype_out, tensors[0].backend, generator)
    with autograd.no_grad():
        out = (z * std + mean).astype(dtype_out, copy=False)
    return _zero_gradient(out, "normal", mean, std)


@batchable("bernoulli")
def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:  # fmt: skip
    """0/1 samples, 1 with probability ``input`` elementwise (or `p` everywhere when
    given), in `input`'s shape and dtype.

    >>> import mytensor as mt
    >>> mt.bernoulli(mt.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    input = check_tensor("bernoulli", input)
    if input.dtype.kind != "float":
        raise TypeError(
            f"bernoulli(): input must hold floating-point probabilities, got {input.dtype.name}"
        )
    probabilities = input if p is None else p
    _check_probability("bernoulli", probabilities)
    uniform = _samples("bernoulli", "uniform", input.shape, float64, input.backend, generator)
    with autograd.no_grad():
        out = (uniform < probabilities).astype(input.dtype)
    return _zero_gradient(out, "bernoulli", input)


def _check_probability(op: str, p: Tensor | float) -> None:
    if isinstance(p, Tensor):
        bad = bool(((p < 0) | (p > 1) | p.isnan()).any()) if p.dtype.kind == "float" else \
            bool(((p < 0) | (p > 1)).any())  # fmt: skip
    elif is_scalar(p):
        bad = not 0 <= p <= 1
    else:
        raise TypeError(f"{op}(): p must be a Tensor or a number, got {type(p).__name__}")
    if bad:
        raise ValueError(f"{op}(): probabilities must be in [0, 1]")


@batchable("multinomial")
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:  # fmt: skip
    """`num_samples` category indices (int64) drawn from each row of non-negative
    weights `input` (1-d, or 2-d with one distribution per row; weights need not sum
    to 1). Without `replacement` each index appears at most once.

    >>> import mytensor as mt
    >>> sorted(mt.multinomial(mt.tensor([1.0, 2.0, 3.0]), 3).tolist())
    [0, 1, 2]
    """
    input = check_tensor("multinomial", input)
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial(): input must be 1-d or 2-d, got shape {input.shape}")
    if input.dtype.kind != "float":
        raise TypeError(f"multinomial(): input must be floating-point, got {input.dtype.name}")
    n = input.shape[-1]
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
        raise ValueError(f"multinomial(): num_samples must be a positive int, got {num_samples!r}")
    if not replacement and num_samples > n:
        raise ValueError(
            f"multinomial(): cannot draw {num_samples} samples from {n} categories without "
            "replacement; pass replacement=True or draw fewer"
        )
    weights = input.detach().reshape(-1, n).astype(float64)
    if n == 0 or bool(((weights < 0) | ~weights.isfinite()).any()):
        raise ValueError("multinomial(): the weights must be finite and >= 0 (and not empty)")
    totals = weights.sum(-1, keepdim=True)
    if bool((totals <= 0).any()):
        raise ValueError("multinomial(): every row of weights needs a positive sum")
    draw = _with_replacement if replacement else _without_replacement
    out = draw(weights, totals, num_samples, generator)
    return out.reshape(num_samples) if input.ndim == 1 else out


def _without_replacement(weights: Tensor, totals: Tensor, k: int,
                         generator: Generator | None) -> Tensor:  # fmt: skip
    rows, n = weights.shape
    uniform = _samples("multinomial", "uniform", (rows, n), float64, weights.backend, generator)
    clocks = -(1.0 - uniform).log()  # exponential(1) times; divided by rates below
    from mytensor.core.ops.elementwise import where
    from mytensor.core.ops.sorting import argsort

    rung = where(weights > 0, clocks / where(weights > 0, weights, 1.0), math.inf)
    return argsort(rung, axis=-1)[:, :k]


def _with_replacement(weights: Tensor, totals: Tensor, k: int,
                      generator: Generator | None) -> Tensor:  # fmt: skip
    from mytensor.core.ops.cumulative import cumulative_sum
    from mytensor.core.ops.selection import searchsorted

    rows, n = weights.shape
    cdf = cumulative_sum(weights, axis=-1)
    cdf = cdf / cdf[:, -1:]  # each row ends at exactly 1
    offsets = creation.arange(rows, dtype=float64, backend=weights.backend).reshape(rows, 1)
    # row r lives in [r, r + 1]: one sorted sequence for every row, searched once
    uniform = _samples("multinomial", "uniform", (rows, k), float64, weights.backend, generator)
    flat = searchsorted((cdf + offsets).reshape(-1), uniform + offsets, side="right")
    index = flat - creation.arange(rows, backend=weights.backend).reshape(rows, 1) * n
    return index.clip(0, n - 1)


def _batch_multinomial(b, input, num_samples, replacement=False, **kwargs):
    """vmap: the rows of every sample drawn at once (the batch folded into the rows)."""
    out = _multinomial_rule(b, input.reshape(-1, input.shape[-1]), num_samples, replacement,
                            **kwargs)  # fmt: skip
    return out.reshape(*input.shape[:-1], num_samples)


_multinomial_rule = batched_random_rule("multinomial")
register_rule("normal", batched_random_rule("normal"))
register_rule("bernoulli", batched_random_rule("bernoulli"))
register_rule("multinomial", _batch_multinomial)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, backend: str | None = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """`steps` values from ``base ** start`` to ``base ** end``, evenly spaced in the
    exponent (float32 unless `dtype` says otherwise).

    >>> import mytensor as mt
    >>> mt.logspace(0, 2, 3).tolist()
    [1.0, 10.0, 100.0]
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"logspace(): steps must be a non-negative int, got {steps!r}")
    values = np.power(float(base), np.linspace(float(start), float(end), steps))
    name = creation._backend("logspace", device, backend)
    target = to_dtype(dtype) if dtype is not None else default_float()
    from mytensor.core.registry import get_backend

    out = creation._from_numpy(values, target, get_backend(name))
    return creation._finish(out, requires_grad)


# -- in-place fills -----------------------------------------------------------------------
def _fill(t: Tensor, name: str, make: Any) -> Tensor:
    """Write ``make()`` into `t` through the guarded in-place path."""
    from mytensor.core.ops.methods import run_inplace

    return run_inplace(t, name, lambda source: make())


def _float_target(op: str, t: Tensor) -> None:
    if t.dtype.kind != "float":
        raise TypeError(
            f"{op}(): expected a floating-point tensor, got {t.dtype.name}; use random_ for "
            "integers"
        )


def uniform_(t: Tensor, from_: float = 0.0, to: float = 1.0, *,
             generator: Generator | None = None) -> Tensor:  # fmt: skip
    """Fill `t` in place with uniform samples from [from_, to) (the method ``uniform_``).

    >>> import mytensor as mt
    >>> from mytensor.core.ops import sampling
    >>> x = sampling.uniform_(mt.empty(50), 1.0, 2.0)
    >>> bool(((x >= 1) & (x < 2)).all())
    True
    """
    t = check_tensor("uniform_", t)
    _float_target("uniform_", t)
    if not from_ <= to:
        raise ValueError(f"uniform_(): expected from <= to, got from={from_} > to={to}")
    span = to - from_
    return _fill(t, "uniform_", lambda: _samples("uniform_", "uniform", t.shape, t.dtype,
                                                 t.backend, generator) * span + from_)  # fmt: skip


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:  # fmt: skip
    """Fill `t` in place with normal samples of the given mean and standard deviation.

    >>> import mytensor as mt
    >>> from mytensor.core.ops import sampling
    >>> sampling.normal_(mt.empty(4), 5.0, 0.0).tolist()
    [5.0, 5.0, 5.0, 5.0]
    """
    t = check_tensor("normal_", t)
    _float_target("normal_", t)
    if not std >= 0:
        raise ValueError(f"normal_(): std must be >= 0, got {std}")
    return _fill(t, "normal_", lambda: _samples("normal_", "normal", t.shape, t.dtype,
                                                t.backend, generator) * std + mean)  # fmt: skip


def bernoulli_(t: Tensor, p: float | Tensor = 0.5, *,
               generator: Generator | None = None) -> Tensor:  # fmt: skip
    """Fill `t` in place with 0/1 samples, 1 with probability `p` (a number, or a
    tensor broadcasting to `t`).

    >>> import mytensor as mt
    >>> from mytensor.core.ops import sampling
    >>> sampling.bernoulli_(mt.empty(2, 2), mt.tensor([1.0, 0.0])).tolist()
    [[1.0, 0.0], [1.0, 0.0]]
    """
    t = check_tensor("bernoulli_", t)
    _check_probability("bernoulli_", p)
    if isinstance(p, Tensor):
        broadcast_shapes("bernoulli_", p.shape, t.shape)

    def make() -> Tensor:
        uniform = _samples("bernoulli_", "uniform", t.shape, float64, t.backend, generator)
        return (uniform < p).astype(t.dtype)

    return _fill(t, "bernoulli_", make)


def exponential_(t: Tensor, lambd: float = 1.0, *,
                 generator: Generator | None = None) -> Tensor:  # fmt: skip
    """Fill `t` in place with exponential samples of rate `lambd` (mean ``1 / lambd``).

    >>> import mytensor as mt
    >>> from mytensor.core.ops import sampling
    >>> bool((sampling.exponential_(mt.empty(20), 3.0) >= 0).all())
    True
    """
    t = check_tensor("exponential_", t)
    _float_target("exponential_", t)
    if not lambd > 0:
        raise ValueError(f"exponential_(): lambd must be > 0, got {lambd}")

    def make() -> Tensor:
        uniform = _samples("exponential_", "uniform", t.shape, float64, t.backend, generator)
        return (-(1.0 - uniform).log() / lambd).astype(t.dtype)

    return _fill(t, "exponential_", make)


def random_(t: Tensor, from_: int | None = None, to: int | None = None, *,
            generator: Generator | None = None) -> Tensor:  # fmt: skip
    """Fill `t` in place with integers drawn uniformly from [from_, to); ``random_(n)``
    draws from [0, n), and no bounds from [0, the largest integer the dtype holds
    exactly] (floats: ``2 ** mantissa``).

    >>> import mytensor as mt
    >>> from mytensor.core.ops import sampling
    >>> sorted(set(sampling.random_(mt.empty(100, dtype=mt.int32), 2, 4).tolist()))
    [2, 3]
    """
    t = check_tensor("random_", t)
    if to is None and from_ is not None:
        from_, to = 0, from_
    low = 0 if from_ is None else int(from_)
    high = _dtype_limit(t.dtype) if to is None else int(to)
    if not low < high:
        raise ValueError(f"random_(): expected from < to, got from={low} >= to={high}")

    def make() -> Tensor:
        uniform = _samples("random_", "uniform", t.shape, float64, t.backend, generator)
        return ((uniform * (high - low)).floor() + low).astype(t.dtype)

    return _fill(t, "random_", make)


def _dtype_limit(dtype: DType) -> int:
    """One past the largest value `random_` draws without bounds."""
    if dtype.kind == "bool":
        return 2
    if dtype.kind == "float":
        return 2 ** (np.finfo(dtype.numpy).nmant + 1) + 1
    return int(np.iinfo(dtype.name).max) + 1
