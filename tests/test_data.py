"""Datasets, samplers, collation, DataLoader (in process and with worker processes)."""

from __future__ import annotations

import math
import random
import sys
from collections import namedtuple

import numpy as np
import pytest

import mytensor as mt
from mytensor.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    get_worker_info,
    random_split,
)
from mytensor.data import datasets as D


def _xy(n=10):
    return TensorDataset(mt.arange(n * 2.0).reshape(n, 2), mt.arange(n))


def _rows(loader):
    return [tuple(t.tolist() for t in batch) for batch in loader]


# -- datasets and collation ---------------------------------------------------------------
def test_tensor_dataset():
    ds = _xy(4)
    assert len(ds) == 4 and [t.tolist() for t in ds[-1]] == [[6.0, 7.0], 3]
    with pytest.raises(IndexError, match="out of range"):
        ds[4]
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(mt.zeros(3, 2), mt.zeros(4))
    with pytest.raises(TypeError, match="not a Tensor"):
        TensorDataset(np.zeros(3))


def test_get_batch_equals_collating_the_samples():
    ds = _xy(6)
    for indices in ([3, 0, 5], [1, 2, 3], [-1], []):
        if not indices:
            assert [t.shape for t in ds.get_batch(indices)] == [(0, 2), (0,)]
            continue
        fast = ds.get_batch(indices)
        slow = default_collate([ds[i] for i in indices])
        assert [t.tolist() for t in fast] == [t.tolist() for t in slow]
        assert [t.dtype for t in fast] == [t.dtype for t in slow]
    batch = ds.get_batch([0, 1])[0]
    batch += 100  # a batch owns its memory: the dataset is untouched
    assert ds[0][0].tolist() == [0.0, 1.0]


def test_default_collate_structures():
    Point = namedtuple("Point", "x y")
    batch = default_collate([Point(mt.ones(2), 1.5), Point(mt.zeros(2), 2.5)])
    assert isinstance(batch, Point) and batch.x.shape == (2, 2)
    assert batch.y.dtype is mt.float32 and batch.y.tolist() == [1.5, 2.5]
    batch = default_collate(
        [
            {"a": np.arange(3, dtype=np.int32), "b": [True, 1]},
            {"a": np.arange(3, dtype=np.int32), "b": [False, 2]},
        ]
    )
    assert batch["a"].dtype is mt.int32 and batch["a"].shape == (2, 3)
    assert batch["b"][0].dtype is mt.bool_ and batch["b"][1].tolist() == [1, 2]
    assert default_collate([np.float64(1), np.float64(2)]).dtype is mt.float64
    assert default_collate(["x", "y"]) == ["x", "y"]
    assert isinstance(default_collate([(1, 2), (3, 4)]), tuple)
    with pytest.raises(RuntimeError, match="same length"):
        default_collate([[1, 2], [3]])


# -- DataLoader in this process ---------------------------------------------------------
def test_batches_in_order_with_and_without_drop_last():
    assert [y for _, y in _rows(DataLoader(_xy(10), batch_size=4))] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
    ]
    loader = DataLoader(_xy(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and len(list(loader)) == 2
    assert len(DataLoader(_xy(10), batch_size=4)) == 3


def test_shuffle_is_seeded_and_differs_between_epochs():
    loader = DataLoader(_xy(20), batch_size=5, shuffle=True, generator=7)
    first, second = _rows(loader), _rows(loader)
    assert first != second
    again = DataLoader(_xy(20), batch_size=5, shuffle=True, generator=7)
    assert _rows(again) == first and _rows(again) == second
    seen = sorted(i for _, y in first for i in y)
    assert seen == list(range(20))
    gen = DataLoader(_xy(20), batch_size=5, shuffle=True, generator=np.random.default_rng(7))
    assert _rows(gen) == first


def test_shuffle_follows_manual_seed():
    loader = DataLoader(_xy(20), batch_size=20, shuffle=True)
    mt.manual_seed(3)
    a = _rows(loader)
    mt.manual_seed(3)
    assert _rows(loader) == a
    assert _rows(loader) != a


def test_sampler_batch_sampler_and_collate_fn():
    ds = _xy(6)
    assert [y for _, y in _rows(DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0]))] == [
        [5, 4],
        [3, 2],
        [1, 0],
    ]
    assert [y for _, y in _rows(DataLoader(ds, batch_sampler=[[1], [2, 0]]))] == [[1], [2, 0]]
    counts = list(DataLoader(ds, batch_size=4, collate_fn=len))
    assert counts == [4, 2]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="fork"):
        DataLoader(ds, num_workers=1, multiprocessing_context="fork")


