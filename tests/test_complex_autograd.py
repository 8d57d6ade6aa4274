"""Gradients through complex intermediates against PyTorch's (its convention: the gradient
held for a complex z is dL/dRe(z) + i dL/dIm(z)). Complex tensors cannot require grad, so
every case starts from real leaves, builds the same complex values the same way in both
libraries (a cast to complex, a product with 1j, a transform) and compares the real
leaves' gradients, in float32/complex64 and float64/complex128, on every loaded backend
that holds complex numbers."""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt
from mytensor.autograd import gradcheck
from mytensor.conformance.checks import assert_close
from mytensor.core.ops.elementwise import _binary_op
from mytensor.core.primitives.elementwise import RULES, UNARY, Binary, zero_grad
from mytensor.core.registry import get_backend

LOADED = [info.name for info in mt.backends() if info.status == "loaded"]
COMPLEX_BACKENDS = [b for b in LOADED if mt.complex64 in get_backend(b).dtypes]
by_backend = pytest.mark.parametrize("backend", COMPLEX_BACKENDS)
by_precision = pytest.mark.parametrize("real", ["float32", "float64"])
COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}
TOL = {"float32": 2e-4, "float64": 1e-10}

# mytensor's unary ops that take complex input and have a gradient -> PyTorch's name
UNARY_TORCH = {
    "neg": "neg", "abs": "abs", "exp": "exp", "log": "log", "log1p": "log1p",
    "expm1": "expm1", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tanh": "tanh",
    "sign": "sgn", "reciprocal": "reciprocal", "acos": "acos", "acosh": "acosh",
    "asin": "asin", "asinh": "asinh", "atan": "atan", "atanh": "atanh", "cosh": "cosh",
    "sinh": "sinh", "tan": "tan", "log2": "log2", "log10": "log10", "real": "real",
    "imag": "imag", "conj": "conj_physical", "positive": "positive", "square": "square",
}  # fmt: skip
BINARY_TORCH = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "pow": "pow"}


