"""The cuda backend: GPU kernels written in numba-cuda, CuPy for memory and cuBLAS.

Select it with ``MYTENSOR_BACKEND=cuda``, ``mt.set_backend("cuda")`` or move tensors
with ``t.to("cuda")``; ``t.numpy()`` / ``t.to("numpy_ref")`` bring them back. It is
opt-in (never the default). Install with ``pip install 'mytensor[cuda12]'`` (or
``cuda13``, matching the CUDA version ``nvidia-smi`` prints). Without a GPU, the same
kernels run in numba's CUDA simulator: ``NUMBA_ENABLE_CUDASIM=1`` (for tests; slow).

This package imports nothing heavy: numba is imported the first time the backend is
used. See ``docs/cuda.md`` for the design.
"""

from __future__ import annotations

from typing import Any

__all__ = ["empty_cache", "memory_stats", "set_matmul"]


def _backend() -> Any:
    from mytensor.core.registry import get_backend

    return get_backend("cuda").impl


def memory_stats() -> dict[str, int | str]:
    """Counters of the device allocator (CuPy's pool, or the block cache without CuPy)."""
    return _backend().allocator.stats()


def empty_cache() -> None:
    """Give idle cached device memory back to the driver (buffers in use are untouched)."""
    _backend().allocator.empty_cache()


def set_matmul(impl: str) -> None:
    """Choose the matmul: ``"cublas"`` (CuPy, the default when CuPy is in use) or
    ``"tiled"`` (this backend's shared-memory kernel)."""
    from mytensor.backends.cuda.backend import MATMUL_IMPLS

    backend = _backend()
    if impl not in MATMUL_IMPLS:
        raise ValueError(f"set_matmul(): choose one of {', '.join(MATMUL_IMPLS)}, got {impl!r}")
    if impl == "cublas" and backend.cupy is None:
        raise RuntimeError("set_matmul('cublas'): CuPy on a real GPU is needed; it is not in use")
    backend.matmul_impl = impl
