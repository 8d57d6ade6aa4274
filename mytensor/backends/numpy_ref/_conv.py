"""The reference N-d convolution: one einsum per kernel tap and group, any N.

Every product is written as the definition in the contract reads: for a kernel tap
``t`` (an N-d index), the input window it reads is the strided slice
``xpad[..., t*dilation : t*dilation + stride*(out - 1) + 1 : stride]`` of the
zero-padded input, and the output gains ``window . weight[:, :, t]`` over the group's
channels. The two gradients are the same loops with the roles swapped.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["conv", "conv_grad_input", "conv_grad_weight"]


def _taps(
    x: np.ndarray, weight_shape: tuple, out_shape: tuple, stride, dilation, groups
) -> Iterator[tuple[tuple, np.ndarray, slice]]:
    """Yield (tap, window of the padded input `x` for the group, output-channel slice)
    per group and kernel tap; windows are views, so writes land in `x`."""
    o_total, c_group, *kernel = weight_shape
    o_group = o_total // groups
    for g in range(groups):
        channels = slice(g * c_group, (g + 1) * c_group)
        outputs = slice(g * o_group, (g + 1) * o_group)
        for tap in np.ndindex(*kernel):
            window = tuple(
                slice(t * d, t * d + s * (o - 1) + 1, s)
                for t, d, s, o in zip(tap, dilation, stride, out_shape[2:], strict=True)
            )  # fmt: skip
            yield tap, x[(slice(None), channels, *window)], outputs


def _sub(x: np.ndarray) -> str:
    """einsum letters for the spatial dims of `x`: "xyz"[:N]."""
    return "xyz"[: x.ndim - 2]


def _pad(x: np.ndarray, padding) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)))


def conv(out: np.ndarray, x: np.ndarray, weight: np.ndarray, stride, padding, dilation,
         groups) -> None:  # fmt: skip
    result = np.zeros(out.shape, out.dtype)
    for tap, window, o in _taps(_pad(x, padding), weight.shape, out.shape, stride,
                                   dilation, groups):  # fmt: skip
        result[:, o] += np.einsum("nc...,oc->no...", window, weight[(o, slice(None), *tap)])
    np.copyto(out, result)


def conv_grad_input(grad_x: np.ndarray, grad_out: np.ndarray, weight: np.ndarray, stride,
                    padding, dilation, groups) -> None:  # fmt: skip
    padded = np.zeros(_pad(grad_x, padding).shape, grad_x.dtype)
    for tap, window, o in _taps(padded, weight.shape, grad_out.shape, stride, dilation,
                                   groups):  # fmt: skip
        window += np.einsum("no...,oc->nc...", grad_out[:, o], weight[(o, slice(None), *tap)])
    interior = tuple(slice(p, p + size) for p, size in zip(padding, grad_x.shape[2:],
                                                            strict=True))  # fmt: skip
    np.copyto(grad_x, padded[(slice(None), slice(None), *interior)])


def conv_grad_weight(grad_weight: np.ndarray, x: np.ndarray, grad_out: np.ndarray, stride,
                     padding, dilation, groups) -> None:  # fmt: skip
    result = np.zeros(grad_weight.shape, grad_weight.dtype)
    for tap, window, o in _taps(_pad(x, padding), grad_weight.shape, grad_out.shape,
                                   stride, dilation, groups):  # fmt: skip
        result[(o, slice(None), *tap)] = np.einsum(f"no{_sub(x)},nc{_sub(x)}->oc", grad_out[:, o],
                                                       window)  # fmt: skip
    np.copyto(grad_weight, result)
