"""The layers of `mytensor.nn`, one small module per family."""

from mytensor.nn.layers.activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from mytensor.nn.layers.conv import Conv1d, Conv2d
from mytensor.nn.layers.dropout import Dropout
from mytensor.nn.layers.linear import Flatten, Identity, Linear
from mytensor.nn.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from mytensor.nn.layers.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from mytensor.nn.layers.sparse import Embedding

__all__ = [
    "GELU",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LayerNorm",
    "Linear",
    "LogSoftmax",
    "MaxPool1d",
    "MaxPool2d",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]
