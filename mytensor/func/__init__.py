"""Function transforms, with `torch.func`'s names and semantics: `grad`,
`grad_and_value`, `vjp`, `jvp`, `jacrev`, `jacfwd`, `hessian`, `vmap`, `functional_call`.

vmap batches for real: each op runs once on the whole batch through its batching rule
(`mytensor.core.batching`); grad and vjp are built on the core's autograd.

>>> import mytensor as mt
>>> from mytensor.func import grad, vmap
>>> vmap(grad(lambda x: (x * x).sum()))(mt.ones(4, 3)).shape
(4, 3)
"""

from mytensor.func._functional_call import functional_call
from mytensor.func._jacobians import hessian, jacfwd, jacrev
from mytensor.func._transforms import grad, grad_and_value, jvp, vjp
from mytensor.func._vmap import vmap

__all__ = [
    "functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp",
    "vmap",
]  # fmt: skip
