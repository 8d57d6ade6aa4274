"""The array API's ``fft`` extension (``mytensor.fft``, also ``mt.fft``), which also serves
PyTorch's ``torch.fft`` spellings (``dim=``, positional ``n``/``dim``/``norm``, ``norm=None``,
and ``fft2``/``ifft2``/``rfft2``/``irfft2``/``hfft2``/``ihfft2``/``hfftn``/``ihfftn``).

The transforms call the backend's optional ``fft`` primitive, whose default is a **host
fallback**: the operand goes to the host, numpy.fft computes, the result comes back (on a
device backend without a native ``fft`` that costs two transfers per call). Precision is
kept: float32 and complex64 give complex64 (or float32 for the real-output transforms),
float64 and complex128 give complex128 (float64); integers count as the default float
dtype. Gradients reach real inputs through backward rules in ops (see
`mytensor.core.ops.fft`); a complex result of a real input that requires grad carries
the graph, so the elementwise functions (``real``, ``imag``, ``abs``, products with
complex numbers, ...), matmul and the transforms of this module differentiate back to
the input, in PyTorch's convention. A backend without complex dtypes raises
``UnsupportedDTypeError`` naming the function; the frequencies and shifts run on every backend.

>>> import mytensor as mt
>>> mt.fft.fft(mt.tensor([1.0, 0.0, 0.0, 0.0])).tolist()
[(1+0j), (1+0j), (1+0j), (1+0j)]
>>> x = mt.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
>>> mt.fft.rfft(x).abs().sum().backward()
>>> [round(v, 4) for v in x.grad.tolist()]
[-0.7071, 1.2929, 0.7071, 2.7071]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mytensor.core.dtypes import default_float, float64, to_dtype
from mytensor.core.layout import normalize_dim
from mytensor.core.ops._base import check_tensor
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.fft import (
    c2c,
    c2r,
    check_length,
    check_norm,
    many_axes,
    one_axis,
    r2c,
    swapped,
)
from mytensor.core.ops.tiling import roll
from mytensor.core.tensor import Tensor

__all__ = [
    "fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft", "ifft2",
    "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2", "irfftn", "rfft",
    "rfft2", "rfftfreq", "rfftn",
]  # fmt: skip

Axes = Sequence[int] | None
Norm = str | None


def _one(name: str, axis: int, dim: int | None) -> int:
    """PyTorch's ``dim=`` or the array API's ``axis=`` (not both)."""
    if dim is None:
        return axis
    if axis != -1:
        raise TypeError(f"fft.{name}(): got both axis={axis!r} and dim={dim!r}; pass one")
    return dim


def _many(name: str, axes: Axes | int, dim: Axes | int) -> Axes | int:
    if dim is None:
        return axes
    if axes is not None:
        raise TypeError(f"fft.{name}(): got both axes={axes!r} and dim={dim!r}; pass one")
    return dim


# -- one axis -------------------------------------------------------------------------------
def fft(x: Tensor, /, n: int | None = None, axis: int = -1, norm: Norm = "backward", *,
        dim: int | None = None) -> Tensor:  # fmt: skip
    """The discrete Fourier transform along `axis` (PyTorch: `dim`) of x zero-padded or
    truncated to `n` points (None: its length); `norm` "backward" (no scaling), "ortho"
    (1/sqrt(n)) or "forward" (1/n).

    >>> import mytensor as mt
    >>> mt.fft.fft(mt.tensor([1.0, 2.0, 3.0]), n=2).tolist()
    [(3+0j), (-1+0j)]
    """
    axes, sizes = one_axis("fft.fft", x, n, _one("fft", axis, dim))
    return c2c("fft.fft", x, axes, sizes, check_norm("fft.fft", norm), inverse=False)


def ifft(x: Tensor, /, n: int | None = None, axis: int = -1, norm: Norm = "backward", *,
         dim: int | None = None) -> Tensor:  # fmt: skip
    """The inverse of `fft` ("backward" scales by 1/n here).

    >>> import mytensor as mt
    >>> mt.fft.ifft(mt.tensor([4.0, 0.0, 0.0, 0.0])).tolist()
    [(1+0j), (1+0j), (1+0j), (1+0j)]
    """
    axes, sizes = one_axis("fft.ifft", x, n, _one("ifft", axis, dim))
    return c2c("fft.ifft", x, axes, sizes, check_norm("fft.ifft", norm), inverse=True)


def rfft(x: Tensor, /, n: int | None = None, axis: int = -1, norm: Norm = "backward", *,
         dim: int | None = None) -> Tensor:  # fmt: skip
    """The transform of a real x: its ``n // 2 + 1`` non-negative frequency terms.

    >>> import mytensor as mt
    >>> mt.fft.rfft(mt.tensor([1.0, 1.0, 1.0, 1.0])).tolist()
    [(4+0j), 0j, 0j]
    """
    axes, sizes = one_axis("fft.rfft", x, n, _one("rfft", axis, dim))
    return r2c("fft.rfft", x, axes, sizes, check_norm("fft.rfft", norm))


def irfft(x: Tensor, /, n: int | None = None, axis: int = -1, norm: Norm = "backward", *,
          dim: int | None = None) -> Tensor:  # fmt: skip
    """The real signal of `n` points (None: ``2 * (m - 1)`` for x m long) whose `rfft` is
    x; the imaginary parts of the zero (and Nyquist) terms are ignored.

    >>> import mytensor as mt
    >>> mt.fft.irfft(mt.tensor([4.0, 0.0, 0.0])).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    axes, sizes = one_axis("fft.irfft", x, n, _one("irfft", axis, dim))
    return c2r("fft.irfft", x, axes, sizes, check_norm("fft.irfft", norm))


