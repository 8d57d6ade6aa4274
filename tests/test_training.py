"""The main job: the reference models learn their tasks, and `mytensor train` leaves a
checkpoint that loads back and a plot."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mytensor as mt
from mytensor import training
from mytensor.data.datasets import write_idx


def test_mlp_learns_the_spiral_and_the_checkpoint_loads_back(tmp_path):
    summary = training.run_task("points", tmp_path, {"dataset": "spiral"})
    assert summary["test_accuracy"] >= 0.95
    model = mt.nn.Sequential(training.Rescale(0.5, 4.0), training.mlp(2, 64, 2))
    model.load_state_dict(mt.load(summary["checkpoint"]))
    test = mt.data.datasets.points("spiral", 200, seed=1)
    assert training.evaluate(model, test) == pytest.approx(summary["test_accuracy"])


def test_mlp_learns_xor(tmp_path):
    assert training.run_task("points", tmp_path, {"dataset": "xor"})["test_accuracy"] >= 0.95


def test_conv1d_model_finds_the_motifs(tmp_path):
    summary = training.run_task("sequences", tmp_path, {"epochs": 6})
    assert summary["test_accuracy"] >= 0.9


def test_lenet_learns_the_digits(tmp_path):
    pytest.importorskip("sklearn", reason="the digits ship with scikit-learn ([examples])")
    assert training.run_task("digits", tmp_path, {})["test_accuracy"] >= 0.97


def test_train_command_writes_checkpoint_and_plot(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mytensor.cli", "train", "points", "--dataset", "diag",
         "--epochs", "3", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "final test accuracy" in result.stdout
    assert (tmp_path / "points-diag.safetensors").stat().st_size > 0
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no plots" in result.stdout
    else:
        assert (tmp_path / "points-diag.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_command_rejects_an_unknown_task():
    result = subprocess.run(
        [sys.executable, "-m", "mytensor.cli", "train", "cifar"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown task(s) cifar" in result.stderr


def test_an_example_script_runs():
    result = subprocess.run(
        [sys.executable, "examples/train_points.py", "diag"],
        capture_output=True, text=True, timeout=600,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.strip().splitlines()[-1].split()[-1].rstrip("%"))
    assert accuracy >= 95.0


def test_mnist_task_reads_idx_files_the_user_has(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 96), ("t10k", 32)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
        for i, label in enumerate(labels):  # a bright stripe whose row encodes the label
            images[i, 2 + 2 * label : 4 + 2 * label, 4:24] = 255
        write_idx(tmp_path / f"{split}-images-idx3-ubyte", images)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", labels)
    summary = training.run_task("mnist", tmp_path / "out", {"data": str(tmp_path), "epochs": 4})
    assert summary["test_accuracy"] >= 0.5  # chance is 0.1: it learned from these files
    assert (tmp_path / "out" / "mnist.safetensors").exists()
