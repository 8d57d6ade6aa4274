"""Program (f): a small ResNet-style CNN (Conv2d, BatchNorm2d, residual blocks, MaxPool2d,
AdaptiveAvgPool2d, Dropout) trained on random 8x8 images with train()/eval(), on PyTorch
and on mytensor, loss for loss, running statistics and eval outputs included."""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch

rng = np.random.default_rng(5)
IMAGES = rng.standard_normal((6, 3, 8, 8)).astype(np.float32)
LABELS = rng.integers(0, 4, size=6)


def small_resnet(torch, nn, optim, data, steps: int = 3) -> dict:
    """Train with batch statistics (dropout held off so both runs draw no random masks),
    then evaluate with the running statistics."""

    class BasicBlock(nn.Module):
        def __init__(self, channels, stride=1):
            super().__init__()
            out_channels = channels * stride
            self.conv1 = nn.Conv2d(channels, out_channels, 3, stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.shortcut = nn.Identity()
            if stride != 1:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(channels, out_channels, 1, stride, bias=False),
                    nn.BatchNorm2d(out_channels),
                )

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return nn.functional.relu(out + self.shortcut(x))

    class SmallResNet(nn.Module):
        def __init__(self, num_classes=4):
            super().__init__()
            self.stem = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU()
            )
            self.layer1 = BasicBlock(4)
            self.pool = nn.MaxPool2d(2)
            self.layer2 = BasicBlock(4, stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(p=0.5)
            self.fc = nn.Linear(8, num_classes)

        def forward(self, x):
            x = self.pool(self.layer1(self.stem(x)))
            x = self.avgpool(self.layer2(x))
            return self.fc(self.dropout(torch.flatten(x, 1)))

    model = SmallResNet()
    init = np.random.default_rng(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.from_numpy(init.normal(0, fan_in**-0.5, size=tuple(p.shape))))
            elif name.endswith("bias"):
                p.fill_(0.01)
    x, y = torch.from_numpy(IMAGES), torch.from_numpy(LABELS)
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    losses = []
    model.train()
    model.dropout.eval()
    for _ in range(steps):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    dropped = model.dropout(torch.ones(200))
    state = model.state_dict()
    return {
        "losses": losses,
        "eval_logits": logits.numpy(),
        "modes": [model.training, model.layer1.bn1.training],
        "running_mean": state["layer1.bn1.running_mean"].numpy(),
        "running_var": state["layer2.shortcut.1.running_var"].numpy(),
        "batches_tracked": state["stem.1.num_batches_tracked"].item(),
        "dropout_values": sorted(set(dropped.tolist())),
        "state_keys": sorted(state.keys()),
    }


def test_small_resnet_matches_pytorch_step_by_step(mytensor_modules):
    theirs = run_on_pytorch(small_resnet)
    ours = small_resnet(*mytensor_modules)
    assert theirs["losses"][-1] < theirs["losses"][0]
    assert theirs["dropout_values"] == [0.0, 2.0]
    assert_same_run(ours, theirs)
