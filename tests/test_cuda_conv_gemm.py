"""The cuda backend's two convolution paths, im2col + matmul (``gemm``) and the direct
kernels (``direct``), against numpy_ref in numba's CUDA simulator.

The simulator must be on before numba is imported, so in a normal run
`test_conv_paths_under_simulator` runs this module in a subprocess with
``NUMBA_ENABLE_CUDASIM=1``; there the other tests run (and that one is skipped). Shapes
are tiny: the simulator runs a Python thread per CUDA thread.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SIMULATING = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
HAVE_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
sim_only = pytest.mark.skipif(
    not SIMULATING, reason="run in a subprocess by test_conv_paths_under_simulator"
)


@pytest.mark.skipif(SIMULATING, reason="this is the run it launches")
@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed ('mytensor[cudasim]')")
def test_conv_paths_under_simulator():
    chosen = ("MYTENSOR_BACKEND", "MYTENSOR_CUDA_CONV", "MYTENSOR_CUDA_MATMUL")
    env = {k: v for k, v in os.environ.items() if k not in chosen}
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-W", "ignore::RuntimeWarning"],
        env=env, capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-40:])
    assert result.returncode == 0, f"conv paths under the simulator:\n{tail}"
    assert " passed" in result.stdout and " 1 skipped" in result.stdout, tail


# -- everything below runs in the simulator ---------------------------------------------------
F32_TOL = dict(rtol=1e-4, atol=1e-4)
F64_TOL = dict(rtol=1e-10, atol=1e-10)

# (functional name, x shape, weight shape, parameters)
CASES = [
    ("conv1d", (2, 2, 9), (3, 2, 3), dict(stride=2, padding=2, dilation=2)),
    ("conv2d", (2, 2, 5, 5), (2, 2, 3, 3), dict(padding=1)),
    ("conv2d", (2, 4, 5, 5), (4, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), groups=2)),
    ("conv3d", (1, 2, 3, 4, 4), (2, 1, 2, 2, 2), dict(padding=1, dilation=(1, 2, 1), groups=2)),
]


def _conv_with_grads(backend: str, name: str, x, w, g, params) -> tuple:
    import mytensor as mt

    xt = mt.tensor(x, backend=backend, requires_grad=True)
    wt = mt.tensor(w, backend=backend, requires_grad=True)
    out = getattr(mt.nn.functional, name)(xt, wt, **params)
    (out * mt.tensor(g, backend=backend)).sum().backward()
    return out.numpy(), xt.grad.numpy(), wt.grad.numpy()


def _inputs(x_shape, w_shape, name, params, dtype, seed=0):
    import mytensor as mt

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    out_shape = getattr(mt.nn.functional, name)(mt.tensor(x), mt.tensor(w), **params).shape
    return x, w, rng.standard_normal(out_shape).astype(dtype)


@pytest.fixture
def cuda_backend():
    from mytensor.core.registry import get_backend

    return get_backend("cuda").impl


@pytest.fixture
def calls(monkeypatch):
    """Counts of the gemm path's entry points (`_im2col.conv`, ...) while a test runs."""
    from mytensor.backends.cuda import _im2col

    counts = dict.fromkeys(("conv", "grad_input", "grad_weight"), 0)
    for name in counts:
        original = getattr(_im2col, name)

        def spy(*args, _name=name, _original=original):
            counts[_name] += 1
            return _original(*args)

        monkeypatch.setattr(_im2col, name, spy)
    return counts


@sim_only
def test_default_under_the_simulator_is_direct(cuda_backend):
    assert cuda_backend.cupy is None and cuda_backend.conv_impl == "direct"


