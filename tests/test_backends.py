"""Backend discovery, selection, isolation of broken plugins, and cross-backend behaviour."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from _util import assert_same

import mytensor as mt
from mytensor import BackendError

RNG = np.random.default_rng(7)


def _run_python(code: str, *, pythonpath: str | None = None, **env_vars: str):
    env = {k: v for k, v in os.environ.items() if k not in ("MYTENSOR_BACKEND", "PYTHONPATH")}
    env.update(env_vars)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# -- listing and selection -----------------------------------------------------------------
def test_backends_lists_installed_with_status():
    infos = {b.name: b for b in mt.backends()}
    assert {"numpy_ref", "minimal"} <= set(infos)
    ref, minimal = infos["numpy_ref"], infos["minimal"]
    assert ref.status == "loaded" and ref.error is None
    assert minimal.status == "loaded" and minimal.error is None
    assert ref.device == minimal.device == "cpu"
    assert {"matmul", "gather", "scatter_add"} <= set(ref.native)
    assert minimal.native == ()
    assert set(minimal.dtypes) == {"bool", "int32", "int64", "float32", "float64"}
    assert ref.priority > minimal.priority


def test_set_backend():
    assert mt.ones(1).backend == "numpy_ref"
    mt.set_backend("minimal")
    x = mt.ones(2)
    assert x.backend == "minimal"
    assert (x + 1).backend == "minimal"
    assert mt.zeros(1, backend="numpy_ref").backend == "numpy_ref"


def test_use_backend_is_scoped_and_restores():
    with mt.use_backend("minimal"):
        assert mt.ones(1).backend == "minimal"
        with mt.use_backend("numpy_ref"):
            assert mt.arange(3).backend == "numpy_ref"
        assert mt.tensor([1.0]).backend == "minimal"
    assert mt.ones(1).backend == "numpy_ref"
    with pytest.raises(KeyError), mt.use_backend("minimal"):
        raise KeyError("boom")
    assert mt.ones(1).backend == "numpy_ref"


def test_use_backend_does_not_leak_into_other_threads():
    seen: dict[str, str] = {}
    started = threading.Event()
    release = threading.Event()

    def worker(key: str) -> None:
        seen[key + "_before"] = mt.ones(1).backend
        started.set()
        release.wait(5)
        seen[key + "_after"] = mt.ones(1).backend

    other = threading.Thread(target=worker, args=("other",))
    other.start()
    started.wait(5)
    with mt.use_backend("minimal"):
        release.set()
        other.join(5)
        inner = threading.Thread(target=worker, args=("inner",))
        started.clear()
        release.set()
        inner.start()
        inner.join(5)
        assert mt.ones(1).backend == "minimal"
    assert seen == {"other_before": "numpy_ref", "other_after": "numpy_ref",
                    "inner_before": "numpy_ref", "inner_after": "numpy_ref"}  # fmt: skip


def test_use_backend_is_per_async_task():
    async def task(name: str | None, gate: asyncio.Event, results: list) -> None:
        if name is None:
            await gate.wait()
            results.append(("plain", mt.ones(1).backend))
            return
        with mt.use_backend(name):
            gate.set()
            await asyncio.sleep(0)
            results.append((name, mt.ones(1).backend))

    async def main() -> list:
        gate, results = asyncio.Event(), []
        await asyncio.gather(task("minimal", gate, results), task(None, gate, results))
        return sorted(results)

    assert asyncio.run(main()) == [("minimal", "minimal"), ("plain", "numpy_ref")]


def test_env_var_is_read_lazily():
    code = """
        import os, mytensor as mt
        os.environ["MYTENSOR_BACKEND"] = "minimal"  # set after import: still honoured
        print(mt.ones(1).backend)
    """
    proc = _run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["minimal"]
    proc = _run_python("import mytensor as mt; print(mt.ones(1).backend)",
                       MYTENSOR_BACKEND="minimal")  # fmt: skip
    assert proc.stdout.split() == ["minimal"], proc.stderr
    proc = _run_python("import mytensor as mt; print(mt.ones(1).backend)")
    assert proc.stdout.split() == ["numpy_ref"], proc.stderr


def test_env_var_unknown_backend_fails_on_first_use_not_import():
    code = """
        import mytensor as mt
        print("imported")
        try:
            mt.ones(1)
        except mt.BackendError as exc:
            print("error:", exc)
    """
    proc = _run_python(code, MYTENSOR_BACKEND="nope")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("imported")
    assert "unknown backend 'nope'" in proc.stdout
    assert "numpy_ref" in proc.stdout and "minimal" in proc.stdout


@pytest.mark.parametrize(
    "call",
    [lambda: mt.set_backend("nope"), lambda: mt.ones(1, backend="nope"),
     lambda: mt.use_backend("nope").__enter__(), lambda: mt.ones(1).to("nope")],
)  # fmt: skip
def test_unknown_backend_lists_installed(call):
    with pytest.raises(BackendError, match=r"unknown backend 'nope'.*minimal.*numpy_ref"):
        call()
    assert mt.ones(1).backend == "numpy_ref"


def test_backend_error_is_a_runtime_error():
    assert issubclass(BackendError, RuntimeError)


# -- crossing backends --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op",
    [lambda a, b: a + b, lambda a, b: a @ b, lambda a, b: mt.cat([a, b]),
     lambda a, b: mt.where(a > 0, a, b), lambda a, b: mt.maximum(a, b)],
)  # fmt: skip
def test_mixing_backends_raises_naming_both(op):
    a = mt.ones(2, 2, backend="numpy_ref")
    b = mt.ones(2, 2, backend="minimal")
    with pytest.raises(RuntimeError, match=r"'numpy_ref'.*'minimal'.*\.to\("):
        op(a, b)


def test_mixing_backends_in_setitem():
    a = mt.zeros(3)
    with pytest.raises(RuntimeError, match=r"\.to\('numpy_ref'\)"):
        a[:2] = mt.ones(2, backend="minimal")
    assert a.tolist() == [0.0, 0.0, 0.0]


def test_to_round_trip_with_gradients():
    a = RNG.standard_normal((2, 3))
    x = mt.tensor(a, dtype=mt.float64, requires_grad=True)
    m = x.to("minimal")
    assert m.backend == "minimal" and m.requires_grad
    assert x.to("numpy_ref") is x
    y = (m * m).sum(dim=1)
    back = y.to("numpy_ref")
    assert back.backend == "numpy_ref"
    (back * mt.tensor([1.0, 2.0], dtype=mt.float64)).sum().backward()
    assert x.grad.backend == "numpy_ref"
    assert_same(x.grad, 2 * a * np.array([[1.0], [2.0]]), rtol=1e-12)


def test_to_copies_values_and_dtype():
    x = mt.tensor([[1, 2], [3, 4]], dtype=mt.int32).T
    m = x.to("minimal")
    assert m.dtype is mt.int32 and m.tolist() == [[1, 3], [2, 4]]
    assert m.to("numpy_ref").tolist() == [[1, 3], [2, 4]]


# -- composites on a backend with only the required primitives ----------------------------------
@pytest.mark.parametrize(("sa", "sb"), [((3, 4), (4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)),
                                        ((2, 1, 2, 3), (3, 3, 2)), ((0, 3), (3, 2))])
def test_matmul_composite_on_minimal(sa, sb):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    x = mt.tensor(a, dtype=mt.float64, backend="minimal", requires_grad=True)
    y = mt.tensor(b, dtype=mt.float64, backend="minimal", requires_grad=True)
    out = x @ y
    assert out.backend == "minimal"
    assert_same(out, a @ b, rtol=1e-10)
    out.sum().backward()
    xr = mt.tensor(a, dtype=mt.float64, requires_grad=True)
    yr = mt.tensor(b, dtype=mt.float64, requires_grad=True)
    (xr @ yr).sum().backward()
    assert_same(x.grad, xr.grad.numpy(), rtol=1e-10)
    assert_same(y.grad, yr.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "key",
    [(np.array([2, 0, 2]),), (slice(None), np.array([3, 0])), (np.array([0, 2]), np.array([1, 1])),
     (np.array([True, False, True]),)],
    ids=repr,
)
def test_integer_indexing_gather_composite_on_minimal(key):
    a = RNG.standard_normal((3, 4))
    x = mt.tensor(a, dtype=mt.float64, backend="minimal", requires_grad=True)
    out = x[key]
    assert out.backend == "minimal"
    assert_same(out, a[key])
    out.sum().backward()
    expected = np.zeros_like(a)
    np.add.at(expected, key, 1.0)
    assert_same(x.grad, expected)


def test_gather_scatter_add_composites_on_minimal():
    x = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], backend="minimal")
    idx = mt.tensor([[2, 0], [1, 1]], backend="minimal")
    assert mt.gather(x, 1, idx).tolist() == [[3.0, 1.0], [5.0, 5.0]]
    src = mt.ones(2, 2, backend="minimal")
    out = mt.scatter_add(mt.zeros(2, 3, backend="minimal"), 1, idx, src)
    assert out.tolist() == [[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]]


@pytest.mark.parametrize(("fn", "dtype"), [(mt.randn, mt.float32), (mt.rand, mt.float64)])
def test_random_is_identical_across_backends(fn, dtype):
    mt.manual_seed(123)
    ref = fn(4, 5, dtype=dtype, backend="numpy_ref")
    mt.manual_seed(123)
    other = fn(4, 5, dtype=dtype, backend="minimal")
    assert other.backend == "minimal" and other.dtype is dtype
    np.testing.assert_array_equal(ref.numpy(), other.numpy())
    mt.manual_seed(123)
    np.testing.assert_array_equal(fn(4, 5, dtype=dtype).numpy(), ref.numpy())
    assert not np.array_equal(fn(4, 5, dtype=dtype).numpy(), ref.numpy())


def test_minimal_backend_elementwise_and_reductions_match_reference():
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    x = mt.tensor(a, backend="minimal")
    xt = x.T[::-1]
    assert_same(xt.exp() * 2 - xt, np.exp(a.T[::-1]) * 2 - a.T[::-1], rtol=1e-6)
    assert_same(x.sum(dim=0), a.sum(0), rtol=1e-5)
    assert_same(x.amax(dim=1), a.max(1))
    assert_same(x.argmax(dim=1), a.argmax(1))
    assert_same(mt.softmax(x, dim=1), np.exp(a) / np.exp(a).sum(1, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("name", ["numpy_ref", "numba_cpu"])
def test_the_builtin_cpu_backends_declare_every_op_name(name):
    from mytensor.backends import spec

    impl = mt.core.registry.get_backend(name).impl
    assert set(impl.map_ops) == set(spec.MAP_OPS + spec.OPTIONAL_MAP_OPS)
    assert set(impl.zip_ops) == set(spec.ZIP_OPS + spec.OPTIONAL_ZIP_OPS)
    assert set(impl.reduce_ops) == set(spec.REDUCE_OPS)
    # nothing declined but the dtypes beyond float32/float64 of numba_cpu's optimizer,
    # LSTM, layer-norm, max-pool and softmax-backward kernels, and beyond float32 of its
    # cross-entropy backward and LSTM recurrence forward (the core's composite or host
    # fallback runs those)
    declined = mt.core.registry.get_backend(name).declined
    float_kernels = {*spec.FUSED_UPDATES, "lstm_cell", "lstm_cell_backward",
                     "lstm_sequence_backward", "layer_norm", "layer_norm_backward", "max_pool",
                     "softmax_backward"}  # fmt: skip
    float32_kernels = {"cross_entropy_backward", "lstm_sequence"}
    assert {primitive for primitive, _ in declined} <= float_kernels | float32_kernels
    assert not {dtype.name for p, dtype in declined if p in float_kernels} & {"float32", "float64"}
    assert not {dtype.name for p, dtype in declined if p in float32_kernels} & {"float32"}


# -- broken plugins, discovered for real through entry points ------------------------------------
BROKEN_IMPORT = """
raise ImportError("this plugin needs libfoo, which is not installed")
"""
MISSING_REDUCE = """
from mytensor.backends.spec import BackendEntry, hookimpl


