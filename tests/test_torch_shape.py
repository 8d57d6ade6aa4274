"""PyTorch's shape spellings against PyTorch: flatten / unflatten, view_as / reshape_as /
expand_as, chunk / unbind, narrow / select / diagonal (views: writes show through), t,
tril / triu, diag, repeat / tile (fresh memory), repeat_interleave, roll, sum_to_size,
movedim / swapaxes; values, dtypes, gradients, edge cases and errors."""

from __future__ import annotations

import numpy as np
import pytest
from _torch_parity import BACKENDS, compare, same

import mytensor as mt

torch = pytest.importorskip("torch")
by_backend = pytest.mark.parametrize("backend", BACKENDS)
RNG = np.random.default_rng(5)
X234 = RNG.standard_normal((2, 3, 4))
X34 = RNG.standard_normal((3, 4))


def _each(got, want):
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want, strict=True):
        same(g, w)


# -- flatten / unflatten / *_as ------------------------------------------------------------
@pytest.mark.parametrize(("start", "end"), [(0, -1), (1, 2), (-2, -1), (0, 1), (2, 2)])
def test_flatten(start, end):
    compare(torch, lambda x: x.flatten(start, end), lambda x: x.flatten(start, end), X234)
    compare(torch, lambda x: mt.flatten(x, start_dim=start, end_dim=end),
            lambda x: torch.flatten(x, start_dim=start, end_dim=end), X234)  # fmt: skip
    same(mt.tensor(3.0).flatten(), torch.tensor(3.0).flatten())
    same(mt.zeros(2, 0, 3).flatten(1), torch.zeros(2, 0, 3).flatten(1))


def test_unflatten_and_as_forms():
    compare(torch, lambda x: x.unflatten(-1, (2, -1)), lambda x: x.unflatten(-1, (2, -1)), X234)
    compare(torch, lambda x: mt.unflatten(x, 1, (3, 1)),
            lambda x: torch.unflatten(x, 1, (3, 1)), X234)  # fmt: skip
    other, tother = mt.zeros(6, 4), torch.zeros(6, 4)
    compare(torch, lambda x: x.reshape_as(other), lambda x: x.reshape_as(tother), X234)
    compare(torch, lambda x: x.view_as(other), lambda x: x.view_as(tother), X234)
    big, tbig = mt.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    compare(torch, lambda x: x[:, :1].expand_as(big), lambda x: x[:, :1].expand_as(tbig), X234)
    with pytest.raises(ValueError, match=r"unflatten\(\): sizes \(5, -1\) do not multiply to 4"):
        mt.tensor(X234).unflatten(2, (5, -1))
    with pytest.raises(ValueError, match=r"flatten\(\): start_dim 2 comes after end_dim 1"):
        mt.tensor(X234).flatten(2, 1)


# -- chunk / unbind / narrow / select ------------------------------------------------------
@pytest.mark.parametrize(("size", "chunks"), [(5, 3), (6, 3), (2, 5), (7, 4), (0, 2)])
def test_chunk(size, chunks):
    values = RNG.standard_normal((size, 2))
    _each(mt.tensor(values).chunk(chunks), torch.tensor(values).chunk(chunks))
    _each(mt.chunk(mt.tensor(values.T), chunks, dim=-1), torch.chunk(torch.tensor(values.T),
                                                                    chunks, dim=-1))  # fmt: skip


def test_chunk_and_unbind_gradients_and_views():
    compare(torch, lambda x: mt.cat([p * (k + 1) for k, p in enumerate(x.chunk(2, 1))], 1),
            lambda x: torch.cat([p * (k + 1) for k, p in enumerate(x.chunk(2, 1))], 1),
            X34)  # fmt: skip
    compare(torch, lambda x: mt.stack([p * (k + 1) for k, p in enumerate(x.unbind(-1))]),
            lambda x: torch.stack([p * (k + 1) for k, p in enumerate(x.unbind(-1))]), X34,
            transposed=True)  # fmt: skip
    _each(mt.unbind(mt.tensor(X234), 1), torch.unbind(torch.tensor(X234), 1))
    x = mt.tensor(X34)
    x.unbind(0)[1][2] = 100.0
    assert x[1, 2].item() == 100.0


@by_backend
@pytest.mark.parametrize(("dim", "start", "length"), [(0, 1, 2), (1, -3, 2), (-1, 0, 0)])
def test_narrow_is_a_view(backend, dim, start, length):
    compare(torch, lambda x: x.narrow(dim, start, length),
            lambda x: x.narrow(dim, start, length), X34, transposed=True,
            backend=backend)  # fmt: skip
    x = mt.tensor(X34, backend=backend)
    view = mt.narrow(x, dim, start, length)
    assert view._storage is x._storage
    if view.numel():
        view[...] = 7.0
        reference = torch.tensor(X34)
        torch.narrow(reference, dim, start, length)[...] = 7.0
        same(x, reference)


