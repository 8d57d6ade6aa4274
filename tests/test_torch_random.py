"""PyTorch's random functions and in-place random fills: reproducible under
`manual_seed`, the right shapes, dtypes and backends, distributions whose moments fall
within generous bounds (fixed seeds, so every run sees the same numbers), the in-place
guard, and PyTorch's errors. PyTorch's own random streams are not reproduced."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytensor as mt

torch = pytest.importorskip("torch")

BACKENDS = [info.name for info in mt.backends() if info.status == "loaded"]
by_backend = pytest.mark.parametrize("backend", BACKENDS)


def _twice(make):
    """`make()` after seeding 0, twice: the two results must be equal."""
    mt.manual_seed(0)
    first = make()
    mt.manual_seed(0)
    return first, make()


SAMPLERS = {
    "randperm": lambda b: mt.randperm(10, backend=b),
    "rand_like": lambda b: mt.rand_like(mt.zeros(5, backend=b)),
    "randn_like": lambda b: mt.randn_like(mt.zeros(5, backend=b)),
    "randint_like": lambda b: mt.randint_like(mt.zeros(5, backend=b), 10),
    "normal": lambda b: mt.normal(mt.zeros(5, backend=b), 2.0),
    "bernoulli": lambda b: mt.bernoulli(mt.full((8,), 0.5, backend=b)),
    "multinomial": lambda b: mt.multinomial(mt.ones(2, 6, backend=b), 3),
    "multinomial_replacement": lambda b: mt.multinomial(mt.ones(6, backend=b), 9, True),
    "uniform_": lambda b: mt.empty(5, backend=b).uniform_(-1.0, 1.0),
    "normal_": lambda b: mt.empty(5, backend=b).normal_(1.0, 3.0),
    "bernoulli_": lambda b: mt.empty(8, backend=b).bernoulli_(0.3),
    "exponential_": lambda b: mt.empty(5, backend=b).exponential_(),
    "random_": lambda b: mt.empty(5, dtype=mt.int64, backend=b).random_(0, 100),
}


@by_backend
@pytest.mark.parametrize("name", list(SAMPLERS))
def test_seeding_reproduces_every_sampler(backend, name):
    first, second = _twice(lambda: SAMPLERS[name](backend))
    assert first.backend == backend
    assert first.tolist() == second.tolist()
    third = SAMPLERS[name](backend)  # the stream moves on
    if name not in ("multinomial",):  # (a permutation of 6 may repeat by chance)
        assert third.tolist() != second.tolist()


# -- randperm, *_like, logspace -----------------------------------------------------------------
def test_randperm_is_a_permutation_with_torch_dtypes():
    mt.manual_seed(1)
    p = mt.randperm(50)
    assert p.dtype is mt.int64 and sorted(p.tolist()) == list(range(50))
    assert p.tolist() != list(range(50))
    assert mt.randperm(4, dtype=mt.float32).dtype is mt.float32
    assert mt.randperm(0).shape == (0,) == tuple(torch.randperm(0).shape)
    with pytest.raises(ValueError, match=r"randperm\(\): n must be a non-negative int, got -1"):
        mt.randperm(-1)


def test_randperm_positions_are_uniform():
    mt.manual_seed(2)
    first = [mt.randperm(4)[0].item() for _ in range(400)]
    counts = np.bincount(first, minlength=4)
    assert counts.min() > 60, counts  # 100 expected for each


@by_backend
def test_like_samplers_keep_shape_dtype_and_backend(backend):
    mt.manual_seed(3)
    base = mt.zeros(200, 50, dtype=mt.float64, backend=backend)
    u, z = mt.rand_like(base), mt.randn_like(base)
    for t in (u, z):
        assert t.shape == base.shape and t.dtype is mt.float64 and t.backend == backend
    assert u.min().item() >= 0 and u.max().item() < 1
    assert abs(u.mean().item() - 0.5) < 0.01 and abs(u.var().item() - 1 / 12) < 0.005
    assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02
    assert mt.rand_like(base, dtype=mt.float32).dtype is mt.float32
    assert mt.randn_like(base, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match=r"rand_like\(\): dtype must be floating-point"):
        mt.rand_like(mt.zeros(2, dtype=mt.int64))


def test_randint_like_bounds_and_dtypes_follow_torch():
    mt.manual_seed(4)
    x = mt.randint_like(mt.zeros(1000, dtype=mt.int32), 3, 7)
    assert x.dtype is mt.int32 and set(x.tolist()) == {3, 4, 5, 6}
    y = mt.randint_like(mt.zeros(10), 5)
    assert y.dtype is mt.float32 and torch.randint_like(torch.zeros(1), 5).dtype == torch.float32
    assert all(v in (0.0, 1.0, 2.0, 3.0, 4.0) for v in y.tolist())
    with pytest.raises(ValueError, match=r"randint\(\): need low < high"):
        mt.randint_like(mt.zeros(2), 3, 3)


@pytest.mark.parametrize(("start", "end", "steps", "base"),
                         [(0, 2, 3, 10.0), (-1, 1, 5, 2.0), (0.5, 3.0, 7, math.e),
                          (2, 2, 1, 10.0), (0, 1, 0, 10.0)])  # fmt: skip
def test_logspace_matches_torch(start, end, steps, base):
    got = mt.logspace(start, end, steps, base)
    expected = torch.logspace(start, end, steps, base)
    assert got.dtype is mt.float32 and got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    wide = mt.logspace(start, end, steps, base, dtype=mt.float64)
    np.testing.assert_allclose(wide.numpy(), torch.logspace(start, end, steps, base,
                               dtype=torch.float64).numpy(), rtol=1e-12)  # fmt: skip
    with pytest.raises(ValueError, match=r"logspace\(\): steps must be a non-negative int"):
        mt.logspace(0, 1, -1)


# -- normal, bernoulli, multinomial -------------------------------------------------------------
def test_normal_overloads_shapes_dtypes_and_moments():
    mt.manual_seed(5)
    mean = mt.tensor([[-3.0], [4.0]], mt.float64)
    x = mt.normal(mean.expand(2, 5000), 2.0)
    assert x.shape == (2, 5000) and x.dtype is mt.float64
    assert np.allclose(x.numpy().mean(1), [-3.0, 4.0], atol=0.1)
    assert np.allclose(x.numpy().std(1), [2.0, 2.0], atol=0.1)
    y = mt.normal(1.0, mt.full((4000,), 0.5))
    assert y.dtype is mt.float32 and abs(y.mean().item() - 1) < 0.05
    z = mt.normal(mt.zeros(3, 1), mt.ones(1, 4000) * 3)  # tensor mean and std broadcast
    assert z.shape == (3, 4000) and abs(z.std().item() - 3) < 0.1
    w = mt.normal(2.0, 0.5, size=(3000,))
    assert w.dtype is mt.float32 and abs(w.mean().item() - 2) < 0.05
    assert mt.normal(0.0, 1.0, (2,), dtype=mt.float64).dtype is mt.float64
    assert mt.normal(5.0, 0.0, (3,)).tolist() == [5.0, 5.0, 5.0]


def test_normal_gives_zero_gradients_like_torch():
    mean = mt.tensor([1.0, 2.0], mt.float64, requires_grad=True)
    std = mt.tensor([1.0, 2.0], mt.float64, requires_grad=True)
    out = mt.normal(mean, std)
    assert out.requires_grad
    out.sum().backward()
    t_mean = torch.tensor([1.0, 2.0], requires_grad=True)
    t_std = torch.tensor([1.0, 2.0], requires_grad=True)
    torch.normal(t_mean, t_std).sum().backward()
    assert mean.grad.tolist() == t_mean.grad.tolist() and std.grad.tolist() == t_std.grad.tolist()


def test_normal_errors():
    with pytest.raises(
        TypeError, match=r"normal\(\): with a number for both mean and std, pass size"
    ):
        mt.normal(0.0, 1.0)
    with pytest.raises(ValueError, match=r"normal\(\): std must be >= 0"):
        mt.normal(0.0, -1.0, (2,))
    with pytest.raises(ValueError, match=r"normal\(\): every element of std must be >= 0"):
        mt.normal(mt.zeros(2), mt.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match=r"normal\(\): mean and std must be floating-point.*int64"):
        mt.normal(mt.tensor([1, 2]), 1.0)
    with pytest.raises(TypeError, match=r"normal\(\): size= is only for a number mean"):
        mt.normal(mt.zeros(2), 1.0, (2,))


@by_backend
def test_bernoulli_probabilities_dtype_and_mean(backend):
    mt.manual_seed(6)
    p = mt.tensor([0.0, 1.0, 0.2, 0.9], mt.float64, backend=backend).reshape(4, 1).expand(4, 2000)
    draws = mt.bernoulli(p)
    assert draws.dtype is mt.float64 and draws.shape == (4, 2000)
    assert set(np.unique(draws.numpy())) <= {0.0, 1.0}
    means = draws.numpy().mean(1)
    assert means[0] == 0.0 and means[1] == 1.0
    assert abs(means[2] - 0.2) < 0.04 and abs(means[3] - 0.9) < 0.04
    fixed = mt.zeros(3000, backend=backend).bernoulli(0.25)  # p replaces the tensor's values
    assert fixed.dtype is mt.float32 and abs(fixed.mean().item() - 0.25) < 0.04


def test_bernoulli_gradient_and_errors_follow_torch():
    p = mt.tensor([0.3, 0.7], requires_grad=True)
    mt.bernoulli(p).sum().backward()
    tp = torch.tensor([0.3, 0.7], requires_grad=True)
    torch.bernoulli(tp).sum().backward()
    assert p.grad.tolist() == tp.grad.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"bernoulli\(\): probabilities must be in \[0, 1\]"):
        mt.bernoulli(mt.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"bernoulli\(\): probabilities must be in \[0, 1\]"):
        mt.bernoulli(mt.zeros(2), p=-0.1)
    with pytest.raises(TypeError, match=r"bernoulli\(\): input must hold floating-point"):
        mt.bernoulli(mt.tensor([0, 1]))


@by_backend
def test_multinomial_without_replacement(backend):
    mt.manual_seed(7)
    weights = mt.tensor([[0.0, 1.0, 2.0, 0.0, 3.0], [5.0, 0.0, 0.0, 1.0, 1.0]], backend=backend)
    for _ in range(20):
        draw = weights.multinomial(3)
        assert draw.dtype is mt.int64 and draw.shape == (2, 3)
        assert sorted(draw[0].tolist()) == [1, 2, 4] and sorted(draw[1].tolist()) == [0, 3, 4]
    firsts = [mt.multinomial(mt.tensor([1.0, 3.0], backend=backend), 1).item() for _ in range(400)]
    assert abs(np.mean(firsts) - 0.75) < 0.07  # the heavier category comes first 3/4 of the time
    assert sorted(mt.multinomial(mt.ones(4, backend=backend), 4).tolist()) == [0, 1, 2, 3]


@by_backend
def test_multinomial_with_replacement_frequencies(backend):
    mt.manual_seed(8)
    weights = np.array([[1.0, 0.0, 3.0, 6.0], [0.0, 0.0, 0.0, 2.0]])
    draws = mt.multinomial(mt.tensor(weights, backend=backend), 5000, replacement=True)
    assert draws.shape == (2, 5000) and draws.dtype is mt.int64
    freq = np.bincount(draws.numpy()[0], minlength=4) / 5000
    assert np.allclose(freq, weights[0] / weights[0].sum(), atol=0.03), freq
    assert set(draws.numpy()[1].tolist()) == {3}
    single = mt.multinomial(mt.tensor([0.2, 0.8], backend=backend), 7, True)
    assert single.shape == (7,) and set(single.tolist()) <= {0, 1}


def test_multinomial_errors_follow_torch():
    with pytest.raises(ValueError, match=r"multinomial\(\): input must be 1-d or 2-d"):
        mt.multinomial(mt.ones(2, 2, 2), 1)
    with pytest.raises(ValueError, match=r"multinomial\(\): cannot draw 5 samples from 3"):
        mt.multinomial(mt.ones(3), 5)
    with pytest.raises(ValueError, match=r"multinomial\(\): num_samples must be a positive int"):
        mt.multinomial(mt.ones(3), 0)
    with pytest.raises(ValueError, match=r"multinomial\(\): the weights must be finite and >= 0"):
        mt.multinomial(mt.tensor([1.0, -1.0]), 1)
    with pytest.raises(ValueError, match=r"multinomial\(\): every row of weights needs a positive"):
        mt.multinomial(mt.zeros(2, 3), 1)
    with pytest.raises(TypeError, match=r"multinomial\(\): input must be floating-point"):
        mt.multinomial(mt.tensor([1, 2]), 1)


# -- in-place fills -----------------------------------------------------------------------------
@by_backend
def test_fills_write_in_place_with_the_right_distribution(backend):
    mt.manual_seed(9)
    x = mt.empty(20000, dtype=mt.float64, backend=backend)
    storage, version = x._storage, x._storage.version
    assert x.uniform_(-2.0, 4.0) is x and x._storage is storage
    assert x._storage.version == version + 1
    values = x.numpy()
    assert values.min() >= -2 and values.max() < 4 and abs(values.mean() - 1) < 0.05
    x.normal_(3.0, 0.5)
    assert abs(x.numpy().mean() - 3) < 0.02 and abs(x.numpy().std() - 0.5) < 0.02
    x.exponential_(4.0)
    assert x.numpy().min() >= 0 and abs(x.numpy().mean() - 0.25) < 0.01
    x.bernoulli_(0.3)
    assert set(np.unique(x.numpy())) == {0.0, 1.0} and abs(x.numpy().mean() - 0.3) < 0.02
    x.random_(5, 8)
    assert set(np.unique(x.numpy())) == {5.0, 6.0, 7.0}
    assert mt.empty(3, 4, backend=backend).normal_().shape == (3, 4)


def test_fills_of_a_view_write_through_to_the_base():
    base = mt.zeros(4, 3)
    base[:, 1].uniform_(5.0, 6.0)
    values = base.numpy()
    assert (values[:, 1] >= 5).all() and (values[:, [0, 2]] == 0).all()
    base[1:3].bernoulli_(mt.tensor([1.0, 0.0, 1.0]))
    assert base.numpy()[1:3].tolist() == [[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]]


def test_random_fill_bounds_by_dtype_like_torch():
    mt.manual_seed(10)
    assert set(mt.empty(500, dtype=mt.bool_).random_().tolist()) == {False, True}
    small = mt.empty(500, dtype=mt.int64).random_(3)
    assert set(small.tolist()) == {0, 1, 2}
    big = mt.empty(1000, dtype=mt.float32).random_().numpy()
    assert big.min() >= 0 and big.max() <= 2**24 and (big == np.floor(big)).all()
    assert big.max() > 2**20  # spread over the whole range
    wide = mt.empty(1000, dtype=mt.int32).random_().numpy()
    assert wide.min() >= 0 and wide.max() > 2**28


def test_fills_obey_the_in_place_guard():
    w = mt.zeros(3, requires_grad=True)
    for fill in ("uniform_", "normal_", "bernoulli_", "exponential_"):
        with pytest.raises(RuntimeError, match=fill + r"\(\): a leaf tensor that requires grad"):
            getattr(w, fill)()
    with mt.no_grad():
        w.uniform_(1.0, 2.0)
    assert w.is_leaf and w.requires_grad and (w.numpy() >= 1).all()


def test_fill_errors_follow_torch():
    with pytest.raises(ValueError, match=r"uniform_\(\): expected from <= to, got from=2"):
        mt.empty(2).uniform_(2.0, 1.0)
    with pytest.raises(TypeError, match=r"uniform_\(\): expected a floating-point tensor"):
        mt.empty(2, dtype=mt.int64).uniform_()
    with pytest.raises(ValueError, match=r"normal_\(\): std must be >= 0"):
        mt.empty(2).normal_(0.0, -1.0)
    with pytest.raises(ValueError, match=r"exponential_\(\): lambd must be > 0"):
        mt.empty(2).exponential_(0.0)
    with pytest.raises(ValueError, match=r"bernoulli_\(\): probabilities must be in \[0, 1\]"):
        mt.empty(2).bernoulli_(2.0)
    with pytest.raises(ValueError, match=r"random_\(\): expected from < to"):
        mt.empty(2).random_(5, 5)
    x = mt.ones(3)
    with pytest.raises(ValueError, match=r"bernoulli_\(\): shapes \(2,\) and \(3,\)"):
        x.bernoulli_(mt.tensor([0.5, 0.5]))
    assert x.tolist() == [1.0, 1.0, 1.0]  # a failed call mutates nothing
