"""numba_cpu specifics the conformance suite does not reach: the caching allocator, the
serial and parallel paths of every kernel, the cache-directory fallback, the plugin's
lazy import, and kernel logic run as plain Python (NUMBA_DISABLE_JIT=1)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import mytensor as mt
from mytensor.backends.spec import Strided
from mytensor.core.dtypes import float32, float64, int64

pytest.importorskip("numba", reason="the numba extra is not installed")

from mytensor.backends import numba_cpu
from mytensor.backends.numba_cpu import _blas_threads, _gemm
from mytensor.backends.numba_cpu.allocator import CachingAllocator, bucket_bytes
from mytensor.core.registry import get_backend

RNG = np.random.default_rng(3)


def _run_python(code: str, timeout: int = 300, **env_vars: str):
    env = {k: v for k, v in os.environ.items() if k != "MYTENSOR_BACKEND"}
    env.update(env_vars)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@pytest.fixture
def impl():
    """The numba_cpu backend object, with its parallel threshold restored afterwards."""
    backend = get_backend("numba_cpu").impl
    saved = backend.parallel_threshold, backend.threaded_numpy_threshold
    yield backend
    backend.parallel_threshold, backend.threaded_numpy_threshold = saved


# -- caching allocator -------------------------------------------------------------------------
def test_buckets_round_up_by_at_most_a_quarter():
    for n in (1, 7, 1000, 1 << 20, (1 << 20) + 1, 3_000_001):
        b = bucket_bytes(n)
        assert n <= b <= max(n * 1.25, 8), (n, b)


def test_allocator_reuses_freed_blocks_and_counts():
    pool = CachingAllocator(min_bytes=1024)
    a = pool.allocate(10_000, np.dtype(np.float32))
    assert a.shape == (10_000,) and a.dtype == np.float32 and a.flags.writeable
    del a
    gc.collect()
    stats = pool.stats()
    assert (stats["misses"], stats["releases"], stats["cached_blocks"]) == (1, 1, 1)
    b = pool.allocate(9_000, np.dtype(np.float64))  # 72 KB: a different bucket
    c = pool.allocate(9_990, np.dtype(np.float32))  # the same bucket as the first
    stats = pool.stats()
    assert (stats["hits"], stats["misses"], stats["cached_blocks"]) == (1, 2, 0)
    assert stats["in_use_bytes"] >= b.nbytes + c.nbytes
    small = pool.allocate(10, np.dtype(np.float32))  # below min_bytes: plain np.empty
    assert pool.stats()["misses"] == 2 and small.base is None


def test_a_view_keeps_its_block_out_of_the_pool():
    pool = CachingAllocator(min_bytes=1024)
    a = pool.allocate(4096, np.dtype(np.float64))
    view = a[10:20]
    view[:] = 7.0
    del a
    gc.collect()
    assert pool.stats()["cached_blocks"] == 0  # still reachable through `view`
    again = pool.allocate(4096, np.dtype(np.float64))
    again[:] = 0.0
    assert (view == 7.0).all()
    del view
    gc.collect()
    assert pool.stats()["cached_blocks"] == 1


def test_caching_off_allocates_fresh_and_empties_the_cache():
    pool = CachingAllocator(min_bytes=1024)
    pool.allocate(4096, np.dtype(np.float64))
    gc.collect()
    assert pool.stats()["cached_bytes"] > 0
    pool.set_enabled(False)
    assert pool.stats()["cached_bytes"] == 0 and not pool.stats()["enabled"]
    x = pool.allocate(4096, np.dtype(np.float64))
    assert x.base is None  # straight from np.empty
    cap = CachingAllocator(min_bytes=1024, max_cached_bytes=0)
    cap.allocate(4096, np.dtype(np.float64))
    gc.collect()
    assert cap.stats()["dropped"] == 1 and cap.stats()["cached_blocks"] == 0


def test_backend_intermediates_reuse_buffers():
    numba_cpu.set_caching(True)
    x = mt.ones(1 << 17, backend="numba_cpu")
    (x + x).sum().item()
    before = numba_cpu.memory_stats()["hits"]
    for _ in range(3):
        (x + x).sum().item()
    assert numba_cpu.memory_stats()["hits"] >= before + 3
    numba_cpu.set_caching(False)
    try:
        assert numba_cpu.memory_stats()["cached_blocks"] == 0
        assert (x * 2).sum().item() == 2 * (1 << 17)
    finally:
        numba_cpu.set_caching(True)


def test_caching_switch_from_the_environment():
    code = """
        from mytensor.backends import numba_cpu
        print(numba_cpu.memory_stats()["enabled"])
    """
    assert _run_python(code, MYTENSOR_NUMBA_CACHING="0").stdout.split() == ["False"]


# -- serial and parallel paths -----------------------------------------------------------------
def _strided(backend, values: np.ndarray, flip: bool = True) -> Strided:
    """`values` laid out permuted, sliced by 2 and (optionally) flipped on axis 0."""
    big = np.zeros((values.shape[1], values.shape[0] * 2 + 1), values.dtype)
    big[:, 1::2] = values.T
    view = big[:, 1::2].T
    if flip:
        big[:, 1::2] = values[::-1].T
        view = view[::-1]
    assert np.array_equal(view, values)
    item = values.dtype.itemsize
    offset = (view.__array_interface__["data"][0] - big.__array_interface__["data"][0]) // item
    dtype = {np.float32: float32, np.float64: float64, np.int64: int64}[values.dtype.type]
    buffer = backend.from_host(big.reshape(-1))
    return Strided(buffer, view.shape, tuple(s // item for s in view.strides), offset, dtype)


def _all_paths(impl, thresholds=(0, 10**12)):
    for threshold in thresholds:
        impl.parallel_threshold = impl.threaded_numpy_threshold = threshold
        yield threshold


@pytest.mark.parametrize("shape", [(300, 257), (3, 40_000), (40_000, 3)])
def test_serial_and_parallel_kernels_agree_with_the_reference(impl, shape):
    ref = get_backend("numpy_ref")
    a = RNG.standard_normal(shape).astype(np.float32)
    b = RNG.standard_normal(shape).astype(np.float32)
    cases = [("map", "neg"), ("map", "exp"), ("map", "sigmoid"), ("zip", "add"),
             ("zip", "maximum"), ("zip", "lt"), ("zip", "floor_divide")]  # fmt: skip
    for threshold in _all_paths(impl):
        for kind, op in cases:
            args = [_strided(impl, a)] + ([_strided(impl, b, flip=False)] if kind == "zip" else [])
            dtype = mt.bool_ if op == "lt" else float32
            out = Strided(impl.allocate(a.size, dtype), shape, (shape[1], 1), 0, dtype)
            getattr(impl, kind)(op, out, *args)
            expected = ref.to_host(_ref_call(ref, kind, op, dtype, a, b))
            np.testing.assert_allclose(impl.to_host(out), expected, rtol=1e-6, atol=1e-7,
                                       err_msg=f"{kind} {op} threshold {threshold}")  # fmt: skip


def _ref_call(ref, kind, op, dtype, a, b):
    from mytensor.core.dispatch import host_descriptor

    args = [host_descriptor(ref, a, float32)]
    if kind == "zip":
        args.append(host_descriptor(ref, b, float32))
    out = host_descriptor(ref, np.zeros(a.shape, dtype.numpy), dtype)
    getattr(ref, kind)(op, out, *args)
    return out


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1)])
@pytest.mark.parametrize("op", ["sum", "prod", "max", "argmax", "argmin", "any"])
def test_reductions_on_every_path(impl, op, dims):
    """rows (reduced axis fast), lanes (kept axis fast) and split (few outputs) orders."""
    for shape in [(2000, 33), (33, 2000), (5, 70_000)]:
        if op.startswith("arg") and len(dims) > 1:
            continue
        values = RNG.standard_normal(shape)
        if op == "prod":
            values = 1.0 + values * 1e-3
        if op == "any":
            values = values > 3.5
        values[1, 1] = np.nan if values.dtype.kind == "f" else values[1, 1]
        out_shape = tuple(1 if d in dims else s for d, s in enumerate(shape))
        expected = _reference_reduce(op, values, dims)
        for threshold in _all_paths(impl):
            x = mt.tensor(values, backend="numba_cpu")
            out_dtype = mt.int64 if op.startswith("arg") else x.dtype
            out = mt.zeros(*out_shape, dtype=out_dtype, backend="numba_cpu")
            impl.reduce(op, out._d, x.T.T._d, dims)
            np.testing.assert_allclose(
                out.numpy(),
                expected,
                rtol=1e-9,
                err_msg=f"{op} {shape} {dims} threshold {threshold}",
            )


def _reference_reduce(op, values, dims):
    x = mt.tensor(values, backend="numpy_ref")
    out_dtype = mt.int64 if op.startswith("arg") else x.dtype
    out_shape = tuple(1 if d in dims else s for d, s in enumerate(values.shape))
    out = mt.zeros(*out_shape, dtype=out_dtype, backend="numpy_ref")
    get_backend("numpy_ref").reduce(op, out._d, x._d, dims)
    return out.numpy()


def test_gather_and_scatter_add_on_both_paths(impl):
    a = RNG.standard_normal((600, 100))
    index = RNG.integers(0, 100, (600, 80))
    for _ in _all_paths(impl):
        x = mt.tensor(a, backend="numba_cpu")
        i = mt.tensor(index, backend="numba_cpu")
        got = x.gather(1, i).numpy()
        np.testing.assert_array_equal(got, np.take_along_axis(a, index, 1))
        target = mt.zeros(600, 100, dtype=mt.float64, backend="numba_cpu")
        total = target.scatter_add(1, i, x[:, :80]).numpy()
        expected = np.zeros((600, 100))
        np.add.at(expected, (np.arange(600)[:, None], index), a[:, :80])
        np.testing.assert_allclose(total, expected, rtol=1e-12)


def test_float32_sums_keep_their_digits():
    values = np.full(1 << 22, 0.1, np.float32)  # a naive float32 loop is off by ~1e-2
    got = mt.tensor(values, backend="numba_cpu").sum().item()
    assert abs(got - values.astype(np.float64).sum()) / got < 1e-6


def test_float32_row_sums_add_blocks_in_float64(impl):
    """Contiguous float32 rows are summed in float32 blocks of SUM_BLOCK; inf and NaN
    anywhere in a row, and rows spaced wider than their length, on both paths."""
    from mytensor.backends.numba_cpu._reduce import SUM_BLOCK

    values = RNG.standard_normal((9, 3 * SUM_BLOCK + 7)).astype(np.float32)
    values[2, SUM_BLOCK + 3] = np.inf
    values[3, 2 * SUM_BLOCK] = np.nan
    values[4, [5, -1]] = np.inf, -np.inf
    values[5] = 0.1
    rows = values[:, 2:].astype(np.float64)
    with np.errstate(invalid="ignore"):
        expected = rows.sum(axis=1)
    special = ~np.isfinite(expected)
    # float32 rounding of block sums: well inside 1e-6 of the row's absolute sum
    bound = 1e-6 * np.abs(rows[~special]).sum(axis=1)
    for threshold in _all_paths(impl):
        got = mt.tensor(values, backend="numba_cpu")[:, 2:].sum(dim=1).numpy()
        np.testing.assert_array_equal(got[special], expected[special].astype(np.float32))
        assert np.all(np.abs(got[~special] - expected[~special]) <= bound), threshold


# -- JIT cache directory and plugin loading ----------------------------------------------------
def test_cache_dir_falls_back_when_nothing_is_writable(tmp_path, monkeypatch):
    import numba

    from mytensor.backends.numba_cpu import _jit

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(blocker / "numba"))
    monkeypatch.setattr(_jit, "PACKAGE_DIR", blocker / "package")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    monkeypatch.setenv("HOME", str(blocker / "home"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    chosen = _jit.choose_cache_dir()
    assert chosen is not None and chosen.startswith(str(tmp_path / "tmp"))
    assert chosen == numba.config.CACHE_DIR


def test_unwritable_cache_dir_still_works(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = """
        import mytensor as mt
        from mytensor.core.registry import get_backend
        x = mt.arange(6, dtype=mt.float64, backend="numba_cpu")
        print((x * 2).sum().item(), get_backend("numba_cpu").impl.cache_dir)
    """
    result = _run_python(code, NUMBA_CACHE_DIR=str(blocker / "numba"))
    assert result.returncode == 0, result.stderr
    total, where = result.stdout.split()
    assert float(total) == 30.0
    assert not where.startswith(str(blocker))


def test_softmax_row_max_is_the_first_maximum_of_a_compare_loop():
    """The eight-lane row maximum is the value a plain compare loop finds: NaN skipped,
    the first of tied signed zeros, -inf for a row of NaN or -inf, and every length."""
    from mytensor.backends.numba_cpu._softmax import row_max

    def first_max(row):
        best = np.float32(-np.inf)
        for v in row:
            best = v if v > best else best
        return best

    for n in range(0, 41):
        for _ in range(20):
            row = RNG.choice(np.array([-1.5, -0.0, 0.0, np.nan, -np.inf, 2.0, -3.0],
                                      np.float32), size=n)  # fmt: skip
            x = np.concatenate([RNG.standard_normal(3).astype(np.float32), row])
            got, want = row_max(x, 3, n), first_max(row)
            assert np.float32(got).tobytes() == want.tobytes(), (row.tolist(), got, want)


@pytest.mark.parametrize("cols", [5, 300])  # shorter than the eight lanes' block / longer
@pytest.mark.parametrize("log", [False, True])
def test_float32_softmax_rows_in_parallel_equal_the_serial_kernel(impl, cols, log):
    """Blocks of rows in parallel give the serial kernel's bits, and the reference's
    values, with NaN, +inf, all -inf and signed-zero rows among them."""
    values = RNG.standard_normal((37, cols)).astype(np.float32)
    values[3, 1], values[4, 2], values[5], values[6] = np.nan, np.inf, -np.inf, -0.0
    x = mt.tensor(values, backend="numba_cpu")
    results = []
    for _ in _all_paths(impl):
        results.append((x.log_softmax(-1) if log else x.softmax(-1)).numpy())
    np.testing.assert_array_equal(results[0].view(np.int32), results[1].view(np.int32))
    ref = mt.tensor(values, backend="numpy_ref")
    expected = (ref.log_softmax(-1) if log else ref.softmax(-1)).numpy()
    np.testing.assert_allclose(results[0], expected, rtol=2e-6, atol=1e-7)


# -- the threading layer ------------------------------------------------------------------------
_LAYER_AFTER_A_PARALLEL_KERNEL = """
    import numba
    import mytensor as mt
    x = mt.ones(1 << 18, backend="numba_cpu")
    assert (x + x).sum().item() == 2 * (1 << 18)
    print(numba.threading_layer())
