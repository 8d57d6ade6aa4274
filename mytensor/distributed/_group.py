"""The default process group: MPI's world communicator, its rank and size, the timeout
every collective waits under, and the excepthook that aborts the whole job when one rank
raises.

mpi4py is imported here only when `init_process_group` runs, so ``import mytensor``
never loads MPI.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from datetime import timedelta
from functools import cache
from typing import Any

__all__ = [
    "DistBackendError",
    "DistError",
    "barrier",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
]

# PyTorch's default for its CPU backends
DEFAULT_TIMEOUT = timedelta(minutes=30)


class DistError(RuntimeError):
    """Base class of the errors `mytensor.distributed` raises (PyTorch's name)."""


class DistBackendError(DistError):
    """A collective failed or timed out in MPI (PyTorch's name)."""


class _State:
    """The one default group: None until `init_process_group`."""

    comm: Any = None
    timeout: float = DEFAULT_TIMEOUT.total_seconds()
    previous_excepthook: Any = None


STATE = _State()


def is_available() -> bool:
    """True when mpi4py can be imported (the ``mpi`` extra is installed).

    >>> import mytensor.distributed as dist
    >>> isinstance(dist.is_available(), bool)
    True
    """
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


is_mpi_available = is_available


def init_process_group(
    backend: str | None = "mpi",
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    **unused: Any,
) -> None:
    """Join the job's default process group: MPI's world, whose rank and size come from
    the launcher (``mpiexec -n 4 python train.py``; a plain ``python train.py`` is a
    world of one). `timeout` bounds every blocking collective and `Work.wait`
    (default 30 minutes); a collective that runs past it raises `DistBackendError`.

    Also installs a ``sys.excepthook`` that prints the traceback and then calls
    ``MPI_Abort``, so an exception on one rank ends every rank instead of leaving them
    waiting in a collective.

    >>> import mytensor.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.is_initialized(), dist.get_world_size() >= 1
    (True, True)
    >>> dist.destroy_process_group()
    """
    if backend not in (None, "mpi"):
        raise ValueError(
            f"init_process_group(): backend {backend!r} is not available; mytensor runs its "
            "collectives on MPI: pass backend='mpi' and launch with `mpiexec -n N python ...`"
        )
    if STATE.comm is not None:
        raise RuntimeError(
            "init_process_group(): the default process group is already initialized; call "
            "destroy_process_group() first"
        )
    if timeout is not None and not isinstance(timeout, timedelta):
        raise TypeError(
            f"init_process_group(): timeout must be a datetime.timedelta, got {timeout!r}"
        )
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(
            "init_process_group(): mpi4py is not installed; pip install 'mytensor[mpi]' "
            "(mpi4py and the MPICH wheel, which provides mpiexec)"
        ) from error
    comm = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, comm.size), ("rank", rank, comm.rank)):
        if given not in (-1, None, actual):
            raise ValueError(
                f"init_process_group(): {name}={given} but the MPI launcher started this "
                f"process as {name} {actual}; leave {name} out (the launcher decides it)"
            )
    STATE.comm = comm
    STATE.timeout = (timeout or DEFAULT_TIMEOUT).total_seconds()
    STATE.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_exception


_FORWARD_SECONDS = 0.5


def _abort_on_exception(kind: type, value: BaseException, tb: Any) -> None:
    """Print the error as Python would, then end every rank of the job."""
    # one write, then a moment for mpiexec to forward it: Abort kills the launcher's
    # forwarding too, which on a busy machine dropped all but the traceback's first line
    sys.stdout.flush()
    sys.stderr.write(
        "".join(traceback.format_exception(kind, value, tb))
        + f"mytensor.distributed: rank {STATE.comm.rank} of {STATE.comm.size} raised "
        f"{kind.__name__}; aborting the whole MPI job\n"
    )
    sys.stderr.flush()
    time.sleep(_FORWARD_SECONDS)
    STATE.comm.Abort(1)


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group and restore ``sys.excepthook``. MPI itself stays up
    until the process exits (it cannot start twice), so `init_process_group` may be
    called again.

    >>> import mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> dist.destroy_process_group()
    >>> dist.is_initialized()
    False
    """
    _check_group("destroy_process_group", group)
    comm = world("destroy_process_group")
    if sys.excepthook is _abort_on_exception:
        sys.excepthook = STATE.previous_excepthook
    STATE.comm = None
    del comm


def is_initialized() -> bool:
    """Whether `init_process_group` has run (and `destroy_process_group` has not)."""
    return STATE.comm is not None


@cache
def mpi() -> Any:
    """The `mpi4py.MPI` module, imported on first use (mpi4py is an optional extra; an
    import statement in a collective cost 0.4 us per call)."""
    from mpi4py import MPI

    return MPI


def world(op: str) -> Any:
    """The world communicator, or PyTorch's error when there is no group."""
    comm = STATE.comm
    if comm is None:
        raise ValueError(
            f"{op}(): Default process group has not been initialized, please make sure to "
            "call init_process_group."
        )
    return comm


def _check_group(op: str, group: Any) -> None:
    if group is not None and group is not GroupMember.WORLD:
        raise ValueError(
            f"{op}(): only the default group (group=None) is supported; mytensor has no "
            "new_group() yet"
        )


class GroupMember:
    """PyTorch's ``dist.group.WORLD`` spelling of the default group."""

    WORLD = "WORLD"


def get_rank(group: Any = None) -> int:
    """This process's rank in the default group (0 .. world size - 1).

    >>> import mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> 0 <= dist.get_rank() < dist.get_world_size()
    True
    >>> dist.destroy_process_group()
    """
    _check_group("get_rank", group)
    return int(world("get_rank").rank)


def get_world_size(group: Any = None) -> int:
    """How many processes the default group has."""
    _check_group("get_world_size", group)
    return int(world("get_world_size").size)


def get_backend(group: Any = None) -> str:
    """The name of the group's backend: always ``"mpi"``."""
    _check_group("get_backend", group)
    world("get_backend")
    return "mpi"


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Any:
    """Wait until every rank has reached this call (within the group's timeout).

    >>> import mytensor.distributed as dist
    >>> dist.init_process_group()
    >>> dist.barrier()
    >>> dist.destroy_process_group()
    """
    from mytensor.distributed._work import Work

    _check_group("barrier", group)
    work = Work("barrier", world("barrier").Ibarrier(), detail="")
    if async_op:
        return work
    work.wait()
    return None


def cuda_aware() -> bool:
    """Whether MPI may be handed device (CUDA) buffers: mpi4py's answer where it has the
    query, else the ``MYTENSOR_MPI_CUDA_AWARE=1`` opt-in."""
    if os.environ.get("MYTENSOR_MPI_CUDA_AWARE") == "1":
        return True
    from mpi4py import MPI

    query = getattr(MPI, "Query_cuda_support", None)
    return bool(query()) if callable(query) else False
