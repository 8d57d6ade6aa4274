"""mytensor.fft against numpy.fft (values, dtypes, shapes) on every loaded backend that
holds complex numbers, its gradients against central differences and against PyTorch's
``torch.fft``, and its errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import gradcheck
from mytensor.conformance.checks import assert_close
from mytensor.core.dtypes import UnsupportedDTypeError
from mytensor.core.registry import get_backend

LOADED = [info.name for info in mt.backends() if info.status == "loaded"]
COMPLEX_BACKENDS = [b for b in LOADED if mt.complex64 in get_backend(b).dtypes]
REAL_ONLY = [b for b in LOADED if b not in COMPLEX_BACKENDS]
DRAWN = settings(
    max_examples=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
by_backend = pytest.mark.parametrize("backend", COMPLEX_BACKENDS)
NORMS = [None, "backward", "ortho", "forward"]
# dtype in -> (complex result, real result), as the standard asks (integers: the default)
RESULT = {
    "float32": ("complex64", "float32"), "float64": ("complex128", "float64"),
    "complex64": ("complex64", "float32"), "complex128": ("complex128", "float64"),
    "int64": ("complex64", "float32"),
}  # fmt: skip
TOL = {"float32": 2e-5, "complex64": 2e-5, "int64": 2e-5, "float64": 1e-12, "complex128": 1e-12}


def _data(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == "int64":
        return rng.integers(-5, 6, shape)
    values = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


def _tensor(values, backend, layout="contiguous"):
    """`values` on `backend`, contiguous or as a transposed (non-contiguous) view."""
    if layout == "transposed" and values.ndim >= 2:
        swapped = np.ascontiguousarray(np.swapaxes(values, 0, -1))
        return mt.asarray(swapped, device=backend).swapaxes(0, -1)
    return mt.asarray(values, device=backend)


def _check(got, expected, dtype, what):
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    tol = TOL[dtype] * scale
    assert_close(np.asarray(got.numpy()), expected, what, tol, tol)


@st.composite
def _signals(draw, complex_input=True, min_rank=1):
    rank = draw(st.integers(min_rank, 3), label="rank")
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    kinds = ["float32", "float64", "int64"] + (["complex64", "complex128"] * complex_input)
    dtype = draw(st.sampled_from(kinds), label="dtype")
    layout = draw(st.sampled_from(["contiguous", "transposed"]), label="layout")
    return _data(shape, dtype, draw(st.integers(0, 2**16))), dtype, layout


# -- values ---------------------------------------------------------------------------------
ONE_AXIS = {  # name: (numpy function, takes complex input, gives a complex result)
    "fft": (np.fft.fft, True, True), "ifft": (np.fft.ifft, True, True),
    "rfft": (np.fft.rfft, False, True), "irfft": (np.fft.irfft, True, False),
    "hfft": (np.fft.hfft, True, False), "ihfft": (np.fft.ihfft, False, True),
}  # fmt: skip


@by_backend
@pytest.mark.parametrize("name", list(ONE_AXIS))
@DRAWN
@given(signal=_signals(), data=st.data())
def test_one_axis_transforms_match_numpy(backend, name, signal, data):
    reference, takes_complex, complex_out = ONE_AXIS[name]
    values, dtype, layout = signal
    if dtype.startswith("complex") and not takes_complex:
        values, dtype = values.real.astype(RESULT[dtype][1]), RESULT[dtype][1]
    axis = data.draw(st.integers(-values.ndim, values.ndim - 1), label="axis")
    length = values.shape[axis]
    n = data.draw(st.sampled_from([None, 1, length + 3, max(1, length - 1)]), label="n")
    if n is None and name in ("irfft", "hfft") and length == 1:
        n = 2  # the default output length 2 * (1 - 1) is an error (tested below)
    norm = data.draw(st.sampled_from(NORMS), label="norm")
    got = getattr(mt.fft, name)(_tensor(values, backend, layout), n=n, axis=axis, norm=norm)
    expected = reference(values, n=n, axis=axis, norm=norm)
    what = f"fft.{name} of {dtype} {values.shape} ({layout}), n={n}, axis={axis}, norm={norm}"
    assert got.dtype.name == RESULT[dtype][0 if complex_out else 1], what
    _check(got, expected, dtype, what)


N_AXES = {  # name: (numpy function, takes complex input, gives a complex result)
    "fftn": (np.fft.fftn, True, True), "ifftn": (np.fft.ifftn, True, True),
    "rfftn": (np.fft.rfftn, False, True), "irfftn": (np.fft.irfftn, True, False),
}  # fmt: skip


@st.composite
def _axes_and_sizes(draw, shape):
    """(s, axes) in the standard's forms: axes None (all, or the last len(s)), a
    permutation of some axes (negative ones too), s None or with -1 for 'unchanged'."""
    rank = len(shape)
    if draw(st.booleans(), label="axes given"):
        count = draw(st.integers(1, rank))
        chosen = draw(st.permutations(range(rank)))[:count]
        axes = tuple(a - rank if draw(st.booleans()) else a for a in chosen)
    else:
        axes = None
    count = rank if axes is None else len(axes)
    if not draw(st.booleans(), label="s given"):
        return None, axes
    s = tuple(draw(st.sampled_from([-1, 2, 3, 6])) for _ in range(count))
    if axes is None and draw(st.booleans(), label="s names the last axes only"):
        s = s[-draw(st.integers(1, count)) :]
    return s, axes


@by_backend
@pytest.mark.parametrize("name", list(N_AXES))
@DRAWN
@given(signal=_signals(), data=st.data())
def test_n_axis_transforms_match_numpy(backend, name, signal, data):
    reference, takes_complex, complex_out = N_AXES[name]
    values, dtype, layout = signal
    if dtype.startswith("complex") and not takes_complex:
        values, dtype = values.real.astype(RESULT[dtype][1]), RESULT[dtype][1]
    s, axes = data.draw(_axes_and_sizes(values.shape), label="s, axes")
    norm = data.draw(st.sampled_from(NORMS), label="norm")
    along = _axes_of(values, s, axes)
    default_last = s is None or s[-1] == -1
    if name == "irfftn" and default_last and values.shape[along[-1]] == 1:
        s = (*(s or (-1,) * len(along))[:-1], 2)  # 2 * (1 - 1) is an error (tested below)
    got = getattr(mt.fft, name)(_tensor(values, backend, layout), s=s, axes=axes, norm=norm)
    sizes = None
    if s is not None:
        sizes = [values.shape[a] if v == -1 else v for a, v in zip(along, s, strict=True)]
        if name == "irfftn" and s[-1] == -1:
            sizes[-1] = 2 * (values.shape[along[-1]] - 1)
    expected = reference(values, s=sizes, axes=along, norm=norm)
    what = f"fft.{name} of {dtype} {values.shape} ({layout}), s={s}, axes={axes}, norm={norm}"
    assert got.dtype.name == RESULT[dtype][0 if complex_out else 1], what
    _check(got, expected, dtype, what)


def _axes_of(values, s, axes):
    if axes is not None:
        return list(axes)
    count = values.ndim if s is None else len(s)
    return list(range(values.ndim - count, values.ndim))


@by_backend
def test_two_axis_and_hermitian_n_axis_spellings(backend):
    torch = pytest.importorskip("torch")
    real = _data((3, 4, 5), "float64", 1)
    cplx = _data((3, 4, 5), "complex128", 2)
    inputs = {"fft2": cplx, "ifft2": cplx, "rfft2": real, "irfft2": cplx, "hfft2": cplx,
              "ihfft2": real, "hfftn": cplx, "ihfftn": real}  # fmt: skip
    for name, values in inputs.items():
        ours, theirs = getattr(mt.fft, name), getattr(torch.fft, name)
        for kwargs in [{}, {"s": (3, 6)}, {"dim": (0, 2)}, {"norm": "ortho"}]:
            got = ours(_tensor(values, backend), **kwargs)
            expected = theirs(torch.from_numpy(values), **kwargs).numpy()
            _check(got, expected, "float64", f"fft.{name} with {kwargs} against torch.fft")
    assert_close(mt.fft.fft2(mt.asarray(cplx)).numpy(), np.fft.fft2(cplx), "fft2", 1e-9, 1e-9)


@by_backend
def test_edge_shapes(backend):
    empty_batch = np.zeros((0, 4))
    assert mt.fft.fft(_tensor(empty_batch, backend)).shape == (0, 4)
    assert mt.fft.rfft(_tensor(empty_batch, backend)).shape == (0, 3)
    assert mt.fft.irfft(_tensor(empty_batch, backend), n=6).shape == (0, 6)
    scalar = mt.fft.fftn(mt.asarray(2.5, device=backend))  # no axes: a complex copy
    assert scalar.shape == () and scalar.dtype == mt.complex64 and scalar.item() == 2.5
    one = _tensor(np.array([3.0]), backend)
    assert mt.fft.fft(one).tolist() == [3.0 + 0j]
    assert mt.fft.irfft(one, n=1).tolist() == [3.0]


# -- frequencies and shifts -----------------------------------------------------------------
@by_backend
@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("d", [1.0, 0.1, 3])
def test_frequencies_match_numpy(backend, n, d):
    for name in ("fftfreq", "rfftfreq"):
        got = getattr(mt.fft, name)(n, d=d, device=backend)
        assert got.dtype == mt.get_default_dtype() and got.backend == backend
        expected = getattr(np.fft, name)(n, d=d)
        assert_close(got.numpy(), expected.astype(np.float32), f"{name}({n}, d={d})", 0, 0)
        wide = getattr(mt.fft, name)(n, d, dtype=mt.float64, device=backend)
        assert_close(wide.numpy(), expected, f"{name}({n}, {d}, dtype=float64)", 0, 0)
    assert mt.fft.fftfreq(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("backend", LOADED)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 5, 4), (0, 3)])
def test_shifts_match_numpy(backend, shape):
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    x = _tensor(values, backend)
    for name in ("fftshift", "ifftshift"):
        ours, reference = getattr(mt.fft, name), getattr(np.fft, name)
        assert_close(ours(x).numpy(), reference(values), name, 0, 0)
        assert_close(ours(x, axes=-1).numpy(), reference(values, axes=-1), name, 0, 0)
        assert_close(ours(x, dim=(0,)).numpy(), reference(values, axes=(0,)), name, 0, 0)
    x = mt.asarray(values, dtype=mt.float64, device=backend).requires_grad_()
    assert gradcheck(lambda t: mt.fft.ifftshift(mt.fft.fftshift(t) * 2.0, axes=0), [x])


# -- gradients ------------------------------------------------------------------------------
def _real(values, backend):
    return mt.asarray(values, dtype=mt.float64, device=backend).requires_grad_()


# name: a real-valued function of a real tensor, given the fft module and `real` (a
# function here, a property in PyTorch)
GRADIENT_CASES = {
    "rfft abs": lambda f, re, t: f.rfft(t, n=7).abs(),
    "rfft real": lambda f, re, t: re(f.rfft(t, dim=0, norm="ortho")),
    "fft abs": lambda f, re, t: f.fft(t, n=3, norm="forward").abs(),
    "ifft abs": lambda f, re, t: f.ifft(t, dim=0).abs(),
    "irfft": lambda f, re, t: f.irfft(t, n=6),
    "irfft odd n": lambda f, re, t: f.irfft(t, n=5, norm="ortho"),
    "hfft": lambda f, re, t: f.hfft(t, dim=0),
    "ihfft abs": lambda f, re, t: f.ihfft(t, n=6, norm="forward").abs(),
    "fftn abs": lambda f, re, t: f.fftn(t, s=(3, 5)).abs(),
    "rfftn abs": lambda f, re, t: f.rfftn(t, dim=(1, 0), norm="ortho").abs(),
    "irfftn": lambda f, re, t: f.irfftn(t, s=(2, 6)),
    "rfft then irfft": lambda f, re, t: f.irfft(f.rfft(t) * 2.0, n=5),
    "fft then ifft": lambda f, re, t: re(f.ifft(f.fft(t, dim=0) * 0.5, dim=0)),
    "rfft2 then irfft2": lambda f, re, t: f.irfft2(f.rfft2(t, s=(3, 4)), s=(4, 5)),
    "fftshift of fft": lambda f, re, t: f.fftshift(f.fft(t).abs(), dim=1),
}


def _mt(case, t):
    return GRADIENT_CASES[case](mt.fft, mt.real, t)


def _torch(torch, case, t):
    return GRADIENT_CASES[case](torch.fft, lambda z: z.real, t)


@by_backend
@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_gradients_against_central_differences(backend, case):
    x = _real(_data((4, 5), "float64", 3), backend)
    assert gradcheck(lambda t: _mt(case, t), [x], name=f"fft: {case}")


@by_backend
@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_gradients_against_torch(backend, case):
    torch = pytest.importorskip("torch")
    values = _data((4, 5), "float64", 4)
    tx = torch.from_numpy(values).requires_grad_()
    out = _torch(torch, case, tx)
    weights = _data(tuple(out.shape), "float64", 5)
    (out * torch.from_numpy(weights)).sum().backward()
    x = _real(values, backend)
    (_mt(case, x) * mt.asarray(weights, device=backend)).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), f"gradient of fft: {case} vs torch", 1e-9, 1e-9)


@by_backend
def test_float32_gradients_stay_float32(backend):
    x = mt.asarray(_data((6,), "float32", 6), device=backend).requires_grad_()
    mt.fft.irfft(mt.fft.rfft(x), n=6).sum().backward()
    assert x.grad.dtype == mt.float32
    assert_close(x.grad.numpy(), np.full(6, 1.0, np.float32), "d sum(irfft(rfft x)) / dx", 0, 1e-5)


@by_backend
def test_second_order_gradient(backend):
    x = _real(_data((6,), "float64", 7), backend)

    def energy_gradient(t):
        with mt.enable_grad():  # gradcheck's central differences run without a graph
            leaf = t if t.requires_grad else t.detach().requires_grad_()
            energy = mt.real(mt.fft.rfft(leaf, norm="ortho")).pow(2).sum()
            (g,) = mt.autograd.grad(energy, [leaf], create_graph=True)
            return g * mt.fft.irfft(mt.fft.rfft(leaf), n=6)

    assert gradcheck(energy_gradient, [x], name="fft: second order through rfft")


@by_backend
@pytest.mark.parametrize("case", ["complex filter", "imag"])
def test_gradients_through_complex_elementwise_ops(backend, case):
    torch = pytest.importorskip("torch")
    values = _data((6,), "float64", 8)
    kernel = _data((4,), "complex128", 9)
    x, tx = _real(values, backend), torch.from_numpy(values).requires_grad_()
    if case == "imag":
        mt.imag(mt.fft.rfft(x)).sum().backward()
        torch.fft.rfft(tx).imag.sum().backward()
    else:
        filtered = mt.fft.irfft(mt.fft.rfft(x) * mt.asarray(kernel, device=backend), n=6)
        filtered.pow(2).sum().backward()
        torch.fft.irfft(torch.fft.rfft(tx) * torch.from_numpy(kernel), n=6).pow(2).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), f"gradient through {case}", 1e-9, 1e-9)


# -- signatures and errors ------------------------------------------------------------------
def test_signatures_follow_the_standard_and_take_torch_spellings():
    for name in ("fft", "ifft", "fftn", "rfft", "irfftn", "hfft", "fftshift", "fftfreq"):
        first = next(iter(inspect.signature(getattr(mt.fft, name)).parameters.values()))
        assert first.kind is inspect.Parameter.POSITIONAL_ONLY, f"fft.{name}: {first}"
    x = mt.asarray(_data((3, 4), "float64", 10))
    same = [mt.fft.fft(x, 6, 0, "ortho"), mt.fft.fft(x, n=6, dim=0, norm="ortho"),
            mt.fft.fft(x, n=6, axis=0, norm="ortho")]  # fmt: skip
    for t in same[1:]:
        assert_close(t.numpy(), same[0].numpy(), "fft positional vs keyword", 0, 0)
    assert_close(mt.fft.fftn(x, None, (0,)).numpy(), mt.fft.fftn(x, dim=0).numpy(), "fftn", 0, 0)
    assert set(mt.fft.__all__) >= {
        "fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
        "fftfreq", "rfftfreq", "fftshift", "ifftshift",
    }  # fmt: skip
    assert mt.fft is mt.__dict__["fft"] and "fft" in mt.__all__


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: mt.fft.fft(x, n=0), ValueError, r"fft\.fft\(\): n must be >= 1, got 0"),
        (lambda x: mt.fft.rfft(x, n=2.0), TypeError, r"fft\.rfft\(\): n must be an int"),
        (lambda x: mt.fft.ifft(x, axis=2), IndexError, r"fft\.ifft\(\): dim 2 is out of range"),
        (lambda x: mt.fft.fft(x, norm="unitary"), ValueError, r"fft\.fft\(\): norm must be"),
        (lambda x: mt.fft.fft(x, axis=0, dim=1), TypeError, r"both axis=0 and dim=1"),
        (lambda x: mt.fft.fftn(x, axes=(0, -2)), ValueError, r"fft\.fftn\(\): axes \(0, 0\)"),
        (lambda x: mt.fft.fftn(x, s=(2, 2), axes=(0,)), ValueError, r"same length"),
        (lambda x: mt.fft.fftn(x, s=(2, 2, 2)), ValueError, r"names 3 axes"),
        (lambda x: mt.fft.irfftn(x, s=(3, 0)), ValueError, r"s must be >= 1 \(or -1"),
        (lambda x: mt.fft.rfft(x.astype(mt.complex64)), TypeError, r"fft\.rfft\(\): needs a real"),
        (lambda x: mt.fft.rfftn(x, axes=()), ValueError, r"at least one axis"),
        (lambda x: mt.fft.irfft(x[:, :1]), ValueError, r"default output length .* is 0"),
        (lambda x: mt.fft.fft(x[:, :0]), ValueError, r"axis 1 of the input .* is empty"),
        (lambda x: mt.fft.fft(x[0, 0]), IndexError, r"fft\.fft\(\): needs a tensor of rank"),
        (lambda x: mt.fft.fft(x.numpy()), TypeError, r"fft\.fft\(\): input must be a Tensor"),
        (lambda x: mt.fft.fftfreq(0), ValueError, r"fft\.fftfreq\(\): n must be >= 1"),
        (lambda x: mt.fft.rfftfreq(4, d=0), ValueError, r"d \(the sample spacing\)"),
        (lambda x: mt.fft.fftfreq(4, dtype=mt.int64), TypeError, r"floating-point dtype"),
        (lambda x: mt.fft.fftshift(x, axes=3), IndexError, r"fft\.fftshift\(\): dim 3"),
    ],
)
def test_bad_arguments_name_the_function(call, error, message):
    x = mt.asarray(_data((2, 3), "float32", 11))
    before = x.numpy().copy()
    with pytest.raises(error, match=message):
        call(x)
    assert_close(x.numpy(), before, "a failed call leaves its input alone", 0, 0)


@pytest.mark.parametrize("backend", REAL_ONLY)
def test_a_backend_without_complex_dtypes_says_so(backend):
    x = mt.asarray(np.arange(4.0), device=backend)
    for name in ("fft", "rfft", "irfft", "hfft", "ihfft"):
        with pytest.raises(UnsupportedDTypeError, match=rf"fft\.{name}\(\): backend"):
            getattr(mt.fft, name)(x)
    assert mt.fft.fftshift(x).tolist() == [2.0, 3.0, 0.0, 1.0]
