"""Transposed convolution and unfold/fold against PyTorch (skipped where torch is not
installed): values and gradients of input, weight and bias."""

from __future__ import annotations

import numpy as np
import pytest
from _nn_parity import BACKENDS, TOL, compare, f32, torch, torch_twin

import mytensor as mt
import mytensor.nn.functional as F
from mytensor import nn

TF = torch.nn.functional

RNG = np.random.default_rng(11)


def _check(fn, tfn, arrays: list[np.ndarray], kwargs: dict) -> None:
    """fn(*arrays, **kwargs) against tfn: values and the gradient of every array."""
    ours = [mt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*ours, **kwargs), tfn(*theirs, **kwargs)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    upstream = RNG.standard_normal(out.shape).astype(np.float32)
    out.backward(mt.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), err_msg=f"arg {i}", **TOL)


# (C_in, C_out, groups, kernel, input spatial, kwargs)
TRANSPOSE2D = [
    (2, 3, 1, (3, 3), (5, 6), {}),
    (2, 3, 1, (3, 3), (5, 6), {"stride": 2, "padding": 1, "output_padding": 1}),
    (4, 6, 2, (3, 2), (4, 5), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}),
    (3, 3, 3, (2, 2), (4, 4), {"stride": 3, "padding": 2, "output_padding": 2}),
    (2, 4, 1, (4, 4), (3, 3), {"stride": 2, "padding": 3, "dilation": 2, "output_padding": 1}),
    (2, 2, 2, (1, 1), (3, 4), {"stride": 2}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cin,cout,groups,kernel,spatial,kwargs", TRANSPOSE2D)
def test_conv_transpose2d_matches_torch(backend, cin, cout, groups, kernel, spatial, kwargs):
    arrays = [f32(RNG, 2, cin, *spatial), f32(RNG, cin, cout // groups, *kernel), f32(RNG, cout)]
    with mt.use_backend(backend):
        _check(F.conv_transpose2d, TF.conv_transpose2d, arrays, {"groups": groups, **kwargs})


@pytest.mark.parametrize("kwargs", [{}, {"stride": 3, "padding": 1, "output_padding": 2},
                                    {"dilation": 2, "groups": 2, "padding": 2}])  # fmt: skip
def test_conv_transpose1d_matches_torch(kwargs):
    groups = kwargs.get("groups", 1)
    arrays = [f32(RNG, 2, 4, 7), f32(RNG, 4, 6 // groups, 3)]
    _check(F.conv_transpose1d, TF.conv_transpose1d, arrays, kwargs)


def test_conv_transpose_unbatched_and_without_bias():
    _check(F.conv_transpose2d, TF.conv_transpose2d, [f32(RNG, 2, 4, 4), f32(RNG, 2, 3, 3, 3)],
           {"stride": 2})  # fmt: skip
    _check(
        F.conv_transpose1d, TF.conv_transpose1d, [f32(RNG, 2, 5), f32(RNG, 2, 3, 2)], {"stride": 2}
    )


def test_conv_transpose_non_contiguous_input():
    x = f32(RNG, 2, 5, 6, 3)
    w = f32(RNG, 3, 2, 3, 3)
    ours, theirs = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.conv_transpose2d(ours.permute(0, 3, 1, 2), mt.tensor(w), stride=2)
    tout = TF.conv_transpose2d(theirs.permute(0, 3, 1, 2), torch.tensor(w), stride=2)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)


MODULES = [
    ("ConvTranspose2d", (3, 4, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 3, 5, 5)),
    ("ConvTranspose2d", (4, 6, (2, 3)), {"groups": 2, "bias": False, "dilation": 2}, (1, 4, 4, 3)),
    ("ConvTranspose1d", (3, 2, 4), {"stride": 2, "padding": 1}, (2, 3, 8)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", MODULES)
def test_conv_transpose_module_matches_torch(name, args, kwargs, shape):
    module = getattr(nn, name)(*args, **kwargs)
    twin = torch_twin(module, name, args, kwargs)
    assert repr(module) == repr(twin)
    assert [(k, v.shape) for k, v in module.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in twin.state_dict().items()
    ]
    compare(module, twin, f32(RNG, *shape))


def test_conv_transpose_output_size_picks_output_padding_like_torch():
    module = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    twin = torch_twin(module, "ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1})
    x = f32(RNG, 1, 2, 5, 5)
    for size in ((9, 9), (10, 10), (1, 3, 9, 10)):
        out = module(mt.tensor(x), output_size=size)
        tout = twin(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    with pytest.raises(ValueError, match=r"output size of \(11, 11\).*\(9, 9\) to \(10, 10\)"):
        module(mt.tensor(x), output_size=(11, 11))


def test_conv_transpose_default_init_matches_torch_bounds():
    mt.manual_seed(0)
    ours, theirs = nn.ConvTranspose2d(16, 8, 3), torch.nn.ConvTranspose2d(16, 8, 3)
    bound = 1 / np.sqrt(8 * 9)  # fan_in is weight.shape[1] * kernel area, as in PyTorch
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert np.abs(theirs.weight.detach().numpy()).max() <= bound
    assert 0.95 * bound < np.abs(ours.weight.numpy()).max() <= bound
    assert np.abs(ours.bias.numpy()).max() <= bound


def test_conv_transpose_errors():
    with pytest.raises(ValueError, match=r"conv_transpose2d\(\): output_padding .* smaller"):
        F.conv_transpose2d(mt.ones(1, 2, 3, 3), mt.ones(2, 2, 3, 3), output_padding=1)
    with pytest.raises(ValueError, match=r"conv_transpose2d\(\).*C_in=3"):
        F.conv_transpose2d(mt.ones(1, 3, 3, 3), mt.ones(2, 2, 3, 3))
    with pytest.raises(ValueError, match=r"conv_transpose1d\(\): weight must be 3-d"):
        F.conv_transpose1d(mt.ones(1, 2, 3), mt.ones(2, 2))
    with pytest.raises(ValueError, match=r"ConvTranspose2d: padding must be ints"):
        nn.ConvTranspose2d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match=r"conv_transpose2d\(\).*empty output"):
        F.conv_transpose2d(mt.ones(1, 2, 1, 1), mt.ones(2, 2, 1, 1), padding=1)


# -- unfold / fold ------------------------------------------------------------------------
FOLD_CASES = [
    (2, 1, 0, 1),
    ((3, 2), (1, 2), (1, 0), (2, 1)),
    (3, 2, 2, 3),
    (1, 1, 1, 2),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kernel,dilation,padding,stride", FOLD_CASES)
def test_unfold_and_fold_match_torch(backend, kernel, dilation, padding, stride):
    kwargs = {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}
    x = f32(RNG, 2, 3, 7, 8)
    with mt.use_backend(backend):
        _check(F.unfold, TF.unfold, [x], kwargs)
        columns = TF.unfold(torch.tensor(x), **kwargs).numpy()
        _check(F.fold, TF.fold, [f32(RNG, *columns.shape)], {"output_size": (7, 8), **kwargs})


def test_unfold_and_fold_accept_unbatched_input():
    _check(F.unfold, TF.unfold, [f32(RNG, 2, 5, 5)], {"kernel_size": 2})
    _check(F.fold, TF.fold, [f32(RNG, 8, 16)], {"output_size": 5, "kernel_size": 2})


def test_fold_errors_name_the_sizes():
    with pytest.raises(ValueError, match=r"fold\(\).*divisible by the product of kernel_size"):
        F.fold(mt.ones(1, 5, 4), (3, 3), 2)
    with pytest.raises(ValueError, match=r"fold\(\).*2 \* 2 = 4 blocks.*size 5"):
        F.fold(mt.ones(1, 4, 5), (3, 3), 2)
    with pytest.raises(ValueError, match=r"unfold\(\).*no sliding block"):
        F.unfold(mt.ones(1, 1, 2, 2), 3)
