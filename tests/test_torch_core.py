"""PyTorch's core Tensor vocabulary (sizes, conversion, devices, default dtype, in-place
writes and their guard, `.data`, hooks, grad modes) against PyTorch itself."""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt

torch = pytest.importorskip("torch")

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
          "int32": torch.int32, "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8,
          "bool": torch.bool}  # fmt: skip


def both(values, dtype="float32", requires_grad=False):
    a = np.asarray(values, dtype=dtype)
    return (mt.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))  # fmt: skip


def same(ours, theirs):
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7)


# -- sizes ---------------------------------------------------------------------------------
def test_size_is_callable_and_an_int():
    x, t = both(np.zeros((2, 3, 4)))
    assert x.size() == t.size() and x.size(1) == t.size(1) and x.size(-1) == t.size(-1)
    assert x.size == t.numel() == 24 and isinstance(x.size, int)
    assert x.size().numel() == t.size().numel()
    assert (x.dim(), x.ndimension(), x.numel(), x.nelement()) == (
        t.dim(),
        t.ndimension(),
        t.numel(),
        t.nelement(),
    )
    assert x.element_size() == t.element_size()
    assert mt.zeros(()).size() == torch.zeros(()).size() == ()


@pytest.mark.parametrize("dim", [3, -4, 5])
def test_size_of_a_missing_dim_names_the_range(dim):
    x, t = both(np.zeros((2, 3, 4)))
    with pytest.raises(IndexError):
        t.size(dim)
    with pytest.raises(IndexError, match=rf"size\(\): dim {dim} is out of range.*\[-3, 2\]"):
        x.size(dim)


def test_size_of_a_0d_tensor_with_a_dim():
    with pytest.raises(IndexError, match="0-d"):
        mt.tensor(1.0).size(0)


# -- dtype and device conversion ---------------------------------------------------------
@pytest.mark.parametrize("method", ["float", "double", "long", "int", "short", "char", "byte",
                                    "bool"])  # fmt: skip
def test_dtype_methods(method):
    x, t = both([[-1.5, 0.0, 2.7]])
    same(getattr(x, method)(), getattr(t, method)())


def test_to_forms():
    x, t = both([1.0, 2.0])
    same(x.to(mt.float64), t.to(torch.float64))
    same(x.to(dtype=mt.int32), t.to(dtype=torch.int32))
    same(x.to("cpu", mt.float64), t.to("cpu", torch.float64))
    same(x.to(mt.device("cpu")), t.to(torch.device("cpu")))
    other, other_t = both([1], dtype="int64")
    same(x.to(other), t.to(other_t))
    assert x.to(x) is x and x.to(mt.float32) is x and x.to("cpu") is x
    assert x.to(mt.float32, copy=True) is not x
    with pytest.raises(TypeError, match=r"to\(\): expected a dtype, a device"):
        x.to(3.5)


def test_type_strings_and_conversions():
    x, t = both([1.0])
    assert x.type() == t.type().replace("torch.", "mytensor.")
    assert x.long().type() == "mytensor.LongTensor"
    same(x.type(mt.float64), t.type(torch.float64))
    same(x.type_as(mt.tensor([1], dtype=mt.int32)), t.type_as(torch.tensor([1], dtype=torch.int32)))
    assert (x.is_floating_point(), x.long().is_floating_point(), x.is_complex()) == (
        t.is_floating_point(),
        t.long().is_floating_point(),
        t.is_complex(),
    )
    assert x.cpu() is x


@pytest.mark.parametrize("name", ["new_zeros", "new_ones", "new_empty"])
def test_new_factories(name):
    x, t = both([1.0, 2.0], dtype="float64")
    ours, theirs = getattr(x, name)(2, 3), getattr(t, name)(2, 3)
    assert ours.shape == tuple(theirs.shape) and ours.dtype is mt.float64
    if name != "new_empty":
        same(ours, theirs)
    ours, theirs = getattr(x, name)((2,), dtype=mt.int32), getattr(t, name)((2,), dtype=torch.int32)
    assert (ours.shape, ours.dtype.name) == (tuple(theirs.shape), "int32")
    if name != "new_empty":
        same(ours, theirs)
    assert getattr(x, name)(2, requires_grad=True).requires_grad


