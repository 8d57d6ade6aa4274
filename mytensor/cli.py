"""The `mytensor` command: backends, conformance, train, bench."""

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
        if info.status in ("broken", "unavailable"):
            print(f"\n{info.name}: {info.status}: {info.error}")
    return 0


def _conformance(args: argparse.Namespace) -> int:
    from mytensor.conformance.runner import run

    if args.fuzz is not None:
        return _fuzz(args)
    extra = list(args.pytest_args)
    if args.expected_failures:
        extra.append(f"--expected-failures={args.expected_failures}")
    if args.seed is not None:
        extra.append(f"--seed={args.seed}")
    if args.examples is not None:
        extra.append(f"--examples={args.examples}")
    if args.large is not None:
        extra.append("--large" if args.large else "--no-large")
    if args.coverage:
        extra.append("--primitive-coverage")
    return run(args.backends, report=args.report, extra_args=extra)


def _fuzz(args: argparse.Namespace) -> int:
    from mytensor.conformance.fuzz import fuzz

    code = 0
    for name in args.backends:
        found = fuzz(name, programs=args.fuzz, seed=args.seed or 0)
        print(found or f"{name}: {args.fuzz} random programs agree with numpy_ref")
        code = code or (1 if found else 0)
    return code


def _train(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from mytensor import training

    if args.nproc > 1:
        return _spawn_ranks(args)
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
    options = {"epochs": args.epochs, "dataset": args.dataset, "data": args.data,
               "distributed": args.distributed}  # fmt: skip
    summaries = [training.run_task(task, Path(args.out), options) for task in tasks]
    if args.distributed and mt.distributed.get_rank() != 0:
        return 0
    print("\nsummary")
    for s in summaries:
        print(f"  {s['task']:<16} test accuracy {s['test_accuracy']:6.1%}   "
              f"{s['samples_per_second']:9,.0f} samples/s   {s['checkpoint']}")  # fmt: skip
    return 0


def _spawn_ranks(args: argparse.Namespace) -> int:
    """Run this same `train` command on `nproc` MPI ranks (``mpiexec -n``), each with its
    share of the CPU's threads."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec"
    )
    if mpiexec is None:
        print("mytensor train --nproc: mpiexec not found; pip install 'mytensor[mpi]' (mpi4py "
              "and the MPICH wheel, which provides mpiexec)", file=sys.stderr)  # fmt: skip
        return 2
    rest = ["train", *args.tasks, "--out", args.out]
    for name in ("backend", "epochs", "dataset", "data"):
        if getattr(args, name) is not None:
            rest += [f"--{name}", str(getattr(args, name))]
    nproc = args.nproc
    threads = str(max(1, (os.cpu_count() or 1) // nproc))
    env = dict(os.environ)
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS"):
        env.setdefault(name, threads)
    command = [mpiexec, "-n", str(nproc), sys.executable, "-m", "mytensor.cli", *rest,
               "--distributed"]  # fmt: skip
    return subprocess.run(command, env=env).returncode


def _bench(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from mytensor.bench import default_rows, runner, select, table
    from mytensor.bench.rows import PEERS

    workloads = select(args.filter)
    if not workloads:
        print(f"mytensor bench: no workload matches {args.filter!r}", file=sys.stderr)
        return 2
    rows = [*dict.fromkeys([*args.backend, *PEERS])] if args.backend else default_rows()
    cases = [(w.name, size) for w in workloads for size in (w.quick if args.quick else w.sizes)]
    settings = runner.Settings.quick() if args.quick else runner.Settings()
    if args.rounds < 1:
        print(f"mytensor bench: --rounds must be at least 1, got {args.rounds}", file=sys.stderr)
        return 2
    results = runner.run(
        rows, cases, settings, isolate=not args.in_process, rounds=args.rounds,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )  # fmt: skip
    process = "all rows in one process" if args.in_process else "one process per row"
    report = table.report(results, rows, machine=table.machine(), quick=args.quick,
                          settings=asdict(settings), isolation=process,
                          rounds=args.rounds)  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        about = report["machine"]
        versions = ", ".join(f"{k} {v}" for k, v in about["versions"].items() if v)
        rounds = f", {args.rounds} rounds (the median of each cell's)" if args.rounds > 1 else ""
        print(f"mytensor bench{' --quick' if args.quick else ''}: {about['cpu']}; Python "
              f"{about['python']}, {versions}; {about['date']}; {process}, taking turns "
              f"cell by cell{rounds}.\n"
              "Median time per call; ratios are backend / peer (below 1: the backend is "
              "faster).\n")  # fmt: skip
        print(table.render(report, markdown=args.markdown))
    return 1 if any(r.failed for r in results) else 0


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
    conformance.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="draw examples from seed N (default: the same in every run)",
    )
    conformance.add_argument(
        "--examples", type=int, metavar="N", help="hypothesis examples per table test (default 18)"
    )
    conformance.add_argument(
        "--large",
        action="store_true",
        default=None,
        help="run the large tier (2**21 elements) on every named backend",
    )
    conformance.add_argument(
        "--no-large", dest="large", action="store_false", help="skip the large tier"
    )
    conformance.add_argument(
        "--coverage", action="store_true", help="print how often each primitive ran in each dtype"
    )
    conformance.add_argument(
        "--fuzz",
        type=int,
        metavar="N",
        help="instead of the suite: N random op programs against "
        "numpy_ref; prints the first difference, shrunk, as Python",
    )
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
    train.add_argument(
        "--nproc", type=int, default=1, metavar="N",
        help="data-parallel training on N processes (spawns `mpiexec -n N`; needs the mpi "
        "extra); the global batch stays the task's",
    )  # fmt: skip
    # what each rank that --nproc spawns is told (it runs under mpiexec, in the group)
    train.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    train.set_defaults(run=_train)

    bench = commands.add_parser(
        "bench",
        help="time the benchmark workloads on each backend beside numpy and PyTorch",
        description="Time the asv suite's workloads in this environment (no asv needed) and "
        "print medians and each backend's ratios to numpy and PyTorch from the same run.",
    )
    bench.add_argument(
        "--backend", action="append", default=[], metavar="NAME",
        help="a mytensor backend to time (repeat for several; default: the backends "
        "mytensor ships, or MYTENSOR_BENCH_ROWS); numpy and torch are always timed",
    )  # fmt: skip
    bench.add_argument("--quick", action="store_true",
                       help="fewer sizes and a shorter time budget per cell")  # fmt: skip
    bench.add_argument("--filter", metavar="PATTERN",
                       help="only workloads whose group.name matches this regex")  # fmt: skip
    output = bench.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--markdown", action="store_true", help="print a Markdown table")
    bench.add_argument(
        "--rounds", type=int, default=1, metavar="N",
        help="let the rows take turns N times per cell and report the median of the "
        "rounds (steadier on a machine whose speed drifts; N times as long)",
    )  # fmt: skip
    bench.add_argument(
        "--in-process", action="store_true",
        help="run every row in this process (default: one process per row)",
    )  # fmt: skip
    bench.set_defaults(run=_bench)

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
