"""`mytensor.nn.utils`: gradient clipping and parameter/vector conversion.

>>> import mytensor as mt
>>> from mytensor import nn
>>> layer = nn.Linear(3, 2)
>>> nn.utils.parameters_to_vector(layer.parameters()).shape
(8,)
"""

from mytensor.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from mytensor.optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
]
