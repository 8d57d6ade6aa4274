"""What data parallelism over MPI costs and buys (a script, not an asv benchmark: it
launches MPI jobs). Run ``python benchmarks/distributed.py`` from the checkout:

1. all_reduce bandwidth: `mytensor.distributed.all_reduce` on a float32 tensor beside
   raw mpi4py ``Allreduce`` on a numpy buffer of the same size, 1 KB .. 64 MB, 2 ranks;
2. the digits CNN (``mytensor train digits``): 2 ranks x 1 thread vs 1 rank x 1 thread,
   throughput and test accuracy;
3. the digits CNN's training step alone, 1 vs 2 ranks, at global batches 32 to 512;
4. the bucketed overlap: DistributedDataParallel's step time on a deep MLP with buckets
   started during backward, vs one bucket reduced after backward.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
MPIEXEC = str(Path(sys.executable).with_name("mpiexec"))
ENV = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")


def _median_seconds(run, budget: float = 0.3) -> float:
    run()  # warm up
    times: list[float] = []
    deadline = time.perf_counter() + budget
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 2000):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def rank_bandwidth() -> None:
    """(under mpiexec) all_reduce bandwidth, both ways, for each size."""
    from mpi4py import MPI

    import mytensor as mt
    import mytensor.distributed as dist

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    for size in [2**k for k in range(10, 27, 2)]:
        array = np.ones(size // 4, np.float32)
        tensor = mt.ones(size // 4)

        def raw(array=array) -> None:
            comm.Allreduce(MPI.IN_PLACE, array, MPI.SUM)

        def ours(tensor=tensor) -> None:
            dist.all_reduce(tensor)

        # the ranks agree on every measurement's length: rank 0's budget decides
        raw_s, ours_s = _median_seconds(raw), _median_seconds(ours)
        raw_s, ours_s = comm.allreduce(raw_s, MPI.MAX), comm.allreduce(ours_s, MPI.MAX)
        if comm.rank == 0:
            print(f"| {_bytes(size)} | {size / raw_s / 1e6:,.0f} | {size / ours_s / 1e6:,.0f} "
                  f"| {raw_s / ours_s:.2f} |", flush=True)  # fmt: skip


def _slowest(seconds: float) -> float:
    from mpi4py import MPI

    return MPI.COMM_WORLD.allreduce(seconds, MPI.MAX)


def rank_steps() -> None:
    """(under mpiexec -n 1 or 2) the digits CNN's training step in steady state (no
    data loading, evaluation or warm-up), per global batch size, on numba_cpu."""
    import mytensor as mt
    import mytensor.distributed as dist
    from mytensor import nn
    from mytensor.training import lenet

    dist.init_process_group("mpi")
    world = dist.get_world_size()
    for batch in (32, 128, 512):
        mt.manual_seed(0)
        model = lenet(8).to("numba_cpu")
        if world > 1:
            model = nn.parallel.DistributedDataParallel(model)
        optimizer = mt.optim.Adam(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(dist.get_rank())
        x = mt.tensor(
            rng.standard_normal((batch // world, 1, 8, 8), np.float32), device="numba_cpu"
        )
        y = mt.tensor(rng.integers(0, 10, batch // world), device="numba_cpu")

        def step(model=model, optimizer=optimizer, x=x, y=y) -> None:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

        # the ranks agree on the figure: the slower one's
        seconds = _slowest(_median_seconds(step, budget=1.0))
        if dist.get_rank() == 0:
            print(f"| {batch} | {world} | {batch // world} | {seconds * 1e3:.2f} "
                  f"| {batch / seconds:,.0f} |", flush=True)  # fmt: skip


def rank_overlap() -> None:
    """(under mpiexec) DDP step time on a deep MLP: bucketed overlap vs one late bucket."""
    import mytensor as mt
    import mytensor.distributed as dist
    from mytensor import nn
    from mytensor.nn.parallel import distributed as ddp

    dist.init_process_group("mpi")
    for name, cap in (("1 MB, then 25 MB buckets, during backward", None),
                      ("one bucket, after backward", 1e6)):  # fmt: skip
        if cap is not None:  # the first bucket too: nothing starts before backward ends
            ddp._FIRST_BUCKET_MB = cap
        mt.manual_seed(0)
        layers = [m for _ in range(8) for m in (nn.Linear(512, 512), nn.ReLU())]
        model = nn.parallel.DistributedDataParallel(nn.Sequential(*layers), bucket_cap_mb=cap)
        x = mt.randn(64, 512)

        def step(model=model, x=x) -> None:
            model.zero_grad()
            model(x).square().mean().backward()

        seconds = _median_seconds(step, budget=2.0)
        if dist.get_rank() == 0:
            grads = sum(p.numel() for p in model.parameters()) * 4
            print(f"| {name} | {len(model.reducer.buckets)} | {grads / 2**20:.1f} MB "
                  f"| {seconds * 1e3:.1f} |", flush=True)  # fmt: skip


def _bytes(n: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"


def _digits(nproc: int, backend: str, epochs: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "mytensor.cli", "train", "digits", "--epochs",
                   str(epochs), "--backend", backend, "--out", out,
                   "--nproc", str(nproc)]  # fmt: skip
        text = subprocess.run(command, capture_output=True, text=True, env=ENV, check=True).stdout
    line = re.search(r"digits\s+test accuracy\s+([\d.]+)%\s+([\d,]+) samples/s", text)
    if line is None:
        raise RuntimeError(f"no summary line in:\n{text}")
    return float(line.group(1)), float(line.group(2).replace(",", ""))


def main() -> None:
    print(f"{os.cpu_count()} CPUs; {sys.version.split()[0]}\n")
    print("all_reduce, 2 ranks (MB/s = bytes / time)\n")
    print("| size | mpi4py Allreduce MB/s | mytensor all_reduce MB/s | ratio |")
    print("| --- | --- | --- | --- |", flush=True)
    subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(HERE), "bandwidth"], env=ENV,
                   check=True)  # fmt: skip
    print("\ndigits CNN (`mytensor train digits`), 1 thread per rank, global batch 32\n")
    print("| backend | ranks | samples/s | test accuracy |")
    print("| --- | --- | --- | --- |", flush=True)
    for backend in ("numpy_ref", "numba_cpu"):
        for nproc in (1, 2):
            accuracy, rate = _digits(nproc, backend, epochs=5)
            print(f"| {backend} | {nproc} | {rate:,.0f} | {accuracy:.1f}% |", flush=True)
    print("\ndigits CNN training step on numba_cpu, steady state (no loading, evaluation or "
          "warm-up), 1 thread per rank\n")  # fmt: skip
    print("| global batch | ranks | batch per rank | ms per step | samples/s |")
    print("| --- | --- | --- | --- | --- |", flush=True)
    for nproc in (1, 2):
        subprocess.run([MPIEXEC, "-n", str(nproc), sys.executable, str(HERE), "steps"],
                       env=ENV, check=True)  # fmt: skip
    print("\nDistributedDataParallel step (forward + backward + reduction), 8 x Linear(512, "
          "512), batch 64 per rank, 2 ranks\n")  # fmt: skip
    print("| reduction | buckets | gradients | ms per step |")
    print("| --- | --- | --- | --- |", flush=True)
    subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(HERE), "overlap"], env=ENV,
                   check=True)  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1:
        {"bandwidth": rank_bandwidth, "steps": rank_steps, "overlap": rank_overlap}[sys.argv[1]]()
    else:
        main()
