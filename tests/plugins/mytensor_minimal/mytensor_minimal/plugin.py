"""Registers the minimal backend. Imports nothing heavy: the factory does, on first use."""

from mytensor.backends.spec import BackendEntry, hookimpl


def make_backend():
    from mytensor_minimal.backend import MinimalBackend

    return MinimalBackend()


@hookimpl
def mytensor_backends() -> list[BackendEntry]:
    return [
        BackendEntry(
            name="minimal",
            factory=make_backend,
            device="cpu",
            priority=-10,
            description="example plugin: required primitives only, kernels on flat indices",
        )
    ]
