"""The collectives and point-to-point calls, with PyTorch's names and signatures.

Each starts MPI's non-blocking form on the tensors' own memory (see `_buffers`) and
returns a `Work` with ``async_op=True``; otherwise it waits (within the group's
timeout) and returns None. Every rank must make the same calls in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mytensor.core.tensor import Tensor
from mytensor.distributed._buffers import ReduceOp, Staged, check_tensor, describe, mpi_op
from mytensor.distributed._buffers import write_host as _write_host
from mytensor.distributed._group import _check_group, mpi, world
from mytensor.distributed._work import Work, wait_for

__all__ = [
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "broadcast",
    "broadcast_object_list",
    "gather",
    "irecv",
    "isend",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]


def _run(async_op: bool, op: str, request: Any, *, detail: Any,
         finish: Callable[[], Any] | None = None, keep: Any = None) -> Work | None:  # fmt: skip
    """The `Work` of a started collective, or (synchronous) wait for it and finish it.
    The synchronous path makes no handle: a short collective costs a few microseconds,
    and the handle's own cost was a good part of them."""
    if async_op:
        return Work(op, request, detail=detail, finish=finish, keep=keep)
    wait_for(request, op, detail)
    if finish is not None:
        finish()
    return None


def _same(op: str, name: str, tensors: Sequence[Any], like: Tensor, count: int) -> list:
    tensors = list(tensors)
    if len(tensors) != count:
        raise ValueError(
            f"{op}(): {name} has {len(tensors)} tensors; it needs one per rank ({count})"
        )
    for i, t in enumerate(tensors):
        check_tensor(op, t, f"{name}[{i}]")
        if t.shape != like.shape or t.dtype is not like.dtype:
            raise ValueError(
                f"{op}(): {name}[{i}] has {describe(t)}; every entry must match the tensor "
                f"argument's shape {like.shape} and dtype {like.dtype.name}"
            )
    return tensors


def _root(op: str, name: str, value: int, size: int) -> int:
    if not isinstance(value, int) or not 0 <= value < size:
        raise ValueError(f"{op}(): {name}={value!r} is not a rank of this group (0..{size - 1})")
    return value


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:  # fmt: skip
    """Combine `tensor` across ranks with `op`, in place on every rank.

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> x = mt.tensor([1.0, 2.0])
    >>> dist.all_reduce(x, op=dist.ReduceOp.MAX)
    >>> x.tolist()  # a world of one: unchanged
    [1.0, 2.0]
    >>> dist.destroy_process_group()
    """
    check_tensor("all_reduce", tensor)
    _check_group("all_reduce", group)
    comm = world("all_reduce")
    mop = mpi_op("all_reduce", op, tensor)
    staged = Staged(tensor)
    request = comm.Iallreduce(mpi().IN_PLACE, staged.array, mop)
    return _run(async_op, "all_reduce", request, detail=tensor,
                finish=_reduced(staged, op, comm.size))  # fmt: skip


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:  # fmt: skip
    """Combine `tensor` across ranks with `op` into rank `dst`'s tensor (the others keep
    theirs)."""
    check_tensor("reduce", tensor)
    _check_group("reduce", group)
    comm = world("reduce")
    _root("reduce", "dst", dst, comm.size)
    mop = mpi_op("reduce", op, tensor)
    staged = Staged(tensor)
    mine = comm.rank == dst
    send = mpi().IN_PLACE if mine else staged.array
    request = comm.Ireduce(send, staged.array if mine else None, mop, root=dst)
    finish = _reduced(staged, op, comm.size) if mine else None
    return _run(async_op, "reduce", request, detail=tensor, finish=finish)


