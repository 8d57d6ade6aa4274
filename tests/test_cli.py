"""The `mytensor` command, run as a user runs it: in a subprocess."""

import json
import os
import subprocess
import sys

import mytensor as mt


def run_cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mytensor.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mytensor {mt.__version__}"


def test_backends_lists_status_dtypes_and_native_primitives() -> None:
    result = run_cli("backends")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:] if line}
    assert rows["numpy_ref"][1] == "loaded"
    assert "float32" in rows["numpy_ref"][3]
    assert rows["numpy_ref"][4] == "matmul,gather,scatter_add,softmax,max_pool,conv"
    assert rows["minimal"][1:3] == ["loaded", "cpu"]
    assert rows["minimal"][4] == "-"  # only the required primitives


def test_unknown_backend_is_a_clear_error() -> None:
    result = run_cli("train", "--backend", "no_such_backend", "--epochs", "1")
    assert result.returncode == 2
    assert "unknown backend 'no_such_backend'" in result.stderr
    assert "numpy_ref" in result.stderr


def test_conformance_command_reports_per_op(tmp_path) -> None:
    report = tmp_path / "report.json"
    result = run_cli(
        "conformance", "numpy_ref", "--report", str(report), "--", "-k", "exp or matmul",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(report.read_text())
    assert summary, "the report lists no op"
    text = json.dumps(summary)
    assert "exp" in text and "matmul" in text


def test_bench_quick_json_has_medians_ratios_and_skipped_rows() -> None:
    # the rows as MYTENSOR_BENCH_ROWS names them (here without torch, to stay quick)
    env = {**os.environ, "MYTENSOR_BENCH_ROWS": "numpy_ref,no_such_backend,numpy"}
    result = run_cli("bench", "--quick", "--json", "--filter", r"^dispatch\.add_tiny", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["quick"] is True and report["machine"]["cpu"]
    assert report["rows"] == ["numpy_ref", "numpy"]
    assert "unknown backend 'no_such_backend'" in report["skipped_rows"]["no_such_backend"]
    lines = {line["workload"]: line for line in report["table"]}
    assert set(lines) == {"add_tiny", "add_tiny_grad"}
    plain = lines["add_tiny"]
    assert plain["medians"]["numpy_ref"] > 0 and plain["medians"]["numpy"] > 0
    assert plain["ratios"]["numpy_ref"] == {
        "numpy": plain["medians"]["numpy_ref"] / plain["medians"]["numpy"],
        "torch": None,
    }
    assert lines["add_tiny_grad"]["skipped"]["numpy"] == "numpy has no autograd"
    assert lines["add_tiny_grad"]["ratios"]["numpy_ref"]["numpy"] is None


def test_bench_rejects_a_filter_that_matches_nothing() -> None:
    result = run_cli("bench", "--quick", "--filter", "no_such_workload")
    assert result.returncode == 2
    assert "no workload matches" in result.stderr
