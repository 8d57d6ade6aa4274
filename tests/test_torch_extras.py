"""PyTorch's remaining everyday names against PyTorch: bincount, histc, nansum, var_mean /
std_mean, cummax / cummin, mode (values, indices, dtypes, gradients, edge cases, errors,
function and method forms, on every loaded backend), and the Generator objects with the
``generator=`` keyword of the samplers (reproducibility, independence, state)."""

from __future__ import annotations

import numpy as np
import pytest
from _torch_parity import BACKENDS, compare, pair, same, same_grads

import mytensor as mt

torch = pytest.importorskip("torch")
by_backend = pytest.mark.parametrize("backend", BACKENDS)
RNG = np.random.default_rng(11)
X34 = RNG.standard_normal((3, 4))
NAN = float("nan")


def _both(result, reference):
    """Compare a (values, indices) result field by field."""
    same(result.values, reference.values)
    same(result.indices, reference.indices)


# -- bincount ---------------------------------------------------------------------------------
@by_backend
def test_bincount_counts_and_weights(backend):
    values = np.array([0, 2, 2, 5, 1, 2])
    x, tx = mt.tensor(values, backend=backend), torch.tensor(values)
    same(mt.bincount(x), torch.bincount(tx))
    same(x.bincount(minlength=9), tx.bincount(minlength=9))
    same(x.bincount(minlength=2), tx.bincount(minlength=2))
    for dtype in (np.float32, np.float64, np.int64):  # float32 stays, others give float64
        w = RNG.standard_normal(6).astype(dtype) if dtype != np.int64 else np.arange(6)
        same(mt.bincount(x, mt.tensor(w, backend=backend)), torch.bincount(tx, torch.tensor(w)))
    for dtype in (np.int32, np.uint8):
        same(
            mt.tensor(values.astype(dtype)).bincount(),
            torch.tensor(values.astype(dtype)).bincount(),
        )
    empty = np.zeros(0, np.int64)
    same(
        mt.bincount(mt.tensor(empty), minlength=3), torch.bincount(torch.tensor(empty), minlength=3)
    )
    same(mt.bincount(mt.tensor(empty)), torch.bincount(torch.tensor(empty)))
    strided = np.array([[1, 9], [3, 9], [3, 9]])
    same(mt.tensor(strided)[:, 0].bincount(), torch.tensor(strided)[:, 0].bincount())


def test_bincount_is_differentiable_in_its_weights():
    values = np.array([0, 2, 2, 3])
    (w, _), (tw, _) = pair(torch, RNG.standard_normal(4), grad=True)
    out = mt.bincount(mt.tensor(values), w)
    # PyTorch's bincount has no derivative; index_add is the same sum, differentiable
    ref = torch.zeros(4, dtype=torch.float64).index_add(0, torch.tensor(values), tw)
    same(out, ref)
    same_grads(out, ref, [w], [tw])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.bincount(mt.tensor([1, -1])), RuntimeError,
         r"bincount only supports 1-d non-negative integral inputs: input holds the negative "
         r"value -1"),
        (lambda: mt.bincount(mt.tensor([[1, 2]])), RuntimeError,
         r"1-d non-negative integral inputs: got a 2-d tensor of shape \(1, 2\)"),
        (lambda: mt.bincount(mt.tensor(3)), RuntimeError, r"got a 0-d tensor"),
        (lambda: mt.bincount(mt.tensor([1.0])), TypeError,
         r"bincount\(\): input must hold integers, got float32"),
        (lambda: mt.bincount(mt.tensor([True])), TypeError, r"got bool"),
        (lambda: mt.bincount(mt.tensor([1]), minlength=-1), RuntimeError,
         r"minlength should be an int >= 0, got -1"),
        (lambda: mt.bincount(mt.tensor([1, 2]), mt.ones(3)), RuntimeError,
         r"weights should be 1-d and have the same length as input \(2\), got shape \(3,\)"),
        (lambda: mt.bincount([1, 2]), TypeError, r"bincount\(\): input must be a Tensor"),
    ],
)  # fmt: skip
def test_bincount_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- histc ------------------------------------------------------------------------------------
@by_backend
def test_histc_matches_torch(backend):
    data = RNG.standard_normal(500).astype(np.float32)
    x, tx = mt.tensor(data, backend=backend), torch.tensor(data)
    for kw in ({}, {"bins": 7}, {"bins": 13, "min": -1.0, "max": 0.5}, {"bins": 3, "max": 1.0}):
        same(mt.histc(x, **kw), torch.histc(tx, **kw))
    on_edges = np.round(data * 4) / 4  # many values exactly on bin edges
    same(mt.tensor(on_edges).histc(8, -2, 2), torch.tensor(on_edges).histc(8, -2, 2))
    same(mt.tensor(on_edges).histc(bins=9), torch.tensor(on_edges).histc(bins=9))
    grid = np.array([[1.0, 2.0], [3.0, 4.0]])  # n-d input, float64
    same(mt.tensor(grid).histc(4), torch.tensor(grid).histc(4))


