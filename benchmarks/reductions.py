"""Sums of a square float32 matrix over each dim and over all of it."""

from ._suite import Suite


class SumDim0(Suite):
    workload = "sum_dim0"


class SumDim1(Suite):
    workload = "sum_dim1"


class SumAll(Suite):
    workload = "sum_all"
