"""The main job: train the three reference models end to end and report what they learn.

`mytensor train` calls `run_task` for each task; `examples/` shows the same models and
the `fit` loop used directly. Models are plain `nn` modules, the loop is the usual one
(zero_grad, forward, loss, backward, step), and everything runs on whichever backend is
current (``--backend`` / ``MYTENSOR_BACKEND``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import mytensor as mt
from mytensor import nn
from mytensor.data import DataLoader, Dataset, datasets
from mytensor.data.distributed import DistributedSampler

__all__ = [
    "TASKS",
    "GlobalMaxPool1d",
    "History",
    "Rescale",
    "conv1d_net",
    "evaluate",
    "fit",
    "lenet",
    "mlp",
    "run_task",
]


# -- models --------------------------------------------------------------------------------
def mlp(in_features: int = 2, hidden: int = 64, classes: int = 2, depth: int = 2) -> nn.Module:
    """A ReLU multi-layer perceptron.

    >>> mlp(2, 16, 2)(mt.zeros(4, 2)).shape
    (4, 2)
    """
    layers: list[nn.Module] = []
    width = in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, classes))


class Rescale(nn.Module):
    """``(x - center) * scale``: puts the unit square's points around 0, where ReLU
    layers train well."""

    def __init__(self, center: float, scale: float) -> None:
        super().__init__()
        self.center, self.scale = center, scale

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return (x - self.center) * self.scale

    def extra_repr(self) -> str:
        return f"center={self.center}, scale={self.scale}"


def lenet(image_size: int = 8, classes: int = 10, in_channels: int = 1) -> nn.Module:
    """A LeNet-style CNN: two conv + max-pool stages, then two linear layers.

    >>> lenet(8)(mt.zeros(2, 1, 8, 8)).shape
    (2, 10)
    """
    after_pools = image_size // 4
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * after_pools * after_pools, 64), nn.ReLU(),
        nn.Linear(64, classes),
    )  # fmt: skip


class GlobalMaxPool1d(nn.Module):
    """The largest activation of each channel over the whole sequence: "was the motif
    anywhere?", which is the question the sequence task asks."""

    def forward(self, x: mt.Tensor) -> mt.Tensor:
        return x.amax(dim=-1)


def conv1d_net(classes: int = 4, in_channels: int = 1) -> nn.Module:
    """A 1-d CNN that finds a motif wherever it sits: two convs, then global max pooling.

    >>> conv1d_net(4)(mt.zeros(2, 1, 64)).shape
    (2, 4)
    """
    return nn.Sequential(
        nn.Conv1d(in_channels, 16, 9, padding=4), nn.ReLU(),
        nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(),
        GlobalMaxPool1d(),
        nn.Linear(32, classes),
    )  # fmt: skip


# -- the loop ------------------------------------------------------------------------------
@dataclass
class History:
    """Per-epoch figures of one training run."""

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    samples_per_second: list[float] = field(default_factory=list)


def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256) -> float:
    """Classification accuracy of `model` on `dataset` (eval mode, no graph)."""
    model.eval()
    correct = total = 0
    with mt.no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size):
            correct += int((model(x).argmax(dim=1) == y).sum().item())
            total += len(y)
    model.train()
    return correct / max(total, 1)


def fit(
    model: nn.Module,
    train_set: Dataset,
    test_set: Dataset,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool = True,
    distributed: bool = False,
) -> History:
    """Train `model` with Adam and cross-entropy; returns the per-epoch history.

    With `distributed` (under ``mpiexec``, process group initialized), each rank trains a
    DistributedDataParallel replica on its DistributedSampler shard with batch_size /
    world size, so the global batch stays `batch_size`; the figures cover all ranks.
    One process shuffles by the same rule (a sampler of one replica): when the ranks
    divide both `batch_size` and the number of training samples (else the sampler pads
    each rank's share), N ranks together train on exactly the batches one process does
    and end with the same parameters, up to float rounding.
    """
    mt.manual_seed(seed)
    world = mt.distributed.get_world_size() if distributed else 1
    sampler = DistributedSampler(train_set, num_replicas=world,
                                 rank=mt.distributed.get_rank() if distributed else 0,
                                 shuffle=True, seed=seed)  # fmt: skip
    per_rank = max(1, batch_size // world)
    loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler)
    if distributed:
        model = nn.parallel.DistributedDataParallel(model)
        progress = progress and mt.distributed.get_rank() == 0
    optimizer = mt.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = mt.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = History()
    for epoch in range(1, epochs + 1):
        sampler.set_epoch(epoch)
        start, seen, loss_sum, correct = time.perf_counter(), 0, 0.0, 0
        for step, (x, y) in enumerate(loader, 1):
            optimizer.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(dim=1) == y).sum().item())
            if progress:
                rate = seen / (time.perf_counter() - start)
                _bar(epoch, epochs, step / len(loader), loss_sum / seen, correct / seen, rate)
        schedule.step()
        if distributed:  # every rank's samples
            seen, loss_sum, correct = _summed(seen, loss_sum, correct)
        history.loss.append(loss_sum / seen)
        history.train_accuracy.append(correct / seen)
        history.samples_per_second.append(seen / (time.perf_counter() - start))
        history.test_accuracy.append(evaluate(model, test_set))
        if progress:
            _bar(epoch, epochs, 1.0, history.loss[-1], correct / seen,
                 history.samples_per_second[-1], history.test_accuracy[-1])  # fmt: skip
    return history


def _summed(*values: float) -> list[float]:
    total = mt.tensor(values, dtype=mt.float64)
    mt.distributed.all_reduce(total)
    return total.tolist()


