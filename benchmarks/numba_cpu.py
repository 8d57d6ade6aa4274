"""The numba_cpu backend against plain numpy and PyTorch CPU, for every speed target of
its issue, measured in this same run.

    python benchmarks/numba_cpu.py [--quick]

Prints medians and the ratios mytensor/numpy and mytensor/torch (below 1 is faster),
each beside its target. It asserts nothing: timings on shared machines are noisy, so
they are reported, not tested. PyTorch is an optional peer (skipped when absent).
"""

from __future__ import annotations

import argparse
import operator
import os
import statistics
import subprocess
import sys
import tempfile
import timeit
from functools import partial

import numpy as np

import mytensor as mt
from mytensor.backends import numba_cpu

try:
    import torch
except ImportError:  # an optional peer, never a dependency
    torch = None


def median_ms(fn, repeat: int, number: int = 1) -> float:
    fn()  # warm up (and compile)
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e3


def report(label: str, ours: float, peers: dict[str, float | None], targets: dict[str, float]):
    parts = [f"{label:<38} mytensor {ours:9.3f} ms"]
    for name, t in peers.items():
        if t is None:
            continue
        ratio = ours / t
        target = targets.get(name)
        verdict = "" if target is None else (" met" if ratio <= target else " MISSED")
        goal = "" if target is None else f" <= {target}{verdict}"
        parts.append(f"{name} {t:9.3f} ms ({ratio:5.2f}x{goal})")
    print("   ".join(parts), flush=True)


def elementwise(repeat: int) -> None:
    ops = {"add": operator.add, "mul": operator.mul, "exp": None}
    for n, targets in ((10**7, {"numpy": 0.6}), (10**6, {"torch": 1.0})):
        rng = np.random.default_rng(0)
        na, nb = rng.random(n, np.float32), rng.random(n, np.float32)
        ours, plain = (mt.tensor(na), mt.tensor(nb)), (na, nb)
        peer = (torch.from_numpy(na), torch.from_numpy(nb)) if torch else None
        for name, fn in ops.items():
            if fn is None:  # exp of the first operand
                calls = [partial(t[0].exp) for t in (ours, peer) if t] + [partial(np.exp, na)]
            else:
                calls = [partial(fn, *t) for t in (ours, peer) if t] + [partial(fn, *plain)]
            ours_ms = median_ms(calls[0], repeat)
            peers = {"numpy": median_ms(calls[-1], repeat),
                     "torch": median_ms(calls[1], repeat) if torch else None}  # fmt: skip
            report(f"{name} 1e{len(str(n)) - 1} float32", ours_ms, peers, targets)


def reductions(repeat: int) -> None:
    nx = np.random.default_rng(0).random((4096, 4096), np.float32)
    x = mt.tensor(nx)
    tx = torch.from_numpy(nx) if torch else None
    for axis, target in ((1, 0.5), (0, 1.0)):
        peers = {"numpy": median_ms(lambda axis=axis: nx.sum(axis=axis), repeat),
                 "torch": median_ms(lambda axis=axis: tx.sum(dim=axis), repeat)
                 if torch else None}  # fmt: skip
        ours = median_ms(lambda axis=axis: x.sum(dim=axis), repeat)
        report(f"sum axis={axis} of (4096, 4096) float32", ours, peers, {"numpy": target})
    peers = {"numpy": median_ms(nx.sum, repeat), "torch": median_ms(tx.sum, repeat) if torch
             else None}  # fmt: skip
    report("sum of (4096, 4096) to a scalar", median_ms(x.sum, repeat), peers, {})


