"""Automatic mixed precision: `autocast` regions and the `GradScaler` (PyTorch's torch.amp).

>>> import mytensor as mt
>>> with mt.autocast("cpu"):
...     y = mt.ones(2, 3) @ mt.ones(3, 4)
>>> y.dtype
mytensor.bfloat16
"""

from mytensor.amp.autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from mytensor.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "get_autocast_dtype", "is_autocast_enabled"]
