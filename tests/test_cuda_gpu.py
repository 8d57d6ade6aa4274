"""The cuda backend's CuPy paths (memory pool, cuBLAS matmul, one shared stream).

They need a real GPU with CuPy: numba's simulator has neither, so on a machine without
one (CI) this module is skipped with that reason. On a GPU machine, run it together with
the conformance suite: ``pytest tests/test_cuda_gpu.py`` and
``pytest --pyargs mytensor.conformance --backend cuda``.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest


def _gpu_with_cupy() -> bool:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return False
    if importlib.util.find_spec("numba_cuda") is None or importlib.util.find_spec("cupy") is None:
        return False
    from numba import cuda

    return bool(cuda.is_available())


pytestmark = pytest.mark.skipif(
    not _gpu_with_cupy(),
    reason="CuPy paths need a real CUDA GPU with CuPy (numba's simulator cannot run CuPy); "
    "pip install 'mytensor[cuda12]' on a GPU machine",
)

RNG = np.random.default_rng(11)


@pytest.fixture
def backend():
    from mytensor.core.registry import get_backend

    impl = get_backend("cuda").impl
    previous = impl.matmul_impl
    yield impl
    impl.matmul_impl = previous


def test_cupy_is_used_with_cublas_by_default(backend):
    from mytensor.backends import cuda as cuda_pkg

    assert backend.cupy is not None
    assert os.environ.get("MYTENSOR_CUDA_MATMUL") or backend.matmul_impl == "cublas"
    assert cuda_pkg.memory_stats()["allocator"] == "cupy-pool"


@pytest.mark.parametrize("impl", ["cublas", "tiled"])
def test_matmul_paths_agree(backend, impl):
    import mytensor as mt

    backend.matmul_impl = impl
    a = RNG.standard_normal((3, 65, 33))
    b = RNG.standard_normal((33, 17))
    got = (mt.tensor(a, backend="cuda") @ mt.tensor(b, backend="cuda")).numpy()
    np.testing.assert_allclose(got, a @ b, rtol=1e-10)
    strided = mt.tensor(a[0], backend="cuda").T[::-1]  # a non-contiguous operand
    np.testing.assert_allclose((strided @ mt.tensor(a[1], backend="cuda")).numpy(),
                               a[0].T[::-1] @ a[1], rtol=1e-10)  # fmt: skip


def test_kernels_and_cublas_share_one_stream(backend):
    """A kernel's output feeds cuBLAS and back with no host synchronization in between."""
    import mytensor as mt

    backend.matmul_impl = "cublas"
    x = mt.ones(512, 512, backend="cuda")
    for _ in range(5):
        x = (x @ x) * (1.0 / 512)  # kernel -> cuBLAS -> kernel, all queued on one stream
    assert np.allclose(x.numpy(), 1.0)