def _values(shape, seed, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


class Pair:
    """The same real leaves in mytensor (on `backend`) and in PyTorch."""

    def __init__(self, torch, backend, real, *arrays):
        self.torch, self.real = torch, real
        self.mt = [mt.asarray(a.astype(real), device=backend).requires_grad_() for a in arrays]
        self.th = [torch.from_numpy(a.astype(real)).requires_grad_() for a in arrays]

    def complex_mt(self, re, im):
        """re + i im (two leaves) in mytensor: casts to complex and a product with 1j."""
        dtype = getattr(mt, COMPLEX_OF[self.real])
        return re.astype(dtype) + im.astype(dtype) * 1j

    def complex_torch(self, re, im):
        dtype = getattr(self.torch, COMPLEX_OF[self.real])
        return re.to(dtype) + im.to(dtype) * 1j

    def check(self, what, scale=1.0):
        tol = TOL[self.real] * scale
        for i, (got, want) in enumerate(zip(self.mt, self.th, strict=True)):
            if want.grad is None:  # a leaf the loss does not use
                assert got.grad is None, f"{what}: leaf {i} is unused but got a gradient"
                continue
            assert got.grad is not None, f"{what}: leaf {i} got no gradient"
            assert got.grad.dtype.name == self.real, f"{what}: leaf {i}: {got.grad.dtype}"
            expected = want.grad.numpy()
            assert_close(got.grad.numpy(), expected, f"{what}: gradient of leaf {i}", tol, tol)


def _weights(shape, real, seed):
    """Complex weights, so the loss real(sum(w * y)) reads both parts of y."""
    values = _values(shape, seed) + 1j * _values(shape, seed + 1)
    return np.asarray(values, dtype=COMPLEX_OF[real])


def _loss_mt(y, w, backend):
    if y.dtype.kind != "complex":
        return (y * mt.asarray(w.real.copy(), device=backend)).sum()
    return mt.real(y * mt.asarray(w, device=backend)).sum()


def _loss_torch(torch, y, w):
    if not y.is_complex():
        return (y * torch.from_numpy(w.real.copy())).sum()
    return (y * torch.from_numpy(w)).real.sum()


# -- unary ----------------------------------------------------------------------------------
def test_every_complex_unary_op_with_a_gradient_is_compared():
    takes_complex = {u.name for u in UNARY if "complex" in RULES[u.rule].accepts}
    with_grad = {u.name for u in UNARY if u.complex_rule() not in (None, zero_grad)}
    assert takes_complex & with_grad <= set(UNARY_TORCH), takes_complex & with_grad


@by_backend
@by_precision
@pytest.mark.parametrize("name", list(UNARY_TORCH))
def test_unary_gradients_against_torch(backend, real, name):
    torch = pytest.importorskip("torch")
    # away from the branch cuts, which lie on the axes
    pair = Pair(torch, backend, real, _values((2, 3), 1, 0.3, 1.2), _values((2, 3), 2, 0.2, 0.9))
    w = _weights((2, 3), real, 3)
    y = getattr(mt, name)(pair.complex_mt(*pair.mt))
    _loss_mt(y, w, backend).backward()
    y_torch = getattr(torch, UNARY_TORCH[name])(pair.complex_torch(*pair.th))
    _loss_torch(torch, y_torch, w).backward()
    pair.check(f"{name} of complex {COMPLEX_OF[real]}")


@by_backend
@pytest.mark.parametrize("name", ["abs", "sign"])
def test_abs_and_sign_have_zero_gradient_at_zero(backend, name):
    torch = pytest.importorskip("torch")
    re, im = np.array([0.0, 0.0, 0.6]), np.array([0.0, 0.5, -0.8])
    pair = Pair(torch, backend, "float64", re, im)
    w = _weights((3,), "float64", 4)
    _loss_mt(getattr(mt, name)(pair.complex_mt(*pair.mt)), w, backend).backward()
    torch_fn = getattr(torch, UNARY_TORCH[name])
    _loss_torch(torch, torch_fn(pair.complex_torch(*pair.th)), w).backward()
    pair.check(f"{name} at 0")
    assert pair.mt[0].grad.numpy()[0] == 0.0 and pair.mt[1].grad.numpy()[0] == 0.0


# -- binary ---------------------------------------------------------------------------------
@by_backend
@by_precision
@pytest.mark.parametrize("name", list(BINARY_TORCH))
def test_binary_gradients_against_torch(backend, real, name):
    torch = pytest.importorskip("torch")
    low = 0.3 if name == "pow" else -1.0
    arrays = [_values((3, 1), 5, low, 1.2), _values((3, 1), 6), _values((4,), 7, 0.4, 1.2),
              _values((4,), 8)]  # fmt: skip
    pair = Pair(torch, backend, real, *arrays)
    w = _weights((3, 4), real, 9)
    a, b = pair.complex_mt(*pair.mt[:2]), pair.complex_mt(*pair.mt[2:])
    _loss_mt(getattr(mt, name)(a, b), w, backend).backward()  # (3, 1) with (4,): broadcast
    ta, tb = pair.complex_torch(*pair.th[:2]), pair.complex_torch(*pair.th[2:])
    _loss_torch(torch, getattr(torch, BINARY_TORCH[name])(ta, tb), w).backward()
    pair.check(f"{name} of complex {COMPLEX_OF[real]} operands, broadcast")


# z complex, x a real tensor: the same expression in either library
MIXED = {
    "z * 2j": lambda z, x: z * 2j, "(1 - 2j) / z": lambda z, x: (1 - 2j) / z,
    "z ** 2": lambda z, x: z**2, "z ** 0.5": lambda z, x: z**0.5,
    "(0.5 + 1j) ** z": lambda z, x: (0.5 + 1j) ** z, "x * z": lambda z, x: x * z,
    "z / x": lambda z, x: z / x, "x ** z": lambda z, x: x**z, "z - x": lambda z, x: z - x,
}  # fmt: skip


@by_backend
@by_precision
@pytest.mark.parametrize("case", list(MIXED))
def test_complex_operand_with_scalar_or_real_tensor(backend, real, case):
    torch = pytest.importorskip("torch")
    pair = Pair(torch, backend, real, _values(5, 10, 0.3, 1.0), _values(5, 11),
                _values(5, 12, 0.5, 1.5))  # fmt: skip
    w = _weights((5,), real, 13)
    _loss_mt(MIXED[case](pair.complex_mt(*pair.mt[:2]), pair.mt[2]), w, backend).backward()
    y_torch = MIXED[case](pair.complex_torch(*pair.th[:2]), pair.th[2])
    _loss_torch(torch, y_torch, w).backward()
    pair.check(case)


@by_backend
@pytest.mark.parametrize("exponent", [0.0, 2.0, 1.5 + 0.5j, -1.0 + 0.0j])
def test_pow_at_a_zero_base(backend, exponent):
    torch = pytest.importorskip("torch")
    pair = Pair(torch, backend, "float64", np.array([0.0, 0.7]), np.array([0.0, -0.4]),
                np.array([exponent.real] * 2), np.array([np.imag(exponent)] * 2))  # fmt: skip
    w = _weights((2,), "float64", 14)
    y = pair.complex_mt(*pair.mt[:2]) ** pair.complex_mt(*pair.mt[2:])
    _loss_mt(y, w, backend).backward()
    y_torch = pair.complex_torch(*pair.th[:2]) ** pair.complex_torch(*pair.th[2:])
    _loss_torch(torch, y_torch, w).backward()
    pair.check(f"0 ** {exponent}")


def test_a_complex_operand_op_without_a_complex_rule_is_refused_at_definition():
    spec = Binary("twice", "arith", lambda g, a, b, y: (g, g), "", np.add)
    with pytest.raises(RuntimeError, match="twice: an op that takes complex operands"):
        _binary_op(spec)


# -- casts, layouts, shapes -----------------------------------------------------------------
@by_backend
@pytest.mark.parametrize(("first", "second"), [("complex64", "complex128"),
                                               ("complex128", "complex64")])  # fmt: skip
def test_casts_between_complex_dtypes(backend, first, second):
    torch = pytest.importorskip("torch")
    pair = Pair(torch, backend, "float64", _values((4,), 15), _values((4,), 16))
    w = _weights((4,), "float64", 17).astype(second)
    re, im = pair.mt
    z = re.astype(getattr(mt, first)) * (1 - 1j) + im.astype(getattr(mt, first)) * 1j
    _loss_mt(z.astype(getattr(mt, second)).exp(), w, backend).backward()
    tre, tim = pair.th
    tz = tre.to(getattr(torch, first)) * (1 - 1j) + tim.to(getattr(torch, first)) * 1j
    _loss_torch(torch, tz.to(getattr(torch, second)).exp(), w).backward()
    pair.check(f"{first} -> {second}", scale=1e6 if "complex64" in (first, second) else 1.0)


@by_backend
@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
def test_zero_d_and_empty(backend, shape):
    torch = pytest.importorskip("torch")
    pair = Pair(torch, backend, "float64", _values(shape, 18, 0.3, 1.0), _values(shape, 19))
    w = _weights(shape, "float64", 20)
    _loss_mt(pair.complex_mt(*pair.mt).log() * 1j, w, backend).backward()
    _loss_torch(torch, pair.complex_torch(*pair.th).log() * 1j, w).backward()
    pair.check(f"log of complex, shape {shape}")


@by_backend
def test_non_contiguous_leaves(backend):
    torch = pytest.importorskip("torch")
    pair = Pair(torch, backend, "float64", _values((3, 4), 21), _values((4, 3), 22))
    w = _weights((4, 3), "float64", 23)
    z = pair.complex_mt(pair.mt[0].mT, pair.mt[1][:, ::-1])
    _loss_mt(mt.sin(z) * mt.conj(z), w, backend).backward()
    tz = pair.complex_torch(pair.th[0].mT, pair.th[1].flip(-1))
    _loss_torch(torch, torch.sin(tz) * tz.conj(), w).backward()
    pair.check("sin(z) * conj(z) of transposed and reversed leaves")


# -- matmul and its compositions ------------------------------------------------------------
MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)), ((1, 3, 4), (2, 4, 2))]


