"""The six 2-D point sets of the minitorch course, generated in code.

Each is a function of the sample count and a seed; the points and labels are exactly
those of minitorch's `datasets.py` after ``random.seed(seed)`` (the spiral is
deterministic and ignores the seed). Points lie in [0, 1]^2, except the spiral's
outermost few, which reach about 0.03 past it, as in minitorch. Labels are 0/1.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np

from mytensor.core.creation import tensor
from mytensor.data.dataset import TensorDataset

__all__ = [
    "POINT_SETS",
    "PointsDataset",
    "circle",
    "diag",
    "points",
    "simple",
    "spiral",
    "split",
    "xor",
]


class PointsDataset(TensorDataset):
    """A 2-D point set: `X` (n, 2) float32 coordinates and `y` (n,) int64 labels in {0, 1};
    samples are ``(X[i], y[i])``.

    >>> ds = xor(20, seed=1)
    >>> ds.X.shape, ds.y.shape, ds.name
    ((20, 2), (20,), 'xor')
    """

    def __init__(self, name: str, X: np.ndarray, y: np.ndarray) -> None:
        self.name = name
        self.X = tensor(np.asarray(X, dtype=np.float32).reshape(-1, 2))
        self.y = tensor(np.asarray(y, dtype=np.int64))
        super().__init__(self.X, self.y)

    def __repr__(self) -> str:
        return f"PointsDataset({self.name!r}, n={len(self)})"


def _labelled(name: str, n: int, seed: int, rule: Callable[[float, float], bool]) -> PointsDataset:
    rng = random.Random(seed)
    X = []
    for _ in range(n):
        x_1 = rng.random()
        x_2 = rng.random()
        X.append((x_1, x_2))
    y = [1 if rule(x_1, x_2) else 0 for x_1, x_2 in X]
    return PointsDataset(name, np.array(X).reshape(-1, 2), np.array(y))


def simple(n: int = 100, seed: int = 0) -> PointsDataset:
    """Label 1 left of the line x1 = 0.5.

    >>> simple(5).y.tolist() == [1 if x < 0.5 else 0 for x, _ in simple(5).X.tolist()]
    True
    """
    return _labelled("simple", n, seed, lambda x_1, x_2: x_1 < 0.5)


def diag(n: int = 100, seed: int = 0) -> PointsDataset:
    """Label 1 below the diagonal x1 + x2 = 0.5.

    >>> len(diag(7))
    7
    """
    return _labelled("diag", n, seed, lambda x_1, x_2: x_1 + x_2 < 0.5)


def split(n: int = 100, seed: int = 0) -> PointsDataset:
    """Label 1 outside the band 0.2 <= x1 <= 0.8.

    >>> len(split(7))
    7
    """
    return _labelled("split", n, seed, lambda x_1, x_2: x_1 < 0.2 or x_1 > 0.8)


def xor(n: int = 100, seed: int = 0) -> PointsDataset:
    """Label 1 in the top-left and bottom-right quadrants.

    >>> len(xor(7))
    7
    """
    return _labelled(
        "xor", n, seed, lambda x_1, x_2: (x_1 < 0.5 and x_2 > 0.5) or (x_1 > 0.5 and x_2 < 0.5)
    )


def circle(n: int = 100, seed: int = 0) -> PointsDataset:
    """Label 1 outside the circle of squared radius 0.1 around (0.5, 0.5).

    >>> len(circle(7))
    7
    """

    def outside(x_1: float, x_2: float) -> bool:
        x1, x2 = x_1 - 0.5, x_2 - 0.5
        return x1 * x1 + x2 * x2 > 0.1

    return _labelled("circle", n, seed, outside)


def spiral(n: int = 100, seed: int = 0) -> PointsDataset:
    """Two interleaved spirals, n // 2 points each (label 0, then label 1); no randomness.

    >>> ds = spiral(10)
    >>> len(ds), ds.y.tolist()
    (10, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    """
    half = n // 2

    def x(t: float) -> float:
        return t * math.cos(t) / 20.0

    def y(t: float) -> float:
        return t * math.sin(t) / 20.0

    ts = [10.0 * (float(i) / half) for i in range(5, 5 + half)]
    X = [(x(t) + 0.5, y(t) + 0.5) for t in ts] + [(y(-t) + 0.5, x(-t) + 0.5) for t in ts]
    return PointsDataset("spiral", np.array(X).reshape(-1, 2), np.array([0] * half + [1] * half))


POINT_SETS: dict[str, Callable[..., PointsDataset]] = {
    "simple": simple,
    "diag": diag,
    "split": split,
    "xor": xor,
    "circle": circle,
    "spiral": spiral,
}


def points(name: str, n: int = 100, seed: int = 0) -> PointsDataset:
    """The point set called `name` (one of simple, diag, split, xor, circle, spiral).

    >>> points("circle", n=50, seed=3).X.shape
    (50, 2)
    """
    try:
        make = POINT_SETS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown point set {name!r}; choose one of {', '.join(POINT_SETS)}"
        ) from None
    return make(n, seed)
