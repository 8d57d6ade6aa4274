"""`mytensor.nn.parallel`: data-parallel training across processes (on MPI, through
`mytensor.distributed`).

>>> from mytensor import nn
>>> nn.parallel.DistributedDataParallel.__name__
'DistributedDataParallel'
"""

from mytensor.nn.parallel.distributed import DistributedDataParallel
from mytensor.nn.parallel.sync_batchnorm import SyncBatchNorm

__all__ = ["DistributedDataParallel", "SyncBatchNorm"]
