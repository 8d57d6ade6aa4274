"""`mytensor.distributed.nn`: collectives that autograd differentiates through
(PyTorch's `torch.distributed.nn`)."""

from mytensor.distributed.nn import functional

__all__ = ["functional"]
