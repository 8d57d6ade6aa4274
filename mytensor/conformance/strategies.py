"""Hypothesis strategies: shapes, values inside an op's domain, and tensor layouts.

A layout gives a tensor the same logical values through a different memory
arrangement: contiguous, permuted, sliced (offset and negative steps) or
broadcast (stride 0). Kernels that ignore strides or offsets fail on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import mytensor as mt
from mytensor.core.dtypes import DType
from mytensor.core.layout import broadcast_shapes

MAX_ELEMENTS = 24
LAYOUTS = ("contiguous", "permuted", "sliced")


def suite_settings(max_examples: int) -> settings:
    """Reproducible, deadline-free settings; `max_examples` is the count at the suite's
    reference --examples, which the plugin scales (and seeds, with --seed) per run."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
        ],
    )


# -- shapes -------------------------------------------------------------------------------
@st.composite
def shapes(draw, min_rank=0, max_rank=4, min_side=0, max_side=5, max_elements=MAX_ELEMENTS):
    """A shape of rank min_rank..max_rank with sides min_side..max_side (0 and 1 included)
    and at most `max_elements` elements."""
    rank = draw(st.integers(min_rank, max_rank))
    out: list[int] = []
    budget = max_elements
    for _ in range(rank):
        side = draw(st.integers(min_side, max(min_side, min(max_side, budget))))
        out.append(side)
        budget = budget // side if side else budget
    return tuple(out)


@st.composite
def broadcast_inputs(draw, out_shape: tuple[int, ...], count: int):
    """`count` input shapes that broadcast to exactly `out_shape` (dims dropped or set to 1)."""
    result = []
    for _ in range(count):
        lead = draw(st.integers(0, len(out_shape)))
        shape = tuple(1 if draw(st.booleans()) else s for s in out_shape[lead:])
        result.append(shape)
    if result and out_shape and broadcast_shapes("s", *result) != out_shape:
        result[-1] = out_shape  # keep the output shape the one drawn
    return tuple(result)


@st.composite
def matmul_shapes(draw, max_side=4, max_batch=6):
    """Shapes of a @ b: broadcast batch dims, 1-d operands, sizes 0 and 1, k = 0 included."""
    side = st.integers(0, max_side)
    n, k, m = draw(side), draw(side), draw(side)
    batch = draw(shapes(max_rank=2, max_side=3, max_elements=max_batch))
    batch_a, batch_b = draw(broadcast_inputs(batch, 2))
    a = (k,) if draw(st.booleans()) else (*batch_a, n, k)
    b = (k,) if draw(st.booleans()) else (*batch_b, k, m)
    return a, b


# -- values -------------------------------------------------------------------------------
def int_range(domain: tuple[float, float], exclude_zero: bool = False,
              unsigned: bool = False) -> list[int]:  # fmt: skip
    low, high = max(math.ceil(domain[0]), 0 if unsigned else -5), min(math.floor(domain[1]), 5)
    values = [v for v in range(low, high + 1) if v or not exclude_zero]
    return values or [1 if exclude_zero else 0]  # a negative-only domain, for unsigned


def elements(dtype: DType, domain=(-3.0, 3.0), exclude_zero: bool = False):
    """A strategy for one value of `dtype` inside `domain` (complex: both parts inside)."""
    if dtype.kind == "bool":
        return st.booleans()
    if dtype.is_integral:
        return st.sampled_from(int_range(domain, exclude_zero, dtype.kind == "uint"))
    if dtype.kind == "complex":
        from mytensor.core.dtypes import real_dtype

        part = elements(real_dtype(dtype), domain, exclude_zero)
        return st.builds(complex, part, part)
    width = 32 if dtype.name == "float32" else 64
    low, high = _inward(domain, dtype)
    if not exclude_zero or low >= 0.25 or high <= -0.25:
        return st.floats(low, high, width=width)
    return st.one_of(st.floats(low, -0.25, width=width), st.floats(0.25, high, width=width))


