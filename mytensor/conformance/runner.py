"""`run()`: the conformance suite in-process, with a per-op summary (and a JSON report)."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest


def op_of(nodeid: str) -> str:
    """The op a test is about: the first parametrize id component, else (a test
    parametrized by backend only) the test's name."""
    name = nodeid.rpartition("::")[2]
    test, _, params = name.partition("[")
    parts = params.rstrip("]").split("-")
    if len(parts) > 1:  # the last component is the backend
        return parts[0]
    return test.removeprefix("test_")


class SummaryPlugin:
    """Counts passed / failed / xfailed tests per op."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = defaultdict(
            lambda: {"passed": 0, "failed": 0, "xfailed": 0, "skipped": 0}
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        counts = self.counts[op_of(report.nodeid)]
        if hasattr(report, "wasxfail") and report.skipped:
            counts["xfailed"] += 1
        elif report.failed:
            counts["failed"] += 1
        elif report.skipped:
            counts["skipped"] += 1
        elif report.passed and report.when == "call":
            counts["passed"] += 1

    def table(self) -> str:
        width = max([len("op"), *(len(op) for op in self.counts)])
        lines = [f"{'op':<{width}}  passed  failed  xfailed"]
        for op in sorted(self.counts):
            c = self.counts[op]
            lines.append(f"{op:<{width}}  {c['passed']:>6}  {c['failed']:>6}  {c['xfailed']:>7}")
        return "\n".join(lines)


def run(
    backend_names: Sequence[str], report: str | None = None, extra_args: Sequence[str] = ()
) -> int:
    """Run the suite on `backend_names`, print a per-op table, optionally write it as JSON
    to `report`; returns pytest's exit code."""
    # no ini file of the working directory applies, and test ids start at the package
    # (mytensor/conformance/...): the same run and the same ids from every directory
    args = ["--pyargs", "mytensor.conformance", "-p", "no:cacheprovider", "-c", os.devnull,
            f"--rootdir={Path(__file__).resolve().parents[2]}"]  # fmt: skip
    args += [f"--backend={name}" for name in backend_names]
    args += list(extra_args)
    summary = SummaryPlugin()
    code = int(pytest.main(args, plugins=[summary]))
    print(summary.table())
    if report:
        document = {
            "backends": list(backend_names),
            "exit_code": code,
            "ops": {op: dict(c) for op, c in sorted(summary.counts.items())},
        }
        Path(report).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return code
