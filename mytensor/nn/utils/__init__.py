"""`mytensor.nn.utils`: gradient clipping, parameter/vector conversion, and `rnn` (padded
and packed sequences for the recurrent layers).

>>> import mytensor as mt
>>> from mytensor import nn
>>> layer = nn.Linear(3, 2)
>>> nn.utils.parameters_to_vector(layer.parameters()).shape
(8,)
"""

from mytensor.nn.utils import rnn
from mytensor.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from mytensor.optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "rnn",
    "vector_to_parameters",
]
