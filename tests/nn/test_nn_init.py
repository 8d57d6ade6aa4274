"""nn.init: gains, fans, distributions, in-place and outside the graph, seeded."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mytensor as mt
from mytensor import nn
from mytensor.nn import init


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("selu") == 0.75
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    with pytest.raises(ValueError, match="unsupported"):
        init.calculate_gain("swish")


@pytest.mark.parametrize(
    "fill,expected_std",
    [
        (lambda t: init.xavier_uniform_(t), math.sqrt(2 / (60 + 400))),
        (lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / (60 + 400))),
        (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 60)),
        (
            lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
            math.sqrt(2 / 400),
        ),
        (lambda t: init.normal_(t, 1.0, 0.5), 0.5),
        (lambda t: init.uniform_(t, -2.0, 2.0), 4 / math.sqrt(12)),
    ],
)
def test_random_initialisers_have_the_right_spread(fill, expected_std):
    t = mt.empty(40, 6, 10)  # fan_in 6 * 10, fan_out 40 * 10
    assert fill(t) is t
    assert abs(t.numpy().std() - expected_std) < 0.06 * expected_std


def test_uniform_bounds_and_constant_fills():
    t = init.kaiming_uniform_(mt.empty(200, 50), a=math.sqrt(5))
    assert np.abs(t.numpy()).max() <= 1 / math.sqrt(50)
    assert init.zeros_(mt.ones(3)).tolist() == [0.0] * 3
    assert init.ones_(mt.zeros(2, dtype=mt.float64)).tolist() == [1.0, 1.0]
    assert init.constant_(mt.zeros(2), 0.25).tolist() == [0.25, 0.25]


def test_init_works_on_parameters_without_touching_the_graph():
    layer = nn.Linear(4, 3)
    init.xavier_normal_(layer.weight)
    init.zeros_(layer.bias)
    assert layer.weight.is_leaf and layer.weight.requires_grad and layer.weight.grad_fn is None
    assert layer.bias.tolist() == [0.0] * 3


def test_init_is_seeded_and_errors_on_vectors():
    mt.manual_seed(5)
    a = nn.Linear(3, 3).weight.numpy()
    mt.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.numpy(), a)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mt.empty(5))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(mt.empty(2, 2), mode="fan_avg")
    assert init.kaiming_uniform_(mt.empty(0, 3)).shape == (0, 3)
