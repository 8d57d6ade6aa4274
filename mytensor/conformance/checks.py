"""Comparisons whose failure messages explain themselves, and dtype-aware tolerances."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# (rtol, atol) per element for one rounding; reductions scale them by their length
BASE_TOLERANCE = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12)}


def tolerance(dtypes: Sequence[np.dtype], reduced: int = 1, scale: float = 1.0,
              overrides: dict[str, float] | None = None) -> tuple[float, float]:  # fmt: skip
    """(rtol, atol) for comparing floats of the coarsest of `dtypes`: grows with the number
    of elements accumulated into one result (`reduced`) and, for atol, the input scale."""
    names = [np.dtype(d).name for d in dtypes]
    name = "float32" if {"float32", "complex64"} & set(names) else "float64"
    rtol, atol = BASE_TOLERANCE[name]
    if overrides and name in overrides:
        rtol = overrides[name]
    growth = max(1, reduced)
    return rtol * growth, atol * growth * max(1.0, scale)


def call_reference(ref: Callable, *args: Any, **kwargs: Any) -> np.ndarray:
    """The numpy reference result, without numpy's floating-point warnings."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(ref(*args, **kwargs))


def same_kind(a: np.dtype, b: np.dtype) -> bool:
    kinds = {"b": "bool", "i": "int", "u": "int", "f": "float", "c": "complex"}
    return kinds[np.dtype(a).kind] == kinds[np.dtype(b).kind]


def assert_close(got: np.ndarray, expected: np.ndarray, context: str, rtol: float = 0.0,
                 atol: float = 0.0, zero_signs: bool = False,
                 inputs: Sequence = ()) -> None:  # fmt: skip
    """Equal shapes and values (exact for bool/int, rtol/atol for floats, NaN exactly where
    NaN; complex values compare part by part). With `zero_signs`, a real float zero must
    carry the reference's sign (``np.signbit``): -0.0 is not 0.0. A failure names the first
    differing element, got vs expected, and each of `inputs` (broadcast) at that element.

    >>> try:
    ...     assert_close(np.array([0.0]), np.array([-0.0]), "neg", zero_signs=True)
    ... except AssertionError as exc:
    ...     print(str(exc).splitlines()[-1])
      first at index (0,): got 0.0, expected -0.0
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        raise AssertionError(f"{context}\n  shape: got {got.shape}, expected {expected.shape}")
    exact = got.dtype.kind in "biu" and expected.dtype.kind in "biu"
    with np.errstate(all="ignore"):
        if exact:
            ok = got == expected
        else:
            ok = np.ones(got.shape, bool)
            for part in (np.real, np.imag):
                g = part(got).astype(np.float64)
                e = part(expected).astype(np.float64)
                ok &= np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True) | (g == e)
                ok &= np.isnan(g) == np.isnan(e)
            if zero_signs and got.dtype.kind == "f" and expected.dtype.kind == "f":
                zeros = (got == 0) & (expected == 0)
                ok &= ~zeros | (np.signbit(got) == np.signbit(expected))
    if ok.all():
        return
    bad = np.argwhere(~ok)
    first = tuple(int(i) for i in bad[0])
    with np.errstate(all="ignore"):
        diff = np.abs(got.astype(np.complex128) - expected.astype(np.complex128))
    finite = diff[np.isfinite(diff)]
    worst = float(finite.max()) if finite.size else float("nan")
    exactness = "; zero signs and NaN positions exact" if zero_signs else ""
    message = (
        f"{context}\n  {len(bad)} of {got.size} elements differ (rtol={rtol:g}, atol={atol:g}"
        f"{exactness}); max abs error {worst:g}\n  first at index {first}: got "
        f"{got[first]}, expected {expected[first]}"
    )
    for i, value in enumerate(inputs):
        value = np.asarray(value)
        try:
            at = np.broadcast_to(value, got.shape)[first]
        except ValueError:
            continue
        message += f"\n  input {i} there: {at}"
    raise AssertionError(message)
