"""Benchmarks of mytensor's backends beside plain numpy and PyTorch: one definition of
each workload (`workloads`), the rows they run on (`rows`), and the in-process runner
behind `mytensor bench` (`runner`, `table`). asv's suite in `benchmarks/` is a thin layer
over the same workloads.

>>> from mytensor import bench
>>> bench.WORKLOADS["matmul"].label(512)
'512x512'
"""

from .rows import default_rows, get_row
from .workloads import WORKLOADS, Workload, select

__all__ = ["WORKLOADS", "Workload", "default_rows", "get_row", "select"]
