"""DistributedSampler deals a dataset as PyTorch's does (torch is the oracle)."""

import itertools

import pytest
import torch.utils.data.distributed as torch_dist

import mytensor
from mytensor.data.distributed import DistributedSampler

CASES = list(itertools.product((0, 1, 5, 7, 10, 16), (1, 2, 3, 4), (False, True)))


@pytest.mark.parametrize(("size", "replicas", "drop_last"), CASES)
def test_unshuffled_shards_equal_torchs(size: int, replicas: int, drop_last: bool) -> None:
    for rank in range(replicas):
        ours = DistributedSampler(range(size), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch_dist.DistributedSampler(
            range(size), replicas, rank, shuffle=False, drop_last=drop_last
        )
        assert list(ours) == list(theirs), (size, replicas, rank, drop_last)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize(("size", "replicas", "drop_last"), CASES)
def test_shuffled_shards_are_disjoint_and_cover(size: int, replicas: int, drop_last: bool) -> None:
    shards = [
        list(DistributedSampler(range(size), replicas, r, seed=3, drop_last=drop_last))
        for r in range(replicas)
    ]
    torch_lengths = [
        len(torch_dist.DistributedSampler(range(size), replicas, r, drop_last=drop_last))
        for r in range(replicas)
    ]
    assert [len(s) for s in shards] == torch_lengths
    dealt = [i for shard in shards for i in shard]
    if drop_last:  # a prefix of the permutation, each index once
        assert len(set(dealt)) == len(dealt) == replicas * (size // replicas)
    else:  # every index, and only the padding repeats
        assert set(dealt) == set(range(size))
        assert len(dealt) - len(set(dealt)) == len(dealt) - size


def test_epochs_reshuffle_reproducibly() -> None:
    sampler = DistributedSampler(range(50), 2, 0, seed=1)
    first = list(sampler)
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first
    assert list(DistributedSampler(range(50), 2, 0, seed=2)) != first


def test_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


def test_torch_import_path() -> None:
    import mytensor.utils.data.distributed as path

    assert path.DistributedSampler is DistributedSampler
    assert mytensor.utils.data.distributed is path


@pytest.mark.parametrize(("size", "replicas"), [(96, 2), (100, 2), (100, 4), (36, 3)])
def test_ranks_together_see_one_processs_batches(size: int, replicas: int) -> None:
    # what `mytensor.training.fit` relies on: one sampler rule for every world size, so
    # N ranks with batch b / N train on exactly one process's batches of b
    from mytensor.data import DataLoader

    def batches(replicas: int, rank: int) -> list[list[int]]:
        sampler = DistributedSampler(range(size), replicas, rank, seed=5)
        sampler.set_epoch(2)
        loader = DataLoader(range(size), batch_size=12 // replicas, sampler=sampler)
        return [batch.tolist() for batch in loader]

    single = batches(1, 0)
    per_rank = [batches(replicas, r) for r in range(replicas)]
    assert all(len(b) == len(single) for b in per_rank)
    for step, whole in enumerate(single):
        together = sorted(i for rank in per_rank for i in rank[step])
        assert together == sorted(whole), step