def test_select_is_a_view():
    for dim, index in [(0, 1), (1, -1), (-1, 3)]:
        compare(torch, lambda x, d=dim, i=index: x.select(d, i),
                lambda x, d=dim, i=index: x.select(d, i), X234, transposed=True)  # fmt: skip
    x = mt.tensor(X34)
    mt.select(x, 1, 0)[...] = -5.0
    assert x[:, 0].tolist() == [-5.0, -5.0, -5.0]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mt.ones(3, 4).narrow(1, 3, 2), IndexError,
         r"narrow\(\): start 3 \+ length 2 exceeds dimension 1 of size 4"),
        (lambda: mt.ones(3, 4).narrow(0, -4, 1), IndexError,
         r"narrow\(\): start -4 is out of range for dimension 0 of size 3"),
        (lambda: mt.ones(3, 4).select(1, 4), IndexError,
         r"select\(\): index 4 is out of range for dimension 1 of size 4 \(expected -4..3\)"),
        (lambda: mt.ones(3).chunk(0), ValueError, r"chunk\(\): chunks must be a positive int"),
        (lambda: mt.tensor(1.0).unbind(), IndexError, r"unbind\(\): a 0-d tensor"),
        (lambda: mt.ones(2, 2, 2).t(), ValueError,
         r"t\(\): expects a tensor of rank <= 2, got shape \(2, 2, 2\)"),
        (lambda: mt.ones(2, 2, 2).diag(), ValueError,
         r"diag\(\): expects a 1-d or 2-d tensor, got shape \(2, 2, 2\)"),
        (lambda: mt.ones(2, 3).diagonal(0, 1, -1), ValueError,
         r"diagonal\(\): dim1 and dim2 both name dimension 1"),
        (lambda: mt.ones(2, 3).repeat(2), ValueError,
         r"repeat\(\): 1 repeat counts \(2,\) for a tensor of rank 2"),
        (lambda: mt.ones(2, 3).sum_to_size(3, 3), ValueError,
         r"sum_to_size\(\): size \(3, 3\) is not expandable to the input's shape \(2, 3\)"),
        (lambda: mt.tril(mt.ones(2, 2), 1, k=1), TypeError, r"tril\(\): pass the diagonal once"),
        (lambda: mt.roll(mt.ones(2, 2), 1, 0, axis=0), TypeError, r"roll\(\): pass the dims once"),
    ],
)  # fmt: skip
def test_shape_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- t / tril / triu / diag / diagonal -----------------------------------------------------
def test_t_follows_the_rank_rules():
    compare(torch, lambda x: x.t(), lambda x: x.t(), X34)
    compare(torch, lambda x: mt.t(x), lambda x: torch.t(x), X34[0])
    same(mt.tensor(2.0).t(), torch.tensor(2.0).t())
    x = mt.tensor(X34)
    assert x.t()._storage is x._storage


@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_tril_triu_both_spellings(diagonal):
    for op in ("tril", "triu"):
        compare(torch, lambda x, op=op: getattr(x, op)(diagonal),
                lambda x, op=op: getattr(x, op)(diagonal), X234, transposed=False)  # fmt: skip
        want = getattr(torch, op)(torch.tensor(X34), diagonal)
        fn = getattr(mt, op)
        same(fn(mt.tensor(X34), diagonal), want)
        same(fn(mt.tensor(X34), diagonal=diagonal), want)
        same(fn(mt.tensor(X34), k=diagonal), want)  # the array API's keyword


@pytest.mark.parametrize("diagonal", [-2, 0, 1])
def test_diag(diagonal):
    compare(torch, lambda x: x.diag(diagonal), lambda x: x.diag(diagonal), X34[0])
    compare(torch, lambda x: mt.diag(x, diagonal), lambda x: torch.diag(x, diagonal), X34,
            transposed=True)  # fmt: skip
    same(mt.tensor([1, 2]).diag(diagonal), torch.tensor([1, 2]).diag(diagonal))
    x = mt.tensor(X34)
    assert mt.diag(x)._storage is not x._storage  # a copy, as in PyTorch


@by_backend
@pytest.mark.parametrize(("offset", "dim1", "dim2"), [(0, 0, 1), (1, 1, 2), (-1, -1, 0),
                                                     (5, 0, 2), (2, 2, 1)])  # fmt: skip
def test_diagonal_is_a_view(backend, offset, dim1, dim2):
    compare(torch, lambda x: x.diagonal(offset, dim1, dim2),
            lambda x: x.diagonal(offset, dim1, dim2), X234, backend=backend)  # fmt: skip
    compare(torch, lambda x: mt.diagonal(x, offset=offset, dim1=dim1, dim2=dim2),
            lambda x: torch.diagonal(x, offset=offset, dim1=dim1, dim2=dim2),
            RNG.standard_normal((4, 3, 2)), transposed=True, backend=backend)  # fmt: skip
    x = mt.tensor(X234, backend=backend)
    view = x.diagonal(offset, dim1, dim2)
    assert view._storage is x._storage
    view[...] = 0.0
    reference = torch.tensor(X234)
    reference.diagonal(offset, dim1, dim2)[...] = 0.0
    same(x, reference)


