"""Per-sample gradients of an MLP 784-128-10 over a batch of 64: vmap(grad) against one
batched backward pass (which gives only the summed gradient), as a ratio."""

import timeit

import mytensor as mt
import mytensor.nn as nn
import mytensor.nn.functional as F
from mytensor.func import functional_call, grad, vmap


class PerSampleGrads:
    def setup(self):
        mt.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        self.params = {k: v.detach() for k, v in self.model.named_parameters()}
        self.x = mt.randn(64, 784)
        self.y = mt.randint(0, 10, (64,))

        def loss(p, xi, yi):
            out = functional_call(self.model, p, (xi.unsqueeze(0),))
            return F.cross_entropy(out, yi.unsqueeze(0))

        self.per_sample = vmap(grad(loss), in_dims=(None, 0, 0))

    def time_vmap_grad(self):
        self.per_sample(self.params, self.x, self.y)

    def time_batched_backward(self):
        self.model.zero_grad()
        F.cross_entropy(self.model(self.x), self.y).backward()


if __name__ == "__main__":
    b = PerSampleGrads()
    b.setup()
    t_vmap = min(timeit.repeat(b.time_vmap_grad, number=5, repeat=5)) / 5
    t_batch = min(timeit.repeat(b.time_batched_backward, number=5, repeat=5)) / 5
    print(f"vmap(grad): {t_vmap * 1e3:.2f} ms, batched backward: {t_batch * 1e3:.2f} ms, "
          f"ratio {t_vmap / t_batch:.2f}x")