def broadcast(tensor: Tensor, src: int = 0, group: Any = None,
              async_op: bool = False) -> Work | None:  # fmt: skip
    """Copy rank `src`'s `tensor` into `tensor` on every rank.

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> x = mt.arange(3.0)
    >>> dist.broadcast(x, src=0)
    >>> x.tolist()
    [0.0, 1.0, 2.0]
    >>> dist.destroy_process_group()
    """
    check_tensor("broadcast", tensor)
    _check_group("broadcast", group)
    comm = world("broadcast")
    _root("broadcast", "src", src, comm.size)
    staged = Staged(tensor, read=comm.rank == src)
    request = comm.Ibcast(staged.array, root=src)
    finish = staged.written if comm.rank != src else None
    return _run(async_op, "broadcast", request, detail=tensor, finish=finish)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None,
               async_op: bool = False) -> Work | None:  # fmt: skip
    """Every rank's `tensor`, into ``tensor_list[rank]`` on every rank.

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> out = [mt.zeros(2) for _ in range(dist.get_world_size())]
    >>> dist.all_gather(out, mt.tensor([1.0, 2.0]))
    >>> out[0].tolist()
    [1.0, 2.0]
    >>> dist.destroy_process_group()
    """
    check_tensor("all_gather", tensor)
    _check_group("all_gather", group)
    comm = world("all_gather")
    outputs = _same("all_gather", "tensor_list", tensor_list, tensor, comm.size)
    staged = Staged(tensor)
    gathered = np.empty((comm.size, tensor.numel()), tensor.dtype.numpy)
    request = comm.Iallgather(staged.array, gathered)

    def finish() -> list[Tensor]:
        for t, row in zip(outputs, gathered, strict=True):
            _write(t, row)
        return outputs

    return _run(async_op, "all_gather", request, detail=tensor, finish=finish)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:  # fmt: skip
    """Every rank's `input_tensor`, concatenated along dim 0 (in rank order) into
    `output_tensor`, whose size is the world size times the input's."""
    check_tensor("all_gather_into_tensor", output_tensor, "output_tensor")
    check_tensor("all_gather_into_tensor", input_tensor, "input_tensor")
    _check_group("all_gather_into_tensor", group)
    comm = world("all_gather_into_tensor")
    _sized("all_gather_into_tensor", output_tensor, input_tensor, comm.size)
    out, staged = Staged(output_tensor, read=False), Staged(input_tensor)
    request = comm.Iallgather(staged.array, out.array)
    detail = f"output {describe(output_tensor)}, input {describe(input_tensor)}"
    return _run(async_op, "all_gather_into_tensor", request, detail=detail,
                finish=out.written, keep=staged)  # fmt: skip


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: Any = None, async_op: bool = False) -> Work | None:  # fmt: skip
    """Reduce ``input_list[i]`` across ranks with `op`, into `output` on rank i.

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> out = mt.zeros(2)
    >>> dist.reduce_scatter(out, [mt.ones(2)] * dist.get_world_size())
    >>> out.tolist() == [float(dist.get_world_size())] * 2
    True
    >>> dist.destroy_process_group()
    """
    check_tensor("reduce_scatter", output, "output")
    _check_group("reduce_scatter", group)
    comm = world("reduce_scatter")
    inputs = _same("reduce_scatter", "input_list", input_list, output, comm.size)
    mop = mpi_op("reduce_scatter", op, output)
    packed = np.stack([t.numpy().reshape(-1) for t in inputs]) if inputs else None
    out = Staged(output, read=False)
    request = comm.Ireduce_scatter_block(packed, out.array, mop)
    return _run(async_op, "reduce_scatter", request, detail=output,
                finish=_reduced(out, op, comm.size), keep=packed)  # fmt: skip


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group: Any = None, async_op: bool = False) -> Work | None:  # fmt: skip
    """Reduce `input` (the world size times `output`'s size along dim 0) across ranks
    with `op`; rank i gets the i-th block into `output`."""
    check_tensor("reduce_scatter_tensor", output, "output")
    check_tensor("reduce_scatter_tensor", input, "input")
    _check_group("reduce_scatter_tensor", group)
    comm = world("reduce_scatter_tensor")
    _sized("reduce_scatter_tensor", input, output, comm.size)
    mop = mpi_op("reduce_scatter_tensor", op, output)
    out, staged = Staged(output, read=False), Staged(input)
    request = comm.Ireduce_scatter_block(staged.array, out.array, mop)
    return _run(async_op, "reduce_scatter_tensor", request, detail=output,
                finish=_reduced(out, op, comm.size), keep=staged)  # fmt: skip


