"""Training-step costs on each installed CPU backend beside PyTorch CPU (when installed).

    python benchmarks/training.py [--backend NAME ...] [--steps N]

Prints medians and ratios measured in the same run; asserts nothing.
Workloads: one step of an MLP 784-256-256-10 (batch 128) and of the LeNet-style CNN
(batch 64, 28x28); the minitorch course's speed test (split set of 50 points, hidden
layers of 100, batch 10, SGD lr 0.05: time per epoch); live-memory growth over 1000 steps.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import mytensor as mt
from mytensor import nn
from mytensor.training import lenet

try:
    import torch
except ImportError:  # PyTorch is an optional peer, never a dependency
    torch = None


def median_ms(step, repeat: int) -> float:
    step()
    step()  # warm up (JIT compilation, allocator)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def mt_step(model, x, y, lr=0.01):
    optimizer = mt.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


def torch_step(model, x, y, lr=0.01):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


def torch_mlp():
    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
        torch.nn.ReLU(), torch.nn.Linear(256, 10),
    )  # fmt: skip


def torch_lenet():
    t = torch.nn
    return t.Sequential(
        t.Conv2d(1, 16, 3, padding=1), t.ReLU(), t.MaxPool2d(2),
        t.Conv2d(16, 32, 3, padding=1), t.ReLU(), t.MaxPool2d(2), t.Flatten(),
        t.Linear(32 * 7 * 7, 64), t.ReLU(), t.Linear(64, 10),
    )  # fmt: skip


def minitorch_epoch(x, y, model, optimizer, loss_fn, batch=10):
    """One epoch of the course's loop: SGD over batches of 10 of the 50 split points."""

    def epoch():
        for i in range(0, len(y), batch):
            optimizer.zero_grad()
            loss_fn(model(x[i : i + batch]), y[i : i + batch]).backward()
            optimizer.step()

    return epoch


def measure_torch() -> dict[str, float]:
    """Torch's figures (its OpenMP pool would contend with ours, hence its own process)."""
    torch.set_num_threads(2)
    torch.manual_seed(0)
    images, lenet_images, labels, split = _inputs()
    t = torch.nn
    model = t.Sequential(t.Linear(2, 100), t.ReLU(), t.Linear(100, 100), t.ReLU(), t.Linear(100, 2))
    x, y = torch.from_numpy(split.X.numpy()), torch.from_numpy(split.y.numpy())
    epoch = minitorch_epoch(x, y, model, torch.optim.SGD(model.parameters(), lr=0.05),
                            t.CrossEntropyLoss())  # fmt: skip
    return {
        "mlp": median_ms(
            torch_step(torch_mlp(), torch.from_numpy(images), torch.from_numpy(labels)), 30
        ),
        "lenet": median_ms(
            torch_step(
                torch_lenet(), torch.from_numpy(lenet_images), torch.from_numpy(labels[:64])
            ),
            20,
        ),
        "epoch": median_ms(epoch, 30),
    }


def measure_backend(name: str, steps: int) -> dict[str, float]:
    mt.set_backend(name)
    mt.manual_seed(0)
    images, lenet_images, labels, split = _inputs()
    mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 10))  # fmt: skip
    step = mt_step(mlp, mt.tensor(images), mt.tensor(labels))
    model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                          nn.Linear(100, 2))  # fmt: skip
    epoch = minitorch_epoch(
        mt.tensor(split.X.numpy()),
        mt.tensor(split.y.numpy()),
        model,
        mt.optim.SGD(model.parameters(), lr=0.05),
        nn.CrossEntropyLoss(),
    )
    lenet_step = mt_step(lenet(28), mt.tensor(lenet_images), mt.tensor(labels[:64]))
    figures = {"mlp": median_ms(step, 30), "lenet": median_ms(lenet_step, 10),
               "epoch": median_ms(epoch, 30)}  # fmt: skip
    gc.collect()
    tracemalloc.start()
    after_warmup = 0
    for i in range(steps):
        step()
        if i == min(99, steps - 1):
            gc.collect()
            after_warmup = tracemalloc.get_traced_memory()[0]
    gc.collect()
    figures["growth_kib"] = (tracemalloc.get_traced_memory()[0] - after_warmup) / 1024
    tracemalloc.stop()
    return figures


def _inputs():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((128, 784)).astype(np.float32)
    lenet_images = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    return images, lenet_images, labels, mt.data.datasets.split(50, seed=0)


ROWS = [
    ("mlp", "MLP 784-256-256-10, batch 128, one step"),
    ("lenet", "LeNet, batch 64 (1x28x28), one step"),
    ("epoch", "minitorch speed test: one epoch (split, 50 pts)"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append", default=None)
    parser.add_argument("--steps", type=int, default=1000, help="steps of the memory check")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        figures = measure_torch() if args.worker == "torch" else measure_backend(
            args.worker, args.steps)  # fmt: skip
        print(json.dumps(figures))
        return
    names = args.backend or [b.name for b in mt.backends() if b.status != "broken"
                             and b.name != "minimal"]  # fmt: skip

    def run(worker: str) -> dict[str, float]:
        command = [sys.executable, __file__, "--worker", worker, "--steps", str(args.steps)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        return json.loads(result.stdout.strip().splitlines()[-1])

    peer = run("torch") if torch is not None else {}
    print(f"torch {torch.__version__ if torch else 'not installed'}; numpy {np.__version__}; "
          "each framework in its own process")  # fmt: skip
    for name in names:
        figures = run(name)
        print(f"backend {name}")
        for key, label in ROWS:
            line = f"  {label:<48} {figures[key]:9.2f} ms"
            if key in peer:
                line += f"   torch {peer[key]:8.2f} ms   ratio {figures[key] / peer[key]:5.2f}x"
            print(line)
        print(f"  live Python memory growth over steps 100..{args.steps}: "
              f"{figures['growth_kib']:.1f} KiB")  # fmt: skip


if __name__ == "__main__":
    main()
