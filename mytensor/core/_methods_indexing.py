"""The indexing, selection, sorting and reduction methods of PyTorch (masked_fill,
index_select, scatter, topk, sort, max(dim), var(unbiased=), cumsum, ...), as a mixin of
`Tensor`.

The methods are written in the class body so that type checkers, IDEs and `help()`
see them. The op modules import `Tensor`, so each method imports its op module when
called rather than at the top of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mytensor.core.layout import is_integer

if TYPE_CHECKING:
    from mytensor.core.ops.ranking import MinMax, ValuesIndices
    from mytensor.core.tensor import Tensor

Dim = int | Sequence[int] | None


class IndexingMethods:
    __slots__ = ()

    # -- masking and indexing along a dimension -------------------------------------------
    def masked_fill(self: Tensor, mask: Tensor, value: Any) -> Tensor:
        """`self` with `value` (a scalar or 0-d tensor) where the bool `mask` is True.

        >>> import mytensor as mt
        >>> x = mt.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill(x > 1, -1.0).tolist()
        [1.0, -1.0, -1.0]
        """
        from mytensor.core.ops import masking

        return masking.masked_fill(self, mask, value)

    def masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
        """In-place `masked_fill`."""
        from mytensor.core.ops import masking
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "masked_fill_", masking.masked_fill, mask, value)

    def masked_select(self: Tensor, mask: Tensor) -> Tensor:
        """The elements where `mask` is True, as a 1-d tensor (see `mytensor.masked_select`)."""
        from mytensor.core.ops import masking

        return masking.masked_select(self, mask)

    def index_select(self: Tensor, dim: int, index: Tensor) -> Tensor:
        """The slices at the 1-d `index` along `dim` (see `mytensor.index_select`)."""
        from mytensor.core.ops import masking

        return masking.index_select(self, dim, index)

    def index_add(self: Tensor, dim: int, index: Tensor, source: Tensor, *,
                  alpha: float = 1) -> Tensor:  # fmt: skip
        """`self` with ``alpha * source`` added at the slices `index` along `dim`.

        >>> import mytensor as mt
        >>> mt.zeros(3).index_add(0, mt.tensor([2, 2]), mt.ones(2)).tolist()
        [0.0, 0.0, 2.0]
        """
        from mytensor.core.ops import masking

        return masking.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *,
                   alpha: float = 1) -> Tensor:  # fmt: skip
        """In-place `index_add`."""
        from mytensor.core.ops import masking
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "index_add_", masking.index_add, dim, index, source,
                           alpha=alpha)  # fmt: skip

    def index_fill(self: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
        """`self` with the slices `index` along `dim` set to `value`."""
        from mytensor.core.ops import masking

        return masking.index_fill(self, dim, index, value)

    def index_fill_(self: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
        """In-place `index_fill`."""
        from mytensor.core.ops import masking
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "index_fill_", masking.index_fill, dim, index, value)

    def scatter(self: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:  # fmt: skip
        """`self` with `src` (or the scalar `value`) written where `index` says along `dim`
        (see `mytensor.scatter`).

        >>> import mytensor as mt
        >>> mt.zeros(3).scatter(0, mt.tensor([2]), 5.0).tolist()
        [0.0, 0.0, 5.0]
        """
        from mytensor.core.ops import scatter

        return scatter.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:  # fmt: skip
        """In-place `scatter`."""
        from mytensor.core.ops import scatter
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "scatter_", scatter.scatter, dim, index, src, value=value,
                           reduce=reduce)  # fmt: skip

    def scatter_add(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """`self` with `src` added where `index` says along `dim`; repeats add up."""
        from mytensor.core.ops import indexing

        return indexing.scatter_add(self, dim, index, src)

    def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """In-place `scatter_add`."""
        from mytensor.core.ops import indexing
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "scatter_add_", indexing.scatter_add, dim, index, src)

    def gather(self: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
        """``out[i][j] = self[i][index[i][j]]`` (for dim=1); `sparse_grad` is accepted and
        ignored (gradients are dense).

        >>> import mytensor as mt
        >>> mt.tensor([[1, 2], [3, 4]]).gather(1, mt.tensor([[1], [0]])).tolist()
        [[2], [3]]
        """
        from mytensor.core.ops import indexing

        return indexing.gather(self, dim, index)

    def take_along_dim(self: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
        """Values at `indices` along `dim` (see `mytensor.take_along_dim`)."""
        from mytensor.core.ops import scatter

        return scatter.take_along_dim(self, indices, dim)

    def nonzero(self: Tensor, *, as_tuple: bool = False) -> Any:
        """The indices of the non-zero elements: a (count, ndim) int64 tensor, or with
        `as_tuple` one 1-d tensor per dimension.

        >>> import mytensor as mt
        >>> mt.tensor([0, 3, 0, 5]).nonzero().tolist()
        [[1], [3]]
        """
        from mytensor.core.ops import scatter

        return scatter.nonzero(self, as_tuple=as_tuple)

    def unique(self: Tensor, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: int | None = None) -> Any:  # fmt: skip
        """The distinct values (see `mytensor.unique`)."""
        from mytensor.core.ops import scatter

        return scatter.unique(self, sorted, return_inverse, return_counts, dim)

    # -- sorting and selection ------------------------------------------------------------
    def sort(self: Tensor, dim: int = -1, descending: bool = False,
             stable: bool = False) -> ValuesIndices:  # fmt: skip
        """The named tuple (values, indices) of `self` sorted along `dim` (stably).

        >>> import mytensor as mt
        >>> mt.tensor([3, 1, 2]).sort(descending=True).indices.tolist()
        [0, 2, 1]
        """
        from mytensor.core.ops import ranking

        return ranking.sort(self, dim, descending)

    def argsort(self: Tensor, dim: int = -1, descending: bool = False,
                stable: bool = False) -> Tensor:  # fmt: skip
        """The int64 indices that sort `self` along `dim` (stably)."""
        from mytensor.core.ops import ranking

        return ranking.argsort(self, dim, descending)

    def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True,
             sorted: bool = True) -> ValuesIndices:  # fmt: skip
        """The `k` largest (or smallest) elements along `dim` and their indices."""
        from mytensor.core.ops import ranking

        return ranking.topk(self, k, dim, largest, sorted)

    def kthvalue(self: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
        """The `k`-th smallest element along `dim` and its index."""
        from mytensor.core.ops import ranking

        return ranking.kthvalue(self, k, dim, keepdim)

    def median(self: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
        """The lower median of all elements, or (values, indices) along `dim`."""
        from mytensor.core.ops import ranking

        return ranking.median(self, dim, keepdim)

    def max(self: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
        """The largest element (``x.max()``), the named tuple (values, indices) along
        `dim` (``x.max(1)``), or the elementwise `maximum` with a tensor (``x.max(y)``).

        >>> import mytensor as mt
        >>> x = mt.tensor([[1.0, 5.0], [3.0, 2.0]])
        >>> x.max().item(), x.max(1).indices.tolist(), x.max(dim=0, keepdim=True).values.shape
        (5.0, [1, 0], (1, 2))
        """
        return _extremum(self, "max", dim, keepdim)

    def min(self: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
        """The smallest element, (values, indices) along `dim`, or `minimum` with a tensor."""
        return _extremum(self, "min", dim, keepdim)

    def aminmax(self: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
        """The named tuple (min, max), of all elements or along `dim`."""
        from mytensor.core.ops import ranking

        return ranking.aminmax(self, dim=dim, keepdim=keepdim)

    # -- reductions and scans -------------------------------------------------------------
    def nanmean(self: Tensor, dim: Dim = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:  # fmt: skip
        """The mean of the non-NaN elements over `dim`."""
        from mytensor.core.ops import moments

        return moments.nanmean(self, dim, keepdim, dtype=dtype)  # type: ignore[arg-type]

    def var(self: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: float | None = None) -> Tensor:  # fmt: skip
        """Variance over `dim`, dividing by ``N - correction`` (default 1; ``unbiased=False``
        means 0).

        >>> import mytensor as mt
        >>> x = mt.tensor([1.0, 2.0, 3.0, 4.0])
        >>> round(x.var().item(), 4), x.var(unbiased=False).item(), x.var(correction=0).item()
        (1.6667, 1.25, 1.25)
        """
        from mytensor.core.ops import moments

        return moments._torch_variance("var", self, dim, unbiased, keepdim, correction)

    def std(self: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
            *, correction: float | None = None) -> Tensor:  # fmt: skip
        """Standard deviation over `dim` (`var`'s keywords and defaults)."""
        from mytensor.core.ops import moments

        return moments._torch_variance("std", self, dim, unbiased, keepdim, correction)

    def cumsum(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        """Running sums along `dim`.

        >>> import mytensor as mt
        >>> mt.tensor([1, 2, 3]).cumsum(0).tolist()
        [1, 3, 6]
        """
        from mytensor.core.ops import scans

        return scans.cumsum(self, dim, dtype=dtype)

    def cumsum_(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        """In-place `cumsum` (the sums are stored in self's dtype)."""
        from mytensor.core.ops import scans
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "cumsum_", _scan_as_self, scans.cumsum, dim, dtype)

    def cumprod(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        """Running products along `dim`."""
        from mytensor.core.ops import scans

        return scans.cumprod(self, dim, dtype=dtype)

    def cumprod_(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        """In-place `cumprod` (the products are stored in self's dtype)."""
        from mytensor.core.ops import scans
        from mytensor.core.ops.methods import run_inplace

        return run_inplace(self, "cumprod_", _scan_as_self, scans.cumprod, dim, dtype)

    def logcumsumexp(self: Tensor, dim: int) -> Tensor:
        """``log(cumsum(exp(self)))`` along `dim`, without overflow."""
        from mytensor.core.ops import scans

        return scans.logcumsumexp(self, dim)


def _extremum(x: Tensor, op: str, dim: Any, keepdim: bool) -> Any:
    from mytensor.core.ops import ranking, reductions
    from mytensor.core.tensor import Tensor

    pick = ranking.max if op == "max" else ranking.min
    if dim is None:
        return pick(x)
    if isinstance(dim, Tensor):  # x.max(other): the elementwise maximum
        return pick(x, dim)
    if is_integer(dim):
        return pick(x, dim, keepdim)
    # a tuple of dims: the values only, as amax / amin give them
    return (reductions.max if op == "max" else reductions.min)(x, dim, keepdim)


def _scan_as_self(x: Tensor, scan: Any, dim: int, dtype: Any) -> Tensor:
    """A scan whose result is stored back into x (in x's dtype, as PyTorch's ``cumsum_``)."""
    out = scan(x, dim, dtype=dtype)
    return out if out.dtype is x.dtype else out.astype(x.dtype)