class Squares(Dataset):
    """A plain map-style dataset (no get_batch): samples are (float tensor, int)."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is broken")
        info = get_worker_info()
        return mt.tensor([float(i * i)]), (-1 if info is None else info.id)


def test_a_plain_dataset_is_collated():
    x, worker = next(iter(DataLoader(Squares(5), batch_size=3)))
    assert x.tolist() == [[0.0], [1.0], [4.0]] and worker.tolist() == [-1, -1, -1]


def test_random_split_counts_fractions_and_seed():
    ds = _xy(10)
    parts = random_split(ds, [0.33, 0.33, 0.34], generator=1)
    assert [len(p) for p in parts] == [4, 3, 3]  # floors 3, 3, 3 and the remainder to the first
    assert sorted(i for p in parts for i in p.indices) == list(range(10))
    again = random_split(ds, [4, 3, 3], generator=1)
    assert [p.indices for p in again] == [p.indices for p in parts]
    with pytest.raises(ValueError, match="summing"):
        random_split(ds, [5, 6])
    with pytest.raises(ValueError, match="fraction"):
        random_split(ds, [1.5, -0.5])
    train, _ = random_split(ds, [6, 4], generator=2)
    rows = _rows(DataLoader(train, batch_size=6))  # a Subset keeps the fast batched path
    assert rows[0][1] == train.indices and isinstance(train, Subset)
    assert hasattr(train, "get_batch") and not hasattr(Subset(Squares(3), [0]), "get_batch")


# -- worker processes ---------------------------------------------------------------------
def _parallel_kernel_ran() -> None:
    """Run a multi-threaded kernel first, as a training loop does before its loader forks."""
    names = [b.name for b in mt.backends() if b.status == "loaded"]
    if "numba_cpu" in names:
        with mt.use_backend("numba_cpu"):
            (mt.randn(256, 256) @ mt.randn(256, 256)).sum().item()
    a = np.random.default_rng(0).standard_normal((512, 512))
    float((a @ a).sum())  # BLAS threads


def _seed_numpy(worker_id: int) -> None:
    np.random.seed(1000 + worker_id)


def test_workers_give_the_same_batches_in_order():
    _parallel_kernel_ran()
    ds = _xy(41)
    single = _rows(DataLoader(ds, batch_size=4, shuffle=True, generator=5))
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=5, num_workers=2)
    assert _rows(loader) == single
    x, worker = next(
        iter(DataLoader(Squares(8), batch_size=2, num_workers=2, worker_init_fn=_seed_numpy))
    )
    assert x.tolist() == [[0.0], [1.0]] and set(worker.tolist()) == {0}
    train, _ = random_split(ds, [30, 11], generator=1)  # a Subset travels to the workers too
    assert _rows(DataLoader(train, batch_size=8, num_workers=2)) == _rows(
        DataLoader(train, batch_size=8)
    )


def test_persistent_workers_serve_several_epochs():
    ds = _xy(12)
    reference = DataLoader(ds, batch_size=5, shuffle=True, generator=9)
    loader = DataLoader(
        ds, batch_size=5, shuffle=True, generator=9, num_workers=2, persistent_workers=True
    )
    expected = [_rows(reference) for _ in range(3)]
    it = iter(loader)
    assert tuple(t.tolist() for t in next(it)) == expected[0][0]
    # the first epoch is abandoned half way: its late results must not leak into the next
    workers = loader._workers
    assert [_rows(loader), _rows(loader)] == expected[1:]
    assert loader._workers is workers and all(p.is_alive() for p in workers._workers)
    workers._shutdown()
    assert not any(p.is_alive() for p in workers._workers)


def test_worker_errors_name_the_worker_and_the_cause():
    loader = DataLoader(Squares(6, fail_at=3), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError, match=r"worker 1 raised KeyError(.|\n)*sample 3 is broken"):
        list(loader)
    with pytest.raises(RuntimeError, match="picklable"):
        iter(DataLoader(Squares(2), num_workers=1, collate_fn=lambda b: b))


# -- generated and loaded datasets --------------------------------------------------------
def _minitorch(name, n):
    """minitorch's own definitions (datasets.py), on the global `random` module."""
    X = [(random.random(), random.random()) for _ in range(n)]
    rules = {
        "simple": lambda a, b: a < 0.5,
        "diag": lambda a, b: a + b < 0.5,
        "split": lambda a, b: a < 0.2 or a > 0.8,
        "xor": lambda a, b: (a < 0.5 and b > 0.5) or (a > 0.5 and b < 0.5),
        "circle": lambda a, b: (a - 0.5) ** 2 + (b - 0.5) ** 2 > 0.1,
    }
    return X, [1 if rules[name](a, b) else 0 for a, b in X]


