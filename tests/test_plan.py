"""The launch planner shared by numba_cpu and cuda (`mytensor.backends._plan`) and its two
adapters: which loops it plans, that the loops visit exactly the elements of the views
(in logical order for ``argmax``/``argmin``), the formats each backend's kernels take,
the one bounded cache, and ``argmax``/``argmin`` positions on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from itertools import product

import numpy as np
import pytest

from mytensor.backends import _plan
from mytensor.backends._plan import elementwise_dims, reduce_dims
from mytensor.backends.cuda import _plan as cuda_plan
from mytensor.backends.numba_cpu import _plan as numba_plan
from mytensor.backends.spec import Strided
from mytensor.core.dtypes import float64


# -- hand-checked plans ----------------------------------------------------------------------
def test_contiguous_operands_plan_one_loop():
    c = (12, 4, 1)
    assert elementwise_dims((2, 3, 4), ((c, 0), (c, 24), (c, 5))) == (
        24,
        (24,),
        ((1,), (1,), (1,)),
        (0, 24, 5),
    )


def test_permuted_operands_follow_the_outputs_memory_order():
    # out and a transposed alike: one loop in memory order
    assert elementwise_dims((4, 3), (((1, 4), 0), ((1, 4), 0))) == (12, (12,), ((1,), (1,)), (0, 0))
    # out transposed, a contiguous: out's order, nothing merges
    assert elementwise_dims((4, 3), (((1, 4), 0), ((3, 1), 0))) == (
        12,
        (3, 4),
        ((4, 1), (1, 3)),
        (0, 0),
    )


def test_a_negative_output_stride_is_walked_forwards():
    # out = a flipped along its last axis: offsets move to the far end, strides turn positive
    size, sizes, strides, offsets = elementwise_dims((2, 3), (((3, -1), 2), ((3, 1), 0)))
    assert (size, sizes, strides, offsets) == (6, (2, 3), ((3, 1), (3, -1)), (0, 2))
    # fully flipped contiguous output and input: still one loop
    assert elementwise_dims((2, 3), (((-3, -1), 5), ((-3, -1), 5))) == (
        6,
        (6,),
        ((1,), (1,)),
        (0, 0),
    )


def test_a_broadcast_operand_keeps_stride_zero():
    assert elementwise_dims((3, 4), (((4, 1), 0), ((0, 1), 0))) == (
        12,
        (3, 4),
        ((4, 1), (0, 1)),
        (0, 0),
    )
    assert elementwise_dims((3, 4), (((4, 1), 0), ((0, 0), 7))) == (12, (12,), ((1,), (0,)), (0, 7))


def test_size_zero_and_zero_d():
    assert elementwise_dims((), (((), 3), ((), 4))) == (1, (1,), ((0,), (0,)), (3, 4))
    assert elementwise_dims((1, 1), (((1, 1), 2), ((5, 9), 0))) == (1, (1,), ((0,), (0,)), (2, 0))
    assert elementwise_dims((3, 0), (((0, 1), 0), ((0, 1), 0)))[0] == 0
    assert reduce_dims((), (), (), (), False) == ((1,), (0,), (0,), (1,), (0,))
    assert reduce_dims((4, 0), (0, 1), (1, 1), (1,), False) == ((4,), (0,), (1,), (0,), (1,))


def test_unordered_reduce_merges_in_memory_order_ordered_keeps_logical_order():
    # a (3, 4) view of a transposed (4, 3) buffer, reduced over both axes
    assert reduce_dims((3, 4), (1, 3), (1, 1), (0, 1), False) == ((1,), (0,), (0,), (12,), (1,))
    assert reduce_dims((3, 4), (1, 3), (1, 1), (0, 1), True) == ((1,), (0,), (0,), (3, 4), (1, 3))
    # contiguous reduced axes are row-major neighbours: ordered merges them too
    assert reduce_dims((2, 3, 4), (12, 4, 1), (1, 1, 1), (1, 2), True) == (
        (2,),
        (12,),
        (1,),
        (12,),
        (1,),
    )
    # a flipped reduced axis keeps its negative stride (positions count from its start)
    assert reduce_dims((5,), (-1,), (1,), (0,), True) == ((1,), (0,), (0,), (5,), (-1,))
    # size-1 axes are dropped on both sides
    assert reduce_dims((1, 6, 1), (6, 1, 1), (1, 1, 1), (0, 2), True) == (
        (6,),
        (1,),
        (1,),
        (1,),
        (0,),
    )


# -- random views: the plans visit exactly the views' elements ---------------------------------
def _random_view(rng: np.random.Generator, shape: tuple[int, ...],
                 broadcast: bool = True) -> tuple[tuple, int]:  # fmt: skip
    """Element strides and offset of a random view of `shape`: permuted, flipped, stepped,
    broadcast (some axes stride 0, when `broadcast`), over a buffer large enough for it."""
    ndim = len(shape)
    steps = rng.integers(1, 3, ndim)
    base_shape = [s * int(k) if s else 1 for s, k in zip(shape, steps, strict=True)]
    perm = rng.permutation(ndim)
    strides_perm = [1] * ndim
    for j in range(ndim - 2, -1, -1):  # row-major strides of the buffer, permuted axes
        strides_perm[j] = strides_perm[j + 1] * base_shape[perm[j + 1]]
    strides = [0] * ndim
    for j, d in enumerate(perm):
        strides[d] = strides_perm[j] * int(steps[d])
    offset = 0
    for d in range(ndim):
        if rng.random() < 0.3:
            strides[d] = -strides[d]
            offset += (shape[d] - 1) * -strides[d] if shape[d] else 0
        elif broadcast and rng.random() < 0.15:
            strides[d] = 0
    return tuple(strides), offset


def _logical_offsets(shape, strides, offset):
    return [offset + sum(i * s for i, s in zip(idx, strides, strict=True))
            for idx in np.ndindex(*shape)]  # fmt: skip


def _walk(sizes, strides, offset):
    """The offsets a row-major loop nest over `sizes` at `strides` visits, in order."""
    return [offset + sum(i * s for i, s in zip(idx, strides, strict=True))
            for idx in product(*(range(n) for n in sizes))]  # fmt: skip


def _random_shape(rng):
    ndim = int(rng.integers(0, 5))
    return tuple(
        int(s) for s in rng.choice([0, 1, 1, 2, 3, 4], ndim, p=[0.04, 0.26, 0.1, 0.2, 0.2, 0.2])
    )


@pytest.mark.parametrize("seed", range(300))
def test_elementwise_plans_visit_each_output_once_with_its_inputs(seed):
    rng = np.random.default_rng(seed)
    shape = _random_shape(rng)
    out = _random_view(rng, shape, broadcast=False)  # an output is never broadcast
    layouts = (out, _random_view(rng, shape), _random_view(rng, shape))
    size, sizes, strides, offsets = elementwise_dims(shape, layouts)
    assert size == int(np.prod(shape)) and len(sizes) <= max(len(shape), 1)
    walks = [_walk(sizes, st, off)[:size] for st, off in zip(strides, offsets, strict=True)]
    logical = [_logical_offsets(shape, st, off)[:size] for st, off in layouts]
    assert sorted(zip(*walks, strict=True)) == sorted(zip(*logical, strict=True)), layouts
    assert walks[0] == sorted(walks[0]), f"the output is walked forwards: {layouts}"
    # the numba_cpu adapter holds the same plan as int64 arrays
    a_shape, a_strides, a_offsets, a_size = numba_plan.elementwise_plan(shape, layouts)
    assert a_shape.dtype == a_strides.dtype == a_offsets.dtype == np.int64
    assert (a_size, tuple(a_shape), tuple(map(tuple, a_strides)), tuple(a_offsets)) == (
        size,
        sizes,
        strides,
        offsets,
    )


def _desc(shape, strides, offset):
    return Strided(None, shape, strides, offset, float64)


def _numba_cpu_rows(plan):
    """Per output offset: the input offsets numba_cpu's reduce kernels read, in order."""
    kta, kto, kn, kas, kos, rt, rn, rs = plan
    reduced = [int(t) + i * rs for t in rt for i in range(rn)]
    return {int(o) + k * kos: [int(p) + k * kas + r for r in reduced]
            for p, o in zip(kta, kto, strict=True) for k in range(kn)}  # fmt: skip


