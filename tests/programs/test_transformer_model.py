"""Program (l): a small encoder-decoder nn.Transformer (pre-norm, GELU) learning to reverse
digit sequences of different lengths, trained with AdamW under a causal target mask from
nn.Transformer.generate_square_subsequent_mask and key padding masks, on PyTorch and on
mytensor, loss for loss; then eval-mode outputs and greedy decoding compared.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _frameworks import assert_same_run, run_on_pytorch

PAD, BOS, EOS = 0, 1, 2
SOURCES = [[3, 4, 5, 6], [7, 3, 9], [8, 8, 4, 5, 6], [9, 5, 3]]


def transformer_model(torch, nn, optim, data, steps: int = 12) -> dict:
    """Train a 1+1-layer nn.Transformer on reversal, then decode greedily in eval mode."""
    F = nn.functional
    vocab, d_model, max_len = 10, 16, 8

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, d_model, padding_idx=PAD)
            self.pos = nn.Parameter(torch.zeros(max_len, d_model))
            self.transformer = nn.Transformer(
                d_model, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                dim_feedforward=32, dropout=0.0, activation="gelu", batch_first=True,
                norm_first=True,
            )  # fmt: skip
            self.out = nn.Linear(d_model, vocab)

        def encode_tokens(self, idx):
            return self.embed(idx) * math.sqrt(d_model) + self.pos[: idx.size(1)]

        def forward(self, src, tgt_in):
            tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt_in.size(1))
            h = self.transformer(
                self.encode_tokens(src), self.encode_tokens(tgt_in), tgt_mask=tgt_mask,
                src_key_padding_mask=src == PAD, tgt_key_padding_mask=tgt_in == PAD,
                memory_key_padding_mask=src == PAD,
            )  # fmt: skip
            return self.out(h)

    model = Seq2Seq()
    rng = np.random.default_rng(5)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() > 1:
                p.copy_(torch.from_numpy(rng.normal(0, 0.25, size=tuple(p.shape)).astype("f4")))
            elif "norm" not in name:
                p.copy_(torch.from_numpy(rng.normal(0, 0.05, size=tuple(p.shape)).astype("f4")))

    def batch(sources):
        longest = max(map(len, sources))
        src = [s + [PAD] * (longest - len(s)) for s in sources]
        tgt = [[BOS, *s[::-1], EOS] + [PAD] * (longest - len(s)) for s in sources]
        tgt = torch.tensor(tgt)
        return torch.tensor(src), tgt[:, :-1], tgt[:, 1:]

    src, tgt_in, tgt_out = batch(SOURCES)
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    losses = []
    model.train()
    for _ in range(steps):
        logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, vocab), tgt_out.reshape(-1), ignore_index=PAD)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        eval_logits = model(src, tgt_in)
        # an unpadded sequence alone gives the same outputs as inside the padded batch
        alone = model(src[1:2, :3], tgt_in[1:2, :4])
        memory = model.transformer.encoder(
            model.encode_tokens(src), src_key_padding_mask=src == PAD
        )
        decoded = torch.full((src.size(0), 1), BOS, dtype=torch.long)
        for _ in range(src.size(1) + 1):
            h = model.transformer.decoder(
                model.encode_tokens(decoded), memory,
                tgt_mask=nn.Transformer.generate_square_subsequent_mask(decoded.size(1)),
                memory_key_padding_mask=src == PAD,
            )  # fmt: skip
            next_token = model.out(h[:, -1]).argmax(-1, keepdim=True)
            decoded = torch.cat([decoded, next_token], dim=1)
    return {
        "losses": losses,
        "eval_logits": eval_logits.numpy(),
        "alone": alone.numpy(),
        "alone_in_batch": eval_logits[1:2, :4].numpy(),
        "memory": memory.numpy(),
        "decoded": decoded.tolist(),
        "causal_mask": nn.Transformer.generate_square_subsequent_mask(3).numpy(),
    }


# PyTorch's notices for this ordinary program: norm_first turns its nested-tensor fast path
# off, and a float causal mask beside bool padding masks is a deprecated mix
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning")
def test_transformer_model_matches_pytorch_step_by_step(mytensor_modules):
    theirs = run_on_pytorch(transformer_model)
    ours = transformer_model(*mytensor_modules)
    assert theirs["losses"][-1] < theirs["losses"][0] / 3
    assert theirs["decoded"][0][:6] == [BOS, 6, 5, 4, 3, EOS]  # it learned to reverse
    for result in (theirs, ours):  # padding changes nothing for the real tokens
        assert_same_run(result["alone"], result["alone_in_batch"])
    assert_same_run(ours, theirs)
