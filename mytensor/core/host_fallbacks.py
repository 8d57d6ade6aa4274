"""Host fallbacks: the default of each optional primitive that has no composite.

Sorting, searching, `nonzero`, scans, the matrix decompositions and the Fourier
transforms are either data-dependent or numerically delicate, so instead of a composite
of the required primitives the core's default copies the operands to the host, runs
numpy (``numpy.linalg`` for the decompositions, ``numpy.fft`` for the transforms) and
copies the results back. That is exact on every backend and slow on a device backend,
which should implement the primitive natively (see ``mytensor/backends/spec.py``). Each
function here is bound as a method of `mytensor.core.dispatch.Dispatch`, so ``self`` is
the backend being dispatched to.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mytensor.backends.spec import Strided

__all__ = [
    "HOST_PRIMITIVES", "argsort", "cumulative", "fft", "linalg", "nonzero", "searchsorted",
]  # fmt: skip

HOST_PRIMITIVES = ("argsort", "searchsorted", "nonzero", "cumulative", "linalg", "fft")


def _write(backend: Any, out: Strided, values: np.ndarray) -> None:
    from mytensor.core.dispatch import host_descriptor

    backend.copy(out, host_descriptor(backend, np.asarray(values), out.dtype))


def argsort(self: Any, out: Strided, a: Strided, dim: int, descending: bool) -> None:
    """Stable: equal values keep their order; NaN sorts last (first when descending)."""
    values = self.to_host(a)
    if descending:
        flipped = np.flip(values, axis=dim)
        order = np.flip(np.argsort(flipped, axis=dim, kind="stable"), axis=dim)
        order = values.shape[dim] - 1 - order
    else:
        order = np.argsort(values, axis=dim, kind="stable")
    _write(self, out, order)


def searchsorted(self: Any, out: Strided, sorted_seq: Strided, values: Strided,
                 right: bool) -> None:  # fmt: skip
    seq, queries = self.to_host(sorted_seq), self.to_host(values)
    _write(self, out, np.searchsorted(seq, queries, side="right" if right else "left"))


def nonzero(self: Any, out: Strided, a: Strided) -> None:
    _write(self, out, np.argwhere(self.to_host(a)))


def cumulative(self: Any, op: str, out: Strided, a: Strided, dim: int) -> None:
    scan = np.cumsum if op == "sum" else np.cumprod
    with np.errstate(all="ignore"):
        _write(self, out, scan(self.to_host(a), axis=dim, dtype=out.dtype.numpy))


def _slogdet(a: np.ndarray) -> tuple:
    return tuple(np.linalg.slogdet(a))


_LINALG = {
    "inv": lambda a: (np.linalg.inv(a),),
    "det": lambda a: (np.linalg.det(a),),
    "slogdet": _slogdet,
    "solve": lambda a, b: (np.linalg.solve(a, b),),
    "cholesky": lambda a: (np.linalg.cholesky(a),),
    "qr": lambda a: tuple(np.linalg.qr(a, mode="reduced")),
    "qr_complete": lambda a: tuple(np.linalg.qr(a, mode="complete")),
    "eigh": lambda a: tuple(np.linalg.eigh(a)),
    "svd": lambda a: tuple(np.linalg.svd(a, full_matrices=False)),
    "svd_full": lambda a: tuple(np.linalg.svd(a, full_matrices=True)),
}


def linalg(self: Any, op: str, outs: tuple[Strided, ...], ins: tuple[Strided, ...]) -> None:
    """numpy.linalg on the host; a singular (or, for cholesky, not positive-definite)
    input raises ValueError."""
    arrays = [self.to_host(d) for d in ins]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            results = _LINALG[op](*arrays)
        except np.linalg.LinAlgError as exc:
            shapes = " and ".join(str(a.shape) for a in arrays)
            raise ValueError(f"linalg.{op}(): input of shape {shapes}: {exc}") from None
    for out, values in zip(outs, results, strict=True):
        _write(self, out, values)


def fft(self: Any, op: str, out: Strided, a: Strided, axes: tuple[int, ...], norm: str) -> None:
    """numpy.fft on the host (its pocketfft keeps complex64 in complex64)."""
    values = self.to_host(a)
    if op == "irfft":
        result = np.fft.irfftn(values, s=[out.shape[ax] for ax in axes], axes=axes, norm=norm)
    else:
        transform = {"fft": np.fft.fftn, "ifft": np.fft.ifftn, "rfft": np.fft.rfftn}[op]
        result = transform(values, axes=axes, norm=norm)
    _write(self, out, result)
