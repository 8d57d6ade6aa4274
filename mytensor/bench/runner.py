"""Run workloads and time them: the engine of `mytensor bench`, no asv needed.

Each cell (workload, size, row) is built and called once untimed (JIT compilation,
allocator and cache warm-up), then timed in samples of ``number`` calls, sized so a
sample lasts about 2 ms, until the time budget is spent and at least ``min_repeats``
samples exist; the figure is the median seconds per call. Nothing here asserts a
timing: figures are reported, never tested.

By default every row runs in its own process (`python -m mytensor.bench.runner`), as
the asv suite does: numba's worker threads and PyTorch's OpenMP pool never share a
process, and the rows take turns cell by cell (an idle worker waits on its stdin), so
at most one row's threads are busy at a time and the figures of a ratio are measured
within seconds of each other, whatever the machine's load does over the run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .rows import get_row
from .workloads import WORKLOADS

__all__ = ["Result", "Settings", "median_time", "run", "run_row"]


@dataclass(frozen=True)
class Settings:
    """How long to time each cell: `budget` seconds, at least `min_repeats` samples."""

    budget: float = 1.0
    min_repeats: int = 7
    max_repeats: int = 200
    sample: float = 2e-3

    @classmethod
    def quick(cls) -> Settings:
        """A fifth of a second per cell: a table in about a minute, noisier medians."""
        return cls(budget=0.2, min_repeats=3)


@dataclass
class Result:
    """One cell: the median seconds per call, or why the row skipped or failed it."""

    workload: str
    size: int
    row: str
    median: float | None = None
    repeats: int = 0
    number: int = 0
    skipped: str | None = None
    failed: str | None = None


def median_time(fn: Callable[[], Any], settings: Settings) -> tuple[float, int, int]:
    """Median seconds per call of a warmed-up `fn`; returns (median, samples, number).

    >>> median, samples, number = median_time(lambda: None, Settings(budget=0.0))
    >>> median >= 0.0, samples, number >= 1
    (True, 7, True)
    """
    timer = timeit.Timer(fn)
    first = timer.timeit(1)
    times = [first] if first >= settings.sample else []
    per_call = first if times else timer.timeit(10) / 10  # the first call may be a slow one
    number = max(1, int(settings.sample / max(per_call, 1e-9)))
    deadline = time.perf_counter() + settings.budget
    while len(times) < settings.max_repeats and (
        len(times) < settings.min_repeats or time.perf_counter() < deadline
    ):
        times.append(timer.timeit(number) / number)
    return statistics.median(times), len(times), number


class _InProcess:
    """Times cells of one row in this process."""

    def __init__(self, row_name: str, settings: Settings) -> None:
        self.name, self.settings = row_name, settings
        try:
            self.row, self.unavailable = get_row(row_name), None
        except NotImplementedError as exc:
            self.row, self.unavailable = None, str(exc)

    def time(self, name: str, size: int) -> Result:
        result = Result(name, size, self.name, skipped=self.unavailable)
        if self.row is None:
            return result
        try:
            fn = WORKLOADS[name].prepare(self.row, size)
            result.median, result.repeats, result.number = median_time(fn, self.settings)
        except NotImplementedError as exc:
            result.skipped = str(exc)
        except Exception as exc:  # a broken kernel fails its cell, not the table
            result.failed = f"{type(exc).__name__}: {exc}"
        fn = None
        gc.collect()
        return result

    def close(self) -> None:
        self.row = None


class _Subprocess:
    """Times cells of one row in a worker process (`python -m mytensor.bench.runner`),
    which waits on its stdin between cells. The worker says when its row is loaded, and
    nothing is timed before every worker has: a row importing PyTorch beside the first
    cells had put one core's worth of import on them (softmax 256x1000 on numba_cpu's
    two threads: 195 us against 124 with the other rows idle)."""

    def __init__(self, row_name: str, settings: Settings) -> None:
        self.name = row_name
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close())
        command = [sys.executable, "-m", "mytensor.bench.runner", row_name,
                   "--settings", json.dumps(asdict(settings))]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.errors, text=True)  # fmt: skip
        self.failure: str | None = None

    def wait_until_loaded(self) -> None:
        """Block until the worker has loaded its row (its first line), or has died."""
        if not self.process.stdout.readline():
            self._record_exit()

    def _record_exit(self) -> None:
        self.process.wait()
        self.errors.seek(0)
        last = (self.errors.read().strip().splitlines() or ["no message"])[-1]
        self.failure = f"worker exited with {self.process.returncode}: {last}"

    def time(self, name: str, size: int) -> Result:
        if self.failure is None:
            try:
                self.process.stdin.write(json.dumps([name, size]) + "\n")
                self.process.stdin.flush()
                reply = self.process.stdout.readline()
            except OSError:
                reply = ""
            if reply:
                return Result(**json.loads(reply))
            self._record_exit()
        return Result(name, size, self.name, failed=self.failure)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        self.process.wait()
        self.errors.close()


def run_row(row_name: str, cases: Sequence[tuple[str, int]], settings: Settings) -> list[Result]:
    """Time `cases` ((workload, size) pairs) on one row, in this process.

    >>> [r.skipped for r in run_row("numpy", [("chain_backward", 10)], Settings.quick())]
    ['numpy has no autograd']
    """
    timer = _InProcess(row_name, settings)
    return [timer.time(name, size) for name, size in cases]


def run(
    rows: Sequence[str],
    cases: Sequence[tuple[str, int]],
    settings: Settings,
    *,
    isolate: bool = True,
    rounds: int = 1,
    progress: Callable[[str], None] | None = None,
) -> list[Result]:
    """Time every case on every row: case by case, the rows taking turns, so that the
    figures compared in a ratio are measured within seconds of each other. Each row
    runs in its own process unless not `isolate`. With several `rounds` the rows take
    turns that many times per case, and a cell's figure is the median of its rounds'
    medians: a machine whose speed drifts then weighs on every row alike.

    >>> results = run(["numpy"], [("add", 10)], Settings(budget=0.0, min_repeats=1),
    ...               isolate=False)
    >>> [(r.workload, r.row, r.median is not None) for r in results]
    [('add', 'numpy', True)]
    """
    kind = _Subprocess if isolate else _InProcess
    timers = [kind(name, settings) for name in rows]
    for timer in timers:
        if isinstance(timer, _Subprocess):
            timer.wait_until_loaded()
    results: list[Result] = []
    try:
        for name, size in cases:
            turns = [[timer.time(name, size) for timer in timers] for _ in range(rounds)]
            cells = [_median_of_rounds(list(row)) for row in zip(*turns, strict=True)]
            results += cells
            if progress is not None:
                timed = [f"{c.row} {c.median * 1e3:.3g} ms" for c in cells if c.median]
                progress(f"{name} {size}: {', '.join(timed) or 'skipped'}")
    finally:
        for timer in timers:
            timer.close()
    return results


def _median_of_rounds(rounds: list[Result]) -> Result:
    """One cell's rounds as one result: the median of the medians (a round that skipped
    or failed stands for the cell)."""
    for r in rounds:
        if r.median is None:
            return r
    medians = [r.median for r in rounds if r.median is not None]
    return Result(rounds[0].workload, rounds[0].size, rounds[0].row,
                  median=statistics.median(medians), repeats=sum(r.repeats for r in rounds),
                  number=rounds[0].number)  # fmt: skip


def _worker(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="time cells on one row: reads [workload, size] JSON lines on stdin, "
        "writes one JSON result line each"
    )
    parser.add_argument("row")
    parser.add_argument("--settings", default="{}", help="JSON of Settings fields")
    args = parser.parse_args(argv)
    timer = _InProcess(args.row, Settings(**json.loads(args.settings)))
    print("loaded", flush=True)  # see _Subprocess.wait_until_loaded
    for line in sys.stdin:
        name, size = json.loads(line)
        print(json.dumps(asdict(timer.time(name, int(size)))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_worker())