def test_histc_edge_cases():
    for values, kw in [
        ([1.0, 1.0, 1.0], {"bins": 4}),  # one value: the range widens by 1 each way
        ([1.0, NAN, 1.0, 7.0], {"bins": 4, "min": 0, "max": 3}),  # NaN and outside: not counted
        ([], {"bins": 4}),
        ([2.5], {"bins": 1}),
    ]:
        same(mt.histc(mt.tensor(values), **kw), torch.histc(torch.tensor(values), **kw))
    x = mt.tensor([0.0, 1.0], requires_grad=True)
    assert not mt.histc(x, 2).requires_grad  # not differentiable, as in PyTorch


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.histc(mt.tensor([1, 2])), TypeError,
         r"histc\(\): input must be floating-point, got int64"),
        (lambda: mt.histc(mt.ones(2), bins=0), RuntimeError, r"bins must be an int > 0, got 0"),
        (lambda: mt.histc(mt.ones(2), 4, 3, 1), RuntimeError,
         r"max must be larger than min, got min=3.0, max=1.0"),
        (lambda: mt.histc(mt.tensor([1.0, float("inf")])), RuntimeError,
         r"histc\(\): range of \[1.0, inf\] is not finite"),
        (lambda: mt.histc(mt.tensor([NAN])), RuntimeError, r"is not finite"),
    ],
)  # fmt: skip
def test_histc_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- nansum -----------------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("kw", [{}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}])
def test_nansum_values_and_zero_gradient_at_nan(backend, kw):
    values = X34.copy()
    values[0, 1] = values[2, 3] = np.nan
    compare(torch, lambda x: x.nansum(**kw), lambda x: x.nansum(**kw), values, backend=backend)
    compare(torch, lambda x: mt.nansum(x, **kw), lambda x: torch.nansum(x, **kw), values.T.copy(),
            transposed=True, backend=backend)  # fmt: skip


def test_nansum_dtypes_and_edge_shapes():
    ints = np.array([[1, 2], [3, 4]], np.int32)
    same(mt.nansum(mt.tensor(ints)), torch.nansum(torch.tensor(ints)))  # int32 sums in int64
    same(
        mt.tensor(ints).nansum(1, dtype=mt.float64),
        torch.tensor(ints).nansum(1, dtype=torch.float64),
    )
    same(mt.nansum(mt.tensor([True, True])), torch.nansum(torch.tensor([True, True])))
    same(mt.nansum(mt.tensor(NAN)), torch.nansum(torch.tensor(NAN)))
    same(mt.nansum(mt.zeros(0, 3), 0), torch.nansum(torch.zeros(0, 3), 0))
    same(mt.nansum(mt.tensor([[NAN, NAN]]), [1]), torch.nansum(torch.tensor([[NAN, NAN]]), [1]))
    same(mt.nansum(mt.tensor(X34), ()), torch.nansum(torch.tensor(X34), ()))  # () means all
    with pytest.raises(TypeError, match=r"nansum\(\): complex inputs are not supported"):
        mt.nansum(mt.ones(2, dtype=mt.complex64))
    with pytest.raises(IndexError, match=r"nansum\(\)"):
        mt.nansum(mt.ones(2), 1)


# -- var_mean / std_mean ----------------------------------------------------------------------
CALLS = [
    ((), {}),
    ((1,), {}),
    ((0, False), {}),  # PyTorch's positional unbiased
    ((False,), {}),  # var_mean(input, unbiased)
    ((), {"dim": -1, "unbiased": False, "keepdim": True}),
    ((), {"dim": (0, 1), "correction": 0}),
    ((None,), {"correction": 1.5, "keepdim": True}),
    ((), {"dim": 1, "correction": 2, "keepdim": True}),
]


