"""DistributedDataParallel, SyncBatchNorm and checkpoints under `mpiexec -n 2`: each
test launches this file as an MPI program and checks what it printed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import mytensor as mt
from mytensor import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_distributed import assert_ok, launch, needs_mpi

HERE = Path(__file__).resolve()


# -- the programs (run under mpiexec) ------------------------------------------------------
def _mlp(seed: int, norm: bool = False) -> nn.Module:
    mt.manual_seed(seed)
    middle = [nn.BatchNorm1d(16)] if norm else []
    return nn.Sequential(nn.Linear(6, 16), *middle, nn.Tanh(), nn.Linear(16, 3))


def _batches(steps: int, size: int) -> list[tuple[mt.Tensor, mt.Tensor]]:
    rng = np.random.default_rng(42)
    return [(mt.tensor(rng.standard_normal((size, 6)).astype("float32")),
             mt.tensor(rng.integers(0, 3, size))) for _ in range(steps)]  # fmt: skip


def _step(model: nn.Module, optimizer, x: mt.Tensor, y: mt.Tensor, scale: float = 1.0) -> None:
    loss = nn.functional.cross_entropy(model(x), y) * scale
    loss.backward()


def _assert_close(ours: nn.Module, reference: nn.Module, what: str) -> None:
    theirs = reference.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value.numpy(), theirs[name].numpy(), rtol=2e-5, atol=2e-6,
                                   err_msg=f"{what}: {name}")  # fmt: skip


def _train_like_single_process(norm: bool) -> None:
    """DDP on the ranks' halves of each global batch == one process on the whole batch."""
    import mytensor.distributed as dist

    rank, world = dist.get_rank(), dist.get_world_size()
    model = _mlp(seed=rank, norm=norm)  # different on each rank until DDP broadcasts rank 0's
    if norm:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.001)  # several buckets
    reference = _mlp(seed=0, norm=norm)
    _assert_close(model, reference, "after construction")
    opt = mt.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = mt.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    for x, y in _batches(3, 8 * world):
        part = slice(8 * rank, 8 * rank + 8)
        opt.zero_grad()
        _step(ddp, opt, x[part], y[part])
        opt.step()
        ref_opt.zero_grad()
        _step(reference, ref_opt, x, y)
        ref_opt.step()
    _assert_close(model, reference, f"after 3 steps (norm={norm})")


def _no_sync_equals_one_big_step() -> None:
    import mytensor.distributed as dist

    rank, world = dist.get_rank(), dist.get_world_size()
    model, reference = _mlp(0), _mlp(0)
    ddp = nn.parallel.DistributedDataParallel(model)
    (x1, y1), (x2, y2) = _batches(2, 4 * world)
    part = slice(4 * rank, 4 * rank + 4)
    with ddp.no_sync():
        _step(ddp, None, x1[part], y1[part], 0.5)
    local = model[0].weight.grad.numpy().copy()
    _step(ddp, None, x2[part], y2[part], 0.5)
    _step(reference, None, mt.cat([x1, x2]), mt.cat([y1, y2]))
    assert not np.allclose(local, model[0].weight.grad.numpy()), "no_sync must not average"
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=2e-5, atol=2e-6)


class _Heads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.a, self.b, self.c = nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x: mt.Tensor, use_b: bool) -> mt.Tensor:
        h = self.body(x)
        return self.a(h) + self.b(h) if use_b else self.a(h)


