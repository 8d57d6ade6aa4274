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
import statistics
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


def report(label: str, ours: float, peer: float | None) -> None:
    line = f"  {label:<44} {ours:9.2f} ms"
    if peer is not None:
        line += f"   torch {peer:9.2f} ms   ratio {ours / peer:5.2f}x"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append", default=None)
    parser.add_argument("--steps", type=int, default=1000, help="steps of the memory check")
    args = parser.parse_args()
    names = args.backend or [b.name for b in mt.backends() if b.status != "broken"
                             and b.name != "minimal"]  # fmt: skip
    rng = np.random.default_rng(0)
    images = rng.standard_normal((128, 784)).astype(np.float32)
    lenet_images = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    split = mt.data.datasets.split(50, seed=0)
    if torch is not None:
        torch.set_num_threads(2)
        torch.manual_seed(0)
        t_mlp = median_ms(torch_step(torch_mlp(), torch.from_numpy(images),
                                     torch.from_numpy(labels)), 30)  # fmt: skip
        t_lenet = median_ms(torch_step(torch_lenet(), torch.from_numpy(lenet_images),
                                       torch.from_numpy(labels[:64])), 20)  # fmt: skip
        t_model = torch.nn.Sequential(
            torch.nn.Linear(2, 100), torch.nn.ReLU(), torch.nn.Linear(100, 100),
            torch.nn.ReLU(), torch.nn.Linear(100, 2),
        )  # fmt: skip
        t_x, t_y = torch.from_numpy(split.X.numpy()), torch.from_numpy(split.y.numpy())
        t_sgd = torch.optim.SGD(t_model.parameters(), lr=0.05)
        t_epoch = median_ms(
            minitorch_epoch(t_x, t_y, t_model, t_sgd, torch.nn.CrossEntropyLoss()), 30
        )
    else:
        t_mlp = t_lenet = t_epoch = None
    print(f"torch {torch.__version__ if torch else 'not installed'}; numpy {np.__version__}")
    for name in names:
        mt.set_backend(name)
        mt.manual_seed(0)
        print(f"backend {name}")
        mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                            nn.Linear(256, 10))  # fmt: skip
        x, y = mt.tensor(images), mt.tensor(labels)
        step = mt_step(mlp, x, y)
        report("MLP 784-256-256-10, batch 128, one step", median_ms(step, 30), t_mlp)
        report("LeNet, batch 64 (1x28x28), one step",
               median_ms(mt_step(lenet(28), mt.tensor(lenet_images), mt.tensor(labels[:64])), 10),
               t_lenet)  # fmt: skip
        model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                              nn.Linear(100, 2))  # fmt: skip
        epoch = minitorch_epoch(mt.tensor(split.X.numpy()), mt.tensor(split.y.numpy()), model,
                                mt.optim.SGD(model.parameters(), lr=0.05), nn.CrossEntropyLoss())
        report("minitorch speed test: one epoch (split, 50 pts)", median_ms(epoch, 30), t_epoch)
        gc.collect()
        tracemalloc.start()
        for i in range(args.steps):
            step()
            if i == 99:
                gc.collect()
                after_warmup = tracemalloc.get_traced_memory()[0]
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - after_warmup
        tracemalloc.stop()
        print(f"  live Python memory growth over steps 100..{args.steps}: {growth / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
