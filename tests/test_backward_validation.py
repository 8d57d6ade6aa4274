"""The engine checks what each backward rule returns: one gradient (or None) per input,
with the input's exact shape, dtype and backend. Deliberately wrong rules, recorded through
`autograd.record` and through `autograd.Function`, must fail loudly, naming the op, the
input's position, expected and got; custom Functions follow PyTorch (checked against it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mytensor as mt
from mytensor.core import autograd


def leaf(values, dtype=mt.float32) -> mt.Tensor:
    return mt.tensor(values, dtype=dtype, requires_grad=True)


def recorded(name: str, inputs: tuple, rule) -> mt.Tensor:
    """``inputs[0] + inputs[1] + ...`` (no graph), recorded as one op with `rule`."""
    with mt.no_grad():
        out = inputs[0]
        for t in inputs[1:]:
            out = out + t
    return autograd.record(out, name, inputs, rule)


def _other_cpu_backend() -> str:
    """A loaded CPU backend besides numpy_ref (numba_cpu is installed with the dev extras)."""
    infos = mt.backends()
    others = [i.name for i in infos if i.status == "loaded" and i.device == "cpu"]
    others = [n for n in others if n != "numpy_ref"]
    if not others:
        found = [(i.name, i.status) for i in infos]
        pytest.fail(f"a second CPU backend is needed; installed: {found}")
    return others[0]


# -- rules recorded through autograd.record ------------------------------------------------
def test_a_correct_rule_passes():
    x, b = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), leaf([1.0, 1.0, 1.0])
    recorded("good_add", (x, b), lambda g: (g, g.sum(0))).sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2 and b.grad.tolist() == [2.0] * 3


def test_a_gradient_left_broadcast_is_refused():
    x, b = leaf(np.ones((2, 3))), leaf([1.0, 1.0, 1.0])
    y = recorded("bad_add", (x, b), lambda g: (g, g))  # forgot to un-broadcast b's
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    message = str(info.value)
    assert "function bad_addBackward returned an invalid gradient at index 1" in message
    assert "got shape (2, 3)" in message and "expected (3,) float32" in message
    assert "input 1 of bad_add()" in message and "backward rule is wrong" in message
    assert "un-broadcasting" in message
    assert b.grad is None  # refused before anything accumulated


def test_the_wrong_number_of_gradients_is_refused():
    x, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = recorded("short", (x, b), lambda g: (g,))
    with pytest.raises(RuntimeError, match=r"function shortBackward returned an incorrect "
                       r"number of gradients \(expected 2, got 1\)"):  # fmt: skip
        y.sum().backward()


def test_a_bare_tensor_instead_of_a_tuple_is_refused():
    # a tensor of length 2 for 2 inputs must not be taken for a pair of gradients
    x, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = recorded("bare", (x, b), lambda g: g)
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, "
                       r"got a Tensor\)"):  # fmt: skip
        y.sum().backward()


def test_a_gradient_of_another_dtype_is_refused():
    x = leaf([1.0, 2.0])
    y = recorded("widen", (x,), lambda g: (g.astype(mt.float64),))
    with pytest.raises(RuntimeError, match=r"index 0: got dtype float64, expected \(2,\) "
                       r"float32 on 'numpy_ref'"):  # fmt: skip
        y.sum().backward()


def test_a_complex_gradient_for_a_real_input_is_refused():
    x = leaf([1.0, 2.0])
    y = recorded("to_complex", (x,), lambda g: (g.astype(mt.complex64),))
    with pytest.raises(RuntimeError, match="a real input never receives a complex gradient"):
        y.sum().backward()


def test_a_non_tensor_gradient_is_refused():
    x = leaf([1.0, 2.0])
    y = recorded("host", (x,), lambda g: (g.numpy(),))
    with pytest.raises(RuntimeError, match=r"index 0: got a ndarray, not a Tensor"):
        y.sum().backward()


def test_a_gradient_on_another_backend_is_refused():
    other = _other_cpu_backend()
    x = leaf([1.0, 2.0])
    y = recorded("elsewhere", (x,), lambda g: (g.to(other),))
    with pytest.raises(RuntimeError, match=rf"got backend {other!r}, expected \(2,\) float32 "
                       r"on 'numpy_ref'"):  # fmt: skip
        y.sum().backward()


def test_the_error_names_the_failing_input_when_others_are_valid():
    a, b, c = leaf([1.0]), leaf([2.0]), leaf([3.0])
    y = recorded("third", (a, b, c), lambda g: (g, g, g.reshape(1, 1)))
    with pytest.raises(RuntimeError, match=r"index 2: got shape \(1, 1\)"):
        y.sum().backward()


def test_inputs_without_grad_are_not_checked():
    # as in PyTorch: a gradient for an input that needs none is dropped unread
    x, c = leaf([1.0, 2.0]), mt.tensor([3.0, 4.0])
    recorded("const", (x, c), lambda g: (g, "unused")).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_autograd_grad_checks_too():
    x = leaf([1.0, 2.0, 3.0])
    y = recorded("slice_grad", (x,), lambda g: (g[:2],))
    with pytest.raises(RuntimeError, match=r"slice_gradBackward .* index 0: got shape \(2,\)"):
        mt.autograd.grad(y.sum(), x)


def test_the_shape_is_the_one_at_record_time():
    # the rule must match the input as the op saw it, even if the tensor changes shape later
    x = leaf(np.ones((2, 3)))
    h = x * 1.0
    y = recorded("seen", (h,), lambda g: (g.reshape(h.shape),))  # reads h's shape late
    h.unsqueeze_(0)
    with pytest.raises(RuntimeError, match=r"got shape \(1, 2, 3\).*, expected \(2, 3\) float32"):
        y.sum().backward()


@pytest.mark.parametrize(("target", "source"), [("float32", "float64"), ("float64", "float32")])
def test_an_in_place_op_of_another_dtype_passes_its_gradient_as_pytorch(target, source):
    # x takes over the node of a result of another dtype: the gradient flowing into that
    # node is cast to the node's own output dtype, so its rule stays exact
    results = []
    for lib in (mt, torch):
        x = lib.zeros(3, dtype=getattr(lib, target))
        o = lib.tensor([1.0, 2.0, 3.0], dtype=getattr(lib, source), requires_grad=True)
        x.add_(o * o)
        (x * 2).sum().backward()
        results.append((o.grad.tolist(), str(o.grad.dtype).split(".")[-1]))
    assert results[0] == results[1] == ([4.0, 8.0, 12.0], source)


# -- custom Functions: PyTorch's semantics and messages ------------------------------------
def _function(module, rule):
    """A two-input Function (x * y) whose backward returns ``rule(g)``, for mytensor or torch."""

    class F(module.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return rule(g)

    return F


def _both(rule_mt, rule_torch, shape=(3,), y_shape=None):
    """Run the Function on both libraries; return (mytensor error or grads, torch's)."""
    results = []
    for module, rule, new in ((mt, rule_mt, mt.ones), (torch, rule_torch, torch.ones)):
        x = new(*shape, requires_grad=True)
        y = new(*(y_shape or shape), requires_grad=True)
        try:
            _function(module, rule).apply(x, y).sum().backward()
            results.append((x.grad.tolist(), str(x.grad.dtype).split(".")[-1]))
        except RuntimeError as exc:
            results.append(str(exc))
    return results


def test_function_wrong_count_as_pytorch():
    ours, theirs = _both(lambda g: g, lambda g: g)
    expected = "function FBackward returned an incorrect number of gradients (expected 2, got 1)"
    assert theirs == expected
    assert ours.startswith(theirs), ours


def test_function_too_many_gradients_as_pytorch():
    ours, theirs = _both(lambda g: (g, g, g), lambda g: (g, g, g))
    assert ours.startswith(theirs) and "(expected 2, got 3)" in theirs, ours
    ours, theirs = _both(lambda g: (g, g, None), lambda g: (g, g, None))
    assert ours == theirs == ([1.0, 1.0, 1.0], "float32")  # trailing Nones are dropped


def test_function_wrong_shape_as_pytorch():
    ours, theirs = _both(lambda g: (g[:2], g), lambda g: (g[:2], g))
    assert theirs == (
        "Function FBackward returned an invalid gradient at index 0 - got [2] but expected "
        "shape compatible with [3]"
    )
    assert ours.lower().startswith(theirs.lower()), ours


def test_function_broadcast_gradient_is_summed_as_pytorch():
    ours, theirs = _both(lambda g: (g.expand(2, 3), g), lambda g: (g.expand(2, 3), g))
    assert ours == theirs == ([2.0, 2.0, 2.0], "float32")


def test_function_other_float_and_int_dtypes_are_cast_as_pytorch():
    ours, theirs = _both(lambda g: (g.double(), g), lambda g: (g.double(), g))
    assert ours == theirs == ([1.0, 1.0, 1.0], "float32")
    ours, theirs = _both(lambda g: (g.long(), g), lambda g: (g.long(), g))
    assert ours == theirs == ([1.0, 1.0, 1.0], "float32")


def test_function_complex_gradient_for_a_real_input_is_refused_as_pytorch():
    ours, theirs = _both(lambda g: (g.astype(mt.complex64), g), lambda g: (g.cfloat(), g))
    assert isinstance(theirs, str) and "input_is_complex == grad_is_complex" in theirs
    assert "index 0" in ours and "a real input never receives a complex gradient" in ours


def test_function_gradient_for_a_non_tensor_argument_as_pytorch():
    class Scale(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="function ScaleBackward returned a gradient "
                       "different than None at position 2, but the corresponding forward "
                       "input was not a Tensor"):  # fmt: skip
        Scale.apply(x, 2.0).sum().backward()


def test_function_gradient_on_another_backend_is_refused():
    other = _other_cpu_backend()
    F = _function(mt, lambda g: (g.to(other), g))
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(RuntimeError, match=rf"index 0 - expected backend 'numpy_ref' but "
                       rf"got {other!r}"):  # fmt: skip
        F.apply(x, y).sum().backward()


def test_function_right_gradients_pass():
    F = _function(mt, lambda g: (g * 2, None))
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    F.apply(x, y).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and y.grad is None
