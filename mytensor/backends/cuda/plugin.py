"""Registers the cuda backend; imports neither numba nor CuPy.

The factory runs when someone asks for the backend. It fails with a message that says
what is missing and how to get it: the numba-cuda package, or a usable GPU (in which
case numba's own reason is quoted, and the simulator is offered as a way to run the
kernels on the CPU).
"""

from __future__ import annotations

from mytensor.backends.spec import BackendEntry, BackendUnavailable, hookimpl

__all__ = ["MISSING_NUMBA_CUDA", "mytensor_backends", "no_gpu_message"]

MISSING_NUMBA_CUDA = (
    "the cuda backend needs numba-cuda: pip install 'mytensor[cuda12]' (or 'mytensor[cuda13]'; "
    "pick the one matching the 'CUDA Version' that `nvidia-smi` prints). Without a GPU, "
    "pip install 'mytensor[cudasim]' and set NUMBA_ENABLE_CUDASIM=1 to run the kernels in "
    "numba's CUDA simulator."
)


def no_gpu_message(reason: str | None) -> str:
    """The error text for "numba-cuda is installed but no GPU can be used"."""
    why = " ".join((reason or "no CUDA driver or device was found").split())
    return (
        f"the cuda backend found no usable CUDA GPU (numba says: {why}). Check `nvidia-smi` "
        "and the driver; to run the backend's kernels on the CPU instead, set "
        "NUMBA_ENABLE_CUDASIM=1 before Python starts (numba's CUDA simulator: slow, for tests)."
    )


def _make_backend():
    try:
        import numba_cuda  # noqa: F401  (the numba-cuda package, not numba's retired target)
        from numba import config, cuda
    except ImportError as exc:
        raise BackendUnavailable(MISSING_NUMBA_CUDA) from exc
    # numba reads NUMBA_ENABLE_CUDASIM once, when it is first imported
    if not (config.ENABLE_CUDASIM or cuda.is_available()):
        reason = None
        try:
            error = cuda.cuda_error()
            reason = str(error) if error else None
        except Exception:  # numba's diagnostics are best effort; the message stands alone
            reason = None
        raise BackendUnavailable(no_gpu_message(reason))
    from mytensor.backends.cuda.backend import CudaBackend

    return CudaBackend()


@hookimpl
def mytensor_backends() -> list[BackendEntry]:
    """The cuda backend: opt-in (priority -1), never the default."""
    return [
        BackendEntry(
            name="cuda",
            factory=_make_backend,
            device="cuda",
            priority=-1,  # opt-in: MYTENSOR_BACKEND=cuda, mt.set_backend("cuda"), .to("cuda")
            description="GPU kernels (numba-cuda), CuPy memory pool and cuBLAS when present",
        )
    ]