@by_backend
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
@pytest.mark.parametrize(("args", "kw"), CALLS)
def test_var_mean_and_std_mean(backend, name, args, kw):
    ours, theirs = getattr(mt, name), getattr(torch, name)
    result = ours(mt.tensor(X34, backend=backend), *args, **kw)
    assert isinstance(result, tuple) and len(result) == 2
    for k in (0, 1):
        compare(torch, lambda x, k=k: ours(x, *args, **kw)[k],
                lambda x, k=k: theirs(x, *args, **kw)[k], X34, transposed=True,
                backend=backend)  # fmt: skip


def test_var_mean_edge_cases_and_errors():
    for name in ("var_mean", "std_mean"):
        ours, theirs = getattr(mt, name), getattr(torch, name)
        with pytest.warns(UserWarning):  # both warn: one element, correction 1
            expected = theirs(torch.tensor([2.0]))
        same(ours(mt.tensor([2.0]))[0], expected[0])  # NaN: no degrees of freedom
        same(ours(mt.tensor(3.0), correction=0)[1], theirs(torch.tensor(3.0), correction=0)[1])
        for k in (0, 1):  # an empty dim list means all dims (PyTorch's gradient is inf there)
            same(
                ours(mt.tensor(X34), [], keepdim=True)[k],
                theirs(torch.tensor(X34), [], keepdim=True)[k],
            )
        with pytest.raises(
            TypeError, match=rf"{name}\(\): input must be floating-point, got int64"
        ):
            ours(mt.tensor([1, 2]))
        with pytest.raises(TypeError, match=rf"{name}\(\): pass unbiased= or correction="):
            ours(mt.ones(3), 0, unbiased=True, correction=1)
    flat = np.full((2, 3), 1.5)  # a zero spread: std's gradient is 0, not NaN
    compare(torch, lambda x: mt.std_mean(x, 1)[0], lambda x: torch.std_mean(x, 1)[0], flat)


# -- cummax / cummin --------------------------------------------------------------------------
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [4.0, 4.0, 0.0, 4.0, -1.0], [2.0, 1.0, 2.0, 1.0, 2.0]])


@by_backend
@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin_values_indices_and_gradients(backend, op, dim):
    _both(getattr(mt.tensor(TIES, backend=backend), op)(dim), getattr(torch.tensor(TIES), op)(dim))
    _both(getattr(mt, op)(mt.tensor(TIES.T.copy()).t(), dim=dim),
          getattr(torch, op)(torch.tensor(TIES.T.copy()).t(), dim=dim))  # fmt: skip
    compare(torch, lambda x: getattr(x, op)(dim).values, lambda x: getattr(x, op)(dim).values,
            TIES, transposed=True, backend=backend)  # fmt: skip
    compare(torch, lambda x: getattr(x, op)(dim).values, lambda x: getattr(x, op)(dim).values,
            RNG.standard_normal((3, 17)), backend=backend)  # fmt: skip


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_cummin_nan_dtypes_and_edge_shapes(op):
    with_nan = np.array([1.0, 3.0, 3.0, 2.0, NAN, 5.0, NAN, 1.0])
    _both(getattr(mt.tensor(with_nan), op)(0), getattr(torch.tensor(with_nan), op)(0))
    compare(torch, lambda x: getattr(x, op)(0).values, lambda x: getattr(x, op)(0).values,
            with_nan)  # fmt: skip
    for values in ([True, False, True, True], np.array([[2, 1, 1, 3, 1]], np.int32), [-0.0, 0.0]):
        _both(getattr(mt.tensor(values), op)(-1), getattr(torch.tensor(values), op)(-1))
    _both(getattr(mt.tensor(2.0), op)(0), getattr(torch.tensor(2.0), op)(0))
    _both(getattr(mt.zeros(0, 3), op)(0), getattr(torch.zeros(0, 3), op)(0))
    _both(getattr(mt.zeros(2, 0), op)(0), getattr(torch.zeros(2, 0), op)(0))
    with pytest.raises(IndexError, match=rf"{op}\(\): dim 2 is out of range"):
        getattr(mt, op)(mt.ones(2, 3), 2)
    with pytest.raises(TypeError, match=rf"{op}\(\): complex inputs have no order"):
        getattr(mt, op)(mt.ones(2, dtype=mt.complex64), 0)


# -- mode -------------------------------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mode_smallest_of_the_most_frequent_at_its_last_index(backend, dim, keepdim):
    values = np.random.default_rng(dim + 5).integers(0, 4, size=(9, 11))
    x, tx = mt.tensor(values, backend=backend), torch.tensor(values)
    _both(x.mode(dim, keepdim), tx.mode(dim, keepdim))
    _both(mt.mode(x.t(), dim=dim, keepdim=keepdim), torch.mode(tx.t(), dim=dim, keepdim=keepdim))
    floats = values / 2.0
    compare(torch, lambda x: x.mode(dim, keepdim).values, lambda x: x.mode(dim, keepdim).values,
            floats, transposed=True, backend=backend)  # fmt: skip


