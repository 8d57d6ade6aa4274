"""`mytensor.nn.functional`: the layers and losses of `mytensor.nn` as plain functions.

Every function is composed from core ops, so gradients come from the core and
run on any backend.

>>> import mytensor as mt
>>> import mytensor.nn.functional as F
>>> x = mt.randn(8, 4)
>>> w = mt.randn(3, 4, requires_grad=True)
>>> loss = F.cross_entropy(F.linear(x, w), mt.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
>>> loss.backward()
>>> w.grad.shape
(3, 4)
"""

from mytensor.nn._fn_activation import (
    elu,
    hardtanh,
    leaky_relu,
    mish,
    prelu,
    silu,
    softplus,
)
from mytensor.nn._fn_attention import multi_head_attention_forward, scaled_dot_product_attention
from mytensor.nn._fn_bag import embedding_bag
from mytensor.nn._fn_basic import (
    embedding,
    flatten,
    gelu,
    linear,
    log_softmax,
    one_hot,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from mytensor.nn._fn_bilinear import bilinear
from mytensor.nn._fn_conv import conv1d, conv2d, conv3d
from mytensor.nn._fn_conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from mytensor.nn._fn_distance import cosine_similarity, normalize, pairwise_distance
from mytensor.nn._fn_dropout import dropout, dropout1d, dropout2d
from mytensor.nn._fn_fold import fold, unfold
from mytensor.nn._fn_interpolate import interpolate
from mytensor.nn._fn_loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
)
from mytensor.nn._fn_loss_metric import (
    cosine_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    smooth_l1_loss,
    triplet_margin_loss,
)
from mytensor.nn._fn_norm import batch_norm, group_norm, layer_norm
from mytensor.nn._fn_pad import pad
from mytensor.nn._fn_pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from mytensor.nn._fn_pool_adaptive import adaptive_max_pool1d, adaptive_max_pool2d

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "embedding",
    "embedding_bag",
    "flatten",
    "fold",
    "gelu",
    "group_norm",
    "hardtanh",
    "huber_loss",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "margin_ranking_loss",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "mish",
    "mse_loss",
    "multi_head_attention_forward",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "prelu",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
    "triplet_margin_loss",
    "unfold",
]
