"""The `mytensor` command: backends, conformance, train."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import mytensor as mt


def _backends(args: argparse.Namespace) -> int:
    infos = mt.backends()
    rows = [("name", "status", "device", "dtypes", "native optional primitives")]
    for info in infos:
        rows.append(
            (
                info.name,
                info.status,
                info.device,
                ",".join(info.dtypes) or "-",
                ",".join(info.native) or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for info in infos:
        if info.status == "broken":
            print(f"\n{info.name}: broken: {info.error}")
    return 0


def _conformance(args: argparse.Namespace) -> int:
    from mytensor.conformance.runner import run

    extra = list(args.pytest_args)
    if args.expected_failures:
        extra.append(f"--expected-failures={args.expected_failures}")
    return run(args.backends, report=args.report, extra_args=extra)


def _train(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from mytensor import training

    if args.backend:
        mt.set_backend(args.backend)
    tasks = args.tasks or ["points", "digits", "sequences"]
    if not args.tasks and (args.data or os.environ.get("MYTENSOR_DATA")):
        tasks.append("mnist")
    unknown = [t for t in tasks if t not in training.TASKS]
    if unknown:
        print(f"mytensor train: unknown task(s) {', '.join(unknown)}; choose from "
              f"{', '.join(training.TASKS)}", file=sys.stderr)  # fmt: skip
        return 2
    options = {"epochs": args.epochs, "dataset": args.dataset, "data": args.data}
    summaries = [training.run_task(task, Path(args.out), options) for task in tasks]
    print("\nsummary")
    for s in summaries:
        print(f"  {s['task']:<16} test accuracy {s['test_accuracy']:6.1%}   "
              f"{s['samples_per_second']:9,.0f} samples/s   {s['checkpoint']}")  # fmt: skip
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mytensor", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mytensor {mt.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("backends", help="list installed backends and their status")
    listing.set_defaults(run=_backends)

    conformance = commands.add_parser(
        "conformance",
        help="run the conformance suite against backends",
        epilog="arguments after -- go to pytest, e.g. -- -k matmul",
    )
    conformance.add_argument("backends", nargs="+", metavar="NAME")
    conformance.add_argument("--report", metavar="FILE", help="also write the summary as JSON")
    conformance.add_argument("--expected-failures", metavar="FILE")
    conformance.set_defaults(run=_conformance)

    train = commands.add_parser(
        "train",
        help="train the reference models: points (MLP), digits (CNN), sequences (Conv1d), mnist",
    )
    train.add_argument(
        "tasks", nargs="*", metavar="TASK",
        help="points, digits, sequences, mnist (default: the first three)",
    )  # fmt: skip
    train.add_argument("--backend", default=None, help="default: MYTENSOR_BACKEND or numpy_ref")
    train.add_argument("--epochs", type=int, default=None, help="override each task's epochs")
    train.add_argument("--dataset", default=None, help="the 2-D point set for `points`")
    train.add_argument("--data", default=None, help="directory of the MNIST IDX files")
    train.add_argument("--out", default="runs", help="where checkpoints and plots go")
    train.set_defaults(run=_train)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # everything after a bare `--` is for pytest (argparse would mix it with our options)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = build_parser().parse_args(argv[:cut])
    args.pytest_args = argv[cut + 1 :]
    try:
        return args.run(args)
    except mt.BackendError as exc:
        print(f"mytensor: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
