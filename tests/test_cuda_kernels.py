"""The cuda backend's kernels in numba's CUDA simulator, against numpy.

Runs only with ``NUMBA_ENABLE_CUDASIM=1`` set before numba is imported, which
``tests/test_cuda.py::test_kernels_under_simulator`` does in a subprocess (in a normal
test run this module is skipped and that test runs it). The simulator executes the
kernels' Python bodies thread by thread: the same code a GPU compiles.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") in ("", "0"):
    pytest.skip(
        "needs NUMBA_ENABLE_CUDASIM=1 before numba is imported; "
        "run through tests/test_cuda.py::test_kernels_under_simulator",
        allow_module_level=True,
    )

import mytensor as mt
from mytensor.backends import cuda as cuda_pkg
from mytensor.backends.cuda import _reduce
from mytensor.backends.cuda._runtime import BLOCK, REDUCE_BLOCK, TILE
from mytensor.core.registry import get_backend

RNG = np.random.default_rng(3)


def on_cuda(array: np.ndarray) -> mt.Tensor:
    return mt.tensor(array, backend="cuda")


def close(got: mt.Tensor, expected: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    values = got.numpy()
    assert values.shape == expected.shape, f"shape {values.shape} vs {expected.shape}"
    np.testing.assert_allclose(values, expected, rtol=rtol, atol=atol)


def test_simulator_is_active():
    backend = get_backend("cuda").impl
    assert backend.simulator and backend.cupy is None
    assert backend.matmul_impl == "tiled"


# -- kernels compiled from the scalar specification --------------------------------------------
def test_kernels_are_the_written_loops_bound_to_the_specification():
    from mytensor.backends.cuda import _elementwise, _scalar

    linear, strided = _elementwise.op_kernels("neg", "float", 1)
    assert linear.fn.__code__ is _elementwise._map_linear.__code__  # no generated source
    assert strided.fn.__code__ is _elementwise._map_strided.__code__
    assert linear.fn.__globals__["scalar"] is _scalar.SCALAR["neg"]
    # one function for float and integer inputs: one pair of kernels, typed per dtype
    assert _elementwise.op_kernels("neg", "int", 1) == (linear, strided)
    assert _elementwise.op_kernels("relu", "int", 1) != _elementwise.op_kernels("relu", "float", 1)
    assert _elementwise.op_kernels("exp", "int", 1) is None


def test_an_op_without_a_function_for_the_dtype_names_it():
    backend = get_backend("cuda")
    a = mt.tensor(np.arange(3), backend="cuda")
    out = mt.empty(3, dtype=mt.int64, backend="cuda")
    with pytest.raises(NotImplementedError, match=r"map 'exp' has no kernel for int64 inputs"):
        backend.impl.map("exp", out._d, a._d)


def test_reductions_combine_with_the_specification():
    zeros = on_cuda(np.array([-0.0, -0.0]))
    assert np.signbit(zeros.sum().numpy())  # -0.0 + -0.0: the identity -0.0 kept
    assert not np.signbit((zeros * -1).sum().numpy())
    data = np.array([[1.0, np.nan, 3.0], [-0.0, 0.0, -1.0]])
    close(on_cuda(data).amax(1), np.array([np.nan, 0.0]))
    flags = on_cuda(np.array([[False, True, False], [False, False, False]]))
    assert flags.any(1).numpy().tolist() == [True, False]
    assert flags.all(0).numpy().tolist() == [False, False, False]


# -- reductions longer than a block -------------------------------------------------------
@pytest.mark.parametrize("length", [1, REDUCE_BLOCK - 1, REDUCE_BLOCK + 1, 2053])
def test_reduce_longer_than_a_block(length):
    data = RNG.standard_normal((3, length))
    x = on_cuda(data)
    close(x.sum(1), data.sum(1, keepdims=False), rtol=1e-10)
    close(x.amax(1), data.max(1))
    close(x.amin(0), data.min(0))  # lanes: outputs along the fast axis
    assert (x.argmax(1).numpy() == data.argmax(1)).all()
    assert (x.argmin(0).numpy() == data.argmin(0)).all()


def test_reduce_float32_sum_keeps_digits():
    data = np.full(20001, 0.1, np.float32)
    total = on_cuda(data).sum().numpy()
    assert abs(float(total) - float(data.astype(np.float64).sum())) < 1e-3


def test_argmax_first_occurrence_and_nan_over_blocks():
    data = np.zeros((2, 2100))
    data[0, [5, 1500]] = 7.0  # a tie: the first wins
    data[1, [900, 2000]] = np.nan  # the first NaN wins over every number
    data[1, 100] = 9.0
    x = on_cuda(data)
    assert x.argmax(1).numpy().tolist() == [5, 900]
    assert x.argmin(1).numpy().tolist() == [0, 900]
    assert np.isnan(x.amax(1).numpy()[1])


def test_reduce_both_block_layouts_on_permuted_and_flipped_views():
    data = RNG.standard_normal((37, 29))
    view = on_cuda(data).T[::-1, 3:]  # permuted, negative stride, offset
    expected = data.T[::-1, 3:]
    for dim in (0, 1):
        close(view.sum(dim), expected.sum(dim), rtol=1e-10)
        assert (view.argmax(dim).numpy() == expected.argmax(dim)).all()
    assert {"rows", "lanes"} == set(_reduce.LAYOUTS)


def test_reduce_to_few_outputs_runs_in_two_passes():
    assert _reduce.split("sum", 1, 1000) > 1 and _reduce.split("argmax", 1, 1000) == 1
    data = RNG.standard_normal((40, 25))
    view = on_cuda(data).T[:, ::-1]  # one output over a permuted, flipped view
    expected = data.T[:, ::-1]
    close(view.sum(), np.array(expected.sum()), rtol=1e-12)
    close(view.max(), np.array(expected.max()), rtol=0)
    close(view.min(), np.array(expected.min()), rtol=0)
    close((view * 0.01 + 1).prod(), np.array((expected * 0.01 + 1).prod()), rtol=1e-12)
    assert view.argmax().numpy() == expected.argmax()
    with_nan = data.copy()
    with_nan[30, 7] = np.nan
    assert np.isnan(on_cuda(with_nan).max().numpy())
    flags = on_cuda(data > 3.5)
    assert flags.any().numpy() == (data > 3.5).any() and not flags.all().numpy()
    ints = RNG.integers(-5, 5, 3000).astype(np.int32)
    assert on_cuda(ints).sum().numpy() == ints.sum()


def test_reduce_int_bool_and_empty():
    data = RNG.integers(-50, 50, (5, 300)).astype(np.int32)
    x = on_cuda(data)
    assert (x.sum(1).numpy() == data.sum(1)).all()
    assert (x.amax(0).numpy() == data.max(0)).all()
    flags = on_cuda(data > 45)
    assert (flags.any(1).numpy() == (data > 45).any(1)).all()
    assert (flags.all(0).numpy() == (data > 45).all(0)).all()
    empty = on_cuda(np.zeros((3, 0), np.float32))
    assert empty.sum(1).numpy().tolist() == [0.0, 0.0, 0.0]
    assert empty.prod(1).numpy().tolist() == [1.0, 1.0, 1.0]


# -- the tiled matmul ---------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "k", "m"), [(1, 1, 1), (5, 7, 3), (2 * TILE + 1, 3, TILE - 1),
                                           (3, 0, 4)])  # fmt: skip
def test_tiled_matmul_sizes(n, k, m):
    a, b = RNG.standard_normal((n, k)), RNG.standard_normal((k, m))
    close(on_cuda(a) @ on_cuda(b), a @ b, rtol=1e-10)


def test_tiled_matmul_batched_broadcast_and_strided():
    a = RNG.standard_normal((2, 1, 5, 7)).astype(np.float32)
    b = RNG.standard_normal((3, 7, 6)).astype(np.float32)
    close(on_cuda(a) @ on_cuda(b), a @ b, rtol=1e-4, atol=1e-5)
    c = RNG.standard_normal((6, 5))
    close(on_cuda(c).T @ on_cuda(c)[::-1], c.T @ c[::-1], rtol=1e-10)
    ints = RNG.integers(-9, 9, (4, 3)).astype(np.int64)
    assert ((on_cuda(ints) @ on_cuda(ints.T)).numpy() == ints @ ints.T).all()


def test_matmul_choice():
    from mytensor.backends.cuda.backend import CudaBackend

    with pytest.raises(RuntimeError, match="MYTENSOR_CUDA_MATMUL=tiled"):
        CudaBackend(matmul="cublas")
    with pytest.raises(ValueError, match="unknown matmul implementation 'fast'"):
        CudaBackend(matmul="fast")
    with pytest.raises(RuntimeError, match="CuPy"):
        cuda_pkg.set_matmul("cublas")
    with pytest.raises(ValueError, match="tiled"):
        cuda_pkg.set_matmul("fastest")
    cuda_pkg.set_matmul("tiled")
    assert get_backend("cuda").impl.matmul_impl == "tiled"


# -- convolution, forward and backward, against numpy_ref ----------------------------------------
CONV_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=1),
    dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=2),
]


@pytest.mark.parametrize("params", CONV_CASES)
def test_conv2d_forward_and_backward_match_reference(params):
    x = RNG.standard_normal((2, 4, 6, 5))
    w = RNG.standard_normal((4, 4 // params["groups"], 3, 2))
    results = {}
    for name in ("cuda", "numpy_ref"):
        xt = mt.tensor(x, backend=name, requires_grad=True)
        wt = mt.tensor(w, backend=name, requires_grad=True)
        out = mt.nn.functional.conv2d(xt, wt, **params)
        (out * out).sum().backward()
        results[name] = (out.numpy(), xt.grad.numpy(), wt.grad.numpy())
    for got, expected in zip(results["cuda"], results["numpy_ref"], strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_conv1d_reaches_the_native_conv_kernel():
    x = RNG.standard_normal((2, 3, 11)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3)).astype(np.float32)
    got = mt.nn.functional.conv1d(on_cuda(x), on_cuda(w), stride=2, padding=1)
    ref = mt.nn.functional.conv1d(mt.tensor(x), mt.tensor(w), stride=2, padding=1)
    close(got, ref.numpy(), rtol=1e-4, atol=1e-5)
    assert "conv" in get_backend("cuda").native


# -- gather / scatter_add -----------------------------------------------------------------------
def test_gather_and_scatter_add_with_repeated_indices():
    backend = get_backend("cuda")
    assert {"gather", "scatter_add", "random"} <= set(backend.native)
    table = RNG.standard_normal((5, 3))
    index = np.array([4, 0, 4, 4, 2])
    emb = mt.tensor(table, backend="cuda", requires_grad=True)
    rows = mt.nn.functional.embedding(on_cuda(index), emb)
    close(rows, table[index], rtol=0)
    rows.sum().backward()  # scatter_add: row 4 three times
    expected = np.zeros_like(table)
    np.add.at(expected, index, 1.0)
    close(emb.grad, expected, rtol=0)


# -- layouts: permuted, sliced with offset and negative steps, broadcast --------------------------
def test_elementwise_on_every_layout():
    base = RNG.standard_normal((6, 8))
    x = on_cuda(base)
    views = {
        "permuted": (x.T, base.T),
        "offset": (x[2:, 3:], base[2:, 3:]),
        "negative": (x[::-1, ::-2], base[::-1, ::-2]),
        "broadcast": (x[:1].expand(6, 8), np.broadcast_to(base[:1], (6, 8))),
    }
    for name, (view, ref) in views.items():
        close(view * 2 + view.exp(), ref * 2 + np.exp(ref), rtol=1e-12)
        close(mt.where(view > 0, view, -view), np.abs(ref), rtol=0)
        assert view.contiguous().numpy().tolist() == ref.tolist(), name
    out = on_cuda(np.zeros((8, 6)))
    out[::-1] = x.T  # a copy into a flipped view
    assert out.numpy().tolist() == base.T[::-1].tolist()
    zero_d = on_cuda(np.array(3.0))
    assert (zero_d * zero_d).numpy().tolist() == 9.0


def test_edge_values():
    with np.errstate(all="ignore"):
        f = np.array([-2.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, np.inf, -np.inf, np.nan])
        x = on_cuda(f)
        assert np.array_equal(x.round().numpy(), np.round(f), equal_nan=True)
        assert np.array_equal(np.signbit((-x).numpy()), np.signbit(-f))
        close(x.sqrt(), np.sqrt(f))
        close(x.relu(), np.maximum(f, 0))  # relu(-inf) is 0, relu(NaN) NaN
        for dtype in (mt.int32, mt.int64):  # NaN, inf: the smallest integer, like numpy
            expected = f.astype(dtype.numpy)
            assert (x.astype(dtype).numpy() == expected).all(), dtype
        i = np.array([7, -7, 7, -7, 5, 0], np.int64)
        j = np.array([2, 2, -2, -2, 0, 0], np.int64)
        a, b = on_cuda(i), on_cuda(j)
        assert ((a // b).numpy() == np.floor_divide(i, j)).all()
        assert ((a % b).numpy() == np.remainder(i, j)).all()
        assert ((a ** on_cuda(np.array([3, 2, 0, -1, 2, 0]))).numpy()
                == [343, 49, 1, 0, 25, 1]).all()  # fmt: skip


# -- launch metadata never goes host-to-device ---------------------------------------------------
def test_launches_copy_no_metadata_to_the_device(monkeypatch):
    from numba.cuda.simulator import kernel as sim_kernel
    from numba.cuda.simulator.cudadrv import devicearray

    launches, uploads = [], []
    real_call = sim_kernel.FakeCUDAKernel.__call__
    real_upload = devicearray.FakeCUDAArray.copy_to_device

    def call(self, *args):
        launches.append(args)
        return real_call(self, *args)

    def upload(self, *args, **kwargs):
        uploads.append(self)
        return real_upload(self, *args, **kwargs)

    x = on_cuda(RNG.standard_normal((4, 5, 3))).permute(2, 0, 1)[:, ::-1]
    w = on_cuda(RNG.standard_normal((3, 6)))
    two = on_cuda(np.array(2.0))
    kernel = on_cuda(np.ones((2, 3, 2, 2)))
    monkeypatch.setattr(sim_kernel.FakeCUDAKernel, "__call__", call)
    monkeypatch.setattr(devicearray.FakeCUDAArray, "copy_to_device", upload)
    y = ((x * two).exp().sum(2).T @ w).argmax(1)
    conv = mt.nn.functional.conv2d(x[None], kernel, padding=1)
    monkeypatch.undo()
    assert y.shape == (4,) and conv.shape == (1, 2, 5, 6)
    assert uploads == [], "an op copied something host-to-device"
    assert len(launches) >= 6
    for args in launches:
        for arg in args:
            # a numpy array argument would be copied to the device at every launch
            assert not isinstance(arg, np.ndarray), f"host array passed to a kernel: {arg!r}"
    shapes = [a for args in launches for a in args if isinstance(a, tuple)]
    assert shapes and all(isinstance(v, int) for t in shapes for v in t)


def test_ops_queue_without_waiting_and_to_host_waits_once(monkeypatch):
    backend = get_backend("cuda").impl
    waits = []
    monkeypatch.setattr(backend.runtime, "synchronize", lambda: waits.append("sync"))
    x = on_cuda(RNG.standard_normal((6, 5)))
    y = ((x @ x.T).relu() + 1).sum(0).exp()
    assert waits == [], "an op waited for the device"
    y.numpy()
    assert waits == ["sync"]
    mt.synchronize("cuda")
    assert waits == ["sync", "sync"]


def test_block_configuration_is_small_in_the_simulator():
    assert BLOCK <= 32 and REDUCE_BLOCK <= 32 and TILE <= 8


# -- random, memory, streams ----------------------------------------------------------------------
def test_random_is_a_function_of_the_seed_and_position():
    backend = get_backend("cuda")
    out = mt.empty(7, dtype=mt.float64, backend="cuda")
    backend.random(out._d, "uniform", 42)
    first = out.numpy().copy()
    big = mt.empty(3, 7, dtype=mt.float64, backend="cuda")
    backend.random(big._d, "uniform", 42)
    assert (big.numpy().reshape(-1)[:7] == first).all()  # the stream does not depend on shape
    assert ((first >= 0) & (first < 1)).all() and len(set(first.tolist())) == 7
    normal = mt.empty(4000, dtype=mt.float32, backend="cuda")
    backend.random(normal._d, "normal", 1)
    values = normal.numpy()
    assert abs(values.mean()) < 0.1 and abs(values.std() - 1) < 0.1


def test_caching_allocator_reuses_blocks_and_empties():
    before = cuda_pkg.memory_stats()
    for _ in range(5):
        (on_cuda(np.ones(1000)) + 1).numpy()
    after = cuda_pkg.memory_stats()
    assert after["allocator"] == "block-cache"
    assert after["hits"] > before["hits"]
    cuda_pkg.empty_cache()
    assert cuda_pkg.memory_stats()["cached_bytes"] == 0
    mt.synchronize("cuda")
