"""The base of every asv benchmark class here: one class per workload, parametrized by
row (a mytensor backend, "numpy" or "torch") and size.

The workloads are loaded from this checkout's ``mytensor/bench`` (as the benchmarks
themselves are), not from the installed mytensor: ``asv continuous A B`` then times
both commits with one definition of each workload, commits older than
``mytensor.bench`` included. The installed package is the fallback.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, ClassVar

_TREE = Path(__file__).resolve().parent.parent / "mytensor" / "bench"


def _load_bench() -> Any:
    name = "_mytensor_bench_checkout"
    if name in sys.modules:
        return sys.modules[name]
    init = _TREE / "__init__.py"
    if not init.is_file():
        return importlib.import_module("mytensor.bench")
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(_TREE)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _call(self: Suite, row: str, size: int) -> None:
    self.fn()


class Suite:
    """Subclass with ``workload = "<name>"``; ``kind = "peakmem"`` for peak memory.

    `setup` builds the workload and runs it once untimed (numba compiles there); a row
    that cannot run it raises `NotImplementedError`, which asv reports as skipped.
    Device backends synchronize inside the timed call. asv's ``spawn`` launch method
    gives every benchmark a fresh process.
    """

    workload: ClassVar[str]
    kind: ClassVar[str] = "time"
    param_names: ClassVar[list[str]] = ["row", "size"]
    timeout = 300

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = bench.WORKLOADS[cls.workload]
        cls.params = [bench.default_rows(), list(spec.sizes)]
        setattr(cls, f"{cls.kind}_{spec.name}", _call)

    def setup(self, row: str, size: int) -> None:
        self.fn = bench.WORKLOADS[self.workload].prepare(row, size)

    def teardown(self, row: str, size: int) -> None:
        self.fn = None
