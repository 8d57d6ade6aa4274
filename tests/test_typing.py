"""Type checkers see the Tensor API: mypy checks a PyTorch-style program and the examples
against mytensor's sources (the methods live in class bodies, the package ships py.typed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mytensor

pytest.importorskip("mypy", reason="needs mypy (pip install -e '.[dev]')")

ROOT = Path(mytensor.__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def _mypy(tmp_path: Path, *targets: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    command = [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary",
               "--cache-dir", str(tmp_path / "cache"), *map(str, targets)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)


def test_package_ships_py_typed():
    assert (ROOT / "mytensor" / "py.typed").is_file()


def test_user_program_and_examples_type_check(tmp_path):
    examples = sorted((ROOT / "examples").glob("*.py"))
    result = _mypy(tmp_path, HERE / "typing" / "user_program.py", *examples)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_tensor_attributes_are_reported(tmp_path):
    # the control: the same check fails on a program that uses what Tensor lacks
    program = tmp_path / "wrong.py"
    program.write_text(
        "import mytensor as mt\n"
        "x = mt.ones(2)\n"
        "x.no_such_method()\n"
        "y = x @ 'text'\n"
        "reveal_type(x.exp().sum(1))\n"
    )
    result = _mypy(tmp_path, program)
    assert '"Tensor" has no attribute "no_such_method"' in result.stdout, result.stdout
    assert "Unsupported operand types for @" in result.stdout, result.stdout
    assert 'Revealed type is "mytensor.core.tensor.Tensor"' in result.stdout, result.stdout