def test_mode_long_rows_and_edge_cases():
    # past 16 elements PyTorch's index among equal values depends on its unstable sort;
    # the value agrees, and our index points at the value's last occurrence
    values = np.random.default_rng(2).integers(0, 5, size=(6, 300))
    got, want = mt.tensor(values).mode(1), torch.tensor(values).mode(1)
    same(got.values, want.values)
    for row, (value, index) in enumerate(
        zip(got.values.tolist(), got.indices.tolist(), strict=True)
    ):
        assert index == np.flatnonzero(values[row] == value).max()
    _both(
        mt.tensor([3.0, 1, 3, 1, 2, NAN, NAN, NAN]).mode(),
        torch.tensor([3.0, 1, 3, 1, 2, NAN, NAN, NAN]).mode(),
    )  # each NaN once
    _both(mt.tensor([True, False, True]).mode(), torch.tensor([True, False, True]).mode())
    _both(mt.tensor(2.0).mode(), torch.tensor(2.0).mode())
    _both(mt.tensor([7]).mode(0, True), torch.tensor([7]).mode(0, True))
    _both(mt.zeros(0, 3).mode(1), torch.zeros(0, 3).mode(1))
    with pytest.raises(
        IndexError, match=r"mode\(\): expected reduction dim 0 to have non-zero size"
    ):
        mt.zeros(0, 3).mode(0)
    with pytest.raises(IndexError, match=r"mode\(\): dim -3 is out of range"):
        mt.zeros(2, 3).mode(-3)


# -- Generator --------------------------------------------------------------------------------
SAMPLERS = {
    "rand": lambda g, backend: mt.rand(3, 4, generator=g, backend=backend),
    "randn": lambda g, backend: mt.randn((5,), generator=g, backend=backend),
    "randint": lambda g, backend: mt.randint(0, 10, (6,), generator=g, backend=backend),
    "randperm": lambda g, backend: mt.randperm(8, generator=g, backend=backend),
    "rand_like": lambda g, backend: mt.rand_like(mt.zeros(2, 3, backend=backend), generator=g),
    "randn_like": lambda g, backend: mt.randn_like(mt.zeros(4, backend=backend), generator=g),
    "randint_like": lambda g, backend: mt.randint_like(
        mt.zeros(4, backend=backend), 9, generator=g
    ),
    "normal": lambda g, backend: mt.normal(mt.zeros(3, backend=backend), 1.0, generator=g),
    "normal(size=)": lambda g, backend: mt.normal(0.0, 2.0, (4,), generator=g, backend=backend),
    "bernoulli": lambda g, backend: mt.full((9,), 0.5, backend=backend).bernoulli(generator=g),
    "multinomial": lambda g, backend: mt.ones(2, 6, backend=backend).multinomial(3, generator=g),
    "multinomial(replacement)": lambda g, backend: mt.multinomial(
        mt.ones(6, backend=backend), 8, True, generator=g
    ),
    "uniform_": lambda g, backend: mt.empty(5, backend=backend).uniform_(-1, 1, generator=g),
    "normal_": lambda g, backend: mt.empty(5, backend=backend).normal_(generator=g),
    "bernoulli_": lambda g, backend: mt.empty(9, backend=backend).bernoulli_(generator=g),
    "exponential_": lambda g, backend: mt.empty(5, backend=backend).exponential_(generator=g),
    "random_": lambda g, backend: mt.empty(5, backend=backend).random_(100, generator=g),
}


def _equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())


@by_backend
@pytest.mark.parametrize("name", list(SAMPLERS))
def test_a_seeded_generator_repeats_and_leaves_other_streams_alone(backend, name):
    sample = SAMPLERS[name]
    g = mt.Generator().manual_seed(42)
    first = sample(g, backend)
    mt.manual_seed(0)
    default_next = mt.rand(3, backend=backend)
    mt.manual_seed(0)
    sample(mt.Generator().manual_seed(7), backend)  # another generator: the default waits
    assert _equal(mt.rand(3, backend=backend), default_next)
    assert _equal(sample(g.manual_seed(42), backend), first)
    second = sample(g, backend)
    assert not _equal(second, first)  # the stream moves on
    other = mt.Generator().manual_seed(42)
    assert _equal(sample(other, backend), first) and _equal(sample(other, backend), second)


