"""Matrix products (128 to 2048) and a batch of small ones."""

from ._suite import Suite


class Matmul(Suite):
    workload = "matmul"


class MatmulBatched(Suite):
    workload = "matmul_batched"