def _reduced(out: Staged, op: ReduceOp, size: int) -> Callable[[], None]:
    """What finishes a reduction into `out`: the average's division, the write-back."""
    if op is ReduceOp.AVG:

        def finish() -> None:
            out.divide(size)
            out.written()

        return finish
    return out.written


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int = 0,
           group: Any = None, async_op: bool = False) -> Work | None:  # fmt: skip
    """Every rank's `tensor` into ``gather_list`` on rank `dst` (only `dst` passes one).

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> out = [mt.zeros(1) for _ in range(dist.get_world_size())]
    >>> dist.gather(mt.tensor([7.0]), out, dst=0)
    >>> out[0].tolist()
    [7.0]
    >>> dist.destroy_process_group()
    """
    check_tensor("gather", tensor)
    _check_group("gather", group)
    comm = world("gather")
    _root("gather", "dst", dst, comm.size)
    mine = comm.rank == dst
    if mine:
        outputs = _same("gather", "gather_list", gather_list or [], tensor, comm.size)
    elif gather_list:
        raise ValueError("gather(): gather_list must be given on the destination rank only")
    staged = Staged(tensor)
    gathered = np.empty((comm.size, tensor.numel()), tensor.dtype.numpy) if mine else None
    request = comm.Igather(staged.array, gathered, root=dst)

    def finish() -> None:
        if mine:
            for t, row in zip(outputs, gathered, strict=True):
                _write(t, row)

    return _run(async_op, "gather", request, detail=tensor, finish=finish)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int = 0,
            group: Any = None, async_op: bool = False) -> Work | None:  # fmt: skip
    """``scatter_list[i]`` of rank `src` into `tensor` on rank i (only `src` passes a list).

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> x = mt.zeros(2)
    >>> dist.scatter(x, [mt.ones(2)] * dist.get_world_size(), src=0)
    >>> x.tolist()
    [1.0, 1.0]
    >>> dist.destroy_process_group()
    """
    check_tensor("scatter", tensor)
    _check_group("scatter", group)
    comm = world("scatter")
    _root("scatter", "src", src, comm.size)
    packed = None
    if comm.rank == src:
        inputs = _same("scatter", "scatter_list", scatter_list or [], tensor, comm.size)
        packed = np.stack([t.numpy().reshape(-1) for t in inputs])
    elif scatter_list:
        raise ValueError("scatter(): scatter_list must be given on the source rank only")
    out = Staged(tensor, read=False)
    request = comm.Iscatter(packed, out.array, root=src)
    return _run(async_op, "scatter", request, detail=tensor, finish=out.written, keep=packed)


def isend(tensor: Tensor, dst: int, group: Any = None, tag: int = 0) -> Work:
    """Start sending `tensor` to rank `dst`; the returned `Work` completes when the
    buffer may be reused."""
    check_tensor("isend", tensor)
    _check_group("isend", group)
    comm = world("isend")
    _root("isend", "dst", dst, comm.size)
    staged = Staged(tensor)
    request = comm.Isend(staged.array, dest=dst, tag=tag)
    return Work("isend", request, detail=tensor, keep=staged)


def irecv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0) -> Work:
    """Start receiving into `tensor` from rank `src` (None: any rank); `Work.source()`
    says who sent it."""
    check_tensor("irecv", tensor)
    _check_group("irecv", group)
    comm = world("irecv")
    source = mpi().ANY_SOURCE if src is None else _root("irecv", "src", src, comm.size)
    staged = Staged(tensor, read=False)
    request = comm.Irecv(staged.array, source=source, tag=tag)
    work = Work("irecv", request, detail=tensor, finish=staged.written)
    work._status = mpi().Status()
    return work


def send(tensor: Tensor, dst: int, group: Any = None, tag: int = 0) -> None:
    """Send `tensor` to rank `dst` (returns when the buffer may be reused)."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0) -> int:
    """Receive into `tensor` from rank `src` (None: any rank); returns the sender's rank."""
    work = irecv(tensor, src, group, tag)
    return work.source()


def broadcast_object_list(object_list: list[Any], src: int = 0, group: Any = None) -> None:
    """Replace `object_list`'s entries with rank `src`'s (pickled Python objects)."""
    _check_group("broadcast_object_list", group)
    comm = world("broadcast_object_list")
    _root("broadcast_object_list", "src", src, comm.size)
    object_list[:] = comm.bcast(list(object_list) if comm.rank == src else None, root=src)


def all_gather_object(object_list: list[Any], obj: Any, group: Any = None) -> None:
    """Every rank's `obj` into ``object_list[rank]`` (pickled Python objects)."""
    _check_group("all_gather_object", group)
    comm = world("all_gather_object")
    if len(object_list) != comm.size:
        raise ValueError(
            f"all_gather_object(): object_list has {len(object_list)} entries; it needs "
            f"one per rank ({comm.size})"
        )
    object_list[:] = comm.allgather(obj)


def _sized(op: str, big: Tensor, small: Tensor, size: int) -> None:
    ok = (
        big.dtype is small.dtype
        and big.numel() == size * small.numel()
        and (big.ndim == 0 or big.shape[1:] == small.shape[1:] or small.ndim == 0)
    )
    if not ok:
        raise ValueError(
            f"{op}(): the larger tensor ({describe(big)}) must hold {size} (the world size) "
            f"times the other ({describe(small)}), stacked along dim 0, with the same dtype"
        )


def _write(t: Tensor, row: np.ndarray) -> None:
    view = t._host_view()
    if view is not None:
        np.copyto(view, row.reshape(t.shape))
        t._storage.version += 1
    else:
        _write_host(t, row)
