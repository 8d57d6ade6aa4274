"""One SGD step of the MLP 784-256-256-10 and of the LeNet-style CNN, their peak memory,
and the autograd graph's own overhead (backward of a long chain of small ops)."""

from ._suite import Suite


class MlpStep(Suite):
    workload = "mlp_step"


class LenetStep(Suite):
    workload = "lenet_step"


class MlpStepMemory(Suite):
    workload = "mlp_step"
    kind = "peakmem"


class LenetStepMemory(Suite):
    workload = "lenet_step"
    kind = "peakmem"


class ChainBackward(Suite):
    workload = "chain_backward"