def test_new_full_and_new_tensor():
    x, t = both([1], dtype="int32")
    same(x.new_full((2, 2), 7), t.new_full((2, 2), 7))
    same(x.new_tensor([1.9, 2.2]), t.new_tensor([1.9, 2.2]))
    same(x.new_tensor([1.9], dtype=mt.float64), t.new_tensor([1.9], dtype=torch.float64))


def test_device_objects():
    d = mt.device("cpu")
    assert (d.type, d.index) == (torch.device("cpu").type, torch.device("cpu").index)
    assert mt.ones(2).device == d and mt.ones(2, device=d).device.type == "cpu"
    assert mt.device("numpy_ref").backend == "numpy_ref"
    assert mt.device("cuda:0") == mt.device("cuda", 0) == mt.device("cuda")
    with pytest.raises(ValueError, match="one cuda device"):
        mt.device("cuda:1")
    with pytest.raises(ValueError, match="invalid device string"):
        mt.device("cuda:x")
    with pytest.raises(TypeError, match="device string"):
        mt.device(3)
    assert mt.cuda.is_available() in (True, False)
    assert mt.cuda.device_count() == (1 if mt.cuda.is_available() else 0)


def test_cuda_is_unavailable_without_the_backend(monkeypatch):
    from mytensor.core.registry import REGISTRY

    REGISTRY.discover()
    info = REGISTRY.infos.get("cuda")
    if info is not None:
        monkeypatch.setattr(info, "status", "unavailable")
    assert mt.cuda.is_available() is False


def test_dtype_aliases_match_pytorch():
    for ours, theirs in [(mt.float, torch.float), (mt.double, torch.double),
                         (mt.long, torch.long), (mt.int, torch.int), (mt.short, torch.short),
                         (mt.cfloat, torch.cfloat), (mt.cdouble, torch.cdouble)]:  # fmt: skip
        assert ours.name == str(theirs).removeprefix("torch.")


def test_default_dtype_affects_creation_and_promotion():
    assert mt.get_default_dtype().name == str(torch.get_default_dtype()).removeprefix("torch.")
    try:
        mt.set_default_dtype(mt.float64)
        torch.set_default_dtype(torch.float64)
        for make_ours, make_theirs in [
            (lambda m: m.tensor([1.5]), lambda: torch.tensor([1.5])),
            (lambda m: m.zeros(2), lambda: torch.zeros(2)),
            (lambda m: m.ones(1, 2), lambda: torch.ones(1, 2)),
            (lambda m: m.arange(0.0, 1.0, 0.5), lambda: torch.arange(0.0, 1.0, 0.5)),
            (lambda m: m.linspace(0, 1, 3), lambda: torch.linspace(0, 1, 3)),
            (lambda m: m.tensor([1, 2]) * 0.5, lambda: torch.tensor([1, 2]) * 0.5),
            (lambda m: m.tensor([1, 2]).exp(), lambda: torch.tensor([1, 2]).exp()),
            (lambda m: m.tensor([1j]), lambda: torch.tensor([1j])),
        ]:
            ours, theirs = make_ours(mt), make_theirs()
            assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), theirs
        assert mt.get_default_dtype() is mt.float64
        assert mt.__array_namespace_info__().default_dtypes()["real floating"] is mt.float64
    finally:
        mt.set_default_dtype(mt.float32)
        torch.set_default_dtype(torch.float32)
    assert mt.tensor([1.5]).dtype is mt.float32
    with pytest.raises(TypeError, match="only float32 or float64"):
        mt.set_default_dtype(mt.int64)