@by_backend
@by_precision
@pytest.mark.parametrize(("left", "right"), MATMUL_SHAPES)
def test_matmul_against_torch(backend, real, left, right):
    torch = pytest.importorskip("torch")
    pair = Pair(torch, backend, real, _values(left, 24), _values(left, 25), _values(right, 26),
                _values(right, 27))  # fmt: skip
    out = mt.matmul(pair.complex_mt(*pair.mt[:2]), pair.complex_mt(*pair.mt[2:]))
    w = _weights(out.shape, real, 28)
    _loss_mt(out, w, backend).backward()
    t_out = torch.matmul(pair.complex_torch(*pair.th[:2]), pair.complex_torch(*pair.th[2:]))
    _loss_torch(torch, t_out, w).backward()
    pair.check(f"matmul {left} @ {right}")


@by_backend
def test_matmul_of_real_and_complex_and_vecdot(backend):
    torch = pytest.importorskip("torch")
    pair = Pair(torch, backend, "float64", _values((3, 4), 29), _values((4, 2), 30),
                _values((4, 2), 31))  # fmt: skip
    x, re, im = pair.mt
    z = pair.complex_mt(re, im)
    out = (x @ z) + mt.vecdot(z, z, axis=0)
    w = _weights(out.shape, "float64", 32)
    _loss_mt(out, w, backend).backward()
    tx, tre, tim = pair.th
    tz = pair.complex_torch(tre, tim)
    # torch's matmul does not promote: the cast is written out
    t_out = (tx.to(torch.complex128) @ tz) + torch.linalg.vecdot(tz, tz, dim=0)
    _loss_torch(torch, t_out, w).backward()
    pair.check("real @ complex + vecdot(z, z)")


