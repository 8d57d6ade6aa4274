"""Optimizers, learning-rate schedules and gradient clipping.

>>> import mytensor as mt
>>> w = mt.tensor([2.0], requires_grad=True)
>>> opt = mt.optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad()
...     (w * w).sum().backward()
...     opt.step()
>>> w.item()
0.25
"""

from mytensor.optim import lr_scheduler
from mytensor.optim.adadelta import Adadelta
from mytensor.optim.adagrad import Adagrad
from mytensor.optim.adam import Adam, AdamW
from mytensor.optim.clip import clip_grad_norm_, clip_grad_value_
from mytensor.optim.optimizer import Optimizer
from mytensor.optim.rmsprop import RMSprop
from mytensor.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
]
