"""Transformer, its encoder and decoder stacks and layers, as PyTorch builds them (the same
submodule names, so a PyTorch state dict loads as is and gives the same outputs)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from mytensor.core.creation import full
from mytensor.core.tensor import Tensor
from mytensor.nn import init
from mytensor.nn._fn_attention import _canonical_mask
from mytensor.nn._fn_basic import gelu, relu
from mytensor.nn.containers import ModuleList
from mytensor.nn.layers.attention import MultiheadAttention
from mytensor.nn.layers.dropout import Dropout
from mytensor.nn.layers.linear import Linear
from mytensor.nn.layers.norm import LayerNorm
from mytensor.nn.module import Module

__all__ = [
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]

Activation = str | Callable[[Tensor], Tensor]


def _square_subsequent_mask(
    size: int, dtype: Any = None, backend: str | None = None, device: Any = None
) -> Tensor:
    return full((size, size), float("-inf"), dtype=dtype, device=device, backend=backend).triu(1)


def _activation(activation: Activation) -> Callable[[Tensor], Tensor]:
    if not isinstance(activation, str):
        return activation
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    raise ValueError(
        f"Transformer: activation should be 'relu', 'gelu' or a callable, not {activation!r}"
    )


def _clones(layer: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(layer) for _ in range(n)])


def _seq_len(x: Tensor, batch_first: bool) -> int:
    return x.shape[0] if x.ndim == 2 else x.shape[1 if batch_first else 0]


def _detect_is_causal(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """PyTorch's rule: the hint when given, else whether `mask` is the float causal mask."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    if mask.shape != (size, size) or mask.dtype.kind == "bool":
        return False
    return bool((mask == _square_subsequent_mask(size, mask.dtype, mask.backend)).all().item())


class _FeedForwardLayer(Module):
    """What both layers share: the feed-forward block (linear1, activation, dropout,
    linear2, then the layer's last dropout)."""

    def _ff_block(self, x: Tensor, out_dropout: Module) -> Tensor:
        return out_dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _build_ff(
        self, d_model: int, dim_ff: int, dropout: float, activation: Activation, bias: bool,
        factory: dict,
    ) -> None:  # fmt: skip
        self.linear1 = Linear(d_model, dim_ff, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_ff, d_model, bias=bias, **factory)
        self.activation = _activation(activation)


