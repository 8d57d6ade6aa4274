"""Program (b): a character-level next-character model on a tiny text, trained with Adam
and sampled greedily, on PyTorch and on mytensor, loss for loss.

The recurrent cell is written by hand from Linear layers and tanh (nn.LSTM and nn.GRU come
later); a Conv1d context model trains beside it.
"""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch

TEXT = "the quick brown fox jumps over the lazy dog. the dog sleeps. the fox runs. "


def init_from_numpy(torch, model, seed: int) -> None:
    """Give every parameter fixed values drawn from a numpy generator."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            values = rng.uniform(-0.3, 0.3, size=tuple(p.shape)).astype(np.float32)
            p.copy_(torch.from_numpy(values))


def char_model(torch, nn, optim, data, steps: int = 8) -> dict:
    """Train an Embedding + hand-written RNN cell and a Conv1d model to predict the next
    character, then generate text from the RNN greedily."""
    F = nn.functional
    chars = sorted(set(TEXT))
    stoi = {ch: i for i, ch in enumerate(chars)}
    encoded = torch.tensor([stoi[ch] for ch in TEXT], dtype=torch.long)
    seq_len, batch = 6, 4
    starts = torch.arange(0, batch * seq_len, seq_len)
    inputs = torch.stack([encoded[s : s + seq_len] for s in starts.tolist()])
    targets = torch.stack([encoded[s + 1 : s + seq_len + 1] for s in starts.tolist()])

    class RNNCell(nn.Module):
        def __init__(self, n_in, n_hidden):
            super().__init__()
            self.in_proj = nn.Linear(n_in, n_hidden)
            self.hidden_proj = nn.Linear(n_hidden, n_hidden, bias=False)

        def forward(self, x, h):
            return torch.tanh(self.in_proj(x) + self.hidden_proj(h))

    class CharRNN(nn.Module):
        def __init__(self, vocab, n_embed=10, n_hidden=16):
            super().__init__()
            self.n_hidden = n_hidden
            self.embed = nn.Embedding(vocab, n_embed)
            self.cell = RNNCell(n_embed, n_hidden)
            self.head = nn.Linear(n_hidden, vocab)

        def forward(self, idx, h=None):
            if h is None:
                h = torch.zeros(idx.size(0), self.n_hidden)
            x = self.embed(idx)
            outputs = []
            for t in range(idx.size(1)):
                h = self.cell(x[:, t], h)
                outputs.append(h)
            return self.head(torch.stack(outputs, dim=1)), h

    class CharConv(nn.Module):
        def __init__(self, vocab, n_embed=10, channels=12, context=3):
            super().__init__()
            self.context = context
            self.embed = nn.Embedding(vocab, n_embed)
            self.conv = nn.Conv1d(n_embed, channels, kernel_size=context)
            self.head = nn.Linear(channels, vocab)

        def forward(self, idx):
            x = self.embed(idx).transpose(1, 2)  # (B, C, T)
            x = F.pad(x, (self.context - 1, 0))  # causal: look only backwards
            x = F.relu(self.conv(x))
            return self.head(x.permute(0, 2, 1))

    results = {}
    models = {"rnn": CharRNN(len(chars)), "conv": CharConv(len(chars))}
    for name, model in models.items():
        init_from_numpy(torch, model, seed=1)
        opt = optim.Adam(model.parameters(), lr=0.03)
        losses = []
        for _ in range(steps):
            out = model(inputs)
            logits = out[0] if isinstance(out, tuple) else out
            loss = F.cross_entropy(logits.reshape(-1, len(chars)), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results[name] = losses
        results[f"{name}_embedding"] = model.embed.weight.detach().numpy()

    rnn = models["rnn"].eval()
    generated = "the "
    with torch.no_grad():
        _, h = rnn(torch.tensor([[stoi[ch] for ch in generated[:-1]]]))
        idx = torch.tensor([[stoi[generated[-1]]]])
        for _ in range(10):
            logits, h = rnn(idx, h)
            idx = logits[:, -1].argmax(dim=-1, keepdim=True)
            generated += chars[idx.item()]
    results["generated"] = generated
    return results


def test_char_model_matches_pytorch_step_by_step(mytensor_modules):
    theirs = run_on_pytorch(char_model)
    ours = char_model(*mytensor_modules)
    assert theirs["rnn"][-1] < theirs["rnn"][0] and theirs["conv"][-1] < theirs["conv"][0]
    assert_same_run(ours, theirs)
