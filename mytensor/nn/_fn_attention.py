"""Attention: `scaled_dot_product_attention` and `multi_head_attention_forward`.

Both are composed from core ops (matmul, softmax, where, cat, linear), so their gradients
come from the core's autograd and they run on every backend.

Fully masked rows (a query whose every key is masked out) follow PyTorch 2.13:
`scaled_dot_product_attention` returns zeros there and passes zero gradients (PyTorch's
math path runs a "safe" softmax, and its fused CPU kernel agrees), while
`multi_head_attention_forward` with ``need_weights=True`` runs a plain softmax, so the row's
weights and output are NaN, as PyTorch's are.
"""

from __future__ import annotations

import math

from mytensor.core.creation import full, zeros
from mytensor.core.ops.construction import triangle_mask
from mytensor.core.ops.elementwise import where
from mytensor.core.ops.shape import cat
from mytensor.core.ops.softmax import softmax
from mytensor.core.tensor import Tensor
from mytensor.nn._fn_basic import _require, linear
from mytensor.nn._fn_dropout import dropout
from mytensor.nn._fn_pad import pad

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention",
           "self_attention_batch_first"]

_SDPA = "scaled_dot_product_attention"
_MHA = "multi_head_attention_forward"


def _check_mask_dtype(op: str, name: str, mask: Tensor, like: Tensor) -> None:
    kind = mask.dtype.kind
    if kind != "bool" and mask.dtype != like.dtype:
        raise TypeError(
            f"{op}(): {name} must be bool (True = take part) or a float mask of the query's "
            f"dtype {like.dtype.name} (added to the scores), got {mask.dtype.name}; convert "
            f"it with .astype(mytensor.bool) or .astype(mytensor.{like.dtype.name})"
        )


def _check_sdpa_inputs(q: Tensor, k: Tensor, v: Tensor, enable_gqa: bool) -> None:
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise RuntimeError(
            f"{_SDPA}(): query, key and value must be at least 2-d (..., L, E), got shapes "
            f"{q.shape}, {k.shape} and {v.shape}"
        )
    if not q.dtype == k.dtype == v.dtype or q.dtype.kind != "float":
        raise TypeError(
            f"{_SDPA}(): query, key and value must share one floating-point dtype, got "
            f"{q.dtype.name}, {k.dtype.name} and {v.dtype.name}"
        )
    if k.shape[-1] != q.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"{_SDPA}(): expected query (..., L, E), key (..., S, E) and value (..., S, Ev), "
            f"got shapes {q.shape}, {k.shape} and {v.shape} (the embedding dims of query and "
            "key, and the sequence dims of key and value, must agree)"
        )
    if enable_gqa and min(q.ndim, k.ndim, v.ndim) >= 3:
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk != hv or hq % hk:
            raise RuntimeError(
                f"{_SDPA}(): enable_gqa needs key and value with the same number of heads, "
                f"dividing the query's: got {hq} query, {hk} key and {hv} value heads"
            )


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    return t if groups == 1 else t.repeat_interleave(groups, dim=-3)


def _as_bias(op: str, mask: Tensor, scores: Tensor) -> Tensor:
    """The float mask, or -inf where a bool mask is False (what is added to the scores)."""
    _check_mask_dtype(op, "attn_mask", mask, scores)
    if mask.dtype.kind == "bool":
        return where(mask, 0.0, full((), -math.inf, dtype=scores.dtype, backend=scores.backend))
    return mask


