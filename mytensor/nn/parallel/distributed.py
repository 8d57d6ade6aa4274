"""`DistributedDataParallel`: one model replica per process, gradients averaged over MPI.

As PyTorch's: construction checks that every rank built the same parameters and
broadcasts rank 0's parameters and buffers; each forward broadcasts rank 0's buffers
(``broadcast_buffers=True``: BatchNorm's running statistics) and arms the reducer;
backward then averages the gradients in buckets that start all-reducing as soon as
their gradients exist (`_reducer`). Under `no_sync()` gradients only accumulate
locally; the next synchronised backward averages the accumulated sums.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mytensor.core.autograd import Leaf, edge_of, is_grad_enabled
from mytensor.core.tensor import Tensor
from mytensor.distributed._group import _check_group, world
from mytensor.nn.module import Module
from mytensor.nn.parallel._reducer import Reducer, broadcast_coalesced

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_FIRST_BUCKET_MB = 1  # PyTorch's first bucket: small, so the first all-reduce starts early


class DistributedDataParallel(Module):
    """Wrap `module` so that `backward` averages its gradients over all ranks.

    Call `mytensor.distributed.init_process_group()` first, build the same model on
    every rank, and feed each rank its own part of the global batch (see
    `mytensor.data.distributed.DistributedSampler`). `device_ids`, `output_device` and
    `dim` are accepted for PyTorch compatibility (a model lives on its tensors' backend).

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> from mytensor import nn
    >>> dist.init_process_group()
    >>> model = nn.parallel.DistributedDataParallel(nn.Linear(3, 1))
    >>> model(mt.ones(2, 3)).sum().backward()
    >>> model.module.weight.grad.shape
    (1, 3)
    >>> dist.destroy_process_group()
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ) -> None:
        super().__init__()
        _check_group("DistributedDataParallel", process_group)
        # a communicator of its own, so the buckets' in-flight all-reduces never
        # interleave with the user's collectives (or SyncBatchNorm's) on the world
        self._comm = world("DistributedDataParallel").Dup()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * _MB)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        _check_same_parameters(self._comm, module)
        state = [p for _, p in module.named_parameters()] + list(module.buffers())
        broadcast_coalesced(state, self._comm)
        first = min(_FIRST_BUCKET_MB * _MB, self.bucket_bytes_cap)
        self.reducer = Reducer(named, self._comm, self.bucket_bytes_cap, first)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        buffers = list(self.module.buffers())
        if self.broadcast_buffers and buffers and self._comm.size > 1:
            broadcast_coalesced(buffers, self._comm)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            unused = None
            if self.find_unused_parameters:
                unused = _unused_parameters(self.module, output)
            self.reducer.prepare(unused)
        return output

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this block, backward accumulates gradients locally and does not
        average them; the first synchronised backward after it averages the sums.

        >>> import mytensor as mt, mytensor.distributed as dist
        >>> from mytensor import nn
        >>> dist.init_process_group()
        >>> model = nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
        >>> with model.no_sync():
        ...     model(mt.ones(1, 2)).sum().backward()  # local only
        >>> model(mt.ones(1, 2)).sum().backward()  # averages both steps' sum
        >>> model.module.bias.grad.tolist()
        [2.0]
        >>> dist.destroy_process_group()
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        return f"world_size={self._comm.size}, buckets={len(self.reducer.buckets)}"


def _check_same_parameters(comm: Any, module: Module) -> None:
    """Every rank must hold the same parameters (names, shapes, dtypes) as rank 0."""
    mine = [(n, tuple(p.shape), p.dtype.name) for n, p in module.named_parameters()]
    every = comm.allgather(mine)
    reference = every[0]
    for rank, theirs in enumerate(every[1:], 1):
        if len(theirs) != len(reference):
            raise RuntimeError(
                f"DistributedDataParallel: rank {rank} has {len(theirs)} parameters but rank 0 "
                f"has {len(reference)}; every rank must build the same model"
            )
        for (name0, shape0, dtype0), (name, shape, dtype) in zip(reference, theirs, strict=True):
            if (name, shape, dtype) != (name0, shape0, dtype0):
                raise RuntimeError(
                    f"DistributedDataParallel: parameter {name!r} has shape {shape} "
                    f"({dtype}) on rank {rank} but {name0!r} has shape {shape0} ({dtype0}) "
                    "on rank 0; every rank must build the same model"
                )


def _unused_parameters(module: Module, output: Any) -> list:
    """The parameters of `module` that `output`'s graph does not reach."""
    reached: set[int] = set()
    seen: set[int] = set()
    stack = [edge_of(t) for t in _tensors(output) if t.requires_grad]
    while stack:
        edge = stack.pop()
        if edge is None or id(edge) in seen:
            continue
        seen.add(id(edge))
        if isinstance(edge, Leaf):
            reached.add(id(edge.tensor))
        else:
            stack.extend(edge.edges)
    return [p for p in module.parameters() if p.requires_grad and id(p) not in reached]


def _tensors(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
