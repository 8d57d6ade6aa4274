"""The benchmark suite computes what it claims, on every row, and reports rows that
cannot run as skipped. No test here looks at a timing."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mytensor.bench import WORKLOADS, default_rows, get_row, select
from mytensor.bench.rows import TorchRow
from mytensor.bench.runner import Settings, run
from mytensor.bench.table import render, report

REPO = Path(__file__).resolve().parent.parent
ROWS = ["numpy_ref", "numba_cpu", "numpy", "torch"]
NO_AUTOGRAD = {"add_tiny_grad", "conv2d_backward", "cross_entropy", "mlp_step",
               "lenet_step", "char_lstm_step", "transformer_step", "chain_backward",
               "per_sample_grads"}  # fmt: skip


def _result(row_name: str, name: str):
    """The workload's result at its smallest size on a row (None when the row can't)."""
    try:
        row = get_row(row_name)
    except NotImplementedError:
        return None
    workload = WORKLOADS[name]
    fn = workload.prepare(row, min(workload.sizes))
    return row.to_numpy(fn())


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_every_row_computes_the_same_result(name) -> None:
    """After the same calls (prepare's warm-up, then one), every row holds the reference's
    numbers: loss after one SGD step, gradients, sums, products."""
    expected = _result("numpy_ref", name)
    assert expected is not None and np.all(np.isfinite(expected))
    compared = 0
    for row in ROWS[1:]:
        if row == "numpy" and (name in NO_AUTOGRAD or name.startswith("conv2d")):
            with pytest.raises(NotImplementedError, match="numpy has no"):
                _result(row, name)
            continue
        got = _result(row, name)
        if got is not None:
            np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-5, err_msg=row)
            compared += 1
    assert compared >= 1, "no other row ran"


def test_workloads_cover_the_issue() -> None:
    groups = {w.group for w in WORKLOADS.values()}
    assert groups >= {"dispatch", "elementwise", "layout", "reduction", "linalg", "conv",
                      "loss", "training", "graph"}  # fmt: skip
    for workload in WORKLOADS.values():
        assert len(workload.sizes) >= 1 and set(workload.quick) <= set(workload.sizes)
        assert workload.description, workload.name
    assert [w.name for w in select("^training")] == [
        "mlp_step", "lenet_step", "char_lstm_step", "transformer_step"
    ]  # fmt: skip


def test_rows_that_cannot_run_raise_not_implemented(monkeypatch) -> None:
    with pytest.raises(NotImplementedError, match="unknown backend 'no_such'"):
        WORKLOADS["add"].build("no_such", 10)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if PyTorch were not installed
    with pytest.raises(NotImplementedError, match="PyTorch is not installed"):
        TorchRow()


def test_device_rows_synchronize_inside_the_timed_call(monkeypatch) -> None:
    row = get_row("numpy_ref")
    row.device = "gpu"  # as the cuda backend declares itself: its work is asynchronous
    waited = []
    monkeypatch.setattr("mytensor.synchronize", lambda name=None: waited.append(name))
    fn = WORKLOADS["add"].build(row, 10)
    assert waited == []
    fn()
    assert waited == ["numpy_ref"]


def test_default_rows_and_their_override(monkeypatch) -> None:
    monkeypatch.delenv("MYTENSOR_BENCH_ROWS", raising=False)
    rows = default_rows()
    assert rows[0] == "numpy_ref" and rows[-2:] == ["numpy", "torch"]
    assert "minimal" not in rows  # test plugins are benchmarked only when named
    monkeypatch.setenv("MYTENSOR_BENCH_ROWS", "minimal, numpy")
    assert default_rows() == ["minimal", "numpy"]


def test_runner_reports_skipped_rows_and_cells() -> None:
    settings = Settings(budget=0.0, min_repeats=1, max_repeats=1)
    cases = [("add_tiny", 1), ("add_tiny_grad", 1)]
    results = run(["numpy_ref", "no_such", "numpy"], cases, settings, isolate=False)
    table = report(results, ["numpy_ref", "no_such", "numpy"])
    assert table["rows"] == ["numpy_ref", "numpy"]
    assert "unknown backend 'no_such'" in table["skipped_rows"]["no_such"]
    grad = table["table"][1]
    assert grad["skipped"] == {"numpy": "numpy has no autograd"}
    assert grad["ratios"]["numpy_ref"]["numpy"] is None
    assert table["table"][0]["ratios"]["numpy_ref"]["numpy"] > 0
    text = render(table)
    assert "skipped row no_such" in text and "skipped on numpy (numpy has no autograd)" in text


def test_rounds_report_the_median_of_each_cells_rounds(monkeypatch) -> None:
    from mytensor.bench import runner

    medians = iter([3.0, 1.0, 2.0, 9.0, 7.0, 8.0])  # two rows, three rounds, in turn

    class Timer:
        def __init__(self, row: str, settings: Settings) -> None:
            self.row = row

        def time(self, name: str, size: int) -> runner.Result:
            return runner.Result(name, size, self.row, median=next(medians), repeats=2)

        def close(self) -> None:
            pass

    monkeypatch.setattr(runner, "_InProcess", Timer)
    results = run(["a", "b"], [("add", 10)], Settings(), isolate=False, rounds=3)
    # turns: a=3, b=1; a=2, b=9; a=7, b=8
    assert [(r.row, r.median, r.repeats) for r in results] == [("a", 3.0, 6), ("b", 8.0, 6)]


def test_bench_rejects_zero_rounds(capsys) -> None:
    from mytensor.cli import main

    assert main(["bench", "--quick", "--filter", "add_tiny", "--rounds", "0"]) == 2
    assert "--rounds must be at least 1" in capsys.readouterr().err


# -- the asv suite ---------------------------------------------------------------------------
@pytest.fixture
def asv_suite(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    for name in [m for m in sys.modules if m == "benchmarks" or m.startswith("benchmarks.")]:
        monkeypatch.delitem(sys.modules, name)
    return importlib.import_module("benchmarks._suite")


def test_asv_benchmarks_are_discovered_with_backend_rows(asv_suite) -> None:
    discovery = pytest.importorskip("asv_runner.discovery")
    found = {b.name: b for b in discovery.disc_benchmarks(str(REPO / "benchmarks"))}
    assert "elementwise.Add.time_add" in found
    timed = {name.split(".time_")[1] for name in found if ".time_" in name}
    assert timed == set(WORKLOADS)
    memory = {name.split(".peakmem_")[1] for name in found if ".peakmem_" in name}
    assert memory == {"mlp_step", "lenet_step", "char_lstm_step", "transformer_step"}
    assert len(found) == len(WORKLOADS) + len(memory)
    params = found["linalg.Matmul.time_matmul"].params
    assert params[0] == [repr(r) for r in default_rows()]


def test_asv_setup_raises_not_implemented_for_an_absent_peer(asv_suite, monkeypatch) -> None:
    elementwise = importlib.import_module("benchmarks.elementwise")
    bench = elementwise.Add()
    bench.setup("numpy_ref", 1000)
    bench.time_add("numpy_ref", 1000)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(NotImplementedError, match="PyTorch is not installed"):
        bench.setup("torch", 1000)
    training = importlib.import_module("benchmarks.training")
    with pytest.raises(NotImplementedError, match="numpy has no autograd"):
        training.MlpStep().setup("numpy", 16)


# -- the dashboard, in a real browser (when Chromium and asv are installed) -----------------
def _load_checker():
    path = REPO / "benchmarks" / "check_dashboard.py"
    spec = importlib.util.spec_from_file_location("check_dashboard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


def _cdn_reachable() -> bool:
    try:
        socket.getaddrinfo("cdnjs.cloudflare.com", 443)
    except OSError:
        return False
    return True


@pytest.mark.skipif(checker.find_chromium() is None, reason="needs Chromium (apt install chromium)")
def test_published_dashboard_renders_a_graph_without_javascript_errors(tmp_path) -> None:
    asv_util = pytest.importorskip("asv.util", reason="needs asv (pip install asv)")
    libraries = os.environ.get(checker.LIBRARIES_ENV)
    if not libraries and not _cdn_reachable():
        pytest.skip(
            "asv's pages load jQuery and flot from CDNs this machine cannot reach; set "
            f"{checker.LIBRARIES_ENV} to local copies (see benchmarks/check_dashboard.py)"
        )
    config = asv_util.load_json(str(REPO / "asv.conf.json"), js_comments=True)
    config.update(repo=str(REPO), benchmark_dir=str(REPO / "benchmarks"),
                  results_dir=str(tmp_path / "results"), html_dir=str(tmp_path / "html"),
                  env_dir=str(tmp_path / "env"))  # fmt: skip
    (tmp_path / "asv.conf.json").write_text(json.dumps(config))
    env = {**os.environ, "HOME": str(tmp_path), "MYTENSOR_BENCH_ROWS": "numpy_ref,numpy"}
    asv = [sys.executable, "-m", "asv"]

    def asv_command(*args: str) -> None:
        done = subprocess.run([*asv, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    asv_command("machine", "--yes", "--machine", "test")
    asv_command("run", "--machine", "test", f"-Eexisting:{sys.executable}", "--quick",
                "--set-commit-hash", head, "--bench", r"^dispatch\.AddTiny\.time")  # fmt: skip
    asv_command("publish")
    screenshot = tmp_path / "dashboard.png"
    seen = checker.check(tmp_path / "html", None, screenshot, checker.find_chromium(),
                         Path(libraries) if libraries else None)  # fmt: skip
    assert checker.problems(seen) == [], json.dumps(seen, indent=1)
    assert seen["pages"]["graph"]["painted"] > 500
    assert screenshot.stat().st_size > 1000