def _check_mask_shape(op: str, mask: Tensor, scores_shape: tuple[int, ...]) -> None:
    fits = mask.ndim <= len(scores_shape) and all(
        m in (1, s) for m, s in zip(reversed(mask.shape), reversed(scores_shape), strict=False)
    )
    if not fits:
        raise RuntimeError(
            f"{op}(): attn_mask of shape {mask.shape} does not broadcast to the attention "
            f"scores' shape {scores_shape} (..., L, S); pass an (L, S) mask or one with the "
            "scores' leading dims"
        )


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the last dim, giving 0 (not NaN) in rows whose every score is -inf."""
    empty_row = (scores == -math.inf).all(-1, keepdim=True)
    probs = softmax(where(empty_row, 0.0, scores), -1)
    return where(empty_row, 0.0, probs)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query @ key.mT * scale + mask) @ value`` over any leading batch dims:
    query (..., L, E), key (..., S, E), value (..., S, Ev) give (..., L, Ev).

    Args:
        attn_mask: bool (True = take part) or float (added to the scores), broadcast to
            (..., L, S). A row with no key taking part gives zeros (PyTorch's result).
        dropout_p: dropout on the attention weights (applied whenever > 0, as PyTorch).
        is_causal: mask key j > query i (top-left aligned); not together with attn_mask.
        scale: the scores' factor, ``1 / sqrt(E)`` by default.
        enable_gqa: key/value heads (dim -3) shared by groups of query heads.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> q, k, v = mt.randn(2, 3, 5, 4), mt.randn(2, 3, 6, 4), mt.randn(2, 3, 6, 8)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 3, 5, 8)
    """
    q = _require(_SDPA, query, "query")
    k, v = _require(_SDPA, key, "key"), _require(_SDPA, value, "value")
    _check_sdpa_inputs(q, k, v, enable_gqa)
    if enable_gqa and min(q.ndim, k.ndim) >= 3:
        k, v = (
            _repeat_heads(k, q.shape[-3] // k.shape[-3]),
            _repeat_heads(v, q.shape[-3] // v.shape[-3]),
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            f"{_SDPA}(): pass either attn_mask or is_causal=True, not both (is_causal builds "
            "the causal mask itself; combine masks by hand into attn_mask instead)"
        )
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * factor
    if is_causal:  # no row is empty: key 0 always takes part
        causal = triangle_mask(q.shape[-2], k.shape[-2], 0, True, q.backend)
        probs = softmax(where(causal, scores, -math.inf), -1)
    elif attn_mask is None:
        probs = softmax(scores, -1)
    else:
        mask = _require(_SDPA, attn_mask, "attn_mask")
        _check_mask_shape(_SDPA, mask, scores.shape)
        probs = _safe_softmax(scores + _as_bias(_SDPA, mask, scores))
    if dropout_p > 0.0:
        probs = dropout(probs, dropout_p)
    return probs @ v


def self_attention_batch_first(
    x: Tensor, num_heads: int, in_proj_weight: Tensor, in_proj_bias: Tensor | None,
    out_proj_weight: Tensor, out_proj_bias: Tensor | None, dropout_p: float, is_causal: bool,
) -> Tensor:  # fmt: skip
    """`multi_head_attention_forward` of a batch-first self-attention with packed weights
    and no padding mask or weights returned, in the (N, L, E) layout throughout: the heads
    are strided views of one (N, L, 3E) projection and only the merged heads are copied,
    where the (L, N, E) route copied the input, q, k, v and the merged heads (five
    copies, and their gradients' in the backward).

    >>> import mytensor as mt
    >>> x, w, w_out = mt.randn(2, 5, 8), mt.randn(24, 8), mt.randn(8, 8)
    >>> self_attention_batch_first(x, 2, w, None, w_out, None, 0.0, True).shape
    (2, 5, 8)
    """
    n, length, embed_dim = x.shape
    qkv = linear(x, in_proj_weight, in_proj_bias).reshape(
        n, length, 3, num_heads, embed_dim // num_heads)  # fmt: skip
    q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # (N, H, L, D) views
    out = scaled_dot_product_attention(q, k, v, None, dropout_p, is_causal)
    return linear(out.transpose(1, 2).reshape(n, length, embed_dim), out_proj_weight,
                  out_proj_bias)  # fmt: skip


def _canonical_mask(mask: Tensor | None, name: str, like: Tensor) -> Tensor | None:
    """A float mask (bool True = masked out becomes -inf), as PyTorch's MHA expects."""
    if mask is None:
        return None
    _check_mask_dtype(_MHA, name, _require(_MHA, mask, name), like)
    if mask.dtype.kind == "bool":
        neg_inf = full((), -math.inf, dtype=like.dtype, backend=like.backend)
        return where(mask, neg_inf, 0.0)
    return mask


def _mha_shapes(
    q: Tensor, k: Tensor, v: Tensor, kpm: Tensor | None, mask: Tensor | None, heads: int
) -> bool:
    """Whether the inputs are batched; errors name the shapes that do not fit."""
    batched = q.ndim == 3
    if q.ndim not in (2, 3) or k.ndim != q.ndim or v.ndim != q.ndim:
        raise RuntimeError(
            f"{_MHA}(): query, key and value must all be 3-d (L, N, E) or all 2-d (L, E) "
            f"unbatched, got shapes {q.shape}, {k.shape} and {v.shape}"
        )
    if kpm is not None and kpm.ndim != q.ndim - 1:
        raise RuntimeError(
            f"{_MHA}(): key_padding_mask must be {q.ndim - 1}-d ({'(N, S)' if batched else '(S,)'}"
            f") for a {q.ndim}-d query, got shape {kpm.shape}"
        )
    if mask is not None and mask.ndim not in (2, 3):
        raise RuntimeError(
            f"{_MHA}(): attn_mask must be 2-d (L, S) or 3-d (N * num_heads, L, S), "
            f"got shape {mask.shape}"
        )
    if not batched and mask is not None and mask.ndim == 3:
        want = (heads, q.shape[0], k.shape[0])
        if mask.shape != want:
            raise RuntimeError(
                f"{_MHA}(): expected a 3-d attn_mask of shape {want}, got {mask.shape}"
            )
    return batched


def _split3(t: Tensor | None, e: int) -> tuple[Tensor | None, ...]:
    if t is None:
        return (None, None, None)
    return t[:e], t[e : 2 * e], t[2 * e :]


def _packed_projection(
    q: Tensor, k: Tensor, v: Tensor, w: Tensor, b: Tensor | None
) -> tuple[Tensor, ...]:
    """q, k, v projected by the packed (3E, E) weight: one matmul when they are one tensor
    (self-attention), two when key is value, as PyTorch groups them."""
    e = w.shape[0] // 3
    if q is k and k is v:
        proj = linear(q, w, b)
        return proj[..., :e], proj[..., e : 2 * e], proj[..., 2 * e :]
    (wq, wk, wv), (bq, bk, bv) = _split3(w, e), _split3(b, e)
    if k is v:
        kv = linear(k, w[e:], None if b is None else b[e:])
        return linear(q, wq, bq), kv[..., :e], kv[..., e:]
    return linear(q, wq, bq), linear(k, wk, bk), linear(v, wv, bv)


def _separate_projection(
    q: Tensor, k: Tensor, v: Tensor, weights: tuple[Tensor | None, ...], b: Tensor | None
) -> tuple[Tensor, ...]:
    """q, k, v projected by their own weights (kdim or vdim != embed_dim)."""
    wq, wk, wv = weights
    if wq is None or wk is None or wv is None:
        raise RuntimeError(
            f"{_MHA}(): use_separate_proj_weight=True needs q_proj_weight, k_proj_weight and "
            "v_proj_weight, got None for at least one"
        )
    bq, bk, bv = _split3(b, wq.shape[0])
    return linear(q, wq, bq), linear(k, wk, bk), linear(v, wv, bv)


def _pad_masks(masks: list[Tensor | None]) -> list[Tensor | None]:
    """Each mask with a 0 (taking part) column for one more key."""
    return [None if m is None else pad(m, (0, 1)) for m in masks]


def _static(t: Tensor, name: str, want: tuple[int, int]) -> Tensor:
    if t.ndim != 3 or (t.shape[0], t.shape[2]) != want:
        raise RuntimeError(
            f"{_MHA}(): {name} must be (N * num_heads, S, head_dim) with N * num_heads, "
            f"head_dim = {want}, got shape {t.shape}"
        )
    return t


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
    bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
    out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
    key_padding_mask: Tensor | None = None, need_weights: bool = True,
    attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
    static_v: Tensor | None = None, average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:  # fmt: skip
    """The forward pass of `nn.MultiheadAttention` with every weight passed in
    (PyTorch's signature): query (L, N, E) or (L, E), key (S, N, Ek), value (S, N, Ev).

    Returns the output (L, N, E) and, when `need_weights`, the attention weights
    (N, L, S), or (N, num_heads, L, S) when `average_attn_weights` is False.
    Bool masks mark True = masked out (MultiheadAttention's convention, the opposite of
    `scaled_dot_product_attention`'s); float masks are added to the scores.

    >>> import mytensor as mt
    >>> import mytensor.nn.functional as F
    >>> x, w = mt.randn(5, 2, 4), mt.randn(12, 4)
    >>> out, weights = F.multi_head_attention_forward(
    ...     x, x, x, 4, 2, w, None, None, None, False, 0.0, mt.eye(4), None)
    >>> out.shape, weights.shape
    ((5, 2, 4), (2, 5, 5))
    """
    q, k, v = (_require(_MHA, t, n) for t, n in ((query, "query"), (key, "key"), (value, "value")))
    batched = _mha_shapes(q, k, v, key_padding_mask, attn_mask, num_heads)
    if not batched:
        q, k, v = q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = q.shape
    kpm = _canonical_mask(key_padding_mask, "key_padding_mask", q)
    kpm_shape = None if kpm is None else kpm.shape
    if is_causal and attn_mask is None:
        raise RuntimeError(
            f"{_MHA}(): is_causal=True is a hint that attn_mask is causal and needs the mask "
            "itself; build it with nn.Transformer.generate_square_subsequent_mask(L)"
        )
    if is_causal and kpm is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", q)
        is_causal = is_causal and kpm is None
    if embed_dim != embed_dim_to_check:
        raise RuntimeError(
            f"{_MHA}(): expected the query's last dim to be embed_dim {embed_dim_to_check}, "
            f"got query of shape {query.shape}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(
            f"{_MHA}(): embed_dim {embed_dim} is not divisible by num_heads {num_heads}"
        )
    if k.shape[:2] != v.shape[:2] or k.shape[1] != bsz:
        raise RuntimeError(
            f"{_MHA}(): key and value must share their sequence and batch dims, and the batch "
            f"dim with query: got query {query.shape}, key {key.shape}, value {value.shape}"
        )
    if use_separate_proj_weight:
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
        q, k, v = _separate_projection(q, k, v, separate, in_proj_bias)
    else:
        if k.shape != v.shape:
            raise RuntimeError(
                f"{_MHA}(): key shape {key.shape} does not match value shape {value.shape} "
                "(a packed in_proj_weight needs kdim == vdim == embed_dim)"
            )
        if in_proj_weight is None:
            raise RuntimeError(f"{_MHA}(): in_proj_weight is None; pass it, or the three "
                               "q/k/v_proj_weight with use_separate_proj_weight=True")  # fmt: skip
        q, k, v = _packed_projection(q, k, v, in_proj_weight, in_proj_bias)
    src_len = k.shape[0]
    if attn_mask is not None:
        want = (tgt_len, src_len) if attn_mask.ndim == 2 else (bsz * num_heads, tgt_len, src_len)
        if attn_mask.shape != want:
            raise RuntimeError(
                f"{_MHA}(): the {attn_mask.ndim}-d attn_mask has shape {attn_mask.shape}, but "
                f"should be {want} (L, S) or (N * num_heads, L, S)"
            )
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.ndim == 2 else attn_mask
    if (bias_k is None) != (bias_v is None):
        raise RuntimeError(f"{_MHA}(): bias_k and bias_v must be given together")
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise RuntimeError(f"{_MHA}(): bias_k/bias_v cannot be added to static_k/static_v")
        k = cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        attn_mask, kpm = _pad_masks([attn_mask, kpm])
    heads = bsz * num_heads
    q = q.reshape(tgt_len, heads, head_dim).transpose(0, 1)
    k = _static(static_k, "static_k", (heads, head_dim)) if static_k is not None else (
        k.reshape(k.shape[0], heads, head_dim).transpose(0, 1))  # fmt: skip
    v = _static(static_v, "static_v", (heads, head_dim)) if static_v is not None else (
        v.reshape(v.shape[0], heads, head_dim).transpose(0, 1))  # fmt: skip
    if add_zero_attn:
        k = cat([k, zeros(heads, 1, head_dim, dtype=k.dtype, backend=k.backend)], 1)
        v = cat([v, zeros(heads, 1, head_dim, dtype=v.dtype, backend=v.backend)], 1)
        attn_mask, kpm = _pad_masks([attn_mask, kpm])
    src_len = k.shape[1]
    if kpm is not None:
        if kpm.shape != (bsz, src_len):
            raise RuntimeError(
                f"{_MHA}(): key_padding_mask must be (N, S) = {(bsz, src_len)} (one entry per "
                f"key, counting bias_k/add_zero_attn keys), got shape {kpm_shape}"
            )
        kpm = kpm.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        weights = softmax(scores if attn_mask is None else scores + attn_mask, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
    else:
        if attn_mask is not None and attn_mask.shape[0] > 1:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
        q4, k4, v4 = (t.reshape(bsz, num_heads, t.shape[1], head_dim) for t in (q, k, v))
        out = scaled_dot_product_attention(q4, k4, v4, attn_mask, dropout_p, is_causal)
        out, weights = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim), None
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights
