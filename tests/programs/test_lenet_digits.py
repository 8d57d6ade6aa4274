"""Program (i): a LeNet-style classifier of 8x8 digit-like images, fed by DataLoader over a
TensorDataset, trained with CrossEntropyLoss, SGD with momentum and a StepLR schedule, and
scored by accuracy, on PyTorch and on mytensor, batch for batch."""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch


def digit_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` noisy copies of ten fixed 8x8 stroke patterns (one per class), as (N, 1, 8, 8)
    float32 images and int64 labels."""
    patterns = np.random.default_rng(0).random((10, 8, 8)) > 0.6
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    images = patterns[labels] + 0.3 * rng.standard_normal((n, 8, 8))
    return images[:, None].astype(np.float32), labels.astype(np.int64)


def lenet_digits(torch, nn, optim, data, epochs: int = 4) -> dict:
    """Train for a few epochs, logging every batch loss and the learning rate, and report
    test accuracy computed with argmax(1) and with max(1)."""
    train_x, train_y = digit_images(96, seed=1)
    test_x, test_y = digit_images(40, seed=2)
    train_set = data.TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_y))
    test_set = data.TensorDataset(torch.from_numpy(test_x), torch.from_numpy(test_y))
    train_loader = data.DataLoader(train_set, batch_size=16, shuffle=False)
    test_loader = data.DataLoader(test_set, batch_size=16)

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(6, 12, kernel_size=3)
            self.fc1 = nn.Linear(12 * 2 * 2, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)  # 6 x 4 x 4
            x = torch.relu(self.conv2(x))  # 12 x 2 x 2
            x = x.view(x.size(0), -1)
            return self.fc2(torch.relu(self.fc1(x)))

    model = LeNet()
    init = np.random.default_rng(4)
    state = {}
    for name, t in model.state_dict().items():
        bound = 1 / np.sqrt(t[0].numel() if t.dim() > 1 else t.numel())
        state[name] = torch.from_numpy(init.uniform(-bound, bound, t.shape).astype(np.float32))
    model.load_state_dict(state)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.3, momentum=0.9, nesterov=True)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.8)

    losses, lrs = [], []
    for _ in range(epochs):
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.step()

    model.eval()
    correct_argmax = correct_max = total = 0
    with torch.no_grad():
        for images, labels in test_loader:
            out = model(images)
            correct_argmax += (out.argmax(1) == labels).sum().item()
            _, predicted = out.max(1)
            correct_max += predicted.eq(labels).sum().item()
            total += labels.size(0)
    return {
        "losses": losses,
        "lrs": lrs,
        "accuracy": [correct_argmax / total, correct_max / total],
        "batches": len(train_loader),
    }


def test_lenet_digits_matches_pytorch_batch_for_batch(mytensor_modules):
    theirs = run_on_pytorch(lenet_digits)
    ours = lenet_digits(*mytensor_modules)
    assert theirs["losses"][-1] < theirs["losses"][0] and theirs["accuracy"][0] > 0.5
    assert_same_run(ours, theirs)