def _inward(domain, dtype: DType) -> tuple[float, float]:
    """The domain's bounds rounded inward to values `dtype` represents exactly."""
    t = dtype.numpy.type
    low, high = t(domain[0]), t(domain[1])
    if low < domain[0]:
        low = np.nextafter(low, t(np.inf))
    if high > domain[1]:
        high = np.nextafter(high, t(-np.inf))
    return float(low), float(high)


# one element in EDGE_ODDS of a drawn array is an edge value (where the dtype has some)
EDGE_ODDS = 8


def edge_values(dtype: DType, domain=(-3.0, 3.0), exclude_zero: bool = False,
                ieee: bool = False) -> list:  # fmt: skip
    """The values kernels get wrong: ±0.0, the smallest subnormal, ``tiny`` (inside the
    domain, and zero only without `exclude_zero`); with `ieee` (ops whose numpy reference
    defines every input) also NaN, ±inf, ±finfo max, whatever the domain, and the integer
    extremes (iinfo max and min + 1, the unsigned 0 and max) where the domain has negatives.

    >>> import mytensor as mt
    >>> edge_values(mt.float32, (0.1, 5.0))
    []
    >>> edge_values(mt.uint8, ieee=True)
    [255, 0]
    """
    if dtype.kind == "bool":
        return []
    if dtype.kind == "complex":
        from mytensor.core.dtypes import real_dtype

        parts = edge_values(real_dtype(dtype), domain, exclude_zero, ieee)
        regular = [v for v in int_range(domain, exclude_zero) if domain[0] <= v <= domain[1]]
        regular = regular or [float(domain[0])]
        return [complex(a, b) for a in parts for b in (*parts[:3], regular[0])]
    low, high = domain
    if dtype.is_integral:
        info = np.iinfo(dtype.numpy)  # (min + 1: -min overflows; shifts and pow, whose
        # domain starts at 0, wrap or raise at the extremes in numpy: none there)
        if not ieee or low >= 0:
            return []
        return [int(info.max), int(info.min + 1) if info.min < 0 else 0]
    info = np.finfo(dtype.numpy)
    smallest = float(info.smallest_subnormal)
    candidates = [0.0, -0.0, smallest, -smallest, float(info.tiny), -float(info.tiny)]
    inside = [v for v in candidates if low <= v <= high and (v != 0 or not exclude_zero)]
    if exclude_zero:
        inside = [v for v in inside if abs(v) >= 0.25]
    if ieee:
        big = float(info.max)
        inside += [math.nan, math.inf, -math.inf, big, -big]
    return inside


@st.composite
def arrays(draw, dtype: DType, shape, domain=(-3.0, 3.0), exclude_zero: bool = False,
           ieee: bool = False):  # fmt: skip
    """A numpy array of `shape` and `dtype` with values from `elements`, and about one in
    `EDGE_ODDS` from `edge_values`."""
    size = math.prod(shape)
    element = elements(dtype, domain, exclude_zero)
    values = draw(st.lists(element, min_size=size, max_size=size))
    values = np.array(values, dtype=dtype.numpy).reshape(shape)
    edges = edge_values(dtype, domain, exclude_zero, ieee)
    if edges and size:
        # where the edges go comes from a drawn seed, not from hypothesis' choices (which
        # favour simple values): each element is an edge value with probability 1/EDGE_ODDS
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="edge seed"))
        chosen = rng.random(shape) < 1 / EDGE_ODDS
        picks = np.array(edges, dtype=dtype.numpy)
        values[chosen] = picks[rng.integers(0, len(edges), int(chosen.sum()))]
    return values


