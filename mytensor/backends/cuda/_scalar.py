"""The elementwise ops' scalar specification (`mytensor.core.primitives.scalar`), compiled
as device functions for the kernels of `_elementwise` and `_reduce`.

`SCALAR` maps each specification function's name to its device copy; helpers resolve to
their device copies too (``floor_divide`` calls the device ``_divmod``). ``math`` is
`_runtime.MATH`: Python's math module on a GPU, which numba-cuda lowers to libdevice, and
numpy's scalar functions in the simulator, which compute in the input's own precision as
the device does (float32 ``exp`` in float32).

One device override, where the specification's formulation cannot compile on a device:
``nextafter`` is written with ``np.nextafter``, a ufunc numba-cuda does not type; the
device copy calls ``math.nextafter``, which libdevice provides in each precision. The
conformance suite's ``test_spec.py`` checks it, like every kernel, against the
specification (exactly, with signed zeros and NaN positions).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from numba import cuda

from mytensor.backends._specialize import compile_specification
from mytensor.backends.cuda._runtime import MATH as math

__all__ = ["DIGEST", "SCALAR", "device"]

device = cuda.jit(device=True)


@device
def nextafter(x, y):
    return math.nextafter(x, y)  # in x's precision: nextafterf for float32 on the device


SCALAR = compile_specification(device, math=math, nextafter=nextafter)
# in the name of every kernel that calls these, so a cached kernel is not reused after
# an override changes (see `_runtime.jit`)
DIGEST = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]