# -- creation from numpy -----------------------------------------------------------------
def test_from_numpy_shares_memory_and_as_tensor():
    a = np.arange(6.0).reshape(2, 3)
    ours, theirs = mt.from_numpy(a), torch.from_numpy(a)
    a[0, 0] = 42.0
    same(ours, theirs)
    ours[1, 1] = -1.0
    assert a[1, 1] == -1.0
    with pytest.raises(TypeError, match=r"numpy\.ndarray"):
        mt.from_numpy([1.0])
    b = np.zeros(2, dtype=np.float32)
    shared = mt.as_tensor(b)
    b[0] = 3.0
    assert shared.tolist() == torch.as_tensor(b).tolist() == [3.0, 0.0]
    same(mt.as_tensor([1, 2], dtype=mt.float64), torch.as_tensor([1, 2], dtype=torch.float64))
    x = mt.ones(2)
    assert mt.as_tensor(x) is x and mt.is_tensor(x) and not mt.is_tensor(b)
    same(mt.tensor([1.0], device="cpu", requires_grad=True),
         torch.tensor([1.0], device="cpu", requires_grad=True))  # fmt: skip


# -- arithmetic with PyTorch's keywords ---------------------------------------------------
def test_add_sub_alpha_and_in_place():
    x, t = both([1.0, 2.0])
    y, u = both([0.5, -1.0])
    same(x.add(y, alpha=3), t.add(u, alpha=3))
    same(x.sub(y, alpha=2), t.sub(u, alpha=2))
    same(x.clone().add_(y, alpha=-2), t.clone().add_(u, alpha=-2))
    same(x.clone().sub_(y, alpha=0.5), t.clone().sub_(u, alpha=0.5))
    same(x.multiply(y), t.multiply(u))
    same(x.subtract(y), t.subtract(u))
    same(x.true_divide(y), t.true_divide(u))


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_div_rounding_modes(mode, dtype):
    x, t = both([-7, -6, -1, 0, 1, 6, 7], dtype=dtype)
    for divisor in (2, -3):
        same(x.div(divisor, rounding_mode=mode), t.div(divisor, rounding_mode=mode))
        same(x.divide(divisor, rounding_mode=mode), t.divide(divisor, rounding_mode=mode))
    y, u = both([2, -3, 4, 5, -2, 4, 3], dtype=dtype)
    same(x.div(y, rounding_mode=mode), t.div(u, rounding_mode=mode))
    if mode is not None or dtype == "float32":
        same(x.clone().div_(y, rounding_mode=mode), t.clone().div_(u, rounding_mode=mode))
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(2, rounding_mode="round")


def test_clamp_in_place_and_shape_in_place():
    x, t = both([[-2.0, 0.5, 3.0]])
    same(x.clone().clamp_(-1.0, 1.0), t.clone().clamp_(-1.0, 1.0))
    same(x.clone().clamp_(min=0.0), t.clone().clamp_(min=0.0))
    a, b = x.clone(), t.clone()
    assert a.unsqueeze_(0) is a
    b.unsqueeze_(0)
    same(a, b)
    a.squeeze_()
    b.squeeze_()
    same(a, b)


def test_shape_methods_in_place_keep_the_graph():
    x, t = both([1.0, 2.0], requires_grad=True)
    y, u = x * 3, t * 3
    y.unsqueeze_(1)
    u.unsqueeze_(1)
    (y * y).sum().backward()
    (u * u).sum().backward()
    same(x.grad, t.grad)


