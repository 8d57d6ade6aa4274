"""Differentiable collectives (PyTorch's `torch.distributed.nn.functional`): out of
place, so a graph can run through them. `nn.SyncBatchNorm` builds on `all_reduce`."""

from __future__ import annotations

from typing import Any

from mytensor.autograd import Function, FunctionCtx
from mytensor.core.tensor import Tensor
from mytensor.distributed import collectives
from mytensor.distributed._buffers import ReduceOp, check_tensor

__all__ = ["all_reduce"]


class _AllReduceSum(Function):
    # the sum over ranks is linear: every rank's gradient is the sum of the gradients
    # that all ranks' losses send back to the summed value
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        out = x.clone()
        collectives.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        out = grad.clone()
        collectives.all_reduce(out)
        return out


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None) -> Tensor:
    """The sum of `tensor` over all ranks, as a new tensor that gradients flow through
    (backward sums the incoming gradients over ranks). Only ``ReduceOp.SUM``.

    >>> import mytensor as mt, mytensor.distributed as dist
    >>> from mytensor.distributed.nn.functional import all_reduce
    >>> dist.init_process_group()
    >>> x = mt.tensor([2.0], requires_grad=True)
    >>> (all_reduce(x) * 3).sum().backward()
    >>> x.grad.tolist() == [3.0 * dist.get_world_size()]
    True
    >>> dist.destroy_process_group()
    """
    check_tensor("distributed.nn.functional.all_reduce", tensor)
    if op is not ReduceOp.SUM:
        raise ValueError(
            f"distributed.nn.functional.all_reduce(): only ReduceOp.SUM is differentiable "
            f"here, got {op!r}"
        )
    if group is not None:
        raise ValueError("distributed.nn.functional.all_reduce(): only the default group")
    return _AllReduceSum.apply(tensor)
