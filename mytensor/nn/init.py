"""Weight initialisation, in place and outside the graph, with PyTorch's formulas.

Every function fills its tensor under `no_grad`, returns it, and draws from the
core's seeded sampler, so `mytensor.manual_seed` makes a model's initial weights
reproducible on every backend.
"""

from __future__ import annotations

import math
import warnings

from mytensor.core.autograd import no_grad
from mytensor.core.creation import rand, randn
from mytensor.core.dtypes import float64
from mytensor.core.ops.elementwise import where
from mytensor.core.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    >>> from mytensor.nn import init
    >>> init.calculate_gain("relu"), init.calculate_gain("tanh")
    (1.4142135623730951, 1.6666666666666667)
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain(): negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain(): unsupported nonlinearity {nonlinearity!r}")


def _fans(t: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out): a weight is (out, in, *kernel)."""
    if t.ndim < 2:
        raise ValueError(
            f"fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions "
            f"(shape {t.shape})"
        )
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fan(t: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t)
    return fan_in if mode == "fan_in" else fan_out


def _fill(t: Tensor, values: Tensor | float) -> Tensor:
    with no_grad():
        t[...] = values
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill `t` with samples from U(a, b).

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> w = init.uniform_(mt.empty(100), -0.5, 0.5)
    >>> bool((w.abs() <= 0.5).all())
    True
    """
    u = rand(*t.shape, dtype=t.dtype, backend=t.backend)
    return _fill(t, u * (b - a) + a)


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill `t` with samples from N(mean, std**2).

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> init.normal_(mt.empty(2, 3), std=0.02).shape
    (2, 3)
    """
    return _fill(t, randn(*t.shape, dtype=t.dtype, backend=t.backend) * std + mean)


def _erfinv(y: Tensor) -> Tensor:
    """Inverse error function of float64 `y` in (-1, 1): Giles' single-precision
    polynomials, polished by two Newton steps on erf."""
    w = -((1.0 - y) * (1.0 + y)).log()
    central, tail = w - 2.5, w.clip(min=5.0).sqrt() - 3.0
    p_central: Tensor | float = 2.81022636e-08
    p_tail: Tensor | float = -0.000200214257
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
              -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
        p_central = p_central * central + c
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
              -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
        p_tail = p_tail * tail + c
    x = where(w < 5.0, p_central, p_tail) * y
    for _ in range(2):
        x = x - (x.erf() - y) / ((-x * x).exp() * (2.0 / math.sqrt(math.pi)))
    return x


def trunc_normal_(
    t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> Tensor:
    """Fill `t` with samples from N(mean, std**2) truncated to [a, b] (by the inverse
    CDF, as PyTorch does; `a` and `b` are absolute bounds, not in units of std).

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> w = init.trunc_normal_(mt.empty(1000), std=0.02, a=-0.04, b=0.04)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    if not std > 0 or not a < b:
        raise ValueError(f"trunc_normal_(): need std > 0 and a < b, got std={std}, a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "trunc_normal_(): mean is more than 2 std from [a, b]; the distribution of "
            "values may be incorrect",
            stacklevel=2,
        )
    # 2 * cdf(bound) - 1, so erfinv of a uniform draw between them is the truncated normal
    lo = math.erf((a - mean) / (std * math.sqrt(2.0)))
    hi = math.erf((b - mean) / (std * math.sqrt(2.0)))
    u = rand(*t.shape, dtype=float64, backend=t.backend) * (hi - lo) + lo
    open_interval = 1.0 - 2.0**-52
    x = _erfinv(u.clip(min=-open_interval, max=open_interval))
    return _fill(t, (x * (std * math.sqrt(2.0)) + mean).clip(min=a, max=b).astype(t.dtype))


def orthogonal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Fill `t` (2 or more dims, read as rows = dim 0 by the rest) with a (semi-)orthogonal
    matrix times `gain`: the Q of the QR decomposition of a normal matrix, signs fixed by
    R's diagonal (PyTorch's method, via `mytensor.linalg.qr`).

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> w = init.orthogonal_(mt.empty(3, 5))
    >>> bool(((w @ w.T - mt.eye(3)).abs() < 1e-5).all())
    True
    """
    from mytensor.linalg import diagonal, qr

    if t.ndim < 2:
        raise ValueError(
            f"orthogonal_(): only tensors with 2 or more dimensions are supported, got shape "
            f"{t.shape}"
        )
    if t.numel() == 0:
        return t
    rows = t.shape[0]
    cols = t.numel() // rows
    flat = randn(rows, cols, dtype=t.dtype, backend=t.backend)
    if rows < cols:
        flat = flat.T
    q, r = qr(flat)
    q = q * diagonal(r).sign()
    if rows < cols:
        q = q.T
    return _fill(t, (q * gain).reshape(t.shape))


def constant_(t: Tensor, val: float) -> Tensor:
    """Fill `t` with `val`.

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> init.constant_(mt.empty(2), 0.5).tolist()
    [0.5, 0.5]
    """
    return _fill(t, val)


def zeros_(t: Tensor) -> Tensor:
    """Fill `t` with zeros.

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> init.zeros_(mt.ones(2)).tolist()
    [0.0, 0.0]
    """
    return _fill(t, 0)


def ones_(t: Tensor) -> Tensor:
    """Fill `t` with ones.

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> init.ones_(mt.zeros(2)).tolist()
    [1.0, 1.0]
    """
    return _fill(t, 1)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> w = init.xavier_uniform_(mt.empty(3, 5))
    >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
    True
    """
    fan_in, fan_out = _fans(t)
    if fan_in + fan_out == 0:
        return t
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> init.xavier_normal_(mt.empty(3, 5)).shape
    (3, 5)
    """
    fan_in, fan_out = _fans(t)
    if fan_in + fan_out == 0:
        return t
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``, gain from `calculate_gain`
    (`a` is the leaky_relu slope; Linear and Conv use a=sqrt(5)).

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> w = init.kaiming_uniform_(mt.empty(4, 6), nonlinearity="relu")
    >>> bool((w.abs() <= 1.0).all())
    True
    """
    if 0 in t.shape:
        return t  # nothing to fill (and no fan to divide by)
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(t, -bound, bound)


def kaiming_normal_(
    t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He normal: N(0, std**2) with ``std = gain / sqrt(fan)``.

    >>> import mytensor as mt
    >>> from mytensor.nn import init
    >>> init.kaiming_normal_(mt.empty(4, 6), mode="fan_out").shape
    (4, 6)
    """
    if 0 in t.shape:
        return t
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode)))


def default_linear_init_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) weights and
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = _fans(weight)[0]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
