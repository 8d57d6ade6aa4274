"""The 8x8 handwritten digits bundled with scikit-learn (1 797 images, offline)."""

from __future__ import annotations

import numpy as np

from mytensor.core.creation import tensor
from mytensor.data.dataset import TensorDataset

__all__ = ["Digits"]


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "the digits dataset is the one bundled with scikit-learn, which is not installed; "
            "install the examples extra: pip install 'mytensor[examples]'"
        ) from None
    return load_digits()


class Digits(TensorDataset):
    """scikit-learn's 8x8 digit images: samples are ``(image, label)`` with the image a
    float32 (1, 8, 8) tensor scaled to [0, 1] (or (64,) with `flatten`) and the label an
    int64 in 0..9. The data ships with scikit-learn, so nothing is downloaded.

    Args:
        train: True for the training split, False for the test split, None for all 1 797.
        test_fraction: the share of images in the test split.
        seed: fixes the (shuffled) split.
        flatten: give each image as 64 values instead of (1, 8, 8).

    >>> train, test = Digits(train=True), Digits(train=False)
    >>> len(train) + len(test), train[0][0].shape
    (1797, (1, 8, 8))
    """

    classes = tuple(range(10))

    def __init__(
        self,
        train: bool | None = True,
        *,
        test_fraction: float = 0.2,
        seed: int = 0,
        flatten: bool = False,
    ) -> None:
        if not 0 < test_fraction < 1:
            raise ValueError(f"Digits(): test_fraction must be in (0, 1), got {test_fraction}")
        bunch = _load_digits()
        images = np.asarray(bunch.images, dtype=np.float32) / 16.0
        labels = np.asarray(bunch.target, dtype=np.int64)
        if train is not None:
            order = np.random.default_rng(seed).permutation(len(labels))
            n_test = round(len(labels) * test_fraction)
            keep = order[n_test:] if train else order[:n_test]
            images, labels = images[keep], labels[keep]
        images = images.reshape(len(images), 64) if flatten else images[:, None]
        self.images = tensor(images)
        self.targets = tensor(labels)
        super().__init__(self.images, self.targets)
