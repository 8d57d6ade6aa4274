"""PyTorch's `Generator`: a seedable stream of random numbers that the random functions
take as ``generator=``, and the process-wide default one behind `mytensor.manual_seed`,
`initial_seed`, `seed` and `get_rng_state` / `set_rng_state`.

A generator hands each random tensor one 63-bit seed, drawn from its own numpy PCG64
stream; the backend's ``random`` primitive turns that seed into the samples. So two
generators with the same seed give the same tensors, and drawing from one leaves the
others (and the default stream) where they were. The numbers differ from PyTorch's.
"""

from __future__ import annotations

import operator
import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mytensor.core.tensor import Tensor

__all__ = [
    "Generator", "check_generator", "default_generator", "get_rng_state", "initial_seed",
    "next_seed", "seed", "set_rng_state",
]  # fmt: skip

# the seed a new Generator starts from, as PyTorch's does (so an unseeded Generator repeats)
_NEW_GENERATOR_SEED = 67280421310721
_SEED_BITS = 64
# get_state's bytes: the initial seed, PCG64's 128-bit state and increment, its buffered
# 32-bit half-draw (a flag and the value), each field little-endian
_FIELDS = (("initial", 8), ("state", 16), ("inc", 16), ("has_uint32", 8), ("uinteger", 8))
STATE_SIZE = sum(size for _, size in _FIELDS)