def test_generator_seeds_like_torch():
    g, tg = mt.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed()  # PyTorch's fixed starting seed
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    for seed in (-1, -(2**63), 2**64 - 1, np.int64(9)):
        assert g.manual_seed(seed).initial_seed() == tg.manual_seed(int(seed)).initial_seed()
    fresh = g.seed()
    assert g.initial_seed() == fresh and 0 <= fresh < 2**64
    assert mt.Generator().seed() != fresh  # non-deterministic
    assert g.device == mt.device("cpu")
    assert mt.manual_seed(3) is mt.default_generator and mt.initial_seed() == 3
    assert mt.seed() == mt.initial_seed() == mt.default_generator.initial_seed()


def test_generator_state_round_trips():
    g = mt.Generator().manual_seed(1)
    mt.rand(2, generator=g)
    state = g.get_state()
    assert state.dtype is mt.uint8 and state.ndim == 1
    ahead = mt.randn(4, generator=g)
    other = mt.Generator().set_state(state)
    assert other.initial_seed() == 1
    assert _equal(mt.randn(4, generator=other), ahead)
    assert _equal(mt.randn(4, generator=g.set_state(state)), ahead)
    saved = mt.get_rng_state()
    expected = mt.randint(0, 100, (5,))
    mt.set_rng_state(saved)
    assert _equal(mt.randint(0, 100, (5,)), expected)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.Generator().manual_seed(2**64), ValueError,
         r"manual_seed\(\): the seed 18446744073709551616 is out of range \[-2\*\*63, 2\*\*64\)"),
        (lambda: mt.Generator().manual_seed(1.5), TypeError,
         r"manual_seed\(\): the seed must be an int, got float 1.5"),
        (lambda: mt.manual_seed(True), TypeError, r"the seed must be an int, got bool"),
        (lambda: mt.Generator().set_state([1, 2]), TypeError,
         r"set_state\(\): expected a uint8 tensor from get_state\(\), got list"),
        (lambda: mt.Generator().set_state(mt.zeros(56)), TypeError,
         r"set_state\(\): the state must be a uint8 tensor \(from get_state\(\)\), got float32"),
        (lambda: mt.Generator().set_state(mt.zeros(3, dtype=mt.uint8)), RuntimeError,
         r"set_state\(\): expected a state of shape \(56,\) from get_state\(\), got shape \(3,\)"),
        (lambda: mt.Generator().set_state(mt.zeros(56, dtype=mt.uint8)), RuntimeError,
         r"set_state\(\): these bytes are not a state from get_state\(\)"),
        (lambda: mt.rand(2, generator=3), TypeError,
         r"rand\(\): generator must be a mytensor.Generator or None, got int 3"),
        (lambda: mt.randperm(0, generator=np.random.default_rng()), TypeError,
         r"randperm\(\): generator must be a mytensor.Generator"),
        (lambda: mt.Generator(device=0), TypeError, r"Generator\(\): device must be"),
    ],
)  # fmt: skip
def test_generator_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_failed_set_state_changes_nothing():
    g = mt.Generator().manual_seed(4)
    expected = mt.rand(3, generator=mt.Generator().manual_seed(4))
    with pytest.raises(RuntimeError):
        g.set_state(mt.zeros(56, dtype=mt.uint8))
    assert g.initial_seed() == 4 and _equal(mt.rand(3, generator=g), expected)


def test_data_takes_a_generator_as_pytorch_programs_pass_it():
    ds = mt.data.TensorDataset(mt.arange(20))
    split = [
        s.indices for s in mt.data.random_split(ds, [0.8, 0.2], mt.Generator().manual_seed(42))
    ]
    again = mt.data.random_split(ds, [16, 4], generator=mt.Generator().manual_seed(42))
    assert split == [s.indices for s in again]
    assert sorted(split[0] + split[1]) == list(range(20))
    g = mt.Generator().manual_seed(1)
    loader = mt.data.DataLoader(ds, batch_size=20, shuffle=True, generator=g)
    first, second = next(iter(loader))[0].tolist(), next(iter(loader))[0].tolist()
    assert first != second  # each epoch draws from the generator
    g.manual_seed(1)
    assert next(iter(loader))[0].tolist() == first  # re-seeding repeats the order
    with pytest.raises(TypeError, match=r"generator must be a mytensor.Generator, an int seed"):
        mt.data.random_split(ds, [10, 10], generator="0")