# -- repeat / tile / repeat_interleave / roll ----------------------------------------------
@by_backend
@pytest.mark.parametrize("sizes", [(2, 1, 3), (1, 1, 1), (2, 2, 1, 2), (1, 0, 1)])
def test_repeat_tiles_into_fresh_memory(backend, sizes):
    compare(torch, lambda x: x.repeat(*sizes), lambda x: x.repeat(*sizes), X234[:, :2, :2],
            backend=backend)  # fmt: skip
    compare(torch, lambda x: x.repeat(sizes), lambda x: x.repeat(sizes), X234[:, :2, :2],
            transposed=True, backend=backend)  # fmt: skip
    x = mt.tensor(X234, backend=backend)
    out = x.repeat(*sizes)
    assert out._storage is not x._storage
    same(mt.tensor(4.0).repeat(3), torch.tensor(4.0).repeat(3))


@pytest.mark.parametrize("dims", [(2,), (2, 1), (1, 2, 2), ()])
def test_tile_method_and_namespace_tile_copy(dims):
    compare(torch, lambda x: x.tile(dims), lambda x: x.tile(dims), X34)
    same(mt.tensor(X34).tile(*dims) if dims else mt.tensor(X34).tile(()),
         torch.tensor(X34).tile(dims))  # fmt: skip
    t = mt.tile(mt.arange(4).reshape(1, 2, 2), (2, 1, 1))  # was a view aliasing itself
    t[0, 0, 0] = 9
    assert t[1, 0, 0].item() == 0


def test_repeat_interleave():
    compare(torch, lambda x: x.repeat_interleave(2), lambda x: x.repeat_interleave(2), X34)
    counts, tcounts = mt.tensor([1, 0, 3]), torch.tensor([1, 0, 3])
    compare(torch, lambda x: x.repeat_interleave(counts, dim=0),
            lambda x: x.repeat_interleave(tcounts, dim=0), X34, transposed=True)  # fmt: skip
    compare(torch, lambda x: mt.repeat_interleave(x, 3, -1),
            lambda x: torch.repeat_interleave(x, 3, -1), X34)  # fmt: skip
    same(mt.repeat_interleave(counts), torch.repeat_interleave(tcounts))
    same(mt.tensor(5).repeat_interleave(mt.tensor(2)),
         torch.tensor(5).repeat_interleave(torch.tensor(2)))  # fmt: skip


def test_roll_both_spellings():
    for shifts, dims in [(1, 0), (-2, 1), ((1, 2), (0, 1)), (3, None)]:
        compare(torch, lambda x, s=shifts, d=dims: x.roll(s, d),
                lambda x, s=shifts, d=dims: x.roll(s, d), X34, transposed=True)  # fmt: skip
        want = torch.roll(torch.tensor(X34), shifts, dims)
        same(mt.roll(mt.tensor(X34), shifts, dims), want)
        same(mt.roll(mt.tensor(X34), shifts, dims=dims), want)
        same(mt.roll(mt.tensor(X34), shifts, axis=dims), want)  # the array API's keyword


# -- sum_to_size / movedim / swapaxes ------------------------------------------------------
@pytest.mark.parametrize("size", [(3, 1), (1, 4), (4,), (1, 1), (3, 4)])
def test_sum_to_size(size):
    compare(torch, lambda x: x.sum_to_size(*size), lambda x: x.sum_to_size(*size), X34)
    compare(torch, lambda x: x.sum_to_size(size), lambda x: x.sum_to_size(size), X34,
            transposed=True)  # fmt: skip


def test_movedim_and_swapaxes():
    for source, destination in [(0, -1), ((0, 1), (2, 0)), (-1, 1)]:
        compare(torch, lambda x, s=source, d=destination: x.movedim(s, d),
                lambda x, s=source, d=destination: x.movedim(s, d), X234)  # fmt: skip
        same(mt.movedim(mt.tensor(X234), source, destination),
             torch.movedim(torch.tensor(X234), source, destination))  # fmt: skip
    compare(torch, lambda x: x.swapaxes(0, -1), lambda x: x.swapaxes(0, -1), X234)
    compare(torch, lambda x: mt.swapdims(x, 1, 2), lambda x: torch.swapdims(x, 1, 2), X234)
    compare(torch, lambda x: x.swapdims(0, 1), lambda x: x.swapdims(0, 1), X34, transposed=True)
    compare(torch, lambda x: x.moveaxis(0, 1), lambda x: x.moveaxis(0, 1), X34)
