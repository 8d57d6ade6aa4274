"""float16 and bfloat16 against PyTorch: promotion, edge-value arithmetic bit for bit on
numpy_ref and numba_cpu, float32 accumulation, conversions, serialization, errors."""

import warnings

import ml_dtypes
import numpy as np
import pytest

import mytensor as mt

torch = pytest.importorskip("torch")

HALVES = {"float16": (mt.float16, torch.float16), "bfloat16": (mt.bfloat16, torch.bfloat16)}
OTHERS = {
    "bool": (mt.bool_, torch.bool), "uint8": (mt.uint8, torch.uint8), "int8": (mt.int8, torch.int8),
    "int32": (mt.int32, torch.int32), "int64": (mt.int64, torch.int64),
    "float32": (mt.float32, torch.float32), "float64": (mt.float64, torch.float64),
    "complex64": (mt.complex64, torch.complex64), **HALVES,
}  # fmt: skip
BACKENDS = ("numpy_ref", "numba_cpu")


@pytest.mark.parametrize("half", HALVES)
def test_promotion_matches_pytorch(half):
    m, t = HALVES[half]
    for name, (mo, to) in OTHERS.items():
        expected = str(torch.promote_types(t, to)).removeprefix("torch.")
        assert mt.promote_types(m, mo).name == expected, name
        assert mt.promote_types(mo, m).name == expected, name
    x = mt.ones(2, dtype=m)
    assert (x * 2.5).dtype is m and (x + 1).dtype is m and (2.5 - x).dtype is m
    assert (mt.ones(2, dtype=mt.int32) + x).dtype is m
    assert mt.isdtype(m, "real floating") and m.is_floating_point


@pytest.mark.parametrize("half", HALVES)
def test_finfo_matches_pytorch(half):
    m, t = HALVES[half]
    got, want = mt.finfo(m), torch.finfo(t)
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(got, field) == getattr(want, field), field
    assert got.dtype is m


def _grid(dtype):
    """Edge values of a 16-bit float: signed zeros, infinities, NaN, subnormals, extremes,
    and a few ordinary values."""
    info = torch.finfo(dtype)
    base = [0.0, -0.0, float("inf"), -float("inf"), float("nan"), info.tiny, -info.tiny,
            info.tiny / 4, -info.tiny / 8, info.max, -info.max, info.eps, 1.0, -1.5, 3.25,
            0.1, -7.0, 100.0]  # fmt: skip
    return torch.tensor(base, dtype=torch.float32).to(dtype)


def _same_bits(got, want, what):
    g = got.numpy().view(np.uint16).astype(np.int64)
    w = want.view(torch.int16).numpy().astype(np.uint16).astype(np.int64)
    got_nan = np.isnan(got.numpy().astype(np.float32))
    want_nan = torch.isnan(want.float()).numpy()
    assert (got_nan == want_nan).all(), f"{what}: NaN positions differ"
    differ = ~got_nan & (g != w)
    assert not differ.any(), f"{what}: bits differ at {np.nonzero(differ)[0].tolist()}"


_UNARY = ("neg", "abs", "sqrt", "floor", "exp")
_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("half", HALVES)
def test_elementwise_bits_match_pytorch(backend, half):
    m, t = HALVES[half]
    grid = _grid(t)
    a_t, b_t = grid.repeat_interleave(len(grid)), grid.repeat(len(grid))  # every pair
    with mt.use_backend(backend):
        x = mt.tensor(grid.float().numpy()).to(m)
        a, b = mt.tensor(a_t.float().numpy()).to(m), mt.tensor(b_t.float().numpy()).to(m)
        for op in _UNARY:
            _same_bits(getattr(mt, op)(x), getattr(torch, op)(grid), f"{op} {half} {backend}")
        for op in _BINARY:
            got = getattr(mt, op)(a, b)
            assert got.dtype is m
            _same_bits(got, getattr(torch, op)(a_t, b_t), f"{op} {half} {backend}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("half", HALVES)
def test_reductions_and_matmul_accumulate_in_float32(backend, half):
    m, t = HALVES[half]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 64)).astype(np.float32)
    b = rng.standard_normal((64, 5)).astype(np.float32)
    with mt.use_backend(backend):
        assert mt.ones(4096, dtype=m).sum().item() == 4096.0  # a 16-bit sum stalls at 256
        x, y = mt.tensor(a).to(m), mt.tensor(b).to(m)
        xt, yt = torch.tensor(a).to(t), torch.tensor(b).to(t)
        for got, want in ((x.sum(1), xt.sum(1)), (x.mean(0), xt.mean(0)), (x @ y, xt @ yt)):
            assert got.dtype is m
            np.testing.assert_allclose(got.numpy().astype(np.float32), want.float().numpy(),
                                       rtol=torch.finfo(t).eps, atol=1e-6)  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_flow_in_half(backend):
    with mt.use_backend(backend):
        x = mt.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
        w = mt.tensor([[1.0, 2.0, 3.0]]).bfloat16().requires_grad_()
        loss = mt.nn.functional.softmax(x.bfloat16() * w, dim=1).sum()
        loss.backward()
    assert w.grad.dtype is mt.bfloat16 and x.grad.dtype is mt.float32


