"""numba decorators for the kernels, and where their on-disk cache goes.

``cache=True`` needs a writable directory. numba tries ``NUMBA_CACHE_DIR``, then the
package's ``__pycache__``, then a user-wide cache directory, and raises at decoration
time if none is writable (an installed, read-only package on a read-only home). Before
any kernel is decorated we check the same places and, if none works, point numba at a
per-user temporary directory; only if that fails too do kernels compile uncached.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numba
from numba.misc.appdirs import AppDirs

PACKAGE_DIR = Path(__file__).resolve().parent

# numba's OpenMP workers spin-wait ~300k iterations after every parallel kernel; on a
# small machine they then steal the cores from the BLAS threads of a following matmul
# (measured on 2 cores: 64 small matmuls, each after a parallel kernel, 468 ms instead of
# 6 ms). A short spin keeps back-to-back kernels cheap and hands the cores back. numba
# starts its thread pool at the first parallel kernel, so this is early enough; a user's
# own setting wins.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "1000")


def _writable(path: Path) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def choose_cache_dir() -> str | None:
    """The directory numba will cache these kernels in (set up if need be), or None."""
    if numba.config.CACHE_DIR and _writable(Path(numba.config.CACHE_DIR)):
        return numba.config.CACHE_DIR
    if _writable(PACKAGE_DIR / "__pycache__"):
        return str(PACKAGE_DIR / "__pycache__")
    user = Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)
    if _writable(user):
        return str(user)
    fallback = Path(tempfile.gettempdir()) / f"mytensor-numba-cache-{os.getuid()}"
    if _writable(fallback):
        numba.config.CACHE_DIR = str(fallback)
        return str(fallback)
    return None


CACHE_DIR = choose_cache_dir()
_CACHE = CACHE_DIR is not None
# error_model="numpy": integer division by zero is guarded in the kernels themselves, so
# numba's per-division Python-exception checks are dead weight
jit = numba.njit(cache=_CACHE, error_model="numpy")
pjit = numba.njit(cache=_CACHE, error_model="numpy", parallel=True)
# reductions may reassociate float sums (what lets them vectorize); NaN and inf are kept
rjit = numba.njit(cache=_CACHE, error_model="numpy", fastmath={"reassoc"})
prjit = numba.njit(cache=_CACHE, error_model="numpy", fastmath={"reassoc"}, parallel=True)
inline = numba.njit(inline="always")
prange = numba.prange
