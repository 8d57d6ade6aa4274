"""N-d convolution (1-, 2-, 3-d) and transposed convolution against PyTorch: forward,
gradients of input, weight and bias, every N with stride, padding, dilation and groups,
output_padding, string padding, unbatched inputs, the layers (padding modes, state dicts)
and the errors for bad arguments. Runs on every loaded backend with the conv primitives
(native) and on `minimal` (the composite)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn

BACKENDS = ["numpy_ref", "minimal"] + [
    b.name for b in mt.backends() if b.name == "numba_cpu" and b.status == "loaded"
]  # fmt: skip

CONV = [
    # (N, x shape, weight shape, kwargs)
    (1, (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=1, groups=2)),
    (1, (1, 3, 7), (2, 3, 2), dict(stride=1, padding=2, dilation=3, groups=1)),
    (2, (2, 4, 7, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=1, groups=2)),
    (2, (1, 2, 6, 6), (3, 2, 3, 3), dict(stride=1, padding="same", dilation=2, groups=1)),
    (2, (1, 3, 5, 6), (4, 3, 2, 2), dict(stride=1, padding="same", dilation=1, groups=1)),
    (3, (2, 2, 4, 5, 4), (4, 1, 2, 3, 2),
     dict(stride=(1, 2, 1), padding=(1, 0, 1), dilation=(2, 1, 1), groups=2)),
    (3, (1, 3, 4, 4, 4), (2, 3, 3, 3, 3), dict(stride=2, padding=1, dilation=1, groups=1)),
    (3, (1, 2, 3, 4, 5), (2, 2, 2, 2, 2), dict(stride=1, padding="valid", groups=1)),
]  # fmt: skip

TRANSPOSED = [
    (1, (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    (1, (1, 2, 4), (2, 1, 2), dict(stride=1, padding=0, output_padding=1, dilation=2)),
    (2, (2, 2, 3, 4), (2, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    (2, (1, 4, 3, 3), (4, 1, 2, 2), dict(stride=2, padding=0, groups=4, dilation=2)),
    (3, (1, 2, 2, 3, 2), (2, 2, 2, 2, 3),
     dict(stride=2, padding=(0, 1, 1), output_padding=(1, 0, 1))),
    (3, (2, 4, 2, 2, 2), (4, 1, 3, 2, 2), dict(stride=(1, 2, 2), groups=2, dilation=(2, 1, 1))),
]  # fmt: skip


def _pair(backend, shape, seed, dtype=mt.float64):
    values = np.random.default_rng(seed).standard_normal(shape)
    ours = mt.tensor(values, dtype=dtype, backend=backend, requires_grad=True)
    return ours, torch.tensor(values, dtype=torch.float64, requires_grad=True)


def _compare(backend, ours_fn, torch_fn, x_shape, w_shape, c_out, rtol=1e-10):
    """Forward, then gradients of input, weight and bias for a non-uniform cotangent."""
    (x, tx), (w, tw), (b, tb) = (_pair(backend, s, i) for i, s in
                                 enumerate((x_shape, w_shape, (c_out,))))  # fmt: skip
    out, expected = ours_fn(x, w, b), torch_fn(tx, tw, tb)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=rtol)
    cot = np.cos(np.arange(expected.numel())).reshape(expected.shape)
    (out * mt.tensor(cot, backend=backend)).sum().backward()
    (expected * torch.tensor(cot)).sum().backward()
    for ours, theirs, what in ((x, tx, "input"), (w, tw, "weight"), (b, tb, "bias")):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol,
                                   atol=rtol, err_msg=f"gradient of {what}")  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CONV, ids=lambda c: f"{c[0]}d-{c[1]}-{c[3]}")
def test_conv_matches_torch(backend, case):
    n, x_shape, w_shape, kwargs = case
    ours, theirs = getattr(mt, f"conv{n}d"), getattr(torch.nn.functional, f"conv{n}d")
    _compare(backend, lambda x, w, b: ours(x, w, b, **kwargs),
             lambda x, w, b: theirs(x, w, b, **kwargs), x_shape, w_shape, w_shape[0])  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", TRANSPOSED, ids=lambda c: f"{c[0]}d-{c[1]}-{c[3]}")
def test_conv_transpose_matches_torch(backend, case):
    n, x_shape, w_shape, kwargs = case
    name = f"conv_transpose{n}d"
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    c_out = w_shape[1] * kwargs.get("groups", 1)
    _compare(backend, lambda x, w, b: ours(x, w, b, **kwargs),
             lambda x, w, b: theirs(x, w, b, **kwargs), x_shape, w_shape, c_out)  # fmt: skip


@pytest.mark.parametrize("n", [1, 2, 3])
def test_unbatched_inputs(n):
    x_shape, w_shape = (3,) + (5,) * n, (4, 3) + (2,) * n
    (x, tx), (w, tw) = _pair("numpy_ref", x_shape, 0), _pair("numpy_ref", w_shape, 1)
    got = getattr(F, f"conv{n}d")(x, w, padding=1)
    expected = getattr(torch.nn.functional, f"conv{n}d")(tx, tw, padding=1)
    assert got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-10)
    wt_shape = (3, 2) + (2,) * n
    (wt, twt) = _pair("numpy_ref", wt_shape, 2)
    got = getattr(F, f"conv_transpose{n}d")(x, wt, stride=2)
    expected = getattr(torch.nn.functional, f"conv_transpose{n}d")(tx, twt, stride=2)
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-10)


def test_functional_and_namespace_are_one_function():
    assert F.conv1d is mt.conv1d and F.conv2d is mt.conv2d and F.conv3d is mt.conv3d


def test_float32_forward_and_gradients():
    x = mt.randn(2, 3, 4, 5, 6, dtype=mt.float32, requires_grad=True)
    w = mt.randn(4, 3, 2, 2, 2, dtype=mt.float32, requires_grad=True)
    out = mt.conv3d(x, w, stride=2, padding=1)
    out.sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    expected = torch.nn.functional.conv3d(tx, tw, stride=2, padding=1)
    expected.sum().backward()
    assert out.dtype == mt.float32
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_layers_padding_modes_and_state_dicts(n, mode):
    cls, tcls = getattr(nn, f"Conv{n}d"), getattr(torch.nn, f"Conv{n}d")
    kwargs = dict(kernel_size=3, padding=1, stride=1 if n == 1 else 2, padding_mode=mode,
                  groups=2)  # fmt: skip
    ours, theirs = cls(4, 6, **kwargs, dtype=mt.float64), tcls(4, 6, **kwargs).double()
    ours.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})  # fmt: skip
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    x = np.random.default_rng(3).standard_normal((2, 4) + (5,) * n)
    got, expected = ours(mt.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_same_padding_with_a_padding_mode(mode):
    ours = nn.Conv2d(2, 3, kernel_size=(2, 3), padding="same", padding_mode=mode,
                     dtype=mt.float64)  # fmt: skip
    theirs = torch.nn.Conv2d(2, 3, kernel_size=(2, 3), padding="same", padding_mode=mode)
    theirs = theirs.double()
    ours.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})  # fmt: skip
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 5))
    got, expected = ours(mt.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_transpose_layers_and_output_size(n):
    cls, tcls = getattr(nn, f"ConvTranspose{n}d"), getattr(torch.nn, f"ConvTranspose{n}d")
    kwargs = dict(kernel_size=3, stride=2, padding=1, groups=2, dilation=1)
    ours, theirs = cls(4, 6, **kwargs, dtype=mt.float64), tcls(4, 6, **kwargs).double()
    ours.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})  # fmt: skip
    x = np.random.default_rng(5).standard_normal((1, 4) + (3,) * n)
    size = (6,) * n
    got = ours(mt.tensor(x), output_size=size)
    expected = theirs(torch.tensor(x), output_size=size)
    assert got.shape == tuple(expected.shape) == (1, 6, *size)
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match='only "zeros" padding mode'):
        cls(4, 6, 3, padding_mode="reflect")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mt.conv2d(mt.ones(2, 5), mt.ones(3, 2, 2, 2)),
         r"conv2d\(\): expected a 3-d \(unbatched: C, H, W\) or 4-d"),
        (lambda: mt.conv3d(mt.ones(1, 2, 5, 5, 5), mt.ones(3, 2, 2, 2)),
         r"conv3d\(\): weight must be 5-d \(O, C/groups, kd, kh, kw\), got shape \(3, 2, 2, 2\)"),
        (lambda: mt.conv1d(mt.ones(1, 3, 5), mt.ones(4, 2, 2)),
         r"conv1d\(\): input has 3 channels .* expects weight.shape\[1\] \* groups = 2"),
        (lambda: mt.conv2d(mt.ones(1, 4, 5, 5), mt.ones(3, 2, 2, 2), groups=2),
         r"conv2d\(\): groups=2 must be a positive int dividing the 3 output channels"),
        (lambda: mt.conv1d(mt.ones(1, 2, 5), mt.ones(3, 2, 2), padding=-1),
         r"conv1d\(\): padding must be an int >= 0 or a tuple of 1 of them, got -1"),
        (lambda: mt.conv2d(mt.ones(1, 1, 3, 3), mt.ones(1, 1, 3, 3), dilation=2),
         r"conv2d\(\): the padded input's spatial size \(3, 3\) is smaller than the dilated "
         r"kernel \(5, 5\)"),
        (lambda: mt.conv2d(mt.ones(1, 1, 3, 3), mt.ones(1, 1, 2, 2), padding="same", stride=2),
         r"padding='same' is not supported for strided convolutions"),
        (lambda: mt.conv1d(mt.ones(1, 1, 3, dtype=mt.int64), mt.ones(1, 1, 2)),
         r"conv1d\(\): input has dtype int64; convolution needs floating-point"),
        (lambda: mt.conv1d(mt.ones(1, 2, 5), mt.ones(3, 2, 2), mt.ones(2)),
         r"conv1d\(\): bias must have shape \(3,\)"),
        (lambda: F.conv_transpose2d(mt.ones(1, 3, 2, 2), mt.ones(2, 1, 2, 2)),
         r"conv_transpose2d\(\): input has 3 channels .* weight of shape \(C_in=3, "),
        (lambda: F.conv_transpose1d(mt.ones(1, 2, 2), mt.ones(2, 1, 2), stride=2,
                                    output_padding=2),
         r"output_padding \(2,\) must be smaller than either stride \(2,\) or dilation"),
        (lambda: F.conv_transpose1d(mt.ones(1, 2, 1), mt.ones(2, 1, 1), padding=1),
         r"conv_transpose1d\(\): .* gives an empty output \(size \(-1,\)\)"),
        (lambda: nn.Conv2d(2, 2, 3, padding_mode="mirror"), r"padding_mode must be one of"),
    ],
)  # fmt: skip
def test_bad_arguments_are_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