@pytest.mark.parametrize("half", HALVES)
def test_linear_with_bias_rounds_once_as_pytorch(half):
    # PyTorch's addmm adds the bias in float32 and rounds once; product-then-add rounded
    # twice and put a third of a bfloat16 layer's outputs one ulp off
    m, t = HALVES[half]
    rng = np.random.default_rng(3)
    x, w, b = (rng.uniform(-2, 2, size=s).astype(np.float32) for s in ((2, 5, 2), (16, 2), (16,)))
    xt, wt, bt = (torch.tensor(a).to(t).requires_grad_() for a in (x, w, b))
    mx, mw, mb = (mt.tensor(a).to(m).requires_grad_() for a in (x, w, b))
    want, got = torch.nn.functional.linear(xt, wt, bt), mt.nn.functional.linear(mx, mw, mb)
    assert got.shape == (2, 5, 16) and got.dtype is m
    _same_bits(got.detach().flatten(), want.detach().flatten(), f"linear {half}")
    want.sum().backward(), got.sum().backward()
    for p, pt in ((mx, xt), (mw, wt), (mb, bt)):
        _same_bits(p.grad.flatten(), pt.grad.flatten(), f"linear grad {half}")
    with mt.autocast("cpu", dtype=m), torch.autocast("cpu", dtype=t):
        args = [a.detach().float() for a in (mx, mw, mb)]
        got = mt.nn.functional.linear(*args)
        want = torch.nn.functional.linear(*(a.detach().float() for a in (xt, wt, bt)))
    _same_bits(got.flatten(), want.flatten(), f"autocast linear {half}")


def test_float16_overflow_to_inf_is_silent():
    # inf is the specified result (GradScaler skips such steps); numpy's warning was noise
    with mt.use_backend("numpy_ref"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = mt.full((2, 2), 300.0, dtype=mt.float16) @ mt.full((2, 2), 300.0, dtype=mt.float16)
        assert mt.isinf(y).all() and mt.isinf(mt.tensor([1e5]).half()).all()


def test_conversions():
    x = mt.tensor([1.0, 1.00390625, -0.0, 70000.0])
    assert x.half().dtype is mt.float16 and x.half().tolist()[3] == float("inf")
    b = x.bfloat16()
    assert b.dtype is mt.bfloat16 and x.to(mt.bfloat16).dtype is mt.bfloat16
    assert b.tolist() == [1.0, 1.0, -0.0, 70144.0]  # round to nearest even
    assert b.numpy().dtype == ml_dtypes.bfloat16 and isinstance(b[0].item(), float)
    assert mt.tensor([1.5], dtype=mt.bfloat16).dtype is mt.bfloat16
    assert mt.tensor(np.ones(2, np.float16)).dtype is mt.float16
    assert mt.from_numpy(np.ones(2, ml_dtypes.bfloat16)).dtype is mt.bfloat16
    assert repr(mt.tensor([1.5, -2.0]).bfloat16()) == "tensor([ 1.5, -2. ], dtype=bfloat16)"
    assert x.half().type() == "mytensor.HalfTensor" and mt.half is mt.float16
    bn = mt.nn.Sequential(mt.nn.Linear(2, 2), mt.nn.BatchNorm1d(2))
    bn.half()
    assert bn[0].weight.dtype is mt.float16 and bn[1].running_mean.dtype is mt.float16
    assert bn[1].num_batches_tracked.dtype is mt.int64
    assert bn.bfloat16()[0].bias.dtype is mt.bfloat16


def test_safetensors_round_trip_read_by_pytorch(tmp_path):
    from safetensors.torch import load_file

    path = str(tmp_path / "half.safetensors")
    values = [1.5, -0.0, float("nan"), 1e-6, -65504.0]
    tensors = {"h": mt.tensor(values).half(), "b": mt.tensor(values).bfloat16()}
    mt.save(tensors, path)
    theirs = load_file(path)
    for name, ours in tensors.items():
        assert theirs[name].dtype is HALVES[ours.dtype.name][1]
        _same_bits(ours, theirs[name], name)
    back = mt.load(path)
    for name, ours in tensors.items():
        assert back[name].dtype is ours.dtype
        assert (back[name].numpy().view(np.uint16) == ours.numpy().view(np.uint16)).all()


def test_unsupported_backend_names_backend_dtype_and_fix():
    with pytest.raises(TypeError, match=r"backend 'minimal' does not support dtype bfloat16.*"
                                        r"x\.to\('numpy_ref'\)"):  # fmt: skip
        mt.ones(2, backend="minimal").to(mt.bfloat16)
    with pytest.raises(TypeError, match="unsupported dtype 'float128'"):
        mt.zeros(1, dtype="float128")