def _bar(epoch, epochs, done, loss, accuracy, rate, test_accuracy=None) -> None:
    width = 20
    filled = "#" * round(done * width)
    line = (
        f"\repoch {epoch:3d}/{epochs} [{filled:<{width}}] loss {loss:.4f}  "
        f"accuracy {accuracy:6.1%}  {rate:8,.0f} samples/s"
    )
    if test_accuracy is not None:
        line += f"  test accuracy {test_accuracy:6.1%}\n"
    if test_accuracy is not None or sys.stdout.isatty():
        sys.stdout.write(line)
        sys.stdout.flush()


# -- tasks ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """A dataset, a model and the hyper-parameters that train it well."""

    name: str
    description: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.0


TASKS = {
    "points": Task("points", "an MLP on a 2-D point set (--dataset; spiral)", 100, 32, 0.02),
    "digits": Task("digits", "a LeNet-style CNN on scikit-learn's 8x8 digits", 15, 32, 0.003),
    "mnist": Task("mnist", "the LeNet-style CNN on MNIST IDX files (--data DIR)", 3, 64, 0.002),
    "sequences": Task("sequences", "a Conv1d model on the motif sequence set", 12, 32, 0.01),
}


def _datasets(task: str, options: dict[str, Any]) -> tuple[Dataset, Dataset, nn.Module]:
    if task == "points":
        name = options.get("dataset") or "spiral"
        n = options.get("n") or 400
        train = datasets.points(name, n, seed=0)
        test = datasets.points(name, n // 2, seed=1)
        return train, test, nn.Sequential(Rescale(0.5, 4.0), mlp(2, 64, 2))
    if task == "digits":
        return datasets.Digits(train=True), datasets.Digits(train=False), lenet(8)
    if task == "mnist":
        root = options.get("data")
        return datasets.MNIST(root, train=True), datasets.MNIST(root, train=False), lenet(28)
    if task == "sequences":
        train = datasets.MotifSequences(1000, seed=0)
        test = datasets.MotifSequences(400, train=False, seed=0)
        return train, test, conv1d_net(4)
    raise ValueError(f"train: unknown task {task!r}; choose from {', '.join(TASKS)}")


def run_task(task: str, out_dir: Path, options: dict[str, Any] | None = None) -> dict:
    """Train one task, save its checkpoint and plots into `out_dir`; returns a summary."""
    options = options or {}
    spec = TASKS[task]
    distributed = bool(options.get("distributed"))
    if distributed and not mt.distributed.is_initialized():
        mt.distributed.init_process_group("mpi")
    main = not distributed or mt.distributed.get_rank() == 0  # rank 0 prints and saves
    mt.manual_seed(options.get("seed", 0))
    train_set, test_set, model = _datasets(task, options)
    epochs = options.get("epochs") or spec.epochs
    ranks = f", {mt.distributed.get_world_size()} ranks" if distributed else ""
    if main:
        print(f"== {task}: {spec.description}; {len(train_set)} training samples, "
              f"{sum(p.numel() for p in model.parameters()):,} parameters, backend "
              f"{mt.zeros(1).backend}{ranks}")  # fmt: skip
    history = fit(
        model, train_set, test_set, epochs=epochs, batch_size=spec.batch_size, lr=spec.lr,
        weight_decay=spec.weight_decay, seed=options.get("seed", 0), distributed=distributed,
    )  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    label = task if task != "points" else f"points-{options.get('dataset') or 'spiral'}"
    checkpoint = out_dir / f"{label}.safetensors"
    plots: list[Path] = []
    if main:  # the replicas are equal: one checkpoint, loadable at any world size
        mt.save(model.state_dict(), checkpoint)
        plots = _plot(label, history, out_dir, model if task == "points" else None, test_set)
    summary = {
        "task": label,
        "test_accuracy": history.test_accuracy[-1],
        "samples_per_second": float(np.median(history.samples_per_second)),
        "checkpoint": str(checkpoint),
        "plots": [str(p) for p in plots],
    }
    if main:
        print(f"   final test accuracy {summary['test_accuracy']:.1%}; saved {checkpoint}"
              + (f" and {', '.join(summary['plots'])}" if plots else ""))  # fmt: skip
    return summary


def _plot(label, history: History, out_dir: Path, model, test_set) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("   (no plots: matplotlib is missing; pip install 'mytensor[examples]')")
        return []
    panels = 3 if model is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6))
    epochs = range(1, len(history.loss) + 1)
    axes[0].plot(epochs, history.loss)
    axes[0].set(title="training loss", xlabel="epoch")
    axes[1].plot(epochs, history.train_accuracy, label="train")
    axes[1].plot(epochs, history.test_accuracy, label="test")
    axes[1].set(title="accuracy", xlabel="epoch", ylim=(0, 1.02))
    axes[1].legend()
    if model is not None:
        _decision_boundary(axes[2], model, test_set)
    fig.suptitle(f"{label} on {mt.zeros(1).backend}")
    fig.tight_layout()
    path = out_dir / f"{label}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def _decision_boundary(axis, model: nn.Module, test_set) -> None:
    steps = 120
    grid = np.stack(np.meshgrid(np.linspace(0, 1, steps), np.linspace(0, 1, steps)), -1)
    model.eval()
    with mt.no_grad():
        probs = model(mt.tensor(grid.reshape(-1, 2), dtype=mt.float32)).softmax(dim=1)
    model.train()
    axis.contourf(grid[..., 0], grid[..., 1], probs[:, 1].numpy().reshape(steps, steps),
                  levels=20, cmap="RdBu_r", alpha=0.6)  # fmt: skip
    x, y = test_set.X.numpy(), test_set.y.numpy()
    axis.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=14)
    axis.set(title="decision boundary (test points)", xlim=(0, 1), ylim=(0, 1))
