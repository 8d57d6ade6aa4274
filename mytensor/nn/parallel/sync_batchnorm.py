"""`SyncBatchNorm`: batch normalisation whose statistics cover the global batch.

In training, on more than one rank, the per-channel sums (and the element count) are
summed over ranks with a differentiable all-reduce, then the centred sums of squares
likewise (two passes: the variance of centred values, not E[x^2] - E[x]^2). Backward
runs through the same all-reduces, so every rank's input gradient accounts for what its
values did to the other ranks' normalisation: on N ranks the result equals BatchNorm on
the concatenated batch. Otherwise it is a plain BatchNorm.
"""

from __future__ import annotations

from typing import Any

from mytensor.core.autograd import no_grad
from mytensor.core.creation import full
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor
from mytensor.nn.layers.norm import _BatchNorm
from mytensor.nn.module import Module

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, ...) whose training statistics are the whole job's.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> bn = nn.SyncBatchNorm(3)  # no process group: a plain BatchNorm
    >>> bn(mt.randn(4, 3, 5)).shape
    (4, 3, 5)
    """

    _ranks = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, **kwargs)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        from mytensor import distributed as dist

        synced = self.training and dist.is_initialized() and dist.get_world_size() > 1
        if not synced:
            return super().forward(input)
        if input.ndim not in self._ranks:
            raise ValueError(f"SyncBatchNorm: expected a 2-d to 5-d input, got shape {input.shape}")
        return self._synced(input)

    def _synced(self, x: Tensor) -> Tensor:
        from mytensor.distributed.nn.functional import all_reduce

        c = x.shape[1]
        dims = (0, *range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        count = full((1,), x.numel() // c if c else 0, dtype=x.dtype, backend=x.backend)
        sums = all_reduce(cat([x.sum(dims), count]))
        n = int(sums[c].item())
        if n <= 1:
            raise ValueError(
                f"SyncBatchNorm: expected more than 1 value per channel when training, got "
                f"{n} over all ranks (input of shape {x.shape} on this one)"
            )
        mean = sums[:c] / n
        centered = x - mean.reshape(shape)
        var = all_reduce((centered * centered).sum(dims)) / n
        y = centered / (var.reshape(shape) + self.eps).sqrt()
        if self.weight is not None:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.track_running_stats:
            with no_grad():
                self.num_batches_tracked[...] = self.num_batches_tracked + 1
                factor = self.momentum
                if factor is None:  # a cumulative moving average
                    factor = 1.0 / self.num_batches_tracked.item()
                self.running_mean[...] = self.running_mean * (1 - factor) + mean * factor
                unbiased = var * (n / (n - 1))
                self.running_var[...] = self.running_var * (1 - factor) + unbiased * factor
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """`module` with every BatchNorm layer replaced by a SyncBatchNorm that shares its
        parameters and buffers (the module itself when it is a BatchNorm).

        >>> from mytensor import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
        >>> net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        >>> type(net[1]).__name__
        'SyncBatchNorm'
        """
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)  # fmt: skip
            for name in ("weight", "bias"):
                if module.affine:
                    setattr(converted, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                converted.register_buffer(name, getattr(module, name))
            converted.train(module.training)
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
