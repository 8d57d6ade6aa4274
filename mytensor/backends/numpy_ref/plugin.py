"""Registers the numpy reference backend through the same hook a third party uses."""

from mytensor.backends.spec import BackendEntry, hookimpl


def _make_backend():
    from mytensor.backends.numpy_ref.backend import NumpyBackend

    return NumpyBackend()


@hookimpl
def mytensor_backends() -> list[BackendEntry]:
    return [
        BackendEntry(
            name="numpy_ref",
            factory=_make_backend,
            device="cpu",
            priority=0,
            description="the reference backend: vectorised numpy, the executable spec",
        )
    ]
