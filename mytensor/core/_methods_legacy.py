"""Methods of the old import-time table that the PyTorch-style forms replace; placed last
in Tensor's bases, so the new definitions win. Removed once every one is replaced."""

from __future__ import annotations

from typing import Any


class LegacyMethods:
    __slots__ = ()

    def max(self, *args: Any, **kwargs: Any) -> Any:
        from mytensor.core.ops import reductions

        return reductions.max(self, *args, **kwargs)  # type: ignore[arg-type]

    def min(self, *args: Any, **kwargs: Any) -> Any:
        from mytensor.core.ops import reductions

        return reductions.min(self, *args, **kwargs)  # type: ignore[arg-type]

    def var(self, *args: Any, **kwargs: Any) -> Any:
        from mytensor.core.ops import reductions

        return reductions.var(self, *args, **kwargs)  # type: ignore[arg-type]

    def std(self, *args: Any, **kwargs: Any) -> Any:
        from mytensor.core.ops import reductions

        return reductions.std(self, *args, **kwargs)  # type: ignore[arg-type]

    def gather(self, *args: Any, **kwargs: Any) -> Any:
        from mytensor.core.ops import indexing

        return indexing.gather(self, *args, **kwargs)  # type: ignore[arg-type]

    def scatter_add(self, *args: Any, **kwargs: Any) -> Any:
        from mytensor.core.ops import indexing

        return indexing.scatter_add(self, *args, **kwargs)  # type: ignore[arg-type]