def _find_unused_parameters() -> None:
    import mytensor.distributed as dist

    rank = dist.get_rank()
    mt.manual_seed(0)
    model = _Heads()
    ddp = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    x = mt.ones(2, 4)
    for _ in range(2):  # the second iteration must not report an unfinished reduction
        model.zero_grad()
        ddp(x, use_b=rank == 0).sum().backward()
    assert model.c.weight.grad is None, "unused on every rank: no gradient"
    grads = [None, None]
    dist.all_gather_object(grads, model.b.weight.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    # used on rank 0 only: the average of rank 0's gradient and rank 1's zeros
    np.testing.assert_allclose(model.b.weight.grad.numpy(), mt.full((2, 4), 1.0).numpy()
                               * model.body(x).detach().sum(0).numpy() / 2, rtol=1e-6)  # fmt: skip
    # without find_unused_parameters the next forward names what got no gradient
    plain = nn.parallel.DistributedDataParallel(_Heads())
    plain(x, use_b=False).sum().backward()
    try:
        plain(x, use_b=False)
    except RuntimeError as error:
        assert "got no gradient in the last backward: b.weight, b.bias, c.weight" in str(error)
        assert "find_unused_parameters=True" in str(error)
    else:
        raise AssertionError("an unfinished reduction must be reported")


def _checkpoint(path: str) -> None:
    import mytensor.distributed as dist

    rank = dist.get_rank()
    ddp = nn.parallel.DistributedDataParallel(_mlp(seed=7 + rank, norm=True))
    if rank == 0:
        mt.save(ddp.module.state_dict(), path)
    dist.barrier()
    fresh = _mlp(seed=99, norm=True)
    fresh.load_state_dict(mt.load(path))
    _assert_close(fresh, ddp.module, "loaded checkpoint")


def program_ddp(checkpoint: str) -> None:
    import mytensor.distributed as dist

    dist.init_process_group("mpi")
    _train_like_single_process(norm=False)
    _train_like_single_process(norm=True)
    _no_sync_equals_one_big_step()
    _find_unused_parameters()
    _checkpoint(checkpoint)
    print(f"rank {dist.get_rank()} OK")


def program_mismatch() -> None:
    import mytensor.distributed as dist

    dist.init_process_group("mpi")
    classes = 2 if dist.get_rank() == 0 else 3
    nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.Linear(8, classes)))


def program_torch_style(path: str) -> None:
    """PyTorch's DDP recipe with only the import renamed."""
    import mytensor as torch

    dist = torch.distributed
    DDP = torch.nn.parallel.DistributedDataParallel
    DistributedSampler = torch.utils.data.distributed.DistributedSampler
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

    dist.init_process_group(backend="mpi")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 10), torch.randint(0, 2, (64,)))
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler)
    torch.manual_seed(rank)  # DDP makes the replicas equal anyway
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.BatchNorm1d(32),
                                torch.nn.ReLU(), torch.nn.Linear(32, 2))  # fmt: skip
    model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp_model = DDP(model, device_ids=None)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=0.05)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(ddp_model(x), y)
            loss.backward()
            optimizer.step()
    if rank == 0:
        torch.save(ddp_model.module.state_dict(), path)
    weights = [None] * world_size
    dist.all_gather_object(weights, model[0].weight.detach().numpy())
    assert all((w == weights[0]).all() for w in weights), "the replicas must stay equal"
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank {rank} OK")


PROGRAMS = {name[len("program_"):]: f for name, f in dict(globals()).items()
            if name.startswith("program_")}  # fmt: skip


# -- the tests -----------------------------------------------------------------------------
@needs_mpi
def test_ddp_matches_single_process_training(tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.safetensors"
    assert_ok(launch("ddp", str(checkpoint), script=HERE))
    model = _mlp(seed=5, norm=True)  # a world of one loads what two ranks saved
    model.load_state_dict(mt.load(checkpoint))
    assert sorted(mt.load(checkpoint)) == sorted(model.state_dict())


@needs_mpi
def test_mismatched_parameter_shapes_are_named() -> None:
    result = launch("mismatch", script=HERE, timeout=30)
    assert result.returncode != 0
    assert ("parameter '1.weight' has shape (3, 8) (float32) on rank 1 but '1.weight' has "
            "shape (2, 8) (float32) on rank 0") in result.stderr, result.stderr  # fmt: skip


@needs_mpi
def test_a_pytorch_ddp_program_with_the_import_renamed(tmp_path: Path) -> None:
    assert_ok(launch("torch_style", str(tmp_path / "m.safetensors"), script=HERE))
    assert "3.weight" in mt.load(tmp_path / "m.safetensors")


if __name__ == "__main__":
    PROGRAMS[sys.argv[1]](*sys.argv[2:])
