"""`mytensor.__array_namespace_info__()`: what this namespace and its devices support.

Each backend is a device (`mytensor.Device`), and each declares its own dtypes, so
``dtypes(device=...)`` differs between, say, numpy_ref (all 13 of the standard's) and
a backend that holds only the five core dtypes.
"""

from __future__ import annotations

from typing import Any

from mytensor.core.dtypes import (
    DEFAULT_INDEX,
    DEFAULT_INT,
    STANDARD_DTYPES,
    DType,
    default_complex,
    default_float,
    isdtype,
)

__all__ = ["Info", "__array_namespace_info__"]


class Info:
    """The array API's inspection namespace (see `__array_namespace_info__`)."""

    __module__ = "mytensor"

    def capabilities(self) -> dict[str, Any]:
        """Optional features: boolean indexing and data-dependent output shapes are
        supported; the number of dimensions is unlimited (None)."""
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": None}

    def default_device(self) -> Any:
        """The device new tensors go to: the current backend."""
        from mytensor.core.device import Device
        from mytensor.core.registry import get_backend

        return Device(get_backend().name)

    def devices(self) -> list[Any]:
        """Every backend that loads here, as a device (`mytensor.backends()` says why any
        other one does not)."""
        from mytensor.core.device import Device
        from mytensor.core.registry import backends

        return [Device(b.name) for b in backends() if b.status == "loaded"]

    def default_dtypes(self, *, device: Any = None) -> dict[str, DType]:
        """The default dtypes: float32, complex64, int64 (and int64 for indices)."""
        self._backend(device)
        return {"real floating": default_float(), "complex floating": default_complex(),
                "integral": DEFAULT_INT, "indexing": DEFAULT_INDEX}  # fmt: skip

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, DType]:
        """The dtypes `device` (default: the current backend) supports, by name, optionally
        only those of `kind` (as in `mytensor.isdtype`)."""
        supported = self._backend(device).dtypes
        return {
            d.name: d
            for d in STANDARD_DTYPES
            if d in supported and (kind is None or isdtype(d, kind))
        }

    @staticmethod
    def _backend(device: Any) -> Any:
        from mytensor.core.device import backend_name
        from mytensor.core.registry import get_backend

        return get_backend(backend_name("__array_namespace_info__", device))


def __array_namespace_info__() -> Info:
    """The inspection namespace of the array API standard.

    >>> import mytensor as mt
    >>> info = mt.__array_namespace_info__()
    >>> info.default_dtypes()["real floating"], "uint8" in info.dtypes(device="numpy_ref")
    (mytensor.float32, True)
    """
    return Info()
