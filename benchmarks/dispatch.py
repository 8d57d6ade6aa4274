"""Overhead and throughput of the core on a backend, beside numpy and PyTorch (if installed).

    python benchmarks/dispatch.py [--backend numpy_ref]

Prints medians over repeated runs and the ratios measured in this same run; it
asserts nothing (timings on shared machines are noisy, so they are reported, not tested).
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import mytensor as mt

try:
    import torch
except ImportError:  # PyTorch is an optional peer, never a dependency
    torch = None


def median_us(fn, number: int, repeat: int = 15) -> float:
    fn()  # warm up
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def row(label: str, ours: float, peers: dict[str, float | None]) -> None:
    parts = [f"{label:<34} mytensor {ours:9.2f} us"]
    for name, t in peers.items():
        if t is not None:
            parts.append(f"{name} {t:9.2f} us ({ours / t:5.2f}x)")
    print("   ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="numpy_ref")
    args = parser.parse_args()
    mt.set_backend(args.backend)
    print(f"backend {args.backend}; numpy {np.__version__}; torch "
          f"{torch.__version__ if torch else 'not installed'}")  # fmt: skip

    a = mt.tensor([1.0], requires_grad=True)
    b = mt.tensor([2.0], requires_grad=True)
    na, nb = np.ones(1, np.float32), np.ones(1, np.float32)
    ta = torch.ones(1, requires_grad=True) if torch else None
    tb = torch.ones(1, requires_grad=True) if torch else None
    row("1-element a + b, requires_grad", median_us(lambda: a + b, 20000),
        {"numpy": median_us(lambda: na + nb, 20000),
         "torch": median_us(lambda: ta + tb, 20000) if torch else None})  # fmt: skip

    n = 1_000_000
    x, y = mt.rand(n), mt.rand(n)
    nx, ny = x.numpy(), y.numpy()
    tx, ty = (torch.from_numpy(nx), torch.from_numpy(ny)) if torch else (None, None)
    for name, ours, ref, peer in [
        ("add", lambda: x + y, lambda: nx + ny, lambda: tx + ty),
        ("mul", lambda: x * y, lambda: nx * ny, lambda: tx * ty),
        ("exp", lambda: x.exp(), lambda: np.exp(nx), lambda: tx.exp()),
        ("sum", lambda: x.sum(), lambda: nx.sum(), lambda: tx.sum()),
    ]:
        peers = {"numpy": median_us(ref, 20), "torch": median_us(peer, 20) if torch else None}
        row(f"{name} on 1e6 float32", median_us(ours, 20), peers)


if __name__ == "__main__":
    main()
