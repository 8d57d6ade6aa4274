"""`mytensor.utils`: where PyTorch programs look for `torch.utils.data`.

`mytensor.utils.data` is `mytensor.data` itself (one module, two import paths), so
``from mytensor.utils.data import DataLoader, TensorDataset`` works unchanged.

>>> import mytensor.utils.data
>>> mytensor.utils.data is mytensor.data
True
"""

import sys

from mytensor import data

sys.modules[__name__ + ".data"] = data
# submodules too, or `import mytensor.utils.data.distributed` would load a second copy
sys.modules[__name__ + ".data.distributed"] = data.distributed

__all__ = ["data"]
