"""Differential fuzzing: random programs of table ops, on a backend and on numpy_ref.

A program is a chain of steps over a pool of tensors: each step applies one op of the
op table (`mytensor.core.ops.OPS`, unary, broadcast and where records) to tensors of
the pool and adds the result. The same program runs on the backend under test and on
numpy_ref; the first difference (values, zero signs, NaN positions, dtype, or one side
raising) is shrunk, by dropping steps and shrinking the inputs, to a minimal program,
which is printed as Python code that reproduces it.

>>> failure = fuzz("numpy_ref", programs=3, seed=0)
>>> failure is None
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

import mytensor as mt
from mytensor.conformance.checks import assert_close, tolerance
from mytensor.core.ops import OPS, OpRecord

__all__ = ["Program", "fuzz", "run_program"]

_DTYPES = ("float32", "float64")
_EDGES = (0.0, -0.0, math.nan, math.inf, -math.inf, 0.5, -2.5)


@dataclass
class Program:
    """Inputs (numpy arrays) and steps ``(op name, pool indices, kwargs)``."""

    inputs: list[np.ndarray]
    steps: list[tuple[str, tuple[int, ...], dict]] = field(default_factory=list)

    def source(self, backend: str) -> str:
        """The program as Python code that runs it on `backend` and on numpy_ref."""
        lines = ["import numpy as np", "import mytensor as mt", "from mytensor.core.ops import OPS",
                 "", "for backend in (" + repr(backend) + ", 'numpy_ref'):"]  # fmt: skip
        for i, a in enumerate(self.inputs):
            values = re.sub(r"\b(nan|inf)\b", r"np.\1", repr(a.tolist()))
            lines.append(f"    t{i} = mt.tensor(np.array({values}, dtype=np.{a.dtype}), "
                         "backend=backend)")  # fmt: skip
        n = len(self.inputs)
        for k, (name, args, kwargs) in enumerate(self.steps):
            call = ", ".join(f"t{j}" for j in args)
            extra = "".join(f", {key}={value!r}" for key, value in kwargs.items())
            lines.append(f"    t{n + k} = OPS[{name!r}].func({call}{extra})")
        lines.append(f"    print(backend, t{n + len(self.steps) - 1}.numpy().tolist())")
        return "\n".join(lines)


def _candidates() -> list[OpRecord]:
    return sorted((r for r in OPS.values() if r.shapes in ("unary", "broadcast")
                   and any(d.name in _DTYPES for d in r.dtypes)), key=lambda r: r.name)  # fmt: skip


def _random_program(rng: np.random.Generator, records: list[OpRecord], length: int) -> Program:
    dtype = str(rng.choice(_DTYPES))
    shape = tuple(int(s) for s in rng.integers(1, 5, rng.integers(1, 3)))
    inputs = []
    for _ in range(2):
        values = rng.uniform(-3.0, 3.0, shape)
        edges = rng.random(shape) < 0.15
        values[edges] = rng.choice(_EDGES, int(edges.sum()))
        inputs.append(values.astype(dtype))
    program = Program(inputs)
    for _ in range(length):
        record = records[int(rng.integers(len(records)))]
        pool = len(program.inputs) + len(program.steps)
        arity = 1 if record.shapes == "unary" else record.arity
        args = tuple(int(i) for i in rng.integers(0, pool, arity))
        variants = record.variants(tuple(shape for _ in args)) or [{}]
        program.steps.append((record.name, args, dict(variants[rng.integers(len(variants))])))
    return program


def run_program(program: Program, backend: str) -> list:
    """Every value the program computes on `backend` (numpy arrays); raises as the ops do.

    >>> program = Program([np.array([1.0, 0.0])], [("neg", (0,), {})])
    >>> run_program(program, "numpy_ref")[0].tolist()
    [-1.0, -0.0]
    """
    pool = [mt.tensor(a, backend=backend) for a in program.inputs]
    for name, args, kwargs in program.steps:
        pool.append(OPS[name].func(*(pool[i] for i in args), **kwargs))
    return [t.numpy() for t in pool[len(program.inputs) :]]


def _difference(program: Program, backend: str) -> str | None:
    """Why the program's results differ on `backend` and numpy_ref, or None."""
    outcomes = []
    for name in (backend, "numpy_ref"):
        try:
            outcomes.append(run_program(program, name))
        except Exception as exc:  # a step that raises on one side only is a difference
            outcomes.append(f"{type(exc).__name__}: {exc}")
    got, expected = outcomes
    if isinstance(got, str) and isinstance(expected, str):
        return None  # both refuse the program (e.g. shapes that do not broadcast)
    if isinstance(got, str) or isinstance(expected, str):
        return f"{backend}: {got if isinstance(got, str) else 'ran'}; numpy_ref: " + (
            expected if isinstance(expected, str) else "ran"
        )
    for k, (g, e) in enumerate(zip(got, expected, strict=True)):
        if g.dtype != e.dtype:
            return f"step {k}: dtype {g.dtype} on {backend}, {e.dtype} on numpy_ref"
        rtol, atol = tolerance([g.dtype], 1, 3.0) if g.dtype.kind in "fc" else (0.0, 0.0)
        try:
            assert_close(g, e, f"step {k} ({program.steps[k][0]})", rtol * 100, atol * 100,
                         zero_signs=True)  # fmt: skip
        except AssertionError as exc:
            return str(exc)
    return None


def _shrink(program: Program, backend: str) -> Program:
    """A smaller program that still differs: steps dropped from the end and from the
    middle (later steps renumbered), then input elements replaced by 0 or 1."""
    while len(program.steps) > 1:
        shorter = replace(program, steps=program.steps[:-1])
        if _difference(shorter, backend) is None:
            break
        program = shorter
    for value in (0.0, 1.0):
        for i, a in enumerate(program.inputs):
            for index in np.ndindex(a.shape):
                if a[index] == value:
                    continue
                trial = [x.copy() for x in program.inputs]
                trial[i][index] = value
                candidate = replace(program, inputs=trial)
                if _difference(candidate, backend) is not None:
                    program = candidate
    return program


def fuzz(backend: str, programs: int = 100, seed: int = 0, length: int = 4) -> str | None:
    """Run `programs` random programs on `backend` and numpy_ref; the first difference,
    shrunk, as a report with a Python repro, or None when all agree."""
    rng = np.random.default_rng(seed)
    records = _candidates()
    for number in range(programs):
        program = _random_program(rng, records, length)
        if _difference(program, backend) is None:
            continue
        program = _shrink(program, backend)
        report = _difference(program, backend)
        return (f"program {number} (seed {seed}) differs on {backend!r}:\n{report}\n\n"
                f"repro:\n{program.source(backend)}")  # fmt: skip
    return None
