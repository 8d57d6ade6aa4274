"""conv1d / conv2d / conv3d (custom records with a numpy reference) and the transposed
convolutions: forward on drawn layouts, strides, padding, dilation and groups; input,
weight and bias gradients against the numpy reference backend's; gradcheck in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mytensor as mt
import mytensor.nn.functional as F
from mytensor.autograd import GradcheckError, gradcheck
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close, call_reference, tolerance
from mytensor.core.ops import OPS

NAMES = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d")  # fmt: skip
CASES = [pytest.param(n, d, id=f"{n}-{d.name}") for n in NAMES
         for d in (mt.float32, mt.float64)]  # fmt: skip
TRANSPOSED = {f"conv_transpose{n}d": getattr(F, f"conv_transpose{n}d") for n in (1, 2, 3)}


def _np_conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1):  # fmt: skip
    """Scatter form: every input element adds ``x * weight[c, :, t]`` at output position
    ``l * stride + t * dilation``, then ``padding`` is cropped from both ends."""
    n = weight.ndim - 2
    s, p, o, d = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
                  for v in (stride, padding, output_padding, dilation))  # fmt: skip
    c_in, og, *kernel = weight.shape
    spatial = x.shape[2:]
    full = [(spatial[i] - 1) * s[i] + d[i] * (kernel[i] - 1) + 1 + o[i] for i in range(n)]
    out = np.zeros((x.shape[0], og * groups, *full), np.result_type(x, weight))
    cg = c_in // groups
    for g in range(groups):
        xs, ws = x[:, g * cg : (g + 1) * cg], weight[g * cg : (g + 1) * cg]
        for tap in np.ndindex(*kernel):
            window = tuple(slice(t * d[i], t * d[i] + s[i] * (spatial[i] - 1) + 1, s[i])
                           for i, t in enumerate(tap))  # fmt: skip
            contribution = np.einsum("nc...,co->no...", xs, ws[(slice(None), slice(None), *tap)])
            out[(slice(None), slice(g * og, (g + 1) * og), *window)] += contribution
    crop = tuple(slice(p[i], full[i] - p[i]) for i in range(n))
    out = out[(slice(None), slice(None), *crop)]
    if bias is not None:
        out = out + bias.reshape(1, -1, *(1,) * n)
    return out


def _function_and_reference(name):
    if name in TRANSPOSED:
        return TRANSPOSED[name], _np_conv_transpose
    return OPS[name].func, OPS[name].ref


def _draw(data, name, dtype, backend, grad=False):
    spatial = int(name[-2])
    transposed = name in TRANSPOSED
    groups = data.draw(st.sampled_from([1, 2]), label="groups")
    cin, cout = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    kernel = tuple(data.draw(st.integers(1, 2)) for _ in range(spatial))
    stride = data.draw(st.integers(1, 2), label="stride")
    padding = data.draw(st.integers(0, 1), label="padding")
    dilation = data.draw(st.integers(1, 2), label="dilation")
    top = 4 if spatial < 3 else 3
    low = 1 if transposed else None
    size = tuple(
        data.draw(st.integers(low or max(1, dilation * (k - 1) + 1 - 2 * padding), top))
        for k in kernel
    )  # fmt: skip
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if transposed:
        # an output of at least 1: (L - 1) * s - 2p + d(k - 1) + op + 1 >= 1
        reach = [(n - 1) * stride + dilation * (k - 1) for n, k in zip(size, kernel, strict=True)]
        kwargs["padding"] = min(padding, *(r // 2 for r in reach))
        kwargs["output_padding"] = data.draw(st.integers(0, max(stride, dilation) - 1))
        w_shape = (cin, cout // groups, *kernel)
    else:
        w_shape = (cout, cin // groups, *kernel)
    batch = data.draw(st.integers(1 if grad else 0, 2), label="batch")
    shapes = [(batch, cin, *size), w_shape, (cout,)]
    use_bias = data.draw(st.booleans(), label="bias")
    built = []
    for shape in shapes[: 3 if use_bias else 2]:
        if grad:
            seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
            values = S.smooth_values(seed, dtype, shape, (-2.0, 2.0), False)
        else:
            values = data.draw(S.arrays(dtype, shape, (-2.0, 2.0)), label="values")
        built.append(data.draw(S.laid_out(values, dtype, backend, requires_grad=grad)))
    return built, kwargs


def _where(name, backend, built, kwargs, what="forward"):
    inputs = "; ".join(f"input {i}: {b.describe()}" for i, b in enumerate(built))
    return f"{what} of {name} on backend {backend!r}, kwargs {kwargs}\n  {inputs}"


def _reduced(built):
    """How many products one output element sums (tolerances grow with it)."""
    return int(np.prod(built[1].values.shape[1:])) * max(1, built[1].values.shape[0])


@pytest.mark.parametrize(("name", "dtype"), CASES)
@S.suite_settings(8)
@given(data=st.data())
def test_conv(name, dtype, backend, data):
    func, ref = _function_and_reference(name)
    built, kwargs = _draw(data, name, dtype, backend)
    where = _where(name, backend, built, kwargs)
    got = func(*[b.tensor for b in built], **kwargs).numpy()
    expected = call_reference(ref, *[b.values for b in built], **kwargs)
    rtol, atol = tolerance([got.dtype], _reduced(built), 2.0)
    assert got.dtype == dtype.numpy, f"{where}\n  dtype {got.dtype}"
    assert_close(got, expected, where, rtol, atol)


@pytest.mark.parametrize(("name", "dtype"), CASES)
@S.suite_settings(4)
@given(data=st.data())
def test_conv_gradients_match_numpy_ref(name, dtype, backend, data):
    """d(sum(out * cotangent)) by input, weight and bias, on `backend` and on numpy_ref."""
    func, _ = _function_and_reference(name)
    built, kwargs = _draw(data, name, dtype, backend, grad=True)
    where = _where(name, backend, built, kwargs, "gradients")
    grads = {}
    for on in (backend, "numpy_ref"):
        ts = [
            b.tensor if on == backend
            else mt.tensor(b.values, dtype=dtype, backend=on, requires_grad=True)
            for b in built
        ]  # fmt: skip
        out = func(*ts, **kwargs)
        cotangent = np.linspace(-1.0, 1.0, out.size).reshape(out.shape)
        loss = (out * mt.tensor(cotangent, dtype=dtype, backend=on)).sum()
        grads[on] = [g.numpy() for g in mt.autograd.grad(loss, ts)]
    rtol, atol = tolerance([dtype.numpy], _reduced(built) * 4, 2.0)
    for i, (got, expected) in enumerate(zip(grads[backend], grads["numpy_ref"], strict=True)):
        assert_close(got, expected, f"{where}\n  gradient of input {i}", rtol, atol)


WIDE_CASES = {
    # (x shape, weight shape, kwargs): 8 and more input channels per group, the counts
    # from which a backend may take another path (numba_cpu: a GEMM per kernel tap)
    "3x3": ((2, 8, 6, 7), (8, 8, 3, 3), {"padding": 1}),
    "groups-dilation": ((2, 16, 7, 5), (16, 8, 3, 2), {"padding": (1, 0), "dilation": (2, 1),
                                                        "groups": 2}),
    "1x1": ((3, 8, 4, 5), (5, 8, 1, 1), {}),
    "1d": ((2, 12, 9), (9, 12, 3), {"padding": 2, "dilation": 2}),
    "stride-2": ((2, 8, 7, 7), (4, 8, 3, 3), {"padding": 1, "stride": 2}),
}  # fmt: skip


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(WIDE_CASES))
def test_conv_with_many_channels(case, dtype, backend):
    """Forward (against the numpy reference, with NaN and infinities in the input) and
    gradients (against numpy_ref's) of convolutions with many input channels, on a
    contiguous input and on a channels-last one (a permuted view)."""
    x_shape, w_shape, kwargs = WIDE_CASES[case]
    name = f"conv{len(x_shape) - 2}d"
    func, ref = _function_and_reference(name)
    rng = np.random.default_rng(5)
    x = rng.uniform(-2.0, 2.0, x_shape).astype(dtype.numpy)
    w = rng.uniform(-1.0, 1.0, w_shape).astype(dtype.numpy)
    x.reshape(-1)[3::31] = np.inf
    x.reshape(-1)[9::37] = np.nan
    rtol, atol = tolerance([dtype.numpy], int(np.prod(w_shape[1:])), 2.0)
    last = (*range(2, len(x_shape)), 1)
    layouts = {"contiguous": mt.tensor(x, backend=backend),
               "channels last": mt.tensor(np.ascontiguousarray(x.transpose(0, *last)),
                                          backend=backend).permute(0, -1, *range(1, len(last)))}
    for layout, xt in layouts.items():
        where = f"{name} on backend {backend!r}, {layout} input {x_shape}, weight {w_shape}, " \
            f"{kwargs}"  # fmt: skip
        with np.errstate(invalid="ignore"):  # inf - inf in the sums (a host backend's too)
            got = func(xt, mt.tensor(w, backend=backend), **kwargs).numpy()
            expected = call_reference(ref, x, w, **kwargs)
        assert_close(got, expected, where, rtol, atol)
    smooth = np.nan_to_num(x, nan=0.5, posinf=1.5)
    grads = {}
    for on in (backend, "numpy_ref"):
        ts = [mt.tensor(v, backend=on, requires_grad=True) for v in (smooth, w)]
        out = func(*ts, **kwargs)
        cotangent = np.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)
        loss = (out * mt.tensor(cotangent, dtype=dtype, backend=on)).sum()
        grads[on] = [g.numpy() for g in mt.autograd.grad(loss, ts)]
    for i, (got, expected) in enumerate(zip(grads[backend], grads["numpy_ref"], strict=True)):
        assert_close(got, expected, f"gradient {i} of {name} on backend {backend!r}, "
                     f"{x_shape} x {w_shape}, {kwargs}", rtol * 4, atol * 4)  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
@S.suite_settings(3)
@given(data=st.data())
def test_conv_gradcheck(name, backend, data):
    func, _ = _function_and_reference(name)
    built, kwargs = _draw(data, name, mt.float64, backend, grad=True)
    try:
        gradcheck(lambda *ts: func(*ts, **kwargs), [b.tensor for b in built])
    except GradcheckError as exc:
        raise AssertionError(
            f"{_where(name, backend, built, kwargs, 'gradient')}\n  {exc}"
        ) from None