@pytest.mark.parametrize("name", ["simple", "diag", "split", "xor", "circle"])
def test_point_sets_match_minitorch(name):
    random.seed(4)
    X, y = _minitorch(name, 60)
    ds = D.points(name, n=60, seed=4)
    np.testing.assert_allclose(ds.X.numpy(), np.array(X, dtype=np.float32))
    assert ds.y.tolist() == y and ds.y.dtype is mt.int64
    assert 0 < sum(y) < 60 or name == "diag"
    assert ((ds.X.numpy() >= 0) & (ds.X.numpy() <= 1)).all()
    assert D.points(name, n=60, seed=4).X.tolist() == ds.X.tolist()
    assert D.points(name, n=60, seed=5).X.tolist() != ds.X.tolist()


def test_spiral_matches_minitorch():
    n = 50
    half = n // 2
    t = [10.0 * (float(i) / half) for i in range(5, 5 + half)]
    first = [(ti * math.cos(ti) / 20 + 0.5, ti * math.sin(ti) / 20 + 0.5) for ti in t]
    second = [(-ti * math.sin(-ti) / 20 + 0.5, -ti * math.cos(-ti) / 20 + 0.5) for ti in t]
    ds = D.spiral(n)
    np.testing.assert_allclose(ds.X.numpy(), np.array(first + second, dtype=np.float32))
    assert ds.y.tolist() == [0] * half + [1] * half
    assert ((ds.X.numpy() > -0.05) & (ds.X.numpy() < 1.05)).all()
    with pytest.raises(ValueError, match="spiral"):
        D.points("moons")


def test_digits():
    pytest.importorskip("sklearn")
    train, test = D.Digits(train=True, seed=1), D.Digits(train=False, seed=1)
    assert len(train) + len(test) == 1797 and len(test) == round(1797 * 0.2)
    x, y = train[0]
    assert x.shape == (1, 8, 8) and x.dtype is mt.float32 and y.dtype is mt.int64
    images = train.images.numpy()
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(train.targets.tolist()) == set(range(10))
    assert D.Digits(train=None, flatten=True).images.shape == (1797, 64)
    assert D.Digits(train=True, seed=1).targets.tolist() == train.targets.tolist()


def test_digits_without_scikit_learn_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'mytensor\[examples\]'"):
        D.Digits()


def _write_mnist(folder, n=5, gz=False, split="train"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    D.write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images)
    D.write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


def test_mnist_reads_idx_files(tmp_path, monkeypatch):
    images, labels = _write_mnist(tmp_path / "MNIST" / "raw", gz=True)
    ds = D.MNIST(tmp_path)
    assert len(ds) == 5 and ds.images.shape == (5, 1, 28, 28)
    np.testing.assert_allclose(ds.images.numpy()[:, 0], images / 255.0, rtol=1e-6)
    assert ds.targets.tolist() == labels.tolist() and ds.targets.dtype is mt.int64
    monkeypatch.setenv("MYTENSOR_DATA", str(tmp_path))
    assert D.MNIST(flatten=True).images.shape == (5, 784)
    _write_mnist(tmp_path / "fashion", n=3, split="t10k")
    assert len(D.FashionMNIST(tmp_path / "fashion", train=False)) == 3


def test_mnist_missing_files_name_what_is_expected(tmp_path, monkeypatch):
    monkeypatch.delenv("MYTENSOR_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"MYTENSOR_DATA.*train-images-idx3-ubyte"):
        D.MNIST()
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte.*t10k-labels-idx1-ubyte"):
        D.MNIST(tmp_path, train=False)


def test_read_idx_rejects_bad_files(tmp_path):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(b"\x08\x08\x08\x01")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(path)
    D.write_idx(path, np.arange(10, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(ValueError, match="should hold 10 bytes"):
        D.read_idx(path)
    D.write_idx(tmp_path / "f.idx", np.array([[1.5, -2.0]], dtype=np.float32))
    assert D.read_idx(tmp_path / "f.idx").tolist() == [[1.5, -2.0]]


def test_motif_sequences_are_balanced_seeded_and_solvable():
    train = D.MotifSequences(400, seed=3)
    x, y = train[0]
    assert x.shape == (1, 64) and x.dtype is mt.float32 and y.dtype is mt.int64
    assert np.bincount(train.targets.numpy()).tolist() == [100] * 4
    assert D.MotifSequences(400, seed=3).signals.tolist() == train.signals.tolist()
    test = D.MotifSequences(200, train=False, seed=3)
    assert test.signals.tolist() != train.signals.tolist()
    # a matched filter (best correlation with each motif, anywhere) separates the classes
    signals, motifs = test.signals.numpy()[:, 0], test.motifs.numpy()
    windows = np.lib.stride_tricks.sliding_window_view(signals, motifs.shape[1], axis=1)
    scores = np.einsum("nwk,ck->ncw", windows, motifs).max(axis=2)
    assert (scores.argmax(axis=1) == test.targets.numpy()).mean() > 0.9
    with pytest.raises(ValueError, match="motif_length"):
        D.MotifSequences(10, length=4, motif_length=8)
