"""mytensor.distributed under `mpiexec -n 2`: each test launches this file as an MPI
program (``python tests/test_distributed.py <program>``) and checks what it printed.

Launches are few and batch many checks (each pays two Python + mytensor imports).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

import mytensor as mt

HERE = Path(__file__).resolve()
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
try:
    import mpi4py  # noqa: F401

    MISSING = None if MPIEXEC else "mpiexec is not installed (pip install 'mytensor[mpi]')"
except ImportError:
    MISSING = "mpi4py is not installed (pip install 'mytensor[mpi]')"
needs_mpi = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


def launch(
    program: str, *args: str, ranks: int = 2, timeout: float = 90, script: Path = HERE
) -> subprocess.CompletedProcess:
    """Run `program_<program>(*args)` of `script` (a test file) on `ranks` MPI processes."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("MYTENSOR_BACKEND", None)
    command = [str(MPIEXEC), "-n", str(ranks), sys.executable, str(script), program, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def assert_ok(result: subprocess.CompletedProcess, ranks: int = 2) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    for rank in range(ranks):
        assert f"rank {rank} OK" in result.stdout, result.stdout + result.stderr


# -- the programs (run under mpiexec) ------------------------------------------------------
def _values(rank: int, dtype: str, shape: tuple[int, ...] = (3, 4)) -> np.ndarray:
    rng = np.random.default_rng(rank)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(1, 4, shape).astype(dtype)


def program_collectives() -> None:
    """Every collective, on both host backends, against numpy."""
    import mytensor.distributed as dist
    from mytensor.distributed import ReduceOp
    from mytensor.distributed._buffers import Staged

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    reference = {
        ReduceOp.SUM: np.sum, ReduceOp.PRODUCT: np.prod, ReduceOp.MIN: np.min,
        ReduceOp.MAX: np.max, ReduceOp.AVG: np.mean,
    }  # fmt: skip
    for backend in ("numpy_ref", "numba_cpu"):
        mt.set_backend(backend)
        for dtype in ("float32", "float64", "int64", "int32"):
            every = [_values(r, dtype) for r in range(world)]
            for op, ref in reference.items():
                if op is ReduceOp.AVG and dtype.startswith("int"):
                    continue
                x = mt.tensor(every[rank])
                dist.all_reduce(x, op=op)
                want = ref(np.stack(every), axis=0).astype(dtype)
                np.testing.assert_allclose(x.numpy(), want, rtol=1e-6, err_msg=f"{op} {dtype}")
        every = [_values(r, "float32") for r in range(world)]
        total = np.sum(np.stack(every), axis=0)
        # NaN propagates and 0.0 beats -0.0, whichever rank holds which
        x = mt.tensor([np.nan, -0.0, 1.0, -0.0] if rank == 0 else [1.0, 0.0, np.nan, -0.0])
        dist.all_reduce(x, op=ReduceOp.MAX)
        got = x.numpy()
        assert np.isnan(got[[0, 2]]).all() and got[3] == 0 and np.signbit(got[3]), got
        assert got[1] == 0 and not np.signbit(got[1]), got
        x = mt.tensor([-0.0, 0.0] if rank == 0 else [0.0, -0.0])
        dist.all_reduce(x, op=ReduceOp.MIN)
        assert np.signbit(x.numpy()).all(), x
        # bool: SUM is a logical or, PRODUCT a logical and
        b = mt.tensor([rank == 0, False, True])
        dist.all_reduce(b)
        assert b.tolist() == [True, False, True]
        # the host buffer goes to MPI as is; a strided view through a temporary, written back
        t = mt.zeros(5)
        assert np.shares_memory(Staged(t).array, t._storage.buffer)
        base = mt.tensor(every[rank].T.copy())
        before = base._storage.version
        dist.all_reduce(base.t())
        np.testing.assert_allclose(base.numpy(), total.T, rtol=1e-6)
        assert base._storage.version > before, "an in-place write moves the version"
        # broadcast, all_gather, all_gather_into_tensor
        x = mt.tensor(every[rank])
        dist.broadcast(x, src=world - 1)
        np.testing.assert_array_equal(x.numpy(), every[-1])
        out = [mt.zeros(3, 4) for _ in range(world)]
        dist.all_gather(out, mt.tensor(every[rank]))
        for o, e in zip(out, every, strict=True):
            np.testing.assert_array_equal(o.numpy(), e)
        big = mt.zeros(3 * world, 4)
        dist.all_gather_into_tensor(big, mt.tensor(every[rank]))
        np.testing.assert_array_equal(big.numpy(), np.concatenate(every))
        # reduce_scatter(_tensor): rank i gets the reduction of everyone's i-th block
        out = mt.zeros(3, 4)
        dist.reduce_scatter(out, [mt.tensor(every[rank] * (i + 1)) for i in range(world)])
        np.testing.assert_allclose(out.numpy(), total * (rank + 1), rtol=1e-6)
        stacked = [np.concatenate([e] * world) + r for r, e in enumerate(every)]
        out = mt.zeros(3, 4)
        dist.reduce_scatter_tensor(out, mt.tensor(stacked[rank]), op=ReduceOp.MAX)
        want = np.max(np.stack(stacked), axis=0)[3 * rank : 3 * rank + 3]
        np.testing.assert_array_equal(out.numpy(), want)
        # gather, scatter, reduce
        got = [mt.zeros(3, 4) for _ in range(world)] if rank == 0 else None
        dist.gather(mt.tensor(every[rank]), got, dst=0)
        if rank == 0:
            for o, e in zip(got, every, strict=True):
                np.testing.assert_array_equal(o.numpy(), e)
        s = mt.zeros(3, 4)
        dist.scatter(s, [mt.tensor(e) for e in every] if rank == 1 else None, src=1)
        np.testing.assert_array_equal(s.numpy(), every[rank])
        x = mt.tensor(every[rank])
        dist.reduce(x, dst=1)
        expected = total if rank == 1 else every[rank]
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
        # send / recv (any source) and the async forms
        if rank == 0:
            dist.send(mt.tensor(every[0]), dst=1, tag=3)
        else:
            y = mt.zeros(3, 4)
            assert dist.recv(y, tag=3) == 0
            np.testing.assert_array_equal(y.numpy(), every[0])
        x = mt.tensor(every[rank])
        work = dist.all_reduce(x, async_op=True)
        assert work.wait() and work.is_completed()
        np.testing.assert_allclose(x.numpy(), total, rtol=1e-6)
        objects = [None] * world
        dist.all_gather_object(objects, {"rank": rank})
        assert objects == [{"rank": r} for r in range(world)]
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank {rank} OK")


def program_raise() -> None:
    """Rank 1 raises while rank 0 waits in a collective: the job must end, not hang."""
    import mytensor.distributed as dist

    dist.init_process_group("mpi")
    if dist.get_rank() == 1:
        raise ValueError("boom from rank 1")
    dist.all_reduce(mt.ones(3))
    time.sleep(60)


def program_timeout() -> None:
    """Rank 1 never joins: rank 0's all_reduce times out, and that aborts the job."""
    import mytensor.distributed as dist

    dist.init_process_group("mpi", timeout=timedelta(seconds=1))
    if dist.get_rank() == 0:
        dist.all_reduce(mt.ones(3))
    time.sleep(60)


PROGRAMS = {name[len("program_"):]: f for name, f in dict(globals()).items()
            if name.startswith("program_")}  # fmt: skip


# -- the tests -----------------------------------------------------------------------------
@needs_mpi
def test_collectives_against_numpy() -> None:
    assert_ok(launch("collectives"))


@needs_mpi
def test_a_raising_rank_aborts_the_job() -> None:
    start = time.perf_counter()
    result = launch("raise", timeout=30)
    assert result.returncode != 0
    assert "ValueError: boom from rank 1" in result.stderr
    assert "rank 1 of 2 raised ValueError; aborting the whole MPI job" in result.stderr
    assert time.perf_counter() - start < 20


@needs_mpi
def test_a_collective_times_out_and_aborts() -> None:
    start = time.perf_counter()
    result = launch("timeout", timeout=30)
    assert result.returncode != 0
    assert "all_reduce(shape (3,), dtype float32" in result.stderr
    assert "timed out on rank 0 of 2" in result.stderr
    assert time.perf_counter() - start < 20


@needs_mpi
def test_a_world_of_one_without_mpiexec() -> None:
    import mytensor.distributed as dist

    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match=r"backend 'nccl' is not available.*backend='mpi'"):
        dist.init_process_group("nccl")
    dist.init_process_group()
    try:
        x = mt.tensor([1.0, -2.0])
        with pytest.raises(ValueError, match=r"ReduceOp.AVG is not defined for dtype int64"):
            dist.all_reduce(mt.tensor([1, 2]), op=dist.ReduceOp.AVG)
        with pytest.raises(ValueError, match=r"tensor_list has 3 tensors; it needs one per rank"):
            dist.all_gather([x, x, x], x)
        with pytest.raises(ValueError, match=r"src=3 is not a rank of this group \(0..0\)"):
            dist.broadcast(x, src=3)
        with pytest.raises(RuntimeError, match="already initialized"):
            dist.init_process_group()
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized() and sys.excepthook is sys.__excepthook__


@needs_mpi
def test_train_nproc_spawns_the_ranks(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mytensor.cli", "train", "points", "--epochs", "2",
               "--nproc", "2", "--out", str(tmp_path)]  # fmt: skip
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("== points:") == 1, "rank 0 alone reports"
    assert "backend numpy_ref, 2 ranks" in result.stdout
    assert "summary" in result.stdout
    state = mt.load(tmp_path / "points-spiral.safetensors")
    assert not any(name.startswith("module.") for name in state), "the plain model's names"


def test_import_mytensor_does_not_load_mpi() -> None:
    code = "import sys, mytensor, mytensor.distributed; print('mpi4py' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


if __name__ == "__main__":
    PROGRAMS[sys.argv[1]](*sys.argv[2:])
