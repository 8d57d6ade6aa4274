"""`mytensor.distributed`: processes that train one model together, on MPI.

PyTorch's names and semantics: `init_process_group` (backend ``"mpi"``: rank and world
size come from the launcher, ``mpiexec -n 4 python train.py``), `get_rank`,
`get_world_size`, `barrier`, and the collectives on tensors of any backend:
`all_reduce`, `broadcast`, `all_gather`, `reduce_scatter`, `gather`, `scatter`,
`send`/`recv`, each returning a `Work` handle with ``async_op=True``. Host backends hand
their own memory to MPI (no copy). `mytensor.nn.parallel.DistributedDataParallel`
averages gradients with them; `mytensor.data.distributed.DistributedSampler` shards the
data. See docs/distributed.md.

mpi4py (``pip install 'mytensor[mpi]'``) is imported only by `init_process_group`.

>>> import mytensor as mt, mytensor.distributed as dist
>>> dist.init_process_group("mpi")  # plain `python`: a world of one
>>> x = mt.tensor([1.0, 2.0])
>>> dist.all_reduce(x, op=dist.ReduceOp.SUM)
>>> x.tolist() if dist.get_world_size() == 1 else None
[1.0, 2.0]
>>> dist.destroy_process_group()
"""

from mytensor.distributed._buffers import ReduceOp
from mytensor.distributed._group import (
    DistBackendError,
    DistError,
    GroupMember,
    barrier,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)
from mytensor.distributed._work import Work
from mytensor.distributed.collectives import (
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    broadcast,
    broadcast_object_list,
    gather,
    irecv,
    isend,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    send,
)

group = GroupMember  # PyTorch's `dist.group.WORLD`

__all__ = [
    "DistBackendError",
    "DistError",
    "GroupMember",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "get_backend",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "isend",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]
