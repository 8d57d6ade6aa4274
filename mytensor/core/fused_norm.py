"""Layer normalization's primitives (`layer_norm`, `layer_norm_backward`) as the core's
composite: `reduce`/`map`/`zip` calls on the (rows, columns) operands, with the row
statistics as (rows, 1) columns broadcast along each row."""

from __future__ import annotations

from typing import Any

from mytensor.backends.spec import Strided
from mytensor.core.descriptors import constants, contiguous

__all__ = ["layer_norm", "layer_norm_backward"]


def _rows_of(d: Strided, cols: int) -> Strided:
    """A (rows,) statistic as a (rows, cols) view, constant along each row."""
    return Strided(d.buffer, (d.shape[0], cols), (d.strides[0], 0), d.offset, d.dtype)


def _columns_of(d: Strided, rows: int) -> Strided:
    """A (cols,) parameter as a (rows, cols) view, the same in every row."""
    return Strided(d.buffer, (rows, d.shape[0]), (0, d.strides[0]), d.offset, d.dtype)


def _row_mean(backend: Any, out: Strided, values: Strided) -> None:
    """out (rows,) = the mean of each row of `values` (rows, cols)."""
    rows, cols = values.shape
    column = Strided(out.buffer, (rows, 1), (out.strides[0], 0), out.offset, out.dtype)
    backend.reduce("sum", column, values, (1,))
    backend.zip("div", out, out, constants(backend, (float(cols),), out)[0])


def layer_norm(backend: Any, out: Strided, mean: Strided, rstd: Strided, x: Strided,
               weight: Strided | None, bias: Strided | None, eps: float) -> None:  # fmt: skip
    """The contract's `layer_norm` on `backend`'s required primitives."""
    rows, cols = x.shape
    if not rows:
        return
    _row_mean(backend, mean, x)
    backend.zip("sub", out, x, _rows_of(mean, cols))  # centered, kept in out
    square = contiguous(backend, x.shape, x.dtype)
    backend.zip("mul", square, out, out)
    _row_mean(backend, rstd, square)  # the variance, then 1 / sqrt(var + eps) in place
    backend.zip("add", rstd, rstd, constants(backend, (eps,), rstd)[0])
    backend.map("sqrt", rstd, rstd)
    backend.zip("div", rstd, constants(backend, (1.0,), rstd)[0], rstd)
    backend.zip("mul", out, out, _rows_of(rstd, cols))
    if weight is not None:
        backend.zip("mul", out, out, _columns_of(weight, rows))
    if bias is not None:
        backend.zip("add", out, out, _columns_of(bias, rows))


def layer_norm_backward(backend: Any, dx: Strided, dweight: Strided | None,
                        dbias: Strided | None, dy: Strided, x: Strided, mean: Strided,
                        rstd: Strided, weight: Strided | None) -> None:  # fmt: skip
    """The contract's `layer_norm_backward` on `backend`'s required primitives."""
    rows, cols = x.shape
    xhat = contiguous(backend, x.shape, x.dtype)
    backend.zip("sub", xhat, x, _rows_of(mean, cols))
    backend.zip("mul", xhat, xhat, _rows_of(rstd, cols))
    t = contiguous(backend, x.shape, x.dtype)
    if dweight is not None:  # sum over the rows of dy * xhat
        backend.zip("mul", t, dy, xhat)
        backend.reduce("sum", _as_row(dweight), t, (0,))
    if dbias is not None:
        backend.reduce("sum", _as_row(dbias), dy, (0,))
    g = dy
    if weight is not None:
        g = contiguous(backend, x.shape, x.dtype)
        backend.zip("mul", g, dy, _columns_of(weight, rows))
    # dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), every mean along the row
    mean_g, mean_gx = (contiguous(backend, (rows,), x.dtype) for _ in range(2))
    _row_mean(backend, mean_g, g)
    backend.zip("mul", t, g, xhat)
    _row_mean(backend, mean_gx, t)
    backend.zip("mul", t, xhat, _rows_of(mean_gx, cols))
    backend.zip("sub", dx, g, _rows_of(mean_g, cols))
    backend.zip("sub", dx, dx, t)
    backend.zip("mul", dx, dx, _rows_of(rstd, cols))


def _as_row(d: Strided) -> Strided:
    """A (cols,) output as the (1, cols) target of a reduction over rows."""
    return Strided(d.buffer, (1, d.shape[0]), (0, d.strides[0]), d.offset, d.dtype)
