"""Elementwise throughput, 1e3 to 1e7 float32 elements, and the operand layouts that
make a kernel work harder: a broadcast (stride-0) operand and a transposed one."""

from ._suite import Suite


class Add(Suite):
    workload = "add"


class Mul(Suite):
    workload = "mul"


class Exp(Suite):
    workload = "exp"


class MulAdd(Suite):
    workload = "mul_add"


class AddBroadcast(Suite):
    workload = "add_broadcast"


class AddTransposed(Suite):
    workload = "add_transposed"