@sim_only
@pytest.mark.parametrize("impl", ["gemm", "direct"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_forward_and_both_grads_match_numpy_ref(case, dtype, impl, cuda_backend, calls,
                                                monkeypatch):  # fmt: skip
    name, x_shape, w_shape, params = case
    monkeypatch.setattr(cuda_backend, "conv_impl", impl)
    x, w, g = _inputs(x_shape, w_shape, name, params, dtype)
    got = _conv_with_grads("cuda", name, x, w, g, params)
    expected = _conv_with_grads("numpy_ref", name, x, w, g, params)
    tol = F32_TOL if dtype is np.float32 else F64_TOL
    for what, a, b in zip(("out", "grad_x", "grad_w"), got, expected, strict=True):
        assert a.dtype == b.dtype, what
        np.testing.assert_allclose(a, b, **tol, err_msg=f"{name} {params} {impl}: {what}")
    ran = 1 if impl == "gemm" else 0
    assert calls == dict(conv=ran, grad_input=ran, grad_weight=ran)


@sim_only
def test_gemm_in_chunks_of_one_sample(cuda_backend, calls, monkeypatch):
    """A workspace cap below one sample's columns: every sample is its own chunk, and
    the weight gradient adds the chunks' products."""
    from mytensor.backends.cuda import _im2col

    monkeypatch.setattr(_im2col, "WORKSPACE_BYTES", 1)
    monkeypatch.setattr(cuda_backend, "conv_impl", "gemm")
    params = dict(stride=2, padding=1, groups=2)
    x, w, g = _inputs((3, 2, 5, 4), (4, 1, 3, 3), "conv2d", params, np.float64, seed=1)
    got = _conv_with_grads("cuda", "conv2d", x, w, g, params)
    expected = _conv_with_grads("numpy_ref", "conv2d", x, w, g, params)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, **F64_TOL)
    assert calls == dict(conv=1, grad_input=1, grad_weight=1)


def _swapped(backend, array: np.ndarray):
    """`array` on the device with its last two dims stored transposed: a layout whose
    trailing dims do not merge (the gemm path's regrouping and scratch copies)."""
    from mytensor.backends.spec import Strided
    from mytensor.core.dtypes import float64
    from mytensor.core.layout import contiguous_strides

    stored = np.ascontiguousarray(np.swapaxes(array, -1, -2))
    strides = list(contiguous_strides(stored.shape))
    strides[-1], strides[-2] = strides[-2], strides[-1]
    return Strided(backend.from_host(stored), array.shape, tuple(strides), 0, float64)


@sim_only
def test_gemm_primitives_on_layouts_that_do_not_merge(cuda_backend, monkeypatch):
    """Every operand with its trailing dims stored transposed, straight through the
    backend primitives: out, grad_weight and grad_x written, weight and grad_out read."""
    monkeypatch.setattr(cuda_backend, "conv_impl", "gemm")
    params = dict(stride=1, padding=1)
    x, w, g = _inputs((2, 2, 4, 5), (2, 2, 3, 2), "conv2d", params, np.float64, seed=2)
    expected = _conv_with_grads("numpy_ref", "conv2d", x, w, g, params)
    args = ((1, 1), (1, 1), (1, 1), 1)
    out = _swapped(cuda_backend, np.zeros_like(g))
    grad_x = _swapped(cuda_backend, np.zeros_like(x))
    grad_w = _swapped(cuda_backend, np.zeros_like(w))
    xs, ws, gs = (_swapped(cuda_backend, a) for a in (x, w, g))
    cuda_backend.conv(out, xs, ws, *args)
    cuda_backend.conv_grad_input(grad_x, gs, ws, *args)
    cuda_backend.conv_grad_weight(grad_w, xs, gs, *args)
    for what, desc, want in zip(("out", "grad_x", "grad_w"), (out, grad_x, grad_w), expected,
                                strict=True):  # fmt: skip
        np.testing.assert_allclose(cuda_backend.to_host(desc), want, **F64_TOL, err_msg=what)


@sim_only
def test_gemm_weight_gradient_of_an_empty_batch_is_zero(cuda_backend, monkeypatch):
    from mytensor.backends.spec import Strided
    from mytensor.core.dtypes import float64

    monkeypatch.setattr(cuda_backend, "conv_impl", "gemm")
    grad_w = Strided(cuda_backend.from_host(np.full(8, 7.0)), (2, 1, 2, 2), (4, 4, 2, 1), 0,
                     float64)  # fmt: skip
    x = Strided(cuda_backend.from_host(np.zeros(1)), (0, 1, 3, 3), (9, 9, 3, 1), 0, float64)
    go = Strided(cuda_backend.from_host(np.zeros(1)), (0, 2, 2, 2), (8, 4, 2, 1), 0, float64)
    cuda_backend.conv_grad_weight(grad_w, x, go, (1, 1), (0, 0), (1, 1), 1)
    assert np.array_equal(cuda_backend.to_host(grad_w), np.zeros((2, 1, 2, 2)))


@sim_only
def test_choice_of_conv_path(monkeypatch):
    from mytensor.backends.cuda.backend import CONV_IMPLS, CudaBackend

    assert CONV_IMPLS == ("gemm", "direct")
    monkeypatch.setenv("MYTENSOR_CUDA_CONV", " GEMM ")
    assert CudaBackend().conv_impl == "gemm"
    assert CudaBackend(conv="direct").conv_impl == "direct"  # the argument wins
    monkeypatch.setenv("MYTENSOR_CUDA_CONV", "winograd")
    with pytest.raises(ValueError, match=r"'winograd' \(MYTENSOR_CUDA_CONV\); choose one of "
                                         r"gemm, direct"):  # fmt: skip
        CudaBackend()
    monkeypatch.delenv("MYTENSOR_CUDA_CONV")
    with pytest.raises(ValueError, match="unknown conv implementation 'fft'"):
        CudaBackend(conv="fft")