class NoReduce:
    name = "no_reduce"
    device = "cpu"
    dtypes = frozenset({"float32"})

    def allocate(self, size, dtype): ...
    def from_host(self, array): ...
    def to_host(self, src): ...
    def copy(self, out, src): ...
    def map(self, op, out, a): ...
    def zip(self, op, out, a, b): ...
    def where(self, out, cond, a, b): ...


@hookimpl
def mytensor_backends():
    return [BackendEntry(name="no_reduce", factory=NoReduce, priority=100)]
"""

NO_EXP = """
from mytensor.backends.numpy_ref.backend import NumpyBackend
from mytensor.backends.spec import BackendEntry, hookimpl


class NoExp(NumpyBackend):
    map_ops = NumpyBackend.map_ops - {"exp"}


@hookimpl
def mytensor_backends():
    return [BackendEntry(name="no_exp", factory=NoExp, priority=100)]
"""


@pytest.fixture
def broken_plugins(tmp_path):
    (tmp_path / "mt_broken_import.py").write_text(BROKEN_IMPORT)
    (tmp_path / "mt_no_reduce.py").write_text(MISSING_REDUCE)
    (tmp_path / "mt_no_exp.py").write_text(NO_EXP)
    dist = tmp_path / "mt_broken_plugins-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mt-broken-plugins\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        "[mytensor.backends]\nbroken_import = mt_broken_import\nno_reduce = mt_no_reduce\n"
        "no_exp = mt_no_exp\n"
    )
    return str(tmp_path)


def test_broken_plugins_are_isolated_and_reported(broken_plugins):
    code = """
        import json
        import mytensor as mt
        report = {"infos": {b.name: [b.status, b.error] for b in mt.backends()}}
        x = mt.ones(3)  # default: no_reduce has the top priority but is broken
        report["default"] = [x.backend, (x + 1).tolist()]
        for name in ("broken_import", "no_reduce", "no_exp"):
            try:
                mt.ones(1, backend=name)
            except mt.BackendError as exc:
                report[name] = str(exc)
        print(json.dumps(report))
    """
    proc = _run_python(code, pythonpath=broken_plugins)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    infos = report["infos"]
    assert infos["numpy_ref"][0] == "loaded" and infos["minimal"][0] == "loaded"
    status, error = infos["broken_import"]
    assert status == "broken"
    assert "ImportError" in error and "libfoo" in error and "mt_broken_import" in error
    status, error = infos["no_reduce"]
    assert status == "broken"
    assert "missing required primitive(s): reduce" in error
    status, error = infos["no_exp"]  # the contract's op names and entry name, at load
    assert status == "broken"
    assert error == (
        "its name attribute is 'numpy_ref' but it is registered as 'no_exp': give the backend "
        "object and its BackendEntry the same name; map_ops lacks the required op(s) exp: "
        "implement them in map and list them in map_ops"
    )
    assert report["no_exp"] == f"backend 'no_exp' is broken: {error}"
    assert report["default"] == ["numpy_ref", [2.0, 2.0, 2.0]]
    assert "broken" in report["broken_import"] and "libfoo" in report["broken_import"]
    assert "missing required primitive(s): reduce" in report["no_reduce"]


def test_broken_plugin_reported_when_asked_for_lazily(broken_plugins):
    code = """
        import mytensor as mt
        try:
            mt.set_backend("no_reduce")
        except mt.BackendError as exc:
            print(exc)
        print(mt.ones(1).backend)
    """
    proc = _run_python(code, pythonpath=broken_plugins)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "backend 'no_reduce' is broken: missing required primitive(s): reduce"
    assert lines[1] == "numpy_ref"
    proc = _run_python("import mytensor as mt; mt.ones(1)", pythonpath=broken_plugins,
                       MYTENSOR_BACKEND="broken_import")  # fmt: skip
    assert proc.returncode != 0
    assert "BackendError" in proc.stderr and "libfoo" in proc.stderr
