"""MultiheadAttention, with PyTorch's parameters, names and initialisation."""

from __future__ import annotations

from typing import Any

from mytensor.core.creation import empty
from mytensor.core.tensor import Tensor
from mytensor.nn import init
from mytensor.nn._fn_attention import multi_head_attention_forward, self_attention_batch_first
from mytensor.nn.layers.linear import Linear
from mytensor.nn.module import Module
from mytensor.nn.parameter import Parameter

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """A `Linear` under PyTorch's name for `MultiheadAttention.out_proj` (there it keeps
    dynamic quantisation away from the layer; here it is a plain Linear).

    >>> from mytensor.nn.layers.attention import NonDynamicallyQuantizableLinear
    >>> NonDynamicallyQuantizableLinear(4, 4)
    NonDynamicallyQuantizableLinear(in_features=4, out_features=4, bias=True)
    """


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017), PyTorch's layer: query, key and value are
    projected, split into `num_heads` heads, attended by scaled dot product, merged and
    projected by `out_proj`.

    Parameters as PyTorch: `in_proj_weight` (3E, E) and `in_proj_bias` (3E) when
    kdim == vdim == embed_dim, else `q_proj_weight` (E, E), `k_proj_weight` (E, kdim),
    `v_proj_weight` (E, vdim) and `in_proj_bias`; `out_proj` (Linear E -> E); `bias_k`,
    `bias_v` (1, 1, E) when `add_bias_kv`. A PyTorch state dict loads as is.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) takes (L, N, E) inputs ((N, L, E) with
    `batch_first`, (L, E) unbatched) and returns the output and the attention weights
    (N, L, S), per head (N, num_heads, L, S) when `average_attn_weights` is False, or None
    when `need_weights` is False. Bool masks mark True = masked out; float masks are added.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = mt.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    """

    in_proj_weight: Parameter | None
    in_proj_bias: Parameter | None
    q_proj_weight: Parameter | None
    k_proj_weight: Parameter | None
    v_proj_weight: Parameter | None
    bias_k: Parameter | None
    bias_v: Parameter | None

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        dtype: Any = None,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads "
                f"{num_heads} (each head gets embed_dim // num_heads features); pick a "
                "num_heads that divides embed_dim"
            )
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        self.add_zero_attn = add_zero_attn

        def param(*shape: int) -> Parameter:
            return Parameter(empty(*shape, dtype=dtype, backend=backend))

        names = ("q_proj_weight", "k_proj_weight", "v_proj_weight")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            for name in names:
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, dtype=dtype, backend=backend
        )
        if add_bias_kv:
            self.bias_k, self.bias_v = param(1, 1, embed_dim), param(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # PyTorch's: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v;
        # out_proj.weight keeps Linear's default initialisation
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None and self.bias_v is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"MultiheadAttention: {name} must be a Tensor, got {type(t).__name__}"
                )
        self._check_feature_dims(query, key, value)
        batched = query.ndim == 3
        if self._packed_self_attention(query, key, value, key_padding_mask, need_weights,
                                       attn_mask, is_causal):  # fmt: skip
            out = self_attention_batch_first(
                query, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                self.out_proj.weight, self.out_proj.bias, self.dropout if self.training else 0.0,
                is_causal)  # fmt: skip
            return out, None
        if self.batch_first and batched:  # keeps query is key is value (one projection)
            same_kv, same_qk = key is value, query is key
            query, key, value = (t.transpose(1, 0) for t in (query, key, value))
            key = query if same_qk else key
            value = key if same_kv else value
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads,
            self.in_proj_weight, self.in_proj_bias, self.bias_k, self.bias_v,
            self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal,
        )  # fmt: skip
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights

    def _packed_self_attention(self, query: Tensor, key: Tensor, value: Tensor,
                               key_padding_mask: Tensor | None, need_weights: bool,
                               attn_mask: Tensor | None, is_causal: bool) -> bool:  # fmt: skip
        """Whether `self_attention_batch_first` computes this call: batch-first
        self-attention (one tensor as query, key and value) with packed weights, no extra
        keys, no padding mask, no weights returned, and either no mask or a causal one
        (`is_causal` with its mask, which the general route also leaves to
        `scaled_dot_product_attention` to build)."""
        return (self.batch_first and query.ndim == 3 and query is key and key is value
                and self._qkv_same_embed_dim and self.bias_k is None and not self.add_zero_attn
                and key_padding_mask is None and not need_weights
                and (attn_mask is not None) == bool(is_causal))  # fmt: skip

    def _check_feature_dims(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        dims = (query.shape[-1:], key.shape[-1:], value.shape[-1:])
        if dims != ((self.embed_dim,), (self.kdim,), (self.vdim,)):
            raise RuntimeError(
                f"MultiheadAttention: expected query, key and value with last dims "
                f"embed_dim={self.embed_dim}, kdim={self.kdim}, vdim={self.vdim}, got shapes "
                f"{query.shape}, {key.shape} and {value.shape}"
            )
