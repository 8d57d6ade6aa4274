"""Per-sample gradients of an MLP 784-128-10 (`func.vmap(func.grad(loss))`) against
PyTorch's `torch.func` on the same model and batch."""

from ._suite import Suite


class PerSampleGrads(Suite):
    workload = "per_sample_grads"
