"""Embedding and EmbeddingBag: lookup tables of learned vectors."""

from __future__ import annotations

from typing import Any

from mytensor.core.autograd import no_grad
from mytensor.core.creation import empty
from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn import init
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter


class _EmbeddingTable(Module):
    """The weight (num_embeddings, embedding_dim) and padding row shared by both layers."""

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None
    weight: Parameter

    def _init_table(
        self,
        layer: str,
        num_embeddings: int,
        embedding_dim: int,
        _weight: Tensor | None,
        requires_grad: bool,
        dtype: Any,
        backend: str | None,
    ) -> None:
        # Needs self.padding_idx set (by _checked_padding_idx) for reset_parameters.
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if _weight is None:
            self.weight = Parameter(
                empty(num_embeddings, embedding_dim, dtype=dtype, backend=backend)
            )
            self.reset_parameters()
        else:
            if _weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"{layer}: _weight has shape {_weight.shape}, expected "
                    f"{(num_embeddings, embedding_dim)}"
                )
            self.weight = Parameter(_weight, requires_grad=requires_grad)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0


def _pretrained_shape(embeddings: Tensor) -> tuple[int, int]:
    """(num_embeddings, embedding_dim) of a pretrained table, which must be 2-d."""
    if embeddings.ndim != 2:
        raise ValueError(f"from_pretrained(): embeddings must be 2-d, got {embeddings.shape}")
    rows, dim = embeddings.shape
    return rows, dim


def _checked_padding_idx(layer: str, padding_idx: int | None, num_embeddings: int) -> int | None:
    """`padding_idx` made non-negative, or a ValueError naming `layer` when out of range."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{layer}: padding_idx {padding_idx} must be within num_embeddings ({num_embeddings})"
        )
    return padding_idx % num_embeddings


class Embedding(_EmbeddingTable):
    """Row `i` of `weight` (num_embeddings, embedding_dim) for each index `i` of the input.

    The weight starts as N(0, 1), with the `padding_idx` row zeroed; that row then gets
    no gradient. With `max_norm`, rows looked up are renormalised in place first.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(mt.tensor([[1, 2, 0]])).shape, emb.weight[0].tolist()
    ((1, 3, 3), [0.0, 0.0, 0.0])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported")
        self.padding_idx = _checked_padding_idx("Embedding", padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self._init_table(
            "Embedding", num_embeddings, embedding_dim, _weight, not _freeze, dtype, backend
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is `embeddings` (frozen unless ``freeze=False``).

        >>> import mytensor as mt
        >>> from mytensor import nn
        >>> nn.Embedding.from_pretrained(mt.eye(3))(mt.tensor([2])).tolist()
        [[0.0, 0.0, 1.0]]
        """
        rows, dim = _pretrained_shape(embeddings)
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            _weight=embeddings,
            _freeze=freeze,
        )

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s


class EmbeddingBag(_EmbeddingTable):
    """Sums, means or maxima (`mode`) of bags of rows of `weight` (num_embeddings,
    embedding_dim), without building the per-bag stack; see
    `mytensor.nn.functional.embedding_bag` for bags, offsets and per_sample_weights.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(mt.tensor([1, 2, 4, 5, 4]), mt.tensor([0, 2])).shape, bag
    ((2, 3), EmbeddingBag(10, 3, mode='sum'))
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        if sparse:
            raise NotImplementedError("EmbeddingBag: sparse gradients are not supported")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.padding_idx = _checked_padding_idx("EmbeddingBag", padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        self._init_table(
            "EmbeddingBag", num_embeddings, embedding_dim, _weight, True, dtype, backend
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag whose weight is `embeddings` (frozen unless ``freeze=False``).

        >>> import mytensor as mt
        >>> from mytensor import nn
        >>> bag = nn.EmbeddingBag.from_pretrained(mt.eye(3), mode="sum")
        >>> bag(mt.tensor([[0, 2]])).tolist()
        [[1.0, 0.0, 1.0]]
        """
        rows, dim = _pretrained_shape(embeddings)
        bag = cls(
            rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
            include_last_offset, padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad_(not freeze)
        return bag

    def forward(
        self,
        input: Tensor,
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        return F.embedding_bag(
            input, self.weight, offsets, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
            self.include_last_offset, self.padding_idx,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
