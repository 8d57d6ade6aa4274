"""A 1-D sequence classification set for Conv1d models, generated in code."""

from __future__ import annotations

import numpy as np

from mytensor.core.creation import tensor
from mytensor.data.dataset import TensorDataset

__all__ = ["MotifSequences"]


class MotifSequences(TensorDataset):
    """Noisy 1-D signals, each class defined by a short motif planted at a random position.

    Every sample is Gaussian noise (std `noise`) of `length` steps with its class's motif
    (a fixed random pattern of `motif_length` steps, unit RMS) added at a uniformly random
    offset; only the motif's shape tells the classes apart, wherever it sits, which is what
    a convolution (with pooling) learns and a position-bound model finds hard. Samples are
    ``(signal, label)`` with a float32 (1, length) signal and an int64 label; classes are
    balanced. The motifs depend on `seed` only, so the train and test splits share them.

    >>> train = MotifSequences(200, seed=0)
    >>> test = MotifSequences(100, train=False, seed=0)
    >>> train[0][0].shape, train.motifs.shape, bool((train.motifs == test.motifs).all())
    ((1, 64), (4, 8), True)
    """

    def __init__(
        self,
        n: int = 1000,
        *,
        length: int = 64,
        num_classes: int = 4,
        motif_length: int = 8,
        noise: float = 0.5,
        train: bool = True,
        seed: int = 0,
    ) -> None:
        if not 1 <= motif_length <= length:
            raise ValueError(
                f"MotifSequences(): need 1 <= motif_length <= length, got "
                f"motif_length={motif_length}, length={length}"
            )
        if num_classes < 2:
            raise ValueError(f"MotifSequences(): need num_classes >= 2, got {num_classes}")
        motifs = np.random.default_rng([seed, 0]).standard_normal((num_classes, motif_length))
        motifs -= motifs.mean(axis=1, keepdims=True)
        motifs /= np.sqrt((motifs**2).mean(axis=1, keepdims=True))
        rng = np.random.default_rng([seed, 1 if train else 2])
        labels = rng.permutation(np.arange(n) % num_classes)
        signals = noise * rng.standard_normal((n, length))
        starts = rng.integers(0, length - motif_length + 1, size=n)
        rows = np.arange(n)[:, None]
        signals[rows, starts[:, None] + np.arange(motif_length)] += motifs[labels]
        self.motifs = tensor(motifs.astype(np.float32))
        self.signals = tensor(signals[:, None].astype(np.float32))
        self.targets = tensor(labels.astype(np.int64))
        self.positions = starts
        super().__init__(self.signals, self.targets)
