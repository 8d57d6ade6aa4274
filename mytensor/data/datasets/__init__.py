"""Datasets: the minitorch 2-D point sets and a motif sequence set (generated in code),
scikit-learn's 8x8 digits, and MNIST / Fashion-MNIST from IDX files on disk.

>>> from mytensor.data import datasets
>>> sorted(datasets.POINT_SETS)
['circle', 'diag', 'simple', 'spiral', 'split', 'xor']
"""

from mytensor.data.datasets.digits import Digits
from mytensor.data.datasets.mnist import MNIST, FashionMNIST, read_idx, write_idx
from mytensor.data.datasets.points import (
    POINT_SETS,
    PointsDataset,
    circle,
    diag,
    points,
    simple,
    spiral,
    split,
    xor,
)
from mytensor.data.datasets.sequences import MotifSequences

__all__ = [
    "MNIST",
    "POINT_SETS",
    "Digits",
    "FashionMNIST",
    "MotifSequences",
    "PointsDataset",
    "circle",
    "diag",
    "points",
    "read_idx",
    "simple",
    "spiral",
    "split",
    "write_idx",
    "xor",
]