"""


def _tbb_installed() -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution("tbb")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _tbb_installed(), reason="the tbb package is not installed")
def test_parallel_kernels_run_on_tbb_when_its_package_is_installed():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(_LAYER_AFTER_A_PARALLEL_KERNEL)],
                            env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.stdout.split() == ["tbb"], result.stderr


def test_without_tbb_parallel_kernels_run_on_workqueue():
    hide_tbb = """
        import importlib.metadata
        found = importlib.metadata.distribution
        def distribution(name):
            if name == "tbb":
                raise importlib.metadata.PackageNotFoundError(name)
            return found(name)
        importlib.metadata.distribution = distribution
    """
    code = textwrap.dedent(hide_tbb) + textwrap.dedent(_LAYER_AFTER_A_PARALLEL_KERNEL)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.stdout.split() == ["workqueue"], result.stderr


def test_a_users_threading_layer_wins():
    result = _run_python(_LAYER_AFTER_A_PARALLEL_KERNEL, NUMBA_THREADING_LAYER="workqueue")
    assert result.stdout.split() == ["workqueue"], result.stderr


def test_plugin_discovery_does_not_import_numba():
    code = """
        import sys
        import mytensor as mt
        from mytensor.core.registry import REGISTRY
        REGISTRY.discover()
        print(REGISTRY.infos["numba_cpu"].status, "numba" in sys.modules)
    """
    result = _run_python(code)
    assert result.stdout.split() == ["available", "False"], result.stderr


def test_missing_numba_is_reported_as_the_reason():
    code = """
        import sys
        sys.modules["numba"] = None  # as if the extra were not installed
        import mytensor as mt
        info = {b.name: b for b in mt.backends()}["numba_cpu"]
        print(info.status, "|", info.error)
    """
    result = _run_python(code)
    status, error = result.stdout.split("|")
    assert status.strip() == "unavailable"
    assert "numba_cpu needs numba: pip install 'mytensor[numba]'" in error


# -- kernel logic as plain Python ----------------------------------------------------------------
def test_conformance_subset_without_jit():
    """NUMBA_DISABLE_JIT=1 runs every kernel as the Python it is written in."""
    root = Path(__file__).resolve().parents[1]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "mytensor.conformance",
        "--backend",
        "numba_cpu",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-large",  # 2**21 elements through interpreted kernels would take hours
        "-k",
        "exp or add or sum or reduce or where or copy or gather or scatter or conv",
    ]
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    result = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True,
                            timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


@pytest.mark.parametrize("op", ["sum", "max", "all"])
def test_middle_axis_reductions_on_both_paths(impl, op):
    """Many kept rows of fast lanes: the parallel lane blocks."""
    values = RNG.standard_normal((8, 500, 40))
    values = values > -3.0 if op == "all" else values
    expected = _reference_reduce(op, values, (1,))
    for threshold in _all_paths(impl):
        x = mt.tensor(values, backend="numba_cpu")
        out = mt.zeros(8, 1, 40, dtype=x.dtype, backend="numba_cpu")
        impl.reduce(op, out._d, x._d, (1,))
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, err_msg=f"{threshold}")


def test_small_products_run_on_one_blas_thread_and_restore_the_count(monkeypatch):
    api = _blas_threads._numpy_api()
    if api is None:
        pytest.skip("numpy's BLAS here is not OpenBLAS: products run as numpy runs them")
    get, set_ = api
    seen = []

    def counting(x, y, out):  # the BLAS thread count inside each product
        seen.append(get())
        np.matmul(x, y, out=out)

    monkeypatch.setattr(_blas_threads, "_product", counting)
    rng = np.random.default_rng(0)
    a, b, big = (rng.standard_normal(s) for s in ((16, 64), (64, 32), (256, 256)))
    out, big_out = np.empty((16, 32)), np.empty((256, 256))
    before = get()
    set_(2)
    try:
        _blas_threads.matmul(a, b, out)
        _blas_threads.matmul(big, big, big_out)
        after = get()
    finally:
        set_(before)
    assert seen == [1, 2]  # the small product on one thread, the large one on the pool
    assert after == 2  # the count is restored
    np.testing.assert_array_equal(out, a @ b)
    np.testing.assert_array_equal(big_out, big @ big)


def test_short_products_above_the_small_kernel_run_as_two_halves(monkeypatch):
    """A recurrent step's product (16 rows, just over 10^6 multiply-adds) runs as two
    products of 8 rows, each under OpenBLAS's small-matrix size; a tall product of the
    same work, a batched one and a product under 10^6 run whole."""
    if _blas_threads._numpy_api() is None:
        pytest.skip("numpy's BLAS here is not OpenBLAS: products run as numpy runs them")
    shapes = []

    def recording(x, y, out):
        shapes.append(x.shape)
        np.matmul(x, y, out=out)

    monkeypatch.setattr(_blas_threads, "_product", recording)
    rng = np.random.default_rng(1)
    cases = [((16, 128), (128, 512)), ((128, 128), (128, 64)), ((16, 64), (64, 512)),
             ((2, 16, 128), (2, 128, 256))]  # fmt: skip
    for a_shape, b_shape in cases:
        a = rng.standard_normal(a_shape).astype(np.float32)
        b = rng.standard_normal(b_shape).astype(np.float32)
        out = np.full((*a_shape[:-1], b_shape[-1]), np.nan, np.float32)
        _blas_threads.matmul(a, b, out)
        expected = a.astype(np.float64) @ b.astype(np.float64)
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert shapes == [(8, 128), (8, 128), (128, 128), (16, 64), (2, 16, 128)]


def test_products_split_between_threads():
    """The products the large tier's batched-matmul test draws take the batch path (the
    test checks its values); small batches and single products stay with numpy's on one
    BLAS thread; products too large for one thread split in blocks, unless there are
    enough of them to share out whole."""
    backend = get_backend("numba_cpu").impl
    if backend.threads != 2 or not _gemm.available(np.dtype(np.float32)):
        pytest.skip("the split needs two numba threads and numpy's OpenBLAS")
    a, b = np.ones((4, 4, 48, 64), np.float32), np.ones((4, 4, 64, 40), np.float32)
    assert backend._split_batch(np.empty((4, 4, 48, 40), np.float32), a, b)
    assert not backend._split_batch(np.empty((4, 48, 40), np.float32), a[0], b[0])  # 0.5 M
    assert not backend._split_batch(np.empty((48, 40), np.float32), a[0, 0], b[0, 0])
    assert backend._block_parts(np.empty((48, 40), np.float32), a[0, 0], b[0, 0]) == 0
    big = np.ones((4, 128, 128), np.float32)  # 2 M each: four of them go whole
    assert backend._split_batch(np.empty_like(big), big, big)
    assert not backend._split_batch(np.empty_like(big[:3]), big[:3], big[:3])  # 3: in blocks
    assert backend._block_parts(np.empty_like(big[:3]), big[:3], big[:3]) == 4
    assert backend._block_parts(np.empty_like(big[0]), big[0], big[0]) == 4
    wide = np.ones((256, 256), np.float32)  # 2^24: one block a thread
    assert backend._block_parts(np.empty_like(wide), wide, wide) == 2
    assert backend._block_parts(np.empty((128, 128), np.complex64), big[0], big[0]) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_gemm_follows_blas_rules(dtype):
    """numpy's GEMM as the kernels call it: transposes by flag, ``beta = 1`` adds to the
    output, and an empty inner dimension writes zeros over whatever was there."""
    fn = _gemm.function(np.dtype(dtype))
    if fn is None:
        pytest.skip("numpy's BLAS exports no cblas GEMM here")
    a, b = RNG.standard_normal((5, 3)).astype(dtype), RNG.standard_normal((4, 5)).astype(dtype)
    out = np.full((3, 4), 2.0, dtype)
    _gemm.gemm(fn, _gemm.TRANS, _gemm.TRANS, 3, 4, 5, a, 3, b, 5, 1.0, out, 4)
    np.testing.assert_allclose(out, a.T @ b.T + 2.0, rtol=1e-5)
    empty = np.full((3, 4), np.nan, dtype)
    _gemm.gemm(fn, _gemm.NO_TRANS, _gemm.NO_TRANS, 3, 4, 0, np.empty((3, 0), dtype), 0,
               np.empty((0, 4), dtype), 4, 0.0, empty, 4)  # fmt: skip
    assert (empty == 0).all() and not np.signbit(empty).any()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch, hidden", [(16, 128), (3, 5), (40, 24)])
def test_lstm_recurrence_kernels_equal_the_composite(threads, batch, hidden):
    """The one-kernel recurrence, forward and backward, in both directions: bit for bit the
    core's step loop on the same backend, whether the batch runs whole, as two halves one
    after the other (one thread) or as two halves on two threads (16 x 128: products of
    1 M multiply-adds, which run as halves)."""
    from mytensor.core import fused_cells
    from mytensor.core.ops.recurrent import lstm_sequence

    dispatch = get_backend("numba_cpu")
    backend = dispatch.impl
    if not _gemm.available(np.dtype(np.float32)):
        pytest.skip("the kernels call numpy's OpenBLAS GEMM")
    steps = 4
    values = [RNG.standard_normal(shape).astype(np.float32) * scale for shape, scale in
              (((steps * batch, 4 * hidden), 1.0), ((batch, hidden), 1.0), ((batch, hidden), 1.0),
               ((4 * hidden, hidden), 0.2))]  # fmt: skip
    grad = RNG.standard_normal((steps, batch, 2 * hidden)).astype(np.float32)
    native = {"lstm_sequence": dispatch.lstm_sequence,
              "lstm_sequence_backward": dispatch.lstm_sequence_backward}
    composite = {"lstm_sequence": lambda *a: fused_cells.lstm_sequence(dispatch, *a),
                 "lstm_sequence_backward":
                     lambda *a: fused_cells.lstm_sequence_backward(dispatch, *a)}  # fmt: skip
    before = backend.threads
    try:
        backend.threads = threads
        parts, parallel, _ = backend._recurrent_parts(batch, hidden)
        split = (batch, hidden) == (16, 128)
        assert (parts, parallel) == ((2, threads > 1) if split else (1, False))
        for reverse in (False, True):
            results = []
            for primitives in (native, composite):
                for name, run in primitives.items():
                    setattr(dispatch, name, run)
                inputs = [mt.tensor(v, backend="numba_cpu", requires_grad=True) for v in values]
                hc = lstm_sequence(*inputs, reverse=reverse)
                hc.backward(mt.tensor(grad, backend="numba_cpu"))
                results.append([hc.numpy()] + [t.grad.numpy() for t in inputs])
            for name, got, expected in zip(("hc", "d_gi", "d_h0", "d_c0", "d_w_hh"), *results,
                                           strict=True):  # fmt: skip
                assert np.array_equal(got, expected), f"{name}, reverse={reverse}"
    finally:
        backend.threads = before
        for name, run in native.items():
            setattr(dispatch, name, run)
