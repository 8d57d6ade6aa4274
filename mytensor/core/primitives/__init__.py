"""The primitives: one record per op, the single place its meaning is written.

- `scalar`: the elementwise ops' specification, one plain-Python function of scalars per
  op (edge cases included); the numba_cpu and cuda backends compile their kernels from
  these functions, and the conformance suite checks every backend against them.
- `elementwise`: the elementwise records (name, dtype rule, backward rule, slots for a
  forward-mode rule and a batching rule, conformance metadata, a vectorised numpy
  reference); `mytensor.core.ops.elementwise` builds the public functions from them.
- `complex_grads`: the backward rules of complex inputs (PyTorch's convention).

`docs/ops.md` is generated from these records (``python -m mytensor.core.primitives.table``).
"""