def _cuda_rows(plan, a_offset, out_offset):
    """Per output offset: the input offsets cuda's reduce kernels read, in order."""
    kshape, kas, kos, rshape, ras, outputs, reduced = plan
    assert outputs == int(np.prod(kshape)) and reduced == int(np.prod(rshape))
    kept = zip(_walk(kshape, kas, a_offset), _walk(kshape, kos, out_offset), strict=True)
    return {o: [p + r for r in _walk(rshape, ras, 0)] for p, o in kept}


@pytest.mark.parametrize("ordered", [False, True])
@pytest.mark.parametrize("seed", range(150))
def test_reduce_plans_read_each_reduced_element_once_in_order_when_ordered(seed, ordered):
    rng = np.random.default_rng(1000 + seed)
    shape = tuple(s or 1 for s in _random_shape(rng)) or (3,)
    dims = tuple(d for d in range(len(shape)) if rng.random() < 0.5) or (len(shape) - 1,)
    a_strides, a_offset = _random_view(rng, shape)
    out_shape = tuple(1 if d in dims else s for d, s in enumerate(shape))
    out_strides = tuple(int(s) for s in np.cumprod((1, *out_shape[::-1]))[-2::-1])
    out_offset = int(rng.integers(0, 3))
    a, out = _desc(shape, a_strides, a_offset), _desc(out_shape, out_strides, out_offset)
    # expected: per output element, the reduced elements' offsets in logical row-major order
    kept_axes = [d for d in range(len(shape)) if d not in dims]
    expected = {}
    for idx in np.ndindex(*shape):
        o = out_offset + sum(idx[d] * out_strides[d] for d in kept_axes)
        expected.setdefault(o, []).append(
            a_offset + sum(i * s for i, s in zip(idx, a_strides, strict=True))
        )
    got_cpu = _numba_cpu_rows(numba_plan.reduce_plan(a, out, dims, ordered))
    got_cuda = _cuda_rows(cuda_plan.reduce_plan(a, out, dims, ordered), a_offset, out_offset)
    for got in (got_cpu, got_cuda):
        assert got.keys() == expected.keys()
        for o, offsets in expected.items():
            if ordered:
                assert got[o] == offsets, (shape, a_strides, dims)
            else:
                assert sorted(got[o]) == sorted(offsets), (shape, a_strides, dims)


