"""Program (d): train, checkpoint model + optimizer + scheduler + epoch, rebuild everything,
load the checkpoint and go on; the resumed run must equal an uninterrupted one, and both
frameworks must agree epoch for epoch.

PyTorch's `torch.save` pickles and `torch.load(..., weights_only=True)` unpickles a safe
subset; `mytensor.save`/`mytensor.load` write and read safetensors. So the program takes
the `save`/`load` callables beside the modules; everything else is the same code.
"""

from __future__ import annotations

import functools

import numpy as np
from _frameworks import assert_same_run, pytorch

rng = np.random.default_rng(3)
FEATURES = rng.standard_normal((24, 5)).astype(np.float32)
TARGETS = (FEATURES @ rng.standard_normal((5, 2)) + 0.1).astype(np.float32)


def train_with_resume(torch, nn, optim, data, save, load, path, stop_after=None,
                      epochs: int = 6) -> dict:  # fmt: skip
    """Train for `epochs`; with `stop_after`, checkpoint after that many epochs, throw the
    model, optimizer and scheduler away, and resume from the file."""
    dataset = data.TensorDataset(torch.from_numpy(FEATURES), torch.from_numpy(TARGETS))
    loader = data.DataLoader(dataset, batch_size=8)

    def build():
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
        init = np.random.default_rng(0)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.tensor(init.uniform(-0.5, 0.5, size=tuple(p.shape))))
        opt = optim.Adam(model.parameters(), lr=0.05, betas=(0.8, 0.99))
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, sched

    model, opt, sched = build()
    loss_fn = nn.MSELoss()
    start_epoch, losses = 0, []
    for epoch in range(epochs):
        if epoch < start_epoch:
            continue
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sched.step()
        if stop_after is not None and epoch + 1 == stop_after:
            checkpoint = {
                "model": model.state_dict(),
                "optim": opt.state_dict(),
                "sched": sched.state_dict(),
                "epoch": epoch + 1,
            }
            save(checkpoint, path)
            del model, opt, sched, checkpoint
            model, opt, sched = build()
            checkpoint = load(path)
            model.load_state_dict(checkpoint["model"])
            opt.load_state_dict(checkpoint["optim"])
            sched.load_state_dict(checkpoint["sched"])
            start_epoch = checkpoint["epoch"]
            stop_after = None
    return {
        "losses": losses,
        "lr": sched.get_last_lr(),
        "weights": {k: v.numpy() for k, v in model.state_dict().items()},
        "adam_steps": [float(s["step"]) for s in opt.state_dict()["state"].values()],
    }


def test_resumed_training_matches_pytorch_and_an_uninterrupted_run(tmp_path, mytensor_modules):
    torch_modules = pytorch()
    torch = torch_modules[0]
    torch_load = functools.partial(torch.load, weights_only=True)
    theirs = train_with_resume(*torch_modules, torch.save, torch_load, tmp_path / "ckpt.pt")
    theirs_resumed = train_with_resume(*torch_modules, torch.save, torch_load,
                                       tmp_path / "resume.pt", stop_after=3)  # fmt: skip
    mt = mytensor_modules[0]
    ours = train_with_resume(*mytensor_modules, mt.save, mt.load, tmp_path / "a.safetensors")
    ours_resumed = train_with_resume(*mytensor_modules, mt.save, mt.load,
                                     tmp_path / "b.safetensors", stop_after=3)  # fmt: skip
    assert len(theirs["losses"]) == 18 and theirs["losses"][-1] < theirs["losses"][0]
    assert_same_run(theirs_resumed, theirs, rtol=0, atol=0)
    assert_same_run(ours_resumed, ours, rtol=0, atol=0)
    assert_same_run(ours, theirs)
