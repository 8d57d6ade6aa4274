"""Program (c): a tiny causal transformer block written by hand (Linear projections, softmax
attention under a masked_fill causal mask, LayerNorm, GELU, residuals), trained with AdamW
on PyTorch and on mytensor, loss for loss. nn.MultiheadAttention comes later."""

from __future__ import annotations

import math

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch


def tiny_transformer(torch, nn, optim, data, steps: int = 8) -> dict:
    """A one-block, two-head language model learning to continue a repeating sequence."""
    F = nn.functional
    vocab, block_size, n_embed, n_head = 7, 6, 16, 2

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(n_embed, 3 * n_embed)
            self.proj = nn.Linear(n_embed, n_embed)
            mask = torch.triu(torch.ones(block_size, block_size, dtype=torch.bool), diagonal=1)
            self.register_buffer("mask", mask)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.qkv(x).split(n_embed, dim=2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            att = att.masked_fill(self.mask[:T, :T], float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.proj(y), att

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(n_embed)
            self.attn = CausalSelfAttention()
            self.ln2 = nn.LayerNorm(n_embed)
            self.mlp = nn.Sequential(
                nn.Linear(n_embed, 4 * n_embed), nn.GELU(), nn.Linear(4 * n_embed, n_embed)
            )

        def forward(self, x):
            attended, att = self.attn(self.ln1(x))
            x = x + attended
            return x + self.mlp(self.ln2(x)), att

    class TinyLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, n_embed)
            self.pos = nn.Parameter(torch.zeros(1, block_size, n_embed))
            self.block = Block()
            self.ln_f = nn.LayerNorm(n_embed)
            self.head = nn.Linear(n_embed, vocab, bias=False)

        def forward(self, idx, targets=None):
            x = self.tok(idx) + self.pos[:, : idx.size(1)]
            x, att = self.block(x)
            logits = self.head(self.ln_f(x))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return logits, loss, att

    model = TinyLM()
    rng = np.random.default_rng(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                p.copy_(torch.from_numpy(rng.normal(0, 0.2, size=tuple(p.shape))))
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            elif name == "pos":
                p.copy_(torch.as_tensor(rng.normal(0, 0.02, size=tuple(p.shape))))
    sequence = torch.tensor([i % 5 for i in range(40)])
    starts = [0, 3, 6, 9]
    x = torch.stack([sequence[s : s + block_size] for s in starts])
    y = torch.stack([sequence[s + 1 : s + block_size + 1] for s in starts])

    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    losses, grad_norms = [], []
    model.train()
    for _ in range(steps):
        _, loss, att = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norms.append(nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits, _, att = model(x[:1, :4])
    return {
        "losses": losses,
        "grad_norms": grad_norms,
        "attention": att.numpy(),
        "next_tokens": logits.argmax(-1).tolist(),
        "mask_is_buffer": "attn.mask" in dict(model.block.named_buffers()),
    }


def test_tiny_transformer_matches_pytorch_step_by_step(mytensor_modules):
    theirs = run_on_pytorch(tiny_transformer)
    ours = tiny_transformer(*mytensor_modules)
    assert theirs["losses"][-1] < theirs["losses"][0]
    assert np.all(np.triu(theirs["attention"], k=1) == 0)  # nothing attends to the future
    assert_same_run(ours, theirs)