def hfft(x: Tensor, /, n: int | None = None, axis: int = -1, norm: Norm = "backward", *,
         dim: int | None = None) -> Tensor:  # fmt: skip
    """The (real) transform of a signal with Hermitian symmetry given by its first half
    x: ``irfft(conj(x))`` with the opposite norm; `n` as in `irfft`.

    >>> import mytensor as mt
    >>> mt.fft.hfft(mt.tensor([1.0, 0.0, 0.0])).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    name = "fft.hfft"
    axes, sizes = one_axis(name, x, n, _one("hfft", axis, dim))
    return c2r(name, x, axes, sizes, swapped(check_norm(name, norm)), conjugate=True)


def ihfft(x: Tensor, /, n: int | None = None, axis: int = -1, norm: Norm = "backward", *,
          dim: int | None = None) -> Tensor:  # fmt: skip
    """The inverse of `hfft` for a real x: ``conj(rfft(x))`` with the opposite norm.

    >>> import mytensor as mt
    >>> mt.fft.ihfft(mt.tensor([1.0, 1.0, 1.0, 1.0])).tolist()
    [(1-0j), -0j, -0j]
    """
    name = "fft.ihfft"
    axes, sizes = one_axis(name, x, n, _one("ihfft", axis, dim))
    return r2c(name, x, axes, sizes, swapped(check_norm(name, norm)), conjugate=True)


# -- several axes ---------------------------------------------------------------------------
def fftn(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = None,
         norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`fft` over `axes` (PyTorch: `dim`; None: all axes, or the last ``len(s)``), each
    padded or truncated to its length in `s` (-1: unchanged).

    >>> import mytensor as mt
    >>> mt.fft.fftn(mt.ones((2, 2))).tolist()
    [[(4+0j), 0j], [0j, 0j]]
    """
    axes, sizes = many_axes("fft.fftn", x, s, _many("fftn", axes, dim))
    return c2c("fft.fftn", x, axes, sizes, check_norm("fft.fftn", norm), inverse=False)