def _pcg64(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def _seed_value(op: str, seed: Any) -> int:
    """`seed` as PyTorch reads it: an integer in [-2**63, 2**64); negatives wrap to
    unsigned 64-bit values."""
    if isinstance(seed, bool | np.bool_):
        raise TypeError(f"{op}(): the seed must be an int, got bool {seed!r}")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(f"{op}(): the seed must be an int, got {type(seed).__name__} "
                        f"{seed!r}") from None  # fmt: skip
    if not -(2 ** (_SEED_BITS - 1)) <= value < 2**_SEED_BITS:
        raise ValueError(
            f"{op}(): the seed {value} is out of range [-2**63, 2**64); reduce it, e.g. "
            "seed % 2**64"
        )
    return value % 2**_SEED_BITS


class Generator:
    """A stream of random numbers with its own seed and state; pass it as
    ``generator=`` to `rand`, `randn`, `randint`, `randperm`, `rand_like`, ... to draw
    from it instead of the default stream.

    A new generator starts from a fixed seed (PyTorch's), so unseeded generators agree.
    `device` is accepted for PyTorch's signature: one generator serves every backend.

    >>> import mytensor as mt
    >>> g = mt.Generator().manual_seed(7)
    >>> a = mt.rand(3, generator=g)
    >>> (mt.rand(3, generator=g.manual_seed(7)) == a).all().item(), g.initial_seed()
    (True, 7)
    """

    __slots__ = ("_device", "_initial", "_stream")

    def __init__(self, device: Any = "cpu") -> None:
        from mytensor.core.device import Device

        if not isinstance(device, str | Device):
            raise TypeError(
                f"Generator(): device must be a device string such as 'cpu' or a "
                f"mytensor.device, got {type(device).__name__} {device!r}"
            )
        self._device = device
        self._initial = _NEW_GENERATOR_SEED
        self._stream = _pcg64(_NEW_GENERATOR_SEED)

    @property
    def device(self) -> Any:
        """The device named at construction, as a `mytensor.device`."""
        from mytensor.core.device import Device

        return Device(self._device)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed` (an int in [-2**63, 2**64)); returns self.

        >>> import mytensor as mt
        >>> mt.Generator().manual_seed(-1).initial_seed()
        18446744073709551615
        """
        value = _seed_value("manual_seed", seed)
        self._initial = value
        self._stream = _pcg64(value)
        return self

    def initial_seed(self) -> int:
        """The seed the stream last started from.

        >>> import mytensor as mt
        >>> mt.Generator().initial_seed()
        67280421310721
        """
        return self._initial

    def seed(self) -> int:
        """Restart the stream from a fresh non-deterministic seed, and return that seed.

        >>> import mytensor as mt
        >>> g = mt.Generator()
        >>> g.seed() == g.initial_seed()
        True
        """
        value = int.from_bytes(os.urandom(_SEED_BITS // 8), "little")
        self.manual_seed(value)
        return value

    def get_state(self) -> Tensor:
        """The stream's state (with its initial seed) as a 1-d uint8 tensor, for
        `set_state`.

        >>> import mytensor as mt
        >>> g = mt.Generator()
        >>> state = g.get_state()
        >>> a = mt.randn(2, generator=g)
        >>> (mt.randn(2, generator=g.set_state(state)) == a).all().item()
        True
        """
        from mytensor.core.creation import tensor
        from mytensor.core.dtypes import uint8

        inner = self._stream.bit_generator.state
        values = {"initial": self._initial, **inner["state"],
                  "has_uint32": inner["has_uint32"], "uinteger": inner["uinteger"]}  # fmt: skip
        data = b"".join(int(values[name]).to_bytes(size, "little") for name, size in _FIELDS)
        return tensor(np.frombuffer(data, dtype=np.uint8), dtype=uint8)

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state from `get_state` (a uint8 tensor); returns self."""
        values = _decode_state(new_state)
        stream = _pcg64(0)
        stream.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": values["state"], "inc": values["inc"]},
            "has_uint32": values["has_uint32"],
            "uinteger": values["uinteger"],
        }
        self._initial, self._stream = values["initial"], stream
        return self

    def _next_seed(self) -> int:
        """The seed of the next random tensor drawn from this generator (advances it)."""
        return int(self._stream.integers(0, 2**63 - 1))

    def __repr__(self) -> str:
        return f"<mytensor.Generator initial_seed={self._initial} device={str(self._device)!r}>"


def _decode_state(new_state: Any) -> dict[str, int]:
    from mytensor.core.dtypes import uint8
    from mytensor.core.tensor import Tensor

    if not isinstance(new_state, Tensor):
        raise TypeError(
            f"set_state(): expected a uint8 tensor from get_state(), got {type(new_state).__name__}"
        )
    if new_state.dtype is not uint8:
        raise TypeError(
            f"set_state(): the state must be a uint8 tensor (from get_state()), got "
            f"{new_state.dtype.name}"
        )
    if new_state.shape != (STATE_SIZE,):
        raise RuntimeError(
            f"set_state(): expected a state of shape ({STATE_SIZE},) from get_state(), got "
            f"shape {new_state.shape}"
        )
    data, values, start = new_state.numpy().tobytes(), {}, 0
    for name, size in _FIELDS:
        values[name] = int.from_bytes(data[start : start + size], "little")
        start += size
    if values["inc"] % 2 == 0 or values["has_uint32"] > 1 or values["uinteger"] >= 2**32:
        raise RuntimeError("set_state(): these bytes are not a state from get_state()")
    return values


default_generator = Generator()
default_generator.seed()  # the default stream starts somewhere new in every process


def check_generator(op: str, generator: Any) -> Generator:
    """`generator`, or the default one for None; anything else is refused."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(
            f"{op}(): generator must be a mytensor.Generator or None, got "
            f"{type(generator).__name__} {generator!r}"
        )
    return generator


def next_seed(op: str, generator: Generator | None = None) -> int:
    """The seed of one random tensor: drawn from `generator`, or the default stream."""
    return check_generator(op, generator)._next_seed()


def initial_seed() -> int:
    """The seed the default stream last started from (`manual_seed`, `seed`, or the
    process's random start).

    >>> import mytensor as mt
    >>> _ = mt.manual_seed(5)
    >>> mt.initial_seed()
    5
    """
    return default_generator.initial_seed()


def seed() -> int:
    """Restart the default stream from a fresh non-deterministic seed, and return it.

    >>> import mytensor as mt
    >>> mt.seed() == mt.initial_seed()
    True
    """
    return default_generator.seed()


def get_rng_state() -> Tensor:
    """The default stream's state, as a uint8 tensor (see `Generator.get_state`).

    >>> import mytensor as mt
    >>> state = mt.get_rng_state()
    >>> a = mt.rand(2)
    >>> mt.set_rng_state(state); (mt.rand(2) == a).all().item()
    True
    """
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default stream's state from `get_rng_state`."""
    default_generator.set_state(new_state)
