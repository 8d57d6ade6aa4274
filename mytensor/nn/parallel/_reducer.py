"""The gradient reducer of DistributedDataParallel: buckets, and all-reduces started
from the backward pass.

Parameters are packed, in reverse registration order (roughly the order backward
reaches them), into buckets of one dtype of at most `bucket_cap` bytes (the first one
smaller, so communication starts early). Each parameter's post-accumulate-grad hook
copies its `.grad` into its bucket's flat host buffer; when a bucket is full its
``MPI_Iallreduce`` starts, while backward goes on computing the other gradients. Buckets
start in index order on every rank (MPI requires the same collective order everywhere).
The hook that completes the last bucket waits for all of them, divides by the world
size and writes the averages back into each `.grad`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mytensor.core.tensor import Tensor
from mytensor.distributed._buffers import write_host
from mytensor.distributed._work import Work
from mytensor.nn.parameter import Parameter

__all__ = ["Reducer", "broadcast_coalesced"]


class _Bucket:
    __slots__ = ("flat", "index", "offsets", "params", "ready", "request")

    def __init__(self, index: int, params: list[tuple[str, Parameter]]) -> None:
        self.index = index
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for _, p in params]).tolist()
        self.flat = np.zeros(self.offsets[-1], params[0][1].dtype.numpy)
        self.ready = 0
        self.request: Work | None = None

    def slot(self, position: int) -> np.ndarray:
        return self.flat[self.offsets[position] : self.offsets[position + 1]]


def _buckets(named: list[tuple[str, Parameter]], cap: int, first_cap: int) -> list[_Bucket]:
    buckets: list[_Bucket] = []
    open_: dict[Any, tuple[list, int]] = {}  # (dtype, backend) -> (params, bytes)
    for name, p in reversed(named):
        key = (p.dtype, p.backend)
        members, size = open_.get(key, ([], 0))
        members.append((name, p))
        size += p.numel() * p.dtype.itemsize
        limit = first_cap if not buckets else cap
        if size >= limit:
            buckets.append(_Bucket(len(buckets), members))
            open_.pop(key, None)
        else:
            open_[key] = (members, size)
    for members, _ in open_.values():
        buckets.append(_Bucket(len(buckets), members))
    return buckets


class Reducer:
    """Averages the gradients of `named` parameters over the ranks of `comm`."""

    def __init__(self, named: list[tuple[str, Parameter]], comm: Any, cap: int,
                 first_cap: int) -> None:  # fmt: skip
        self.comm = comm
        self.named = named
        self.buckets = _buckets(named, cap, first_cap)
        self.where: dict[int, tuple[_Bucket, int]] = {}
        for bucket in self.buckets:
            for position, (_, p) in enumerate(bucket.params):
                self.where[id(p)] = (bucket, position)
        self.handles = [p.register_post_accumulate_grad_hook(self._ready) for _, p in named]
        self.armed = False
        self.next_bucket = 0
        self.local_used: np.ndarray | None = None  # find_unused_parameters' map
        self.used_request: Work | None = None
        self.marked: set[int] = set()

    # -- one iteration -------------------------------------------------------------------
    def prepare(self, unused: list[Parameter] | None) -> None:
        """Arm for the coming backward; `unused` (find_unused_parameters) are the
        parameters this rank's forward did not reach: they count as ready, with zeros."""
        self.check_finished()
        for bucket in self.buckets:
            bucket.ready, bucket.request = 0, None
        self.next_bucket, self.marked, self.armed = 0, set(), True
        if unused is None:
            self.local_used = None
            return
        self.local_used = np.ones(len(self.where), np.int32)
        position = {key: i for i, key in enumerate(self.where)}
        for p in unused:
            if id(p) in position:
                self.local_used[position[id(p)]] = 0
        from mpi4py import MPI

        request = self.comm.Iallreduce(MPI.IN_PLACE, self.local_used, MPI.MAX)
        self.used_request = Work("DistributedDataParallel used-parameter map", request,
                                 detail=f"{len(position)} parameters")  # fmt: skip
        for p in unused:
            if id(p) in self.where:
                self._mark(p, None)

    def check_finished(self) -> None:
        """PyTorch's error when the previous backward left some buckets unreduced."""
        if not self.armed or not self.marked:
            return
        missing = [name for name, p in self.named if id(p) not in self.marked]
        raise RuntimeError(
            "DistributedDataParallel: expected to have finished reduction in the prior "
            "iteration before starting a new one: these parameters got no gradient in the "
            f"last backward: {', '.join(missing)}. If the forward does not use every "
            "parameter, pass find_unused_parameters=True (or make sure every output that "
            "depends on them takes part in the loss)"
        )

    def _ready(self, p: Tensor) -> None:
        if self.armed and id(p) not in self.marked:
            self._mark(p, p.grad)

    def _mark(self, p: Tensor, grad: Tensor | None) -> None:
        bucket, position = self.where[id(p)]
        self.marked.add(id(p))
        slot = bucket.slot(position)
        if grad is None:
            slot[...] = 0
        else:
            view = grad._host_view()
            slot[...] = (view if view is not None else grad.numpy()).reshape(-1)
        bucket.ready += 1
        self._launch_ready()
        if len(self.marked) == len(self.where):
            self._finish()

    def _launch_ready(self) -> None:
        from mpi4py import MPI

        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.ready < len(bucket.params):
                break
            request = self.comm.Iallreduce(MPI.IN_PLACE, bucket.flat, MPI.SUM)
            bucket.request = Work(
                "DistributedDataParallel gradient all_reduce",
                request,
                detail=f"bucket {bucket.index}, {bucket.flat.size} elements",
            )
            self.next_bucket += 1
        for bucket in self.buckets[: self.next_bucket]:
            bucket.request.is_completed()  # drives MPI's progress engine  # type: ignore[union-attr]

    def _finish(self) -> None:
        self.armed = False
        used = None
        if self.used_request is not None and self.local_used is not None:
            self.used_request.wait()
            used = dict(zip(self.where, self.local_used.tolist(), strict=True))
            self.used_request = None
        size = self.comm.size
        for bucket in self.buckets:
            bucket.request.wait()  # type: ignore[union-attr]
            np.true_divide(bucket.flat, size, out=bucket.flat)
            for position, (_, p) in enumerate(bucket.params):
                if used is not None and not used[id(p)]:
                    continue  # unused on every rank: .grad stays as it was
                _write_grad(p, bucket.slot(position))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _write_grad(p: Tensor, values: np.ndarray) -> None:
    from mytensor.core.creation import tensor

    values = values.reshape(p.shape)
    if p.grad is None:
        p.grad = tensor(values.copy(), dtype=p.dtype, backend=p.backend)
        return
    view = p.grad._host_view()
    if view is not None:
        np.copyto(view, values)
        p.grad._storage.version += 1
    else:
        write_host(p.grad, values)


def broadcast_coalesced(tensors: list[Tensor], comm: Any, src: int = 0) -> None:
    """Overwrite `tensors` with rank `src`'s values: one broadcast per dtype."""
    by_dtype: dict[Any, list[Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    for dtype, group in by_dtype.items():
        flat = np.empty(sum(t.numel() for t in group), dtype.numpy)
        if comm.rank == src:
            offset = 0
            for t in group:
                view = t._host_view()
                flat[offset : offset + t.numel()] = (
                    view if view is not None else t.numpy()
                ).reshape(-1)
                offset += t.numel()
        Work("DistributedDataParallel broadcast", comm.Ibcast(flat, root=src),
             detail=f"{len(group)} tensors of dtype {dtype.name}").wait()  # fmt: skip
        if comm.rank != src:
            offset = 0
            for t in group:
                values = flat[offset : offset + t.numel()].reshape(t.shape)
                view = t._host_view()
                if view is not None:
                    np.copyto(view, values)
                    t._storage.version += 1
                else:
                    write_host(t, values)
                offset += t.numel()
