"""The fixed cost of one op: a 1-element add, without and with gradient recording."""

from ._suite import Suite


class AddTiny(Suite):
    workload = "add_tiny"


class AddTinyGrad(Suite):
    workload = "add_tiny_grad"
