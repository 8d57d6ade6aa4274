"""One SGD step of the MLP 784-256-256-10, the LeNet-style CNN, a character LSTM and a
transformer encoder block, the peak memory of each, and the autograd graph's own
overhead (backward of a long chain of small ops)."""

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


class CharLstmStep(Suite):
    workload = "char_lstm_step"


class TransformerStep(Suite):
    workload = "transformer_step"


class CharLstmStepMemory(Suite):
    workload = "char_lstm_step"
    kind = "peakmem"


class TransformerStepMemory(Suite):
    workload = "transformer_step"
    kind = "peakmem"


class ChainBackward(Suite):
    workload = "chain_backward"