# -- the one cache ----------------------------------------------------------------------------
def test_ordered_and_unordered_reductions_never_share_a_plan():
    a = _desc((3, 4), (1, 3), 0)
    out = _desc((1, 1), (1, 1), 0)
    for planner in (numba_plan.reduce_plan, cuda_plan.reduce_plan):
        unordered = planner(a, out, (0, 1), False)
        ordered = planner(a, out, (0, 1), True)
        assert repr(unordered) != repr(ordered), planner.__module__


def test_the_cache_is_shared_bounded_and_cleared_when_full(monkeypatch):
    monkeypatch.setattr(_plan, "MAX_PLANS", 4)
    _plan.PLANS.clear()
    layouts = tuple((((1,), 0), ((1,), k)) for k in range(6))
    for lay in layouts[:4]:
        numba_plan.elementwise_plan((5,), lay)
    first = numba_plan.elementwise_plan((5,), layouts[0])
    assert numba_plan.elementwise_plan((5,), layouts[0]) is first  # cached
    assert len(_plan.PLANS) == 4
    cuda_plan.elementwise_plan((_desc((5,), (1,), 0), _desc((5,), (1,), 1)))
    assert len(_plan.PLANS) == 1, "full: emptied, then the new plan stored"
    assert numba_plan.elementwise_plan((5,), layouts[0]) is not first
    assert _plan.lookup(("cuda.e", (5,), (((1,), 0), ((1,), 1)))) is not None
    _plan.PLANS.clear()


# -- argmax / argmin positions on both backends -------------------------------------------------
_ARG_CASES = textwrap.dedent("""
    import json, sys
    import numpy as np
    import mytensor as mt

    def views(backend):
        rng = np.random.default_rng(5)
        ties = rng.integers(0, 3, (4, 6)).astype(np.float32)
        nans = ties.copy()
        nans[1, 2] = nans[1, 4] = nans[3, 0] = nans[2, 5] = np.nan
        nans[0, :] = np.nan
        for values in (ties, nans, np.where(ties > 1, 0.0, -0.0).astype(np.float32)):
            x = mt.tensor(values, backend=backend)
            yield x
            yield x.t()
            yield x.flip(1)
            yield x.flip(0).t()
            yield x[::2].flip(1)
            yield x[:, 1:2].expand(4, 5)

    def positions(backend):
        found = []
        for v in views(backend):
            for op in ("argmax", "argmin"):
                for dim in (None, 0, 1):
                    found.append(getattr(v, op)(dim).tolist())
        return found

    print(json.dumps(positions(sys.argv[1])))
""")


def _positions_on(backend: str, **env: str) -> list:
    environment = {k: v for k, v in os.environ.items() if k != "MYTENSOR_BACKEND"}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", _ARG_CASES, backend], env=environment,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_argmax_argmin_positions_match_the_reference_on_numba_cpu():
    pytest.importorskip("numba", reason="the numba extra is not installed")
    expected = _positions_on("numpy_ref")
    assert _positions_on("numba_cpu") == expected


def test_argmax_argmin_positions_match_the_reference_on_cuda_in_the_simulator():
    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed")
    expected = _positions_on("numpy_ref")
    assert _positions_on("cuda", NUMBA_ENABLE_CUDASIM="1") == expected
