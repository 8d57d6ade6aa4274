"""Program (k): a character-level LSTM language model (Embedding, 2-layer nn.LSTM, Linear
head) trained with Adam and gradient clipping, on PyTorch and on mytensor, loss for loss.

Two ways of feeding it, as a user would: a batch of sentences of different lengths packed
with pack_padded_sequence (padding never reaches the loss), and truncated backpropagation
through a stream whose (h, c) state is carried from chunk to chunk, detached. Then greedy
sampling from a prompt.
"""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch

SENTENCES = ["the cat sat.", "a dog ran to me.", "the fox hid.", "we sat."]
STREAM = "the cat sat on the mat. the dog ran to the cat. "


def lstm_language_model(torch, nn, optim, data, steps: int = 10) -> dict:
    """Train on packed sentences, then on a stream with carried state; sample greedily."""
    F = nn.functional
    rnn_utils = nn.utils.rnn
    chars = ["<pad>", *sorted(set("".join(SENTENCES) + STREAM))]
    stoi = {ch: i for i, ch in enumerate(chars)}
    PAD = 0

    class CharLSTM(nn.Module):
        def __init__(self, vocab, n_embed=8, n_hidden=12, n_layers=2):
            super().__init__()
            self.embed = nn.Embedding(vocab, n_embed, padding_idx=PAD)
            self.lstm = nn.LSTM(n_embed, n_hidden, num_layers=n_layers, dropout=0.0,
                                batch_first=True)  # fmt: skip
            self.head = nn.Linear(n_hidden, vocab)

        def forward(self, idx, lengths=None, state=None):
            x = self.embed(idx)
            if lengths is not None:
                x = rnn_utils.pack_padded_sequence(x, lengths, batch_first=True,
                                                   enforce_sorted=False)  # fmt: skip
            out, state = self.lstm(x, state)
            if lengths is not None:
                out, _ = rnn_utils.pad_packed_sequence(out, batch_first=True,
                                                       total_length=idx.size(1))  # fmt: skip
            return self.head(out), state

    model = CharLSTM(len(chars))
    rng = np.random.default_rng(3)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, size=tuple(p.shape)).astype("f4")))
        model.embed.weight[PAD].zero_()
    opt = optim.Adam(model.parameters(), lr=0.1)

    def train_step(logits, targets):
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), targets.reshape(-1),
                               ignore_index=PAD)  # fmt: skip
        opt.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.25)
        opt.step()
        return loss.item(), norm.item()

    # 1. Sentences of different lengths: pad, pack, and ignore the padding in the loss.
    encoded = [torch.tensor([stoi[ch] for ch in s]) for s in SENTENCES]
    padded = rnn_utils.pad_sequence(encoded, batch_first=True, padding_value=PAD)
    lengths = torch.tensor([len(s) - 1 for s in SENTENCES])
    inputs, targets = padded[:, :-1], padded[:, 1:]
    packed_losses, norms = [], []
    model.train()
    for _ in range(steps):
        logits, (h, c) = model(inputs, lengths)
        loss, norm = train_step(logits, targets)
        packed_losses.append(loss)
        norms.append(norm)
    # h[-1] holds each sentence's top-layer state at its last true step, in input order
    with torch.no_grad():
        logits, (h, c) = model(inputs, lengths)
        from_state = model.head(h[-1])
        from_output = logits[torch.arange(len(SENTENCES)), lengths - 1]

    # 2. Truncated BPTT: two streams, chunks of 6 characters, state carried and detached.
    stream = torch.tensor([stoi[ch] for ch in STREAM])
    n_streams, chunk = 2, 6
    per_stream = (stream.numel() - 1) // n_streams
    xs = stream[: n_streams * per_stream].view(n_streams, per_stream)
    ys = stream[1 : n_streams * per_stream + 1].view(n_streams, per_stream)
    state = None
    stream_losses = []
    for start in range(0, per_stream - chunk + 1, chunk):
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(xs[:, start : start + chunk], state=state)
        stream_losses.append(train_step(logits, ys[:, start : start + chunk])[0])

    # 3. Greedy sampling, feeding back one character at a time.
    model.eval()
    text = "the "
    with torch.no_grad():
        _, state = model(torch.tensor([[stoi[ch] for ch in text[:-1]]]))
        idx = torch.tensor([[stoi[text[-1]]]])
        for _ in range(12):
            logits, state = model(idx, state=state)
            idx = logits[:, -1].argmax(dim=-1, keepdim=True)
            text += chars[idx.item()]
    return {
        "packed_losses": packed_losses,
        "grad_norms": norms,
        "final_state_shapes": [list(h.shape), list(c.shape)],
        "head_of_final_state": from_state.numpy(),
        "head_at_last_steps": from_output.numpy(),
        "stream_losses": stream_losses,
        "sample": text,
        "lstm_weights": {name: p.detach().numpy() for name, p in model.lstm.named_parameters()},
    }


def test_lstm_language_model_matches_pytorch_step_by_step(mytensor_modules):
    theirs = run_on_pytorch(lstm_language_model)
    ours = lstm_language_model(*mytensor_modules)
    assert theirs["packed_losses"][-1] < theirs["packed_losses"][0]
    assert theirs["final_state_shapes"] == [[2, 4, 12], [2, 4, 12]]
    for result in (theirs, ours):  # the packed run stops each sentence at its length
        assert_same_run(result["head_of_final_state"], result["head_at_last_steps"])
    # Adam at lr 0.1 turns float32 rounding differences in a nearly cancelling gradient
    # (another summation order, as a fused cell kernel takes) into weight differences ~1e-5
    ours_weights, theirs_weights = ours.pop("lstm_weights"), theirs.pop("lstm_weights")
    assert_same_run(ours_weights, theirs_weights, atol=1e-4)
    assert_same_run(ours, theirs)
