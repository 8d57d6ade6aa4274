"""The learnable weight and optional bias that Linear, Bilinear and the conv layers share."""

from __future__ import annotations

from typing import Any

from mytensor.core.creation import empty
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter

__all__ = ["register_weight_and_bias"]


def register_weight_and_bias(
    module: Module,
    weight_shape: tuple[int, ...],
    bias_size: int | None,
    dtype: Any,
    backend: str | None,
) -> None:
    """Give `module` an uninitialised `weight` of `weight_shape` and a `bias` of
    `bias_size` (registered as None when `bias_size` is None); the layer's
    `reset_parameters` fills them.

    >>> from mytensor import nn
    >>> layer = nn.Module()
    >>> register_weight_and_bias(layer, (2, 3), None, None, None)
    >>> layer.weight.shape, layer.bias
    ((2, 3), None)
    """
    module.weight = Parameter(empty(*weight_shape, dtype=dtype, backend=backend))
    if bias_size is None:
        module.register_parameter("bias", None)
    else:
        module.bias = Parameter(empty(bias_size, dtype=dtype, backend=backend))
