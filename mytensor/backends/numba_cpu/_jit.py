"""numba decorators for the kernels, where their on-disk cache goes, and which threading
layer runs their parallel loops (TBB where the `tbb` package is installed).

``cache=True`` needs a writable directory. numba tries ``NUMBA_CACHE_DIR``, then the
package's ``__pycache__``, then a user-wide cache directory, and raises at decoration
time if none is writable (an installed, read-only package on a read-only home). Before
any kernel is decorated we check the same places and, if none works, point numba at a
per-user temporary directory; only if that fails too do kernels compile uncached.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import tempfile
from pathlib import Path

import numba
from numba.misc.appdirs import AppDirs

PACKAGE_DIR = Path(__file__).resolve().parent

# The threading layer. numba's default, OpenMP, keeps its workers spinning after each
# parallel kernel, and on a small machine they then starve the BLAS threads of the next
# matmul: one MLP 784-256-256-10 training step took 32-63 ms on 2 cores instead of 4.7 ms
# with the workqueue layer (GOMP_SPINCOUNT set from here did not help; OMP_WAIT_POLICY
# only works when set before Python starts). TBB's workers neither starve BLAS (the same
# step: 1.75 ms, workqueue 1.71-1.86) nor sleep as deeply as workqueue's, which hands
# every launch to its workers twice through condition variables: a parallel kernel of
# 1000 elements costs ~80 us to launch there and ~2 us on TBB. So: TBB when the `tbb`
# package is installed (the numba extra installs it where it has wheels), else workqueue.
# Both are fork-safe; workqueue lets one Python thread at a time launch parallel kernels.
# A user's NUMBA_THREADING_LAYER wins.
_TBB_LIBRARIES = ("libtbb.so.12", "libtbb.12.dylib", "tbb12.dll")


def _load_tbb() -> bool:
    """Whether numba's TBB layer can load: the `tbb` wheel puts its library in the
    environment's lib directory, off the loader's search path, so it is loaded here by
    its full path first (numba's pool then finds it by soname)."""
    try:
        dist = importlib.metadata.distribution("tbb")
    except importlib.metadata.PackageNotFoundError:
        return False
    paths = [dist.locate_file(f) for f in dist.files or () if f.name in _TBB_LIBRARIES]
    try:
        for path in paths[:1]:
            ctypes.CDLL(str(path), mode=getattr(ctypes, "RTLD_GLOBAL", 0))
        from numba.np.ufunc import parallel, tbbpool  # noqa: F401 (loading is the test)

        # numba's own check of the library's interface version (a private helper: a
        # numba without it just skips it)
        check = getattr(parallel, "_check_tbb_version_compatible", None)
        if check is not None:
            check()
    except (ImportError, OSError):
        return False
    return True


def choose_threading_layer() -> str:
    """The layer numba launches parallel kernels on (set before the first launch). TBB's
    library is loaded for a user's choice of "tbb" (or of numba's "default", "safe" and
    "threadsafe" lists, which try it) too, else numba could not find it."""
    requested = os.environ.get("NUMBA_THREADING_LAYER")
    tbb = requested not in ("workqueue", "omp") and _load_tbb()
    if requested is None:
        numba.config.THREADING_LAYER = "tbb" if tbb else "workqueue"
    return numba.config.THREADING_LAYER


THREADING_LAYER = choose_threading_layer()


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
