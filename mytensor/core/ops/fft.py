"""The discrete Fourier transforms behind `mytensor.fft`: the backend's `fft` primitive
(or its host fallback: numpy.fft) and backward rules written in ops.

Three transforms cover the module: complex-to-complex (``c2c``: fft, ifft, fftn, ...),
real-to-half-spectrum (``r2c``: rfft, rfftn and, conjugated, ihfft) and half-spectrum-to-
real (``c2r``: irfft, irfftn and, conjugated, hfft). The core pads or truncates the input
(``n``/``s``) before the primitive runs, so a backend sees sizes that already fit.

Gradients follow PyTorch's convention for a complex tensor z: the gradient held for z is
dL/dRe(z) + i dL/dIm(z), and a real input's gradient is the real part of what reaches it.
The adjoint of a transform with norm m is the opposite transform with the swapped norm
(``backward`` <-> ``forward``); ``r2c``'s adjoint pads the half spectrum with zeros and
takes the real part of a full inverse; ``c2r``'s is a ``r2c`` whose bins other than the
zero and Nyquist ones count twice (each stands for itself and its mirror image).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

from mytensor.core import autograd
from mytensor.core.dtypes import (
    DType,
    UnsupportedDTypeError,
    check_supported,
    complex64,
    complex128,
    default_float,
    float64,
    real_dtype,
)
from mytensor.core.layout import normalize_dim
from mytensor.core.ops._base import check_tensor
from mytensor.core.ops.elementwise import UNARY_OPS, where
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor

__all__ = [
    "NORMS", "c2c", "c2r", "check_length", "check_norm", "many_axes", "one_axis", "r2c", "swapped",
]  # fmt: skip

NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}
Sizes = list[int | None]


# -- arguments ------------------------------------------------------------------------------
def check_norm(name: str, norm: str | None) -> str:
    """numpy's and PyTorch's norm names; None is "backward"."""
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise ValueError(
            f"{name}(): norm must be 'backward', 'ortho' or 'forward' (or None), got {norm!r}"
        )
    return norm


def swapped(norm: str) -> str:
    """The norm of a transform's adjoint (and of the Hermitian transforms' inner call)."""
    return _SWAPPED[norm]


def check_length(name: str, value: object, what: str, allow_default: bool) -> int | None:
    if value is None or (allow_default and value == -1 and not isinstance(value, bool)):
        return None
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name}(): {what} must be an int, got {type(value).__name__} {value!r}")
    length = operator.index(value)
    if length < 1:
        hint = " (or -1 for the input's length)" if allow_default else ""
        raise ValueError(f"{name}(): {what} must be >= 1{hint}, got {length}")
    return length


def one_axis(name: str, x: Tensor, n: int | None, axis: int) -> tuple[tuple[int, ...], Sizes]:
    """The axis (non-negative) and length of a one-axis transform."""
    x = check_tensor(name, x)
    if x.ndim == 0:
        raise IndexError(f"{name}(): needs a tensor of rank >= 1, got a 0-d tensor")
    return (normalize_dim(name, axis, x.ndim),), [check_length(name, n, "n", False)]


def many_axes(name: str, x: Tensor, s: Sequence[int] | None,
              axes: Sequence[int] | int | None) -> tuple[tuple[int, ...], Sizes]:  # fmt: skip
    """The axes (non-negative, in the given order) and lengths of an n-d transform: all
    axes when both are None, the last ``len(s)`` axes when only `s` is given."""
    x = check_tensor(name, x)
    if isinstance(axes, int):
        axes = (axes,)
    if isinstance(s, int):
        s = (s,)
    if s is not None and not isinstance(s, Sequence):
        raise TypeError(f"{name}(): s must be a sequence of ints or None, got {s!r}")
    if axes is None:
        count = x.ndim if s is None else len(s)
        if count > x.ndim:
            raise ValueError(
                f"{name}(): s={tuple(s or ())} names {count} axes, the input (shape "
                f"{x.shape}) has {x.ndim}"
            )
        axes = tuple(range(x.ndim - count, x.ndim))
    elif not isinstance(axes, Sequence):
        raise TypeError(f"{name}(): axes must be an int, a sequence of ints or None, got {axes!r}")
    axes = tuple(normalize_dim(name, a, x.ndim) for a in axes) if x.ndim else tuple(axes)
    if x.ndim == 0 and axes:
        raise IndexError(f"{name}(): a 0-d tensor has no axes to transform, got axes={axes}")
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}(): axes {axes} repeat an axis; transform each axis once")
    if s is not None and len(s) != len(axes):
        raise ValueError(
            f"{name}(): s and axes must have the same length, got s={tuple(s)} and axes={axes}"
        )
    sizes: Sizes = [None] * len(axes)
    if s is not None:
        sizes = [check_length(name, v, "s", True) for v in s]
    return axes, sizes


def _filled_in(name: str, x: Tensor, axes: tuple[int, ...], sizes: Sizes) -> list[int]:
    filled = [x.shape[a] if n is None else n for a, n in zip(axes, sizes, strict=True)]
    for a, n in zip(axes, filled, strict=True):
        if n < 1:
            raise ValueError(
                f"{name}(): axis {a} of the input (shape {x.shape}) is empty; pass a length "
                "(n= or s=) of at least 1 to zero-pad it"
            )
    return filled


# -- helpers --------------------------------------------------------------------------------
def _complex_of(dtype: DType) -> DType:
    """The complex dtype a transform of `dtype` computes in (integers: the default's)."""
    if dtype.kind == "complex":
        return dtype
    if dtype.kind != "float":
        dtype = default_float()
    return complex128 if dtype is float64 else complex64


def _check_backend(name: str, x: Tensor) -> None:
    """Name the function when the backend holds no complex dtype (the result's or the
    one the transform runs in)."""
    try:
        check_supported(x._storage.backend, _complex_of(x.dtype))
    except UnsupportedDTypeError as exc:
        raise UnsupportedDTypeError(f"{name}(): {exc}") from None


def _as_complex(x: Tensor) -> Tensor:
    """x (graph cut) as a complex tensor: integers via the default float dtype."""
    x = x.detach()
    return x if x.dtype.kind == "complex" else x.astype(_complex_of(x.dtype))


def _resize(x: Tensor, axes: tuple[int, ...], sizes: Sequence[int]) -> Tensor:
    """x truncated, or zero-padded at the end, to `sizes` along `axes`."""
    from mytensor.core.creation import zeros

    for axis, size in zip(axes, sizes, strict=True):
        have = x.shape[axis]
        if size < have:
            x = x[(slice(None),) * axis + (slice(0, size),)]
        elif size > have:
            shape = (*x.shape[:axis], size - have, *x.shape[axis + 1 :])
            x = cat([x, zeros(shape, dtype=x.dtype, backend=x.backend)], dim=axis)
    return x


def _run(op: str, x: Tensor, shape: tuple[int, ...], dtype: DType, axes: tuple[int, ...],
         norm: str) -> Tensor:  # fmt: skip
    backend = x._storage.backend
    out = Tensor._empty(backend, shape, dtype)
    if out.numel():
        backend.fft(op, out._d, x._d, axes, norm)
    return out


def _differentiable(name: str, x: Tensor, out: Tensor,
                    adjoint: Callable[[Tensor], Tensor]) -> Tensor:  # fmt: skip
    """Give `out` a graph node whose backward applies `adjoint` to the gradient and keeps
    the real part for a real input. The gradient of a complex `out` may arrive real or
    complex (`real`'s backward gives a complex one): the transforms take either as it is."""
    if not autograd.needs_grad(x):
        return out

    def backward(g: Tensor) -> tuple:
        if g.dtype.kind == "complex" and out.dtype.kind != "complex":
            g = UNARY_OPS["real"](g)
        grad = adjoint(g)
        if x.dtype.kind != "complex":
            grad = UNARY_OPS["real"](grad) if grad.dtype.kind == "complex" else grad
        return (grad,)

    return autograd.record(out, name, (x,), backward)


def _shape_with(x: Tensor, axes: tuple[int, ...], sizes: Sequence[int]) -> tuple[int, ...]:
    shape = list(x.shape)
    for axis, size in zip(axes, sizes, strict=True):
        shape[axis] = size
    return tuple(shape)


# -- the three transforms -------------------------------------------------------------------
def c2c(name: str, x: Tensor, axes: tuple[int, ...], sizes: Sizes, norm: str,
        inverse: bool) -> Tensor:  # fmt: skip
    """The complex transform (inverse: with the opposite sign and the inverse's norm) of
    x padded or truncated to `sizes` along `axes`."""
    filled = _filled_in(name, x, axes, sizes)
    _check_backend(name, x)
    source = _resize(_as_complex(x), axes, filled)
    if axes:
        out = _run("ifft" if inverse else "fft", source, source.shape, source.dtype, axes, norm)
    else:
        out = source.clone()
    original = [x.shape[a] for a in axes]

    def adjoint(g: Tensor) -> Tensor:
        back = c2c(name, g, axes, list(filled), swapped(norm), not inverse) if axes else g
        return _resize(back, axes, original)

    return _differentiable(name, x, out, adjoint)


def r2c(name: str, x: Tensor, axes: tuple[int, ...], sizes: Sizes, norm: str,
        conjugate: bool = False) -> Tensor:  # fmt: skip
    """The half spectrum (the last axis keeps ``n // 2 + 1`` bins) of the real x padded or
    truncated to `sizes` along `axes`; conjugated when `conjugate` (ihfft)."""
    x = check_tensor(name, x)
    if x.dtype.kind == "complex":
        raise TypeError(
            f"{name}(): needs a real input, got {x.dtype.name}; use the complex transform "
            "(fft.fft / fft.fftn) for complex input"
        )
    if not axes:
        raise ValueError(f"{name}(): needs at least one axis to transform, got axes=()")
    filled = _filled_in(name, x, axes, sizes)
    _check_backend(name, x)
    source = x.detach() if x.dtype.kind == "float" else x.astype(default_float())
    source = _resize(source, axes, filled)
    half = [*filled[:-1], filled[-1] // 2 + 1]
    out = _run("rfft", source, _shape_with(source, axes, half), _complex_of(source.dtype),
               axes, norm)  # fmt: skip
    if conjugate:
        out = UNARY_OPS["conj"](out)
    original = [x.shape[a] for a in axes]

    def adjoint(g: Tensor) -> Tensor:
        if conjugate:
            g = UNARY_OPS["conj"](g)
        full = _resize(g, axes[-1:], filled[-1:])
        back = c2c(name, full, axes, list(filled), swapped(norm), inverse=True)
        return _resize(UNARY_OPS["real"](back), axes, original)

    return _differentiable(name, x, out, adjoint)


def c2r(name: str, x: Tensor, axes: tuple[int, ...], sizes: Sizes, norm: str,
        conjugate: bool = False) -> Tensor:  # fmt: skip
    """The real signal (of lengths `sizes` along `axes`; the last one defaults to
    ``2 * (m - 1)`` for an input m long there) whose half spectrum is x, padded or
    truncated to fit; x is conjugated first when `conjugate` (hfft)."""
    x = check_tensor(name, x)
    if not axes:
        raise ValueError(f"{name}(): needs at least one axis to transform, got axes=()")
    if sizes[-1] is None:
        m = x.shape[axes[-1]]
        if m < 2:
            raise ValueError(
                f"{name}(): the default output length 2 * (m - 1) is {2 * (m - 1)} for an "
                f"input of length {m} along axis {axes[-1]}; pass n (or s) >= 1"
            )
        sizes = [*sizes[:-1], 2 * (m - 1)]
    filled = _filled_in(name, x, axes, sizes)
    _check_backend(name, x)
    half = [*filled[:-1], filled[-1] // 2 + 1]
    source = _as_complex(x)
    if conjugate:
        source = UNARY_OPS["conj"](source)
    source = _resize(source, axes, half)
    out_shape = _shape_with(source, axes, filled)
    out = _run("irfft", source, out_shape, real_dtype(source.dtype), axes, norm)
    original = [x.shape[a] for a in axes]

    def adjoint(g: Tensor) -> Tensor:
        from mytensor.core.creation import arange

        spectrum = r2c(name, g, axes, list(filled), swapped(norm))
        n, bins = filled[-1], half[-1]
        k = arange(bins, backend=g.backend)
        once = (k == 0) | (k + k == n)  # the zero and Nyquist bins have no mirror image
        weight = where(once, 1.0, 2.0).astype(real_dtype(spectrum.dtype))
        spectrum = spectrum * weight.reshape(bins, *([1] * (g.ndim - 1 - axes[-1])))
        if conjugate:
            spectrum = UNARY_OPS["conj"](spectrum)
        return _resize(spectrum, axes, original)

    return _differentiable(name, x, out, adjoint)
