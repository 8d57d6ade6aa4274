"""`mytensor.cuda`: PyTorch's `torch.cuda` questions, answered by the cuda backend.

>>> import mytensor as mt
>>> isinstance(mt.cuda.is_available(), bool)
True
"""

from __future__ import annotations

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all", "synchronize"]


def is_available() -> bool:
    """Whether the cuda backend is installed and has a GPU (or numba's CUDA simulator)."""
    from mytensor.core.registry import REGISTRY, BackendError

    REGISTRY.discover()
    info = REGISTRY.infos.get("cuda")
    if info is None or info.status in ("unavailable", "broken"):
        return False
    try:
        REGISTRY.get("cuda")
    except BackendError:
        return False
    return True


def device_count() -> int:
    """1 when the cuda backend is available (it drives one GPU), else 0."""
    return 1 if is_available() else 0


def synchronize() -> None:
    """Wait for the cuda backend's queued kernels (see `mytensor.synchronize`)."""
    from mytensor.core.registry import synchronize as wait

    wait("cuda")


def manual_seed(seed: int) -> None:
    """Seed the random numbers of every backend (mytensor has one generator for all)."""
    from mytensor.core.creation import manual_seed as seed_all

    seed_all(seed)


manual_seed_all = manual_seed
