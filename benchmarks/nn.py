"""conv2d forward and forward+backward; softmax; cross-entropy forward+backward."""

from ._suite import Suite


class Conv2d(Suite):
    workload = "conv2d"


class Conv2dBackward(Suite):
    workload = "conv2d_backward"


class Softmax(Suite):
    workload = "softmax"


class CrossEntropy(Suite):
    workload = "cross_entropy"
