"""Registers the numba_cpu backend; imports neither numba nor any kernel."""

from mytensor.backends.spec import BackendEntry, BackendUnavailable, hookimpl

MISSING_NUMBA = "numba_cpu needs numba: pip install 'mytensor[numba]'"


def _make_backend():
    try:
        import numba  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailable(MISSING_NUMBA) from exc
    from mytensor.backends.numba_cpu.backend import NumbaBackend

    return NumbaBackend()


@hookimpl
def mytensor_backends() -> list[BackendEntry]:
    return [
        BackendEntry(
            name="numba_cpu",
            factory=_make_backend,
            device="cpu",
            priority=-1,  # opt-in: MYTENSOR_BACKEND=numba_cpu or mt.set_backend
            description="parallel CPU kernels (numba njit/prange), BLAS matmul, caching allocator",
        )
    ]