# -- in-place writes and the guard --------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda v: v.zero_(), lambda v: v.fill_(2.0), lambda v: v.add_(1.0), lambda v: v.mul_(2.0),
    lambda v: v.clamp_(0.0, 1.0), lambda v: v.exp_(), lambda v: v.uniform_(),
    lambda v: v.copy_(v.detach() * 2),
])  # fmt: skip
def test_in_place_on_a_leaf_that_requires_grad_is_refused(call):
    x, t = both([0.5, 1.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        call(t)
    before = x.numpy().copy()
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*no_grad"):
        call(x)
    np.testing.assert_array_equal(x.numpy(), before)  # a failed call changes nothing
    with mt.no_grad():
        call(x)
    with torch.no_grad():
        call(t)
    assert x.requires_grad and x.is_leaf


def test_fill_zero_copy_match_pytorch_and_their_gradients():
    x, t = both(np.arange(6.0).reshape(2, 3), requires_grad=True)
    v, w = both(2.5, requires_grad=True)
    y, u = x * 1, t * 1
    y.fill_(v)
    u.fill_(w)
    z, s = (y * x).sum(), (u * t).sum()
    z.backward()
    s.backward()
    same(x.grad, t.grad)
    same(v.grad, w.grad)
    a, b = both(np.zeros((2, 3)))
    src, src_t = both([1.0, 2.0, 3.0], requires_grad=True)
    a.copy_(src)
    b.copy_(src_t)
    same(a, b)
    (a * a).sum().backward()
    (b * b).sum().backward()
    same(src.grad, src_t.grad)
    c, d = both([1, 2], dtype="int64")
    same(c.copy_(mt.tensor([3.7, -1.2])), d.copy_(torch.tensor([3.7, -1.2])))
    same(c.zero_(), d.zero_())
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        mt.zeros(2).copy_(mt.ones(3))
    with pytest.raises(TypeError, match="fill_"):
        mt.zeros(2).copy_(1.0)


def test_fill_of_a_non_leaf_with_a_constant_cuts_its_gradient():
    x, t = both([1.0, 2.0], requires_grad=True)
    y, u = x * 2, t * 2
    y.fill_(1.0)
    u.fill_(1.0)
    ((y + x) * x).sum().backward()
    ((u + t) * t).sum().backward()
    same(x.grad, t.grad)


def test_saved_tensor_modified_in_place_is_reported():
    x, t = both([1.0, 2.0], requires_grad=True)
    y, u = x.exp(), t.exp()
    z, s = y * y, u * u
    with torch.no_grad():
        u.add_(1.0)
    with pytest.raises(RuntimeError):
        s.sum().backward()
    with mt.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.sum().backward()


def test_apply_():
    x, t = both([1, 2, 3], dtype="int64")
    same(x.apply_(lambda v: v * v + 1), t.apply_(lambda v: v * v + 1))
    assert mt.zeros(0).apply_(lambda v: v + 1).shape == (0,)


# -- .data, detach_, hooks ----------------------------------------------------------------
def test_data_shares_memory_without_the_graph():
    x, t = both([1.0, 2.0], requires_grad=True)
    d, e = x.data, t.data
    assert not d.requires_grad and d.is_leaf
    d.mul_(3.0)  # allowed: autograd does not see writes through .data
    e.mul_(3.0)
    same(x, t)
    y, u = x * x, t * t
    x.data.add_(1.0)  # does not invalidate the saved x
    t.data.add_(1.0)
    y.sum().backward()
    u.sum().backward()
    same(x.grad, t.grad)
    x.data = mt.zeros(3, dtype=mt.float64)
    t.data = torch.zeros(3, dtype=torch.float64)
    same(x, t)
    assert x.requires_grad and x.is_leaf
    with pytest.raises(TypeError, match="data"):
        x.data = [1.0]


def test_detach_in_place():
    x, t = both([1.0], requires_grad=True)
    y, u = x * 2, t * 2
    assert y.detach_() is y
    u.detach_()
    assert (y.requires_grad, y.is_leaf) == (u.requires_grad, u.is_leaf) == (False, True)


def test_hooks_on_leaves_and_intermediates():
    x, t = both([1.0, -2.0, 3.0], requires_grad=True)
    seen, seen_t = [], []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    t.register_hook(lambda g: seen_t.append(g.numpy().copy()))
    y, u = x * x, t * t
    y.register_hook(lambda g: g * 10)
    u.register_hook(lambda g: g * 10)
    handle = y.register_hook(lambda g: g + 1)
    handle_t = u.register_hook(lambda g: g + 1)
    handle.remove()
    handle_t.remove()
    y.sum().backward()
    u.sum().backward()
    same(x.grad, t.grad)
    np.testing.assert_allclose(seen[0], seen_t[0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.ones(2).register_hook(lambda g: g)
    bad = mt.ones(2, requires_grad=True)
    bad.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="same shape"):
        (bad * 2).sum().backward()


def test_hooks_run_in_autograd_grad_and_with_retain_grad():
    x, t = both([1.0, 2.0], requires_grad=True)
    y, u = x * 3, t * 3
    y.retain_grad()
    u.retain_grad()
    y.register_hook(lambda g: g * 2)
    u.register_hook(lambda g: g * 2)
    (g,) = mt.autograd.grad(y.sum(), x, retain_graph=True)
    (h,) = torch.autograd.grad(u.sum(), t, retain_graph=True)
    same(g, h)
    y.sum().backward()
    u.sum().backward()
    same(y.grad, u.grad)
    same(x.grad, t.grad)


# -- grad modes -----------------------------------------------------------------------------
def test_set_grad_enabled_and_inference_mode():
    x, t = both([1.0], requires_grad=True)
    with mt.set_grad_enabled(False), torch.set_grad_enabled(False):
        assert (x * 2).requires_grad == (t * 2).requires_grad == False  # noqa: E712
        with mt.set_grad_enabled(True), torch.set_grad_enabled(True):
            assert (x * 2).requires_grad and (t * 2).requires_grad
    assert mt.is_grad_enabled()
    mt.set_grad_enabled(False)
    try:
        assert not mt.is_grad_enabled()
    finally:
        mt.set_grad_enabled(True)
    with mt.inference_mode():
        assert not (x * 2).requires_grad
    with mt.inference_mode(False):
        assert (x * 2).requires_grad

    @mt.no_grad()
    def doubled(v):
        return v * 2

    assert not doubled(x).requires_grad


def test_gradcheck_takes_one_tensor():
    x = mt.tensor([0.3, 0.7], dtype=mt.float64, requires_grad=True)
    assert mt.autograd.gradcheck(lambda v: (v * v).sin(), x)
    assert torch.autograd.gradcheck(lambda v: (v * v).sin(),
                                    torch.tensor([0.3, 0.7], dtype=torch.float64,
                                                 requires_grad=True))  # fmt: skip

    class Wrong(mt.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            return v * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    assert mt.autograd.gradcheck(Wrong.apply, x, raise_exception=False) is False
    with pytest.raises(mt.autograd.GradcheckError, match="element"):
        mt.autograd.gradcheck(Wrong.apply, x)


# -- namespace spellings ------------------------------------------------------------------
def test_numel_where_linspace_randint_spellings():
    x, t = both([[0.0, 1.5], [2.0, 0.0]])
    assert mt.numel(x) == torch.numel(t)
    for ours, theirs in zip(mt.where(x > 0), torch.where(t > 0), strict=True):
        same(ours, theirs)
    same(mt.linspace(0, 1, steps=5), torch.linspace(0, 1, steps=5))
    with pytest.raises(TypeError, match="once"):
        mt.linspace(0, 1, 3, steps=3)
    with pytest.raises(TypeError, match="both values"):
        mt.where(x > 0, x)
    mt.manual_seed(0)
    r = mt.randint(5, (3, 4))
    assert r.shape == tuple(torch.randint(5, (3, 4)).shape) and r.dtype is mt.int64
    assert bool(((r >= 0) & (r < 5)).all())
    assert mt.randint(0, 2, (2,), device="cpu").device.type == "cpu"


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "argmax", "argmin", "amax", "amin",
                                  "any", "all", "count_nonzero"])  # fmt: skip
def test_namespace_reductions_take_a_positional_dim(name):
    x, t = both([[1.0, 5.0, 0.0], [3.0, 0.0, 4.0]])
    same(getattr(mt, name)(x, 1), getattr(torch, name)(t, 1))
    same(getattr(mt, name)(x, dim=0), getattr(torch, name)(t, dim=0))
    if name != "count_nonzero":
        same(getattr(mt, name)(x, 1, True), getattr(torch, name)(t, 1, True))
        with pytest.raises(TypeError, match="both positionally and as a keyword"):
            getattr(mt, name)(x, 1, dim=1)
    same(getattr(mt, name)(x, axis=1), getattr(torch, name)(t, dim=1))  # the array API's


def test_namespace_joins_flip_diff_take_a_positional_dim():
    x, t = both([[1.0, 5.0, 0.0], [3.0, 0.0, 4.0]])
    same(mt.stack([x, x], 1), torch.stack([t, t], 1))
    same(mt.concat([x, x], 1), torch.concat([t, t], 1))
    same(mt.flip(x, [0, 1]), torch.flip(t, [0, 1]))
    same(mt.diff(x, 1, 0), torch.diff(t, 1, 0))
    same(mt.diff(x, dim=0, n=1), torch.diff(t, dim=0, n=1))
    same(mt.sum(x, [0, 1]), torch.sum(t, [0, 1]))


@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1), (2, 1)])
def test_squeeze_method_keeps_dims_of_other_sizes(dim):
    x, t = both(np.zeros((2, 1, 3)))
    ours = x.squeeze() if dim is None else x.squeeze(dim)
    theirs = t.squeeze() if dim is None else t.squeeze(dim)
    same(ours, theirs)
    a, b = x.clone(), t.clone()
    (a.squeeze_() if dim is None else a.squeeze_(dim))
    (b.squeeze_() if dim is None else b.squeeze_(dim))
    same(a, b)
    with pytest.raises(IndexError):
        x.squeeze(3)
    with pytest.raises(ValueError):  # the array API's squeeze names only size-1 axes
        mt.squeeze(x, 0)


