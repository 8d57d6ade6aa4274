"""Datasets and loading: `Dataset`, `TensorDataset`, `DataLoader`, `random_split`, and the
bundled / generated datasets in `mytensor.data.datasets`.

>>> import mytensor as mt
>>> from mytensor.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(mt.arange(6.0)), batch_size=4)
>>> [x.tolist() for (x,) in loader]
[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
"""

from mytensor.data import datasets, distributed
from mytensor.data._workers import WorkerInfo, get_worker_info
from mytensor.data.collate import default_collate
from mytensor.data.dataloader import DataLoader
from mytensor.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from mytensor.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "WorkerInfo",
    "datasets",
    "default_collate",
    "distributed",
    "get_worker_info",
    "random_split",
]