# -- reductions, scans and views: linear ones pass g on, products conjugate ----------------
REDUCING = {  # the same call in either library (t: the library)
    "prod": lambda t, z: t.prod(z, 1), "cumprod": lambda t, z: t.cumprod(z, 1),
    "sum": lambda t, z: t.sum(z, 0), "mean": lambda t, z: t.mean(z, 1),
    "cumsum": lambda t, z: t.cumsum(z, 0), "flip": lambda t, z: t.flip(z, (1,)),
    "index": lambda t, z: z[[0, 2, 2]], "einsum": lambda t, z: t.einsum("ij,kj->ik", z, z),
    "cat": lambda t, z: t.cat([z, z * 2j]), "mT": lambda t, z: z.mT.reshape(2, 6),
}  # fmt: skip


@by_backend
@pytest.mark.parametrize("name", list(REDUCING))
@pytest.mark.parametrize("zeros", [0, 1, 2])
def test_reductions_scans_and_views(backend, name, zeros):
    torch = pytest.importorskip("torch")
    re, im = _values((3, 4), 38), _values((3, 4), 39)
    re[0, :zeros], im[0, :zeros] = 0.0, 0.0  # products: the exact rule for zero factors
    pair = Pair(torch, backend, "float64", re, im)
    y = REDUCING[name](mt, pair.complex_mt(*pair.mt))
    w = _weights(y.shape, "float64", 40)
    _loss_mt(y, w, backend).backward()
    _loss_torch(torch, REDUCING[name](torch, pair.complex_torch(*pair.th)), w).backward()
    pair.check(f"{name} of complex with {zeros} zeros in row 0")


# -- the fft filter, second order -----------------------------------------------------------
@by_backend
@by_precision
def test_fft_filter_with_a_complex_kernel(backend, real):
    torch = pytest.importorskip("torch")
    signal = _values((3, 8), 33)
    kernel = _weights((5,), real, 34)
    pair = Pair(torch, backend, real, signal)
    spectrum = mt.fft.rfft(pair.mt[0]) * mt.asarray(kernel, device=backend)
    mt.fft.irfft(spectrum, n=8).pow(2).sum().backward()
    t_spectrum = torch.fft.rfft(pair.th[0]) * torch.from_numpy(kernel)
    torch.fft.irfft(t_spectrum, n=8).pow(2).sum().backward()
    pair.check("irfft(rfft(x) * H)")


@by_backend
@pytest.mark.parametrize("name", ["exp", "abs", "sign", "imag"])
def test_second_order_against_central_differences(backend, name):
    re = mt.asarray(_values((4,), 35, 0.3, 1.0), device=backend).requires_grad_()
    im = mt.asarray(_values((4,), 36), device=backend).requires_grad_()
    w = mt.asarray(_weights((4,), "float64", 37), device=backend)

    def gradient(a, b):
        with mt.enable_grad():  # gradcheck's central differences run without a graph
            a = a if a.requires_grad else a.detach().requires_grad_()
            b = b if b.requires_grad else b.detach().requires_grad_()
            z = a.astype(mt.complex128) + b.astype(mt.complex128) * 1j
            y = getattr(mt, name)(z * z)
            loss = mt.real(y * w).sum() if y.dtype.kind == "complex" else (y * y).sum()
            grad_a, grad_b = mt.autograd.grad(loss, [a, b], create_graph=True)
            return grad_a * b + grad_b * a

    assert gradcheck(gradient, [re, im], name=f"second order through complex {name}")