def matmuls(repeat: int) -> None:
    shapes = [((512, 512), (512, 512)), ((1024, 1024), (1024, 1024)),
              ((2048, 2048), (2048, 2048)), ((64, 128, 128), (64, 128, 128))]  # fmt: skip
    rng = np.random.default_rng(0)
    for sa, sb in shapes:
        na, nb = rng.random(sa, np.float32), rng.random(sb, np.float32)
        a, b = mt.tensor(na), mt.tensor(nb)
        ta, tb = (torch.from_numpy(na), torch.from_numpy(nb)) if torch else (None, None)
        reps = max(3, repeat // 4) if sa[-1] >= 2048 else repeat
        peers = {
            "numpy": median_ms(lambda na=na, nb=nb: na @ nb, reps),
            "torch": median_ms(lambda ta=ta, tb=tb: ta @ tb, reps) if torch else None,
        }
        report(f"matmul {sa} @ {sb}", median_ms(lambda a=a, b=b: a @ b, reps), peers,
               {"numpy": 1.1})  # fmt: skip


def conv(repeat: int) -> None:
    rng = np.random.default_rng(0)
    nx = rng.standard_normal((64, 16, 28, 28), np.float32)
    nw = rng.standard_normal((32, 16, 3, 3), np.float32)
    x = mt.tensor(nx, requires_grad=True)
    w = mt.tensor(nw, requires_grad=True)

    def ours():
        mt.conv2d(x, w, padding=1).sum().backward()

    peers = {}
    if torch:
        tx = torch.from_numpy(nx).requires_grad_()
        tw = torch.from_numpy(nw).requires_grad_()

        def peer():
            torch.nn.functional.conv2d(tx, tw, padding=1).sum().backward()

        peers["torch"] = median_ms(peer, repeat)
    with mt.use_backend("numpy_ref"):
        rx = mt.tensor(nx, requires_grad=True)
        rw = mt.tensor(nw, requires_grad=True)
        peers["numpy_ref"] = median_ms(lambda: mt.conv2d(rx, rw, padding=1).sum().backward(),
                                       max(3, repeat // 4))  # fmt: skip
    report("conv2d fwd+bwd (64,16,28,28)*(32,16,3,3)", median_ms(ours, repeat), peers,
           {"torch": 2.0})  # fmt: skip


def tiny_ops(repeat: int) -> None:
    """A tiny op runs the serial kernel; the parallel one pays a fork/join even when empty."""
    from mytensor.core.registry import get_backend

    impl = get_backend("numba_cpu").impl
    print(f"parallel threshold: {impl.parallel_threshold} elements, {impl.threads} threads")

    def add_us(x, y) -> float:
        return median_ms(lambda: x + y, repeat * 20, 20) * 1e3

    for n in (1, 1000, 8192, 32768, 131072):
        saved = impl.parallel_threshold
        serial = add_us(mt.ones(n), mt.ones(n))
        impl.parallel_threshold = 0
        parallel = add_us(mt.ones(n), mt.ones(n))
        impl.parallel_threshold = saved
        reference = add_us(mt.ones(n, backend="numpy_ref"), mt.ones(n, backend="numpy_ref"))
        plain = add_us(np.ones(n, np.float32), np.ones(n, np.float32))
        print(f"add n={n:<8} serial kernel {serial:8.2f} us   parallel kernel {parallel:8.2f} us"
              f"   numpy_ref backend {reference:8.2f} us   plain numpy {plain:8.2f} us",
              flush=True)  # fmt: skip


_FIRST_CALL = """
import time
t0 = time.perf_counter()
import mytensor as mt
mt.set_backend("numba_cpu")
x = mt.ones(1000)
t1 = time.perf_counter()
y = (x + x).sum()
y.item()
t2 = time.perf_counter()
z = (x + x).sum()
t3 = time.perf_counter()
print(f"{(t1 - t0) * 1e3:.0f} {(t2 - t1) * 1e3:.0f} {(t3 - t2) * 1e6:.0f}")
"""


def compile_times() -> None:
    """A cold numba cache (a fresh NUMBA_CACHE_DIR), then the same run again (warm)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold cache", "warm cache"):
            out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()  # fmt: skip
            print(f"first (x + x).sum(), {label}: import+load {out[0]} ms, first call "
                  f"{out[1]} ms, next call {out[2]} us", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    mt.set_backend("numba_cpu")
    print(f"numba_cpu vs numpy {np.__version__}, torch "
          f"{torch.__version__ + f' ({torch.get_num_threads()} threads)' if torch else 'absent'}"
          f"; {os.cpu_count()} CPUs")  # fmt: skip
    compile_times()
    elementwise(repeat)
    reductions(repeat)
    matmuls(repeat)
    conv(repeat)
    tiny_ops(repeat)
    print("caching allocator:", numba_cpu.memory_stats())


if __name__ == "__main__":
    main()