def test_pytorch_module_spellings(tmp_path):
    import mytensor.utils.data as utils_data
    from mytensor.utils.data import DataLoader, TensorDataset

    assert utils_data is mt.data and DataLoader is mt.data.DataLoader
    loader = DataLoader(TensorDataset(mt.arange(4.0)), batch_size=2)
    assert [b[0].tolist() for b in loader] == [[0.0, 1.0], [2.0, 3.0]]
    mt.backends.cudnn.deterministic = True
    mt.backends.cudnn.benchmark = False
    assert mt.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert "numpy_ref" in [b.name for b in mt.backends()]
    assert mt.ones(1).is_cuda is torch.ones(1).is_cuda is False
    assert mt.ones(1).is_cpu and torch.ones(1).is_cpu
    mt.cuda.manual_seed_all(3)
    a = mt.rand(3)
    mt.manual_seed(3)
    assert a.tolist() == mt.rand(3).tolist()
    threads = mt.get_num_threads()
    mt.set_num_threads(1)
    assert mt.get_num_threads() >= 1
    mt.set_num_threads(threads)
    with pytest.raises(ValueError, match="positive int"):
        mt.set_num_threads(0)
    mt.use_deterministic_algorithms(True)
    assert mt.are_deterministic_algorithms_enabled()
    mt.use_deterministic_algorithms(False)
    path = tmp_path / "w.safetensors"
    mt.save({"w": mt.ones(2)}, path)
    loaded = mt.load(path, map_location="cpu", weights_only=True)
    assert loaded["w"].tolist() == [1.0, 1.0] and loaded["w"].device.type == "cpu"
    assert mt.load(path, map_location=mt.device("numpy_ref"))["w"].backend == "numpy_ref"
    with pytest.raises(TypeError, match="map_location"):
        mt.load(path, map_location=lambda storage, loc: storage)


def test_real_and_imag_are_properties():
    z, u = mt.tensor([1 + 2j, -3j]), torch.tensor([1 + 2j, -3j])
    same(z.real, u.real)
    same(z.imag, u.imag)
    x, t = both([1.5])
    same(x.real, t.real)