def ifftn(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = None,
          norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """The inverse of `fftn`.

    >>> import mytensor as mt
    >>> mt.fft.ifftn(mt.tensor([[4.0, 0.0], [0.0, 0.0]])).tolist()
    [[(1+0j), (1+0j)], [(1+0j), (1+0j)]]
    """
    axes, sizes = many_axes("fft.ifftn", x, s, _many("ifftn", axes, dim))
    return c2c("fft.ifftn", x, axes, sizes, check_norm("fft.ifftn", norm), inverse=True)


def rfftn(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = None,
          norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`fftn` of a real x, keeping ``n // 2 + 1`` terms along the last of `axes`.

    >>> import mytensor as mt
    >>> mt.fft.rfftn(mt.ones((2, 2))).tolist()
    [[(4+0j), 0j], [0j, 0j]]
    """
    axes, sizes = many_axes("fft.rfftn", x, s, _many("rfftn", axes, dim))
    return r2c("fft.rfftn", x, axes, sizes, check_norm("fft.rfftn", norm))


def irfftn(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = None,
           norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """The inverse of `rfftn`: a real output of lengths `s` along `axes` (-1 or None:
    the input's, and ``2 * (m - 1)`` along the last axis).

    >>> import mytensor as mt
    >>> mt.fft.irfftn(mt.tensor([[4.0, 0.0], [0.0, 0.0]])).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    axes, sizes = many_axes("fft.irfftn", x, s, _many("irfftn", axes, dim))
    return c2r("fft.irfftn", x, axes, sizes, check_norm("fft.irfftn", norm))


def hfftn(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = None,
          norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`hfft` over several axes (PyTorch's ``torch.fft.hfftn``): the last of `axes` holds
    the half of the Hermitian-symmetric input.

    >>> import mytensor as mt
    >>> mt.fft.hfftn(mt.tensor([[1.0, 0.0], [0.0, 0.0]])).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    name = "fft.hfftn"
    axes, sizes = many_axes(name, x, s, _many("hfftn", axes, dim))
    return c2r(name, x, axes, sizes, swapped(check_norm(name, norm)), conjugate=True)


def ihfftn(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = None,
           norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """The inverse of `hfftn` for a real x (PyTorch's ``torch.fft.ihfftn``).

    >>> import mytensor as mt
    >>> mt.fft.ihfftn(mt.ones((2, 2))).tolist()
    [[(1-0j), -0j], [-0j, -0j]]
    """
    name = "fft.ihfftn"
    axes, sizes = many_axes(name, x, s, _many("ihfftn", axes, dim))
    return r2c(name, x, axes, sizes, swapped(check_norm(name, norm)), conjugate=True)


# -- PyTorch's two-axis spellings (default axes: the last two) ------------------------------
def fft2(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = (-2, -1),
         norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`fftn` over the last two axes by default (``torch.fft.fft2``).

    >>> import mytensor as mt
    >>> mt.fft.fft2(mt.ones((1, 2))).tolist()
    [[(2+0j), 0j]]
    """
    return fftn(x, s, axes if dim is None else dim, norm)


def ifft2(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = (-2, -1),
          norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`ifftn` over the last two axes by default (``torch.fft.ifft2``).

    >>> import mytensor as mt
    >>> mt.fft.ifft2(mt.tensor([[2.0, 0.0]])).tolist()
    [[(1+0j), (1+0j)]]
    """
    return ifftn(x, s, axes if dim is None else dim, norm)


def rfft2(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = (-2, -1),
          norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`rfftn` over the last two axes by default (``torch.fft.rfft2``).

    >>> import mytensor as mt
    >>> mt.fft.rfft2(mt.ones((1, 2))).tolist()
    [[(2+0j), 0j]]
    """
    return rfftn(x, s, axes if dim is None else dim, norm)


def irfft2(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = (-2, -1),
           norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`irfftn` over the last two axes by default (``torch.fft.irfft2``).

    >>> import mytensor as mt
    >>> mt.fft.irfft2(mt.tensor([[2.0, 0.0]])).tolist()
    [[1.0, 1.0]]
    """
    return irfftn(x, s, axes if dim is None else dim, norm)


def hfft2(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = (-2, -1),
          norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`hfftn` over the last two axes by default (``torch.fft.hfft2``).

    >>> import mytensor as mt
    >>> mt.fft.hfft2(mt.tensor([[1.0, 0.0]])).tolist()
    [[1.0, 1.0]]
    """
    return hfftn(x, s, axes if dim is None else dim, norm)


def ihfft2(x: Tensor, /, s: Sequence[int] | None = None, axes: Axes = (-2, -1),
           norm: Norm = "backward", *, dim: Axes = None) -> Tensor:  # fmt: skip
    """`ihfftn` over the last two axes by default (``torch.fft.ihfft2``).

    >>> import mytensor as mt
    >>> mt.fft.ihfft2(mt.ones((1, 2))).tolist()
    [[(1-0j), -0j]]
    """
    return ihfftn(x, s, axes if dim is None else dim, norm)


# -- frequencies and shifts -----------------------------------------------------------------
def _frequencies(name: str, n: int, d: float, dtype: Any, device: Any,
                 requires_grad: bool, full: bool) -> Tensor:  # fmt: skip
    from mytensor.core.creation import arange

    count = check_length(name, n, "n", False)
    if count is None:
        raise TypeError(f"{name}(): n must be an int, got None")
    if isinstance(d, bool) or not isinstance(d, int | float) or d == 0:
        raise ValueError(f"{name}(): d (the sample spacing) must be a non-zero number, got {d!r}")
    dtype = default_float() if dtype is None else to_dtype(dtype)
    if dtype.kind not in ("float", "complex"):
        raise TypeError(f"{name}(): dtype must be a floating-point dtype, got {dtype.name}")
    k = arange(count if full else count // 2 + 1, device=device)
    if full:  # 0, 1, ..., then the negative frequencies
        k = where(k < (count + 1) // 2, k, k - count)
    out = (k.astype(float64) * (1.0 / (count * d))).astype(dtype)
    return out.requires_grad_() if requires_grad else out


def fftfreq(n: int, /, d: float = 1.0, *, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The sample frequencies of an `n`-point `fft` with sample spacing `d`: ``[0, 1, ...,
    ceil(n/2) - 1, -floor(n/2), ..., -1] / (d * n)`` (default float dtype).

    >>> import mytensor as mt
    >>> mt.fft.fftfreq(4, d=0.5).tolist()
    [0.0, 0.5, -1.0, -0.5]
    """
    return _frequencies("fft.fftfreq", n, d, dtype, device, requires_grad, full=True)


def rfftfreq(n: int, /, d: float = 1.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The sample frequencies of an `n`-point `rfft`: ``[0, 1, ..., n // 2] / (d * n)``.

    >>> import mytensor as mt
    >>> mt.fft.rfftfreq(4).tolist()
    [0.0, 0.25, 0.5]
    """
    return _frequencies("fft.rfftfreq", n, d, dtype, device, requires_grad, full=False)


def _shift(name: str, x: Tensor, axes: Axes | int, direction: int) -> Tensor:
    x = check_tensor(name, x)
    if axes is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    axes = tuple(normalize_dim(name, a, x.ndim) for a in axes)
    if not axes or x.ndim == 0:
        return x.clone()
    shifts = tuple(direction * (x.shape[a] // 2) for a in axes)
    return roll(x, shifts, axis=axes)


def fftshift(x: Tensor, /, axes: Axes | int = None, *, dim: Axes | int = None) -> Tensor:
    """x rolled so the zero frequency sits in the middle of each of `axes` (PyTorch:
    `dim`; None: all axes).

    >>> import mytensor as mt
    >>> mt.fft.fftshift(mt.fft.fftfreq(5)).tolist()
    [-0.4000000059604645, -0.20000000298023224, 0.0, 0.20000000298023224, 0.4000000059604645]
    """
    return _shift("fft.fftshift", x, _many("fftshift", axes, dim), 1)


def ifftshift(x: Tensor, /, axes: Axes | int = None, *, dim: Axes | int = None) -> Tensor:
    """The inverse of `fftshift` (they differ for odd lengths).

    >>> import mytensor as mt
    >>> mt.fft.ifftshift(mt.tensor([-2, -1, 0, 1, 2])).tolist()
    [0, 1, 2, -2, -1]
    """
    return _shift("fft.ifftshift", x, _many("ifftshift", axes, dim), -1)