def smooth_values(seed: int, dtype: DType, shape, domain, exclude_zero: bool) -> np.ndarray:
    """Distinct values (none within 0.02 of each other, nor within 0.05 of 0, or 0.25 with
    `exclude_zero`) for gradient checks of non-smooth ops; deterministic in `seed`."""
    rng = np.random.default_rng(seed)
    size = math.prod(shape)
    low, high = domain
    nearest_zero = 0.25 if exclude_zero else 0.05
    for _ in range(1000):
        values = rng.uniform(low, high, size)
        spread = np.diff(np.sort(values))
        if (np.abs(values) >= nearest_zero).all() and (spread.size == 0 or spread.min() > 0.02):
            break
    return values.astype(dtype.numpy).reshape(shape)


# -- layouts ------------------------------------------------------------------------------
@dataclass
class Built:
    """A tensor, the logical values it holds, and how its memory is laid out."""

    tensor: mt.Tensor
    values: np.ndarray
    layout: str

    def describe(self) -> str:
        t = self.tensor
        return (
            f"{self.layout} {t.dtype.name} shape {t.shape} strides {t.stride()} "
            f"offset {t.storage_offset()}"
        )


def _fill_value(dtype: DType):
    return {"bool": True, "int": 77, "uint": 77, "float": float("nan"),
            "complex": complex("nan+nanj")}[dtype.kind]  # fmt: skip


def _permuted(values: np.ndarray, dtype: DType, backend: str, order: list[int]) -> mt.Tensor:
    stored = mt.tensor(np.ascontiguousarray(values.transpose(order)), dtype, backend=backend)
    return stored.permute(*np.argsort(order).tolist())


def _slice_for(size: int, step: int) -> tuple[int, slice]:
    """(size of the big axis, slice of it with `size` elements and this step)."""
    k = abs(step)
    if size == 0:
        return 2, slice(1, 1)
    big = k * size + 1
    if step > 0:
        return big, slice(1, 1 + step * size, step)
    start = (size - 1) * k + 1
    stop = start + step * size
    return big, slice(start, stop if stop >= 0 else None, step)


def _sliced(values: np.ndarray, dtype: DType, backend: str, steps: list[int]) -> mt.Tensor:
    big_shape, key = [2], [1]  # a leading int index adds an offset
    for size, step in zip(values.shape, steps, strict=True):
        big, sl = _slice_for(size, step)
        big_shape.append(big)
        key.append(sl)
    big = mt.full(tuple(big_shape), _fill_value(dtype), dtype=dtype, backend=backend)
    with mt.no_grad():
        big[tuple(key)] = mt.tensor(values, dtype, backend=backend)
    return big[tuple(key)]


def _broadcast(values: np.ndarray, dtype: DType, backend: str, axes: list[int]):
    small = values[tuple(slice(0, 1) if d in axes else slice(None) for d in range(values.ndim))]
    t = mt.tensor(np.ascontiguousarray(small), dtype, backend=backend).expand(*values.shape)
    return t, np.broadcast_to(small, values.shape).copy()


@st.composite
def laid_out(draw, values: np.ndarray, dtype: DType, backend: str, broadcast: bool = False,
             requires_grad: bool = False, kinds=LAYOUTS):  # fmt: skip
    """A `Built` holding `values` (changed to be constant along the stride-0 axes when the
    broadcast layout is drawn) in a drawn layout; a leaf that requires grad if asked."""
    choices = list(kinds) + (["broadcast"] if broadcast else [])
    kind = draw(st.sampled_from(choices))
    if kind == "permuted" and values.ndim >= 2:
        order = draw(st.permutations(range(values.ndim)))
        t = _permuted(values, dtype, backend, list(order))
    elif kind == "sliced":
        steps = [draw(st.sampled_from([1, 2, -1, -2])) for _ in range(values.ndim)]
        t = _sliced(values, dtype, backend, steps)
    elif kind == "broadcast" and any(s > 1 for s in values.shape):
        candidates = [d for d, s in enumerate(values.shape) if s > 1]
        axes = draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True))
        t, values = _broadcast(values, dtype, backend, axes)
    else:
        kind = "contiguous"
        t = mt.tensor(values, dtype, backend=backend)
    if requires_grad:
        t = t.detach().requires_grad_()
    return Built(t, values, kind)
