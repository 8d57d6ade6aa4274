"""Loss modules: thin wrappers that hold a loss's options (and class weights as buffers)."""

from __future__ import annotations

from mytensor.core.tensor import Tensor
from mytensor.nn import functional as F
from mytensor.nn._fn_loss import _check_reduction
from mytensor.nn.module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "NLLLoss",
    "SmoothL1Loss",
    "TripletMarginLoss",
]


class _Loss(Module):
    _reductions: tuple[str, ...] = ()

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction, self._reductions)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits against class indices or class probabilities; see
    `mytensor.nn.functional.cross_entropy`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=-1)
    >>> loss_fn(mt.zeros(3, 4), mt.tensor([0, -1, 3])).item() > 0
    True
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.NLLLoss()(mt.tensor([[-1.0, -2.0]]), mt.tensor([1])).item()
    2.0
    """

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities in [0, 1].

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> round(nn.BCELoss()(mt.tensor([0.5]), mt.tensor([1.0])).item(), 4)
    0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits (sigmoid fused in, stable), with `pos_weight`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> loss_fn = nn.BCEWithLogitsLoss(pos_weight=mt.tensor([3.0]))
    >>> round(loss_fn(mt.tensor([0.0]), mt.tensor([1.0])).item(), 4)
    2.0794
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


class MSELoss(_Loss):
    """Mean squared error (or its sum, or per element).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.MSELoss(reduction="sum")(mt.tensor([1.0, 2.0]), mt.zeros(2)).item()
    5.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.L1Loss()(mt.tensor([1.0, -3.0]), mt.zeros(2)).item()
    2.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below `beta`, linear above (Huber loss divided by beta).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.SmoothL1Loss(beta=0.5)(mt.tensor([0.25, 2.0]), mt.zeros(2)).item()
    0.90625
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Quadratic below `delta`, linear above: ``0.5 * d**2`` or
    ``delta * (|d| - 0.5 * delta)``.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> nn.HuberLoss(delta=2.0)(mt.tensor([1.0, 4.0]), mt.zeros(2)).item()
    3.25
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(_Loss):
    """KL divergence from log-probability inputs to (log-)probability targets;
    reduction may also be "batchmean" (the mathematically correct mean).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> p = mt.tensor([[0.5, 0.5]])
    >>> nn.KLDivLoss(reduction="batchmean")(p.log(), p).item()
    0.0
    """

    _reductions = ("batchmean",)

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, self.reduction, self.log_target)


class CosineEmbeddingLoss(_Loss):
    """Pull pairs with target 1 together (1 - cos), push target -1 pairs below `margin`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> x = mt.tensor([[1.0, 0.0]])
    >>> nn.CosineEmbeddingLoss()(x, x, mt.tensor([1])).item()
    0.0
    """

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class MarginRankingLoss(_Loss):
    """``max(0, -target * (input1 - input2) + margin)``: target 1 asks input1 to rank
    above input2 by `margin`, target -1 the reverse.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> rank = nn.MarginRankingLoss(margin=0.5)
    >>> rank(mt.tensor([1.0]), mt.tensor([0.0]), mt.tensor([-1.0])).item()
    1.5
    """

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class TripletMarginLoss(_Loss):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the p-norm distance.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> a = mt.zeros(1, 2)
    >>> nn.TripletMarginLoss(margin=1.0)(a, a, a + 10.0).item()
    0.0
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap, self.reduction
        )