class TransformerEncoderLayer(_FeedForwardLayer):
    """Self-attention then a feed-forward network, each in a residual branch with dropout
    and LayerNorm (after the branch, or before it when `norm_first`), as PyTorch.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(mt.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
        activation: Activation = relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False, bias: bool = True, *, dtype: Any = None,
        backend: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        factory = {"dtype": dtype, "backend": backend}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory
        )
        self._build_ff(d_model, dim_feedforward, dropout, activation, bias, factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)

    def forward(
        self, src: Tensor, src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None, is_causal: bool = False,
    ) -> Tensor:  # fmt: skip
        kpm = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", src)
        mask = _canonical_mask(src_mask, "src_mask", src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), mask, kpm, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, mask, kpm, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))

    def _sa_block(
        self, x: Tensor, mask: Tensor | None, kpm: Tensor | None, is_causal: bool
    ) -> Tensor:
        x = self.self_attn(
            x, x, x, attn_mask=mask, key_padding_mask=kpm, need_weights=False, is_causal=is_causal
        )[0]
        return self.dropout1(x)


class TransformerDecoderLayer(_FeedForwardLayer):
    """Self-attention on the target, attention over the encoder's `memory`, then a
    feed-forward network; each in a residual branch with dropout and LayerNorm (after, or
    before when `norm_first`), as PyTorch.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(mt.randn(4, 3, 8), mt.randn(6, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
        activation: Activation = relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False, bias: bool = True, *, dtype: Any = None,
        backend: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        factory = {"dtype": dtype, "backend": backend}
        kwargs = {"dropout": dropout, "batch_first": batch_first, "bias": bias, **factory}
        self.self_attn = MultiheadAttention(d_model, nhead, **kwargs)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kwargs)
        self._build_ff(d_model, dim_feedforward, dropout, activation, bias, factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        self.dropout3 = Dropout(dropout)

    def forward(
        self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:  # fmt: skip
        sa_masks = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        mha_masks = (memory_mask, memory_key_padding_mask, memory_is_causal)
        x = tgt
        if self.norm_first:
            x = x + self._attend(self.self_attn, self.dropout1, self.norm1(x), None, sa_masks)
            x = x + self._attend(
                self.multihead_attn, self.dropout2, self.norm2(x), memory, mha_masks
            )
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._attend(self.self_attn, self.dropout1, x, None, sa_masks))
        x = self.norm2(x + self._attend(self.multihead_attn, self.dropout2, x, memory, mha_masks))
        return self.norm3(x + self._ff_block(x, self.dropout3))

    @staticmethod
    def _attend(
        attn: Module, drop: Module, x: Tensor, memory: Tensor | None, masks: tuple
    ) -> Tensor:
        kv = x if memory is None else memory
        mask, kpm, is_causal = masks
        out = attn(
            x, kv, kv, attn_mask=mask, key_padding_mask=kpm, is_causal=is_causal,
            need_weights=False,
        )[0]  # fmt: skip
        return drop(out)


class TransformerEncoder(Module):
    """`num_layers` deep copies of `encoder_layer` (named ``layers.0``, ``layers.1``, ...)
    applied in turn, then the optional `norm`. `enable_nested_tensor` and `mask_check` are
    accepted for PyTorch compatibility (there are no nested tensors here; a padded
    position's output is computed like any other, where PyTorch's fast path may give 0).

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
    >>> encoder(mt.randn(3, 5, 8)).shape, sorted(encoder.state_dict())[0]
    ((3, 5, 8), 'layers.0.linear1.bias')
    """

    def __init__(
        self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
        enable_nested_tensor: bool = True, mask_check: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(
        self, src: Tensor, mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None, is_causal: bool | None = None,
    ) -> Tensor:  # fmt: skip
        kpm = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", src)
        mask = _canonical_mask(mask, "mask", src)
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        causal = _detect_is_causal(mask, is_causal, _seq_len(src, batch_first))
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=causal, src_key_padding_mask=kpm)
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """`num_layers` deep copies of `decoder_layer` (``layers.0``, ...) applied in turn to
    the target with the encoder's `memory`, then the optional `norm`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), num_layers=2)
    >>> decoder(mt.randn(4, 3, 8), mt.randn(6, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(
        self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:  # fmt: skip
        batch_first = getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False)
        causal = _detect_is_causal(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        out = tgt
        for layer in self.layers:
            out = layer(
                out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=causal, memory_is_causal=memory_is_causal,
            )  # fmt: skip
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", PyTorch's module:
    `encoder` (a TransformerEncoder with a final LayerNorm) and `decoder` (likewise), every
    parameter with more than one dim xavier_uniform_-initialised.

    forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False) returns the decoder's
    output, shaped like `tgt`.

    >>> import mytensor as mt
    >>> from mytensor import nn
    >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
    ...                        num_decoder_layers=1, dim_feedforward=16, batch_first=True)
    >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
    >>> model(mt.randn(2, 5, 8), mt.randn(2, 4, 8), tgt_mask=tgt_mask).shape
    (2, 4, 8)
    """

    def __init__(
        self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
        num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
        activation: Activation = relu, custom_encoder: Module | None = None,
        custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
        batch_first: bool = False, norm_first: bool = False, bias: bool = True, *,
        dtype: Any = None, backend: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        factory = {"dtype": dtype, "backend": backend}
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias)  # fmt: skip
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            enc_layer = TransformerEncoderLayer(*args, **factory)
            self.encoder = TransformerEncoder(enc_layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            dec_layer = TransformerDecoderLayer(*args, **factory)
            self.decoder = TransformerDecoder(dec_layer, num_decoder_layers, norm)
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(
        self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None, src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None, memory_is_causal: bool = False,
    ) -> Tensor:  # fmt: skip
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_dim] != tgt.shape[batch_dim]):
            raise RuntimeError(
                f"Transformer: src and tgt must have the same batch size (dim {batch_dim} with "
                f"batch_first={self.batch_first}), got shapes {src.shape} and {tgt.shape}"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                f"Transformer: the last dim of src and tgt must be d_model={self.d_model}, "
                f"got shapes {src.shape} and {tgt.shape}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal,
        )  # fmt: skip

    @staticmethod
    def generate_square_subsequent_mask(
        sz: int, device: Any = None, dtype: Any = None, *, backend: str | None = None
    ) -> Tensor:
        """The (sz, sz) float causal mask: -inf above the diagonal, 0 elsewhere.

        >>> from mytensor import nn
        >>> nn.Transformer.generate_square_subsequent_mask(3).tolist()
        [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
        """
        return _square_subsequent_mask(sz, dtype, backend, device)
