"""The two frameworks every program runs on, and the comparison of their results.

A program is a plain PyTorch script written once as a function of the framework modules
(`torch, nn, optim, data`); `pytorch()` and `mytensor()` hand it the real ones or ours.
Programs return plain values (floats, lists, dicts, numpy arrays) so that the two runs
can be compared step by step with `assert_same_run`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import mytensor as mt

Frameworks = tuple[ModuleType, ModuleType, ModuleType, ModuleType]


def pytorch() -> Frameworks:
    """PyTorch's `torch, torch.nn, torch.optim, torch.utils.data` (the test skips without it)."""
    torch = pytest.importorskip("torch")
    data = pytest.importorskip("torch.utils.data")
    return torch, torch.nn, torch.optim, data


_PYTORCH_RESULTS: dict[Callable, Any] = {}


def run_on_pytorch(program: Callable[..., Any]) -> Any:
    """`program`'s result with PyTorch, computed once per session (every backend's run is
    compared with the same one); each caller gets its own copy."""
    if program not in _PYTORCH_RESULTS:
        _PYTORCH_RESULTS[program] = program(*pytorch())
    return copy.deepcopy(_PYTORCH_RESULTS[program])


def mytensor() -> Frameworks:
    """mytensor's counterparts: `mytensor, mytensor.nn, mytensor.optim, mytensor.data`."""
    return mt, mt.nn, mt.optim, mt.data


def assert_same_run(ours: Any, theirs: Any, *, rtol: float = 1e-4, atol: float = 1e-5,
                    where: str = "result") -> None:  # fmt: skip
    """`ours` and `theirs` have the same structure, the same exact values where they are
    str/bool/int/None, and float values within float32 tolerance; a failure names the
    path to the value (e.g. ``result['losses'][7]``)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: {type(ours).__name__} vs dict"
        assert sorted(ours) == sorted(theirs), f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"
        for key in theirs:
            assert_same_run(ours[key], theirs[key], rtol=rtol, atol=atol, where=f"{where}[{key!r}]")
    elif isinstance(theirs, list | tuple):
        assert isinstance(ours, list | tuple), f"{where}: {type(ours).__name__} vs a sequence"
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} vs {len(theirs)}"
        for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same_run(a, b, rtol=rtol, atol=atol, where=f"{where}[{k}]")
    elif isinstance(theirs, np.ndarray | float):
        have, want = np.asarray(ours), np.asarray(theirs)
        assert have.shape == want.shape, f"{where}: shape {have.shape} vs {want.shape}"
        assert have.dtype == want.dtype, f"{where}: dtype {have.dtype} vs {want.dtype}"
        np.testing.assert_allclose(have, want, rtol=rtol, atol=atol, err_msg=where)
    else:
        assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} vs {type(theirs)}"
        assert ours == theirs, f"{where}: {ours!r} vs {theirs!r}"
