"""Max pooling over 1 to 3 spatial dims as one graph node, on the `max_pool` primitive.

The forward gives each window's maximum and its flat position in the input's spatial
dims (the first maximum in row-major order; a NaN counts as the largest). The backward
scatters the gradient to those positions (`scatter_add`, so overlapping windows add up,
and a recorded backward is differentiable again). A backend without the primitive gets
the composite: every window's taps as strided views of the input (padded with the
dtype's lowest value), stacked on a last axis, argmax and gather. Under vmap the
composite runs with its own autograd, since its ops carry batching rules.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from mytensor.core import autograd, batching
from mytensor.core.creation import asarray, full, zeros
from mytensor.core.dtypes import int64
from mytensor.core.ops._base import OpRecord, check_tensor, register
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.indexing import gather
from mytensor.core.ops.shape import cat, stack
from mytensor.core.tensor import Tensor

__all__ = ["max_pool", "pool_geometry"]

Geometry = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...],
                 tuple[int, ...]]  # fmt: skip


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= size + p:  # the last window must start inside the input or left pad
        out -= 1
    return out


def pool_geometry(op: str, spatial: tuple[int, ...], kernel: tuple[int, ...],
                  stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...],
                  ceil_mode: bool) -> tuple[int, ...]:  # fmt: skip
    """The output's spatial size, after PyTorch's checks of the window geometry."""
    if any(p > k // 2 for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"{op}(): padding {padding} must be at most half the kernel size {kernel}")
    dims = zip(spatial, kernel, stride, padding, dilation, strict=True)
    out = tuple(_out_size(*g, ceil_mode) for g in dims)
    if any(o < 1 for o in out):
        raise ValueError(
            f"{op}(): input of spatial size {spatial} is too small for kernel {kernel} "
            f"(padding {padding}, dilation {dilation})"
        )
    return out


def _lowest(x: Tensor) -> float | int:
    return float("-inf") if x.dtype.kind == "float" else int(np.iinfo(x.dtype.numpy).min)


def max_pool(x: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
             padding: tuple[int, ...], dilation: tuple[int, ...],
             ceil_mode: bool = False, op: str = "max_pool") -> tuple[Tensor, Tensor]:  # fmt: skip
    """(values, indices) of max pooling x (N, C, *spatial) over windows `kernel`; each
    index is the flat position of the window's maximum in `spatial`.

    >>> import mytensor as mt
    >>> values, indices = max_pool(mt.arange(8.0).reshape(1, 1, 2, 4), (2, 2), (2, 2),
    ...                            (0, 0), (1, 1))
    >>> values.tolist(), indices.tolist()
    ([[[[5.0, 7.0]]]], [[[[5, 7]]]])
    """
    check_tensor(op, x)
    if x.dtype.kind not in ("float", "int", "uint"):
        raise TypeError(f"{op}(): not implemented for {x.dtype.name} input; use a float tensor")
    out_size = pool_geometry(op, x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    geometry = (kernel, stride, padding, dilation, out_size)
    if batching.ACTIVE[0]:
        return _composite(x, geometry)
    backend = x._storage.backend
    with autograd.no_grad():
        if "max_pool" in backend.native and x.numel():
            source = x if x.is_contiguous() else x.contiguous()
            shape = (*x.shape[:2], *out_size)
            values, indices = Tensor._empty(backend, shape, x.dtype), Tensor._empty(
                backend, shape, int64
            )
            backend.max_pool(values._d, indices._d, source._d, kernel, stride, padding, dilation)
        else:
            values, indices = _composite(x, geometry)
    if autograd.needs_grad(x):

        def backward(g: Tensor) -> tuple:
            planes, volume = math.prod(x.shape[:2]), math.prod(x.shape[2:])
            grad = zeros((planes, volume), dtype=g.dtype, backend=x.backend)
            flat_indices, flat_g = indices.reshape(planes, -1), g.reshape(planes, -1)
            if autograd.is_grad_enabled():  # create_graph: the op, differentiable in g
                return (grad.scatter_add(1, flat_indices, flat_g).reshape(x.shape),)
            # the primitive straight into the fresh zeros: the op would copy them and
            # bounds-check indices that are right by construction
            flat_g = flat_g if flat_g.is_contiguous() else flat_g.contiguous()
            backend.scatter_add(grad._d, flat_indices._d, flat_g._d, 1)
            return (grad.reshape(x.shape),)

        autograd.record(values, op, (x,), backward, (), fresh_grads=True)
    return values, indices


def _padded(x: Tensor, geometry: Geometry) -> Tensor:
    """x with `padding` before and whatever the last window reaches after, per spatial dim."""
    kernel, stride, padding, dilation, out_size = geometry
    dims = zip(kernel, stride, padding, dilation, out_size, strict=True)
    for i, (k, s, p, d, o) in enumerate(dims):
        size = x.shape[2 + i]
        after = max(0, (o - 1) * s + d * (k - 1) + 1 - size - p)
        if p or after:
            block = list(x.shape)
            parts = []
            for width in (p, None, after):
                if width is None:
                    parts.append(x)
                elif width:
                    block[2 + i] = width
                    parts.append(full(tuple(block), _lowest(x), dtype=x.dtype, backend=x.backend))
            x = cat(parts, dim=2 + i)
    return x


def _taps(x: Tensor, geometry: Geometry) -> Tensor:
    """(N, C, *out_size, prod(kernel)): every tap of every window, in row-major tap order."""
    kernel, stride, padding, dilation, out_size = geometry
    n, c = x.shape[:2]
    dims = len(kernel)
    if kernel == stride and not any(padding) and set(dilation) == {1}:  # windows tile: reshape
        inside = (slice(0, o * k) for o, k in zip(out_size, kernel, strict=True))
        crop = x[(slice(None), slice(None), *inside)]
        split = crop.reshape(n, c, *itertools.chain(*zip(out_size, kernel, strict=True)))
        order = (0, 1, *range(2, 2 + 2 * dims, 2), *range(3, 3 + 2 * dims, 2))
        return split.permute(*order).reshape(n, c, *out_size, math.prod(kernel))
    x = _padded(x, geometry)
    taps = []
    for tap in itertools.product(*(range(k) for k in kernel)):
        spans = zip(tap, stride, dilation, out_size, strict=True)
        window = (slice(t * d, t * d + s * (o - 1) + 1, s) for t, s, d, o in spans)
        taps.append(x[(slice(None), slice(None), *window)])
    return stack(taps, dim=-1)


def _composite(x: Tensor, geometry: Geometry) -> tuple[Tensor, Tensor]:
    kernel, stride, padding, dilation, out_size = geometry
    taps = _taps(x, geometry)
    best = taps.argmax(-1, keepdim=True)
    values = gather(taps, taps.ndim - 1, best).squeeze(-1)
    tap = best.squeeze(-1)
    index, first = None, np.zeros((1,) * len(out_size), np.int64)
    for i, size in enumerate(x.shape[2:]):
        rest = math.prod(kernel[i + 1 :])
        offset = (tap // rest) % kernel[i] * dilation[i]
        start = np.arange(out_size[i]) * stride[i] - padding[i]
        start = start.reshape((-1,) + (1,) * (len(out_size) - 1 - i))
        skip = -(-np.maximum(-start, 0) // dilation[i]) * dilation[i]
        first = first * size + start + skip
        here = offset + asarray(start, dtype=int64, backend=x.backend)
        index = here if index is None else index * size + here
    lowest = asarray(first, dtype=int64, backend=x.backend)
    return values, where(values == _lowest(x), lowest, index)


def _np_max_pool(x, kernel, stride, padding, dilation, ceil_mode=False):
    from mytensor.core.primitives.numpy_pool import max_pool as reference

    out_size = pool_geometry("max_pool", x.shape[2:], kernel, stride, padding, dilation,
                             ceil_mode)  # fmt: skip
    return reference(x, kernel, stride, padding, dilation, out_size)


register(OpRecord("max_pool", max_pool, _np_max_pool, shapes="custom"))
