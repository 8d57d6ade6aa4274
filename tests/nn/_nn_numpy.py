"""float64 numpy definitions of the nn layers and losses, written from the PyTorch docs'
formulas with loops where that is clearer, independent of the mytensor code."""

from __future__ import annotations

import math

import numpy as np

from mytensor.core.ops.conv import _np_conv1d, _np_conv2d

conv1d, conv2d = _np_conv1d, _np_conv2d
_erf = np.vectorize(math.erf, otypes=[np.float64])


def linear(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


def relu(x):
    return np.maximum(x, 0.0)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax(x, dim):
    return np.log(softmax(x, dim))


def _pool_out(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    out = math.ceil(span / s) + 1
    return out - 1 if (out - 1) * s >= size + p else out


def max_pool2d(x, k, s=None, p=0, d=1, ceil_mode=False):
    """Loops over windows; out-of-range taps are skipped (that is what -inf padding means)."""
    s = s or k
    n, c, h, w = x.shape
    ho, wo = _pool_out(h, k, s, p, d, ceil_mode), _pool_out(w, k, s, p, d, ceil_mode)
    out = np.full((n, c, ho, wo), -np.inf)
    for i in range(ho):
        for j in range(wo):
            for a in range(k):
                for b in range(k):
                    r, q = i * s - p + a * d, j * s - p + b * d
                    if 0 <= r < h and 0 <= q < w:
                        out[:, :, i, j] = np.maximum(out[:, :, i, j], x[:, :, r, q])
    return out


def avg_pool2d(x, k, s=None, p=0, ceil_mode=False, count_include_pad=True, divisor=None):
    s = s or k
    n, c, h, w = x.shape
    ho, wo = _pool_out(h, k, s, p, 1, ceil_mode), _pool_out(w, k, s, p, 1, ceil_mode)
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, q0 = i * s - p, j * s - p
            r1, q1 = min(r0 + k, h + p), min(q0 + k, w + p)
            size = (r1 - r0) * (q1 - q0)
            r0c, q0c, r1c, q1c = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            if not count_include_pad:
                size = (r1c - r0c) * (q1c - q0c)
            total = x[:, :, r0c:r1c, q0c:q1c].sum(axis=(2, 3))
            out[:, :, i, j] = total / (divisor or size)
    return out


def adaptive_avg_pool2d(x, out_size):
    oh, ow = (out_size, out_size) if isinstance(out_size, int) else out_size
    n, c, h, w = x.shape
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
            q0, q1 = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = x[:, :, r0:r1, q0:q1].mean(axis=(2, 3))
    return out


def layer_norm(x, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    return y if b is None else y + b


def batch_norm_train(x, w, b, eps=1e-5):
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    return y * w.reshape(shape) + b.reshape(shape), mu.ravel(), x.var(axis=axes, ddof=1)


def batch_norm_eval(x, mean, var, w, b, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * w.reshape(shape) + b.reshape(shape)


# -- losses (per-element "none" values, then the reductions) ---------------------------------
def reduce(loss, reduction):
    return {"none": loss, "mean": np.mean(loss), "sum": np.sum(loss)}[reduction]


def nll_loss(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    """Loops over samples (N, C) or (N, C, d) as the PyTorch docs define it."""
    c = logp.shape[1]
    weight = np.ones(c) if weight is None else weight
    lp = np.moveaxis(logp, 1, -1).reshape(-1, c)
    t = target.reshape(-1)
    losses, weights = np.zeros(len(t)), np.zeros(len(t))
    for i, cls in enumerate(t):
        if cls != ignore_index:
            losses[i] = -weight[cls] * lp[i, cls]
            weights[i] = weight[cls]
    if reduction == "none":
        return losses.reshape(target.shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / weights.sum()


def cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    logp = log_softmax(x, 1)
    c = x.shape[1]
    w = np.ones(c) if weight is None else weight
    wshape = (1, c) + (1,) * (x.ndim - 2)
    if target.dtype.kind == "f":
        t = target * (1 - smoothing) + smoothing / c
        loss = -(logp * t * w.reshape(wshape)).sum(axis=1)
        return loss.sum() / loss.size if reduction == "mean" else reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if smoothing == 0:
        return nll
    mask = target != ignore_index
    smooth = np.where(mask, -(logp * w.reshape(wshape)).sum(axis=1), 0.0)
    if reduction == "mean":
        smooth = smooth.sum() / w[np.where(mask, target, 0)][mask].sum()
    else:
        smooth = reduce(smooth, reduction)
    return (1 - smoothing) * nll + smoothing / c * smooth


def bce(p, t, weight=None, reduction="mean"):
    loss = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
    return reduce(loss if weight is None else loss * weight, reduction)


def bce_with_logits(x, t, weight=None, reduction="mean", pos_weight=None):
    sig = sigmoid(x)
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * t * np.log(sig) + (1 - t) * np.log(1 - sig))
    return reduce(loss if weight is None else loss * weight, reduction)


def smooth_l1(x, t, reduction="mean", beta=1.0):
    d = np.abs(x - t)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return reduce(loss, reduction)


def kl_div(x, t, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return reduce(loss, reduction)


def cosine_embedding(x1, x2, y, margin=0.0, reduction="mean"):
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1**2).sum(-1) + 1e-12) * ((x2**2).sum(-1) + 1e-12))
    loss = np.where(y == 1, 1 - cos, np.maximum(cos - margin, 0.0))
    return reduce(loss, reduction)


def triplet(a, p, n, margin=1.0, norm=2.0, eps=1e-6, swap=False, reduction="mean"):
    def dist(u, v):
        return (np.abs(u - v + eps) ** norm).sum(-1) ** (1 / norm)

    d_neg = dist(a, n)
    if swap:
        d_neg = np.minimum(d_neg, dist(p, n))
    return reduce(np.maximum(dist(a, p) - d_neg + margin, 0.0), reduction)
