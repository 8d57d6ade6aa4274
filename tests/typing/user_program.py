"""A short PyTorch-style program that mypy checks against mytensor's API (see
tests/test_typing.py): every Tensor method and operator here must be known to type
checkers, so IDEs and mypy see the same API that runs."""

import mytensor as torch
from mytensor import nn, optim

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
x = torch.randn(16, 4).to(device)
y = (x.sum(dim=1, keepdim=True) > 0).float().squeeze(1).long()
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for _ in range(3):
    opt.zero_grad()
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    opt.step()
w = torch.ones(3, requires_grad=True)
z = (w * 2 + 1) @ w.t() - w.exp().mean() / w.abs().max()
z = z ** 2 - (-w).relu().sum() + abs(w).sum() + (1 - w).pow(2).sum()
z.backward()
g = w.grad
assert g is not None
with torch.no_grad():
    w.add_(g, alpha=-0.1).clamp_(-1.0, 1.0)
    w -= 0.1 * g
    w.zero_()
n: int = x.size(0) + x.size()[1] + x.dim() + x.numel() + x.ndim
v = x.view(-1).reshape(4, 16).transpose(0, 1).contiguous().unsqueeze(0).flatten()
m = x.new_zeros(2, 2).double().to(torch.float32).type_as(x)
print(loss.item(), n, v.shape, m.dtype, x.device.type, x.is_floating_point(), x.data.shape)
h = w.register_hook(lambda grad: grad * 2)
h.remove()
s = torch.tensor([3.0, 1.0, 2.0])
values, indices = s.sort()
top = s.topk(2).values + s.max(0).values + s.masked_fill(s > 2, 0.0).cumsum(0)[-1]
print(values.tolist(), indices.tolist(), top.item(), (s == s).all().item(), s.argmax(0))
