"""`RemovableHandle`: what registering a module hook returns."""

from __future__ import annotations

import itertools
from collections.abc import Callable

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by the hook registrations; `remove()` takes the hook out again.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> layer = nn.ReLU()
    >>> with layer.register_forward_hook(lambda m, args, out: out * 0):
    ...     layer(mt.ones(2)).tolist()
    [0.0, 0.0]
    >>> layer(mt.ones(2)).tolist()
    [1.0, 1.0]
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
