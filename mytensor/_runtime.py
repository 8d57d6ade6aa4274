"""PyTorch's process-wide switches: threads and deterministic algorithms.

>>> import mytensor as mt
>>> mt.get_num_threads() >= 1
True
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "are_deterministic_algorithms_enabled",
    "get_num_threads",
    "set_num_threads",
    "use_deterministic_algorithms",
]

_DETERMINISTIC = [False]


def set_num_threads(n: int) -> None:
    """Use `n` threads for the parallel kernels of numba_cpu (at most NUMBA_NUM_THREADS,
    the pool numba started with).

    >>> import mytensor as mt
    >>> mt.set_num_threads(mt.get_num_threads())
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads(): expected a positive int, got {n!r}")
    numba = sys.modules.get("numba")
    if numba is None:
        try:
            import numba
        except ImportError:  # no numba: the host backends run on numpy's threads
            return
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def get_num_threads() -> int:
    """The number of threads the parallel kernels use."""
    numba = sys.modules.get("numba")
    if numba is not None:
        return int(numba.get_num_threads())
    return os.cpu_count() or 1


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for PyTorch's programs. mytensor's host backends are deterministic
    already; the cuda backend's scatter_add (embedding and indexing gradients) adds with
    atomics, so its float sums may differ in the last bits from run to run."""
    _DETERMINISTIC[0] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _DETERMINISTIC[0]
