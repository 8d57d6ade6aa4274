"""The table `mytensor bench` prints: medians per row, and each backend's ratios to plain
numpy and to PyTorch measured in the same run (below 1: faster than the peer)."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from typing import Any

from .rows import PEERS
from .runner import Result
from .workloads import WORKLOADS

__all__ = ["format_seconds", "machine", "render", "report"]


def format_seconds(seconds: float | None) -> str:
    """Three significant digits in a readable unit.

    >>> format_seconds(0.0123), format_seconds(4.2e-6), format_seconds(None)
    ('12.3 ms', '4.20 µs', '-')
    """
    if seconds is None:
        return "-"
    unit, scale = next(
        ((u, s) for u, s in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)) if seconds >= s),
        ("ns", 1e-9),
    )
    value = seconds / scale
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """Where and with what a table was measured (no timing in it)."""
    return {
        "cpu": f"{os.cpu_count()}-core {platform.machine()} ({_cpu_model()})",
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in ("mytensor", "numpy", "numba", "torch")},
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _ratio(ours: float | None, peer: float | None) -> float | None:
    return None if ours is None or not peer else ours / peer


def report(results: Sequence[Result], rows: Sequence[str], **extra: Any) -> dict[str, Any]:
    """The JSON-able report: a line per (workload, size) with medians and ratios.

    Rows skipped in every cell for one reason (a backend that is not installed) leave
    the columns and are listed under ``skipped_rows``.

    >>> from mytensor.bench.runner import Result
    >>> r = report([Result("add", 10, "numpy_ref", median=2e-6),
    ...             Result("add", 10, "numpy", median=1e-6)], ["numpy_ref", "numpy"])
    >>> r["table"][0]["ratios"]
    {'numpy_ref': {'numpy': 2.0, 'torch': None}}
    """
    by_row: dict[str, list[Result]] = {name: [] for name in rows}
    for result in results:
        by_row.setdefault(result.row, []).append(result)
    skipped_rows = {}
    for name, cells in by_row.items():
        reasons = {c.skipped for c in cells}
        if cells and len(reasons) == 1 and None not in reasons:
            skipped_rows[name] = reasons.pop()
    columns = [name for name in by_row if name not in skipped_rows]
    lines: dict[tuple[str, int], dict[str, Any]] = {}
    for result in results:
        if result.row in skipped_rows:
            continue
        key = (result.workload, result.size)
        workload = WORKLOADS[result.workload]
        line = lines.setdefault(key, {
            "workload": result.workload, "group": workload.group, "size": result.size,
            "label": workload.label(result.size), "medians": {}, "skipped": {}, "failed": {},
        })  # fmt: skip
        line["medians"][result.row] = result.median
        if result.skipped:
            line["skipped"][result.row] = result.skipped
        if result.failed:
            line["failed"][result.row] = result.failed
    for line in lines.values():
        medians = line["medians"]
        line["ratios"] = {
            name: {peer: _ratio(medians.get(name), medians.get(peer)) for peer in PEERS}
            for name in columns
            if name not in PEERS
        }
    return {
        **extra,
        "rows": columns,
        "skipped_rows": skipped_rows,
        "table": list(lines.values()),
        "results": [asdict(r) for r in results],
    }


def _cells(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    columns = report["rows"]
    backends = [name for name in columns if name not in PEERS]
    peers = [p for p in PEERS if p in columns]
    header = ["workload", "size", *columns]
    header += [f"{b}/{p}" for b in backends for p in peers]
    body = []
    for line in report["table"]:
        cells = [line["workload"], line["label"]]
        for name in columns:
            failed = name in line["failed"]
            cells.append("FAILED" if failed else format_seconds(line["medians"].get(name)))
        for b in backends:
            for p in peers:
                ratio = line["ratios"][b][p]
                cells.append("-" if ratio is None else f"{ratio:.2f}x")
        body.append(cells)
    return header, body


def _notes(report: dict[str, Any]) -> list[str]:
    notes = [f"skipped row {name}: {why}" for name, why in report["skipped_rows"].items()]
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for line in report["table"]:
        for outcome in ("failed", "skipped"):
            for name, why in line[outcome].items():
                cell = f"{line['workload']} {line['label']}"
                grouped.setdefault((outcome, name, why), []).append(cell)
    for (outcome, name, why), cells in grouped.items():
        notes.append(f"{outcome} on {name} ({why}): {', '.join(cells)}")
    return notes


def render(report: dict[str, Any], markdown: bool = False) -> str:
    """The report as an aligned text table (or a Markdown one) with its notes.

    >>> from mytensor.bench.runner import Result
    >>> r = report([Result("add", 10, "numpy_ref", median=2e-6),
    ...             Result("add", 10, "numpy", median=1e-6)], ["numpy_ref", "numpy"])
    >>> print(render(r))
    workload  size  numpy_ref    numpy  numpy_ref/numpy
    add       10      2.00 µs  1.00 µs            2.00x
    """
    header, body = _cells(report)
    numeric = range(2, len(header))
    if markdown:
        rule = ["---" if i < 2 else "---:" for i in range(len(header))]
        text = ["| " + " | ".join(cells) + " |" for cells in (header, rule, *body)]
    else:
        widths = [max(len(r[i]) for r in (header, *body)) for i in range(len(header))]
        text = [
            "  ".join(
                c.rjust(w) if i in numeric else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
            for r in (header, *body)
        ]
    notes = _notes(report)
    return "\n".join([*text, "", *notes] if notes else text)
