"""The ops with shapes="custom": shape ops, cat/stack/split, indexing, gather/scatter_add,
astype; plus setitem, creation functions and seeded random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mytensor as mt
from mytensor.autograd import GradcheckError, gradcheck
from mytensor.conformance import shape_cases as SC
from mytensor.conformance import strategies as S
from mytensor.conformance.checks import assert_close
from mytensor.core.dtypes import ALL_DTYPES, FLOAT_DTYPES
from mytensor.core.ops import OPS

SINGLE = [pytest.param(n, d, id=f"{n}-{d.name}") for n in SC.SINGLE for d in ALL_DTYPES]


def _where(op, backend, built, kwargs, what="forward") -> str:
    inputs = "; ".join(f"input {i}: {b.describe()}" for i, b in enumerate(built))
    return f"{what} of {op} on backend {backend!r}, arguments {kwargs}\n  {inputs}"


def _compare(got, expected, where: str) -> None:
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), (
            f"{where}\n  got {len(got)} pieces, expected {len(expected)}"
        )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            _compare(g, e, f"{where}\n  piece {i}")
        return
    values = got.numpy()
    assert values.dtype == expected.dtype, f"{where}\n  dtype {values.dtype} vs {expected.dtype}"
    assert_close(values, expected, where)


def _check_grad(func, built, where: str) -> None:
    try:
        gradcheck(func, [b.tensor for b in built])
    except GradcheckError as exc:
        raise AssertionError(f"{where}\n  {exc}") from None


def _draw_input(data, dtype, backend, smooth=False, broadcast=False, **shape_kw):
    shape = data.draw(S.shapes(**shape_kw), label="shape")
    if smooth:
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        values = S.smooth_values(seed, dtype, shape, (-3.0, 3.0), False)
    else:
        values = data.draw(S.arrays(dtype, shape), label="values")
    return data.draw(S.laid_out(values, dtype, backend, broadcast, smooth), label="layout")


@pytest.mark.parametrize(("name", "dtype"), SINGLE)
@S.suite_settings(8)
@given(data=st.data())
def test_shape_op(name, dtype, backend, data):
    built = _draw_input(data, dtype, backend, broadcast=True)
    func, ref, kwargs = SC.SINGLE[name](data.draw, built.values.shape)
    where = _where(name, backend, [built], kwargs)
    if name == "view" and not built.tensor.is_contiguous():
        try:
            got = func(built.tensor)
        except RuntimeError:
            return  # a view that needs a copy may be refused
    else:
        got = func(built.tensor)
    _compare(got, ref(built.values), where)
    if name in ("contiguous", "clone"):
        assert got.is_contiguous(), f"{where}\n  the result is not contiguous: {got.stride()}"


@pytest.mark.parametrize("name", list(SC.SINGLE))
@S.suite_settings(4)
@given(data=st.data())
def test_shape_op_gradient(name, backend, data):
    built = _draw_input(data, mt.float64, backend, smooth=True, max_elements=8)
    func, _, kwargs = SC.SINGLE[name](data.draw, built.values.shape)
    piece = data.draw(st.integers(0, 10), label="piece")

    def single(t):
        out = func(t)
        return out[piece % len(out)] if isinstance(out, tuple) else out

    if name == "view" and not built.tensor.is_contiguous():
        built.tensor = built.tensor.contiguous().detach().requires_grad_()
    _check_grad(single, [built], _where(name, backend, [built], kwargs, "gradient"))


def _draw_join(data, dtype, backend, name, smooth=False):
    base = data.draw(S.shapes(min_rank=0 if name == "stack" else 1, max_elements=8))
    count = data.draw(st.integers(1, 3), label="count")
    bound = len(base) + 1 if name == "stack" else max(len(base), 1)
    dim = data.draw(st.integers(-bound, bound - 1), label="dim")
    built = []
    for _ in range(count):
        shape = list(base)
        if name == "cat":
            shape[dim] = data.draw(st.integers(0, 3), label="size along dim")
        shape = tuple(shape)
        if smooth:
            seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
            values = S.smooth_values(seed, dtype, shape, (-3.0, 3.0), False)
        else:
            values = data.draw(S.arrays(dtype, shape), label="values")
        built.append(data.draw(S.laid_out(values, dtype, backend, not smooth, smooth)))
    return built, dim


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=[d.name for d in ALL_DTYPES])
@pytest.mark.parametrize("name", ["cat", "stack"])
@S.suite_settings(8)
@given(data=st.data())
def test_join(name, dtype, backend, data):
    built, dim = _draw_join(data, dtype, backend, name)
    op = OPS[name].func
    ref = np.concatenate if name == "cat" else np.stack
    got = op([b.tensor for b in built], dim=dim)
    _compare(got, ref([b.values for b in built], axis=dim), _where(name, backend, built,
                                                                     {"dim": dim}))  # fmt: skip


@pytest.mark.parametrize("name", ["cat", "stack"])
@S.suite_settings(4)
@given(data=st.data())
def test_join_gradient(name, backend, data):
    built, dim = _draw_join(data, mt.float64, backend, name, smooth=True)
    op = OPS[name].func
    _check_grad(lambda *ts: op(list(ts), dim=dim), built,
                _where(name, backend, built, {"dim": dim}, "gradient"))  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "dtype"),
    [
        pytest.param(k, d, id=f"getitem-{k}-{d.name}")
        for k in ("basic", "advanced")
        for d in ALL_DTYPES
    ],
)
@S.suite_settings(10)
@given(data=st.data())
def test_getitem(dtype, kind, backend, data):
    built = _draw_input(data, dtype, backend, broadcast=True)
    shape = built.values.shape
    if kind == "basic":
        key = SC.basic_key(data.draw, shape)
        mt_key = key
    else:
        key = SC.advanced_key(data.draw, shape, built.values)
        mt_key = SC.as_mt_key(key, backend) if data.draw(st.booleans()) else key
    _compare(built.tensor[mt_key], built.values[key], _where("getitem", backend, [built],
                                                             {"key": key}))  # fmt: skip


@pytest.mark.parametrize("kind", ["basic", "advanced"], ids=["getitem-basic", "getitem-advanced"])
@S.suite_settings(5)
@given(data=st.data())
def test_getitem_gradient(kind, backend, data):
    built = _draw_input(data, mt.float64, backend, smooth=True, max_elements=8)
    shape = built.values.shape
    key = SC.basic_key(data.draw, shape) if kind == "basic" else \
        SC.advanced_key(data.draw, shape, built.values)  # fmt: skip
    _check_grad(lambda t: t[key], [built], _where("getitem", backend, [built], {"key": key},
                                                  "gradient"))  # fmt: skip


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=[f"setitem-{d.name}" for d in ALL_DTYPES])
@S.suite_settings(10)
@given(data=st.data())
def test_setitem(dtype, backend, data):
    built = _draw_input(data, dtype, backend)
    shape = built.values.shape
    key = SC.basic_key(data.draw, shape)
    expected = built.values.copy()
    target = expected[key].shape
    if data.draw(st.booleans(), label="scalar value"):
        value = data.draw(S.elements(dtype), label="value")
        mt_value = value
    else:
        value_shape = tuple(1 if data.draw(st.booleans()) else s for s in target)
        value = data.draw(S.arrays(dtype, value_shape), label="value")
        mt_value = mt.tensor(value, dtype, backend=backend)
    expected[key] = value
    built.tensor[key] = mt_value
    _compare(
        built.tensor, expected, _where("setitem", backend, [built], {"key": key, "value": value})
    )


def _index_case(data, backend, dtype, smooth, name):
    x = _draw_input(data, dtype, backend, smooth=smooth, min_rank=1, min_side=1,
                    max_elements=12)  # fmt: skip
    shape = x.values.shape
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    index_shape = tuple(
        data.draw(st.integers(0, 3)) if k == dim % len(shape) else data.draw(st.integers(0, s))
        for k, s in enumerate(shape)
    )
    picks = data.draw(S.arrays(mt.int64, index_shape, (0, shape[dim] - 1)), label="index")
    index = mt.tensor(picks, mt.int64, backend=backend)
    if name == "gather":
        return x, dim, index, None
    src_values = data.draw(S.arrays(dtype, index_shape), label="src")
    src = data.draw(S.laid_out(src_values, dtype, backend, False, smooth), label="src layout")
    return x, dim, index, src


def _np_scatter_add(x, dim, index, src):
    out = x.copy()
    where = list(np.indices(index.shape, sparse=True))
    where[dim] = index
    np.add.at(out, tuple(where), src)
    return out


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=[d.name for d in FLOAT_DTYPES])
@pytest.mark.parametrize("name", ["gather", "scatter_add"])
@S.suite_settings(10)
@given(data=st.data())
def test_gather_scatter(name, dtype, backend, data):
    x, dim, index, src = _index_case(data, backend, dtype, False, name)
    idx = index.numpy()
    kwargs = {"dim": dim, "index": idx}
    if name == "gather":
        axis = dim % idx.ndim
        window = tuple(slice(None) if k == axis else slice(0, n) for k, n in enumerate(idx.shape))
        got = mt.gather(x.tensor, dim, index)
        expected = np.take_along_axis(x.values[window], idx, axis=dim)
        _compare(got, expected, _where(name, backend, [x], kwargs))
    else:
        got = mt.scatter_add(x.tensor, dim, index, src.tensor)
        expected = _np_scatter_add(x.values, dim, idx, src.values)
        rtol, atol = (1e-5, 1e-5) if dtype.name == "float32" else (1e-12, 1e-12)
        assert_close(got.numpy(), expected, _where(name, backend, [x, src], kwargs), rtol, atol)


@pytest.mark.parametrize("name", ["gather", "scatter_add"])
@S.suite_settings(5)
@given(data=st.data())
def test_gather_scatter_gradient(name, backend, data):
    x, dim, index, src = _index_case(data, backend, mt.float64, True, name)
    built = [x] if src is None else [x, src]
    if name == "gather":
        func = lambda t: mt.gather(t, dim, index)  # noqa: E731
    else:
        func = lambda t, s: mt.scatter_add(t, dim, index, s)  # noqa: E731
    _check_grad(func, built, _where(name, backend, built, {"dim": dim}, "gradient"))


PAIRS = [pytest.param(a, b, id=f"astype-{a.name}-{b.name}") for a in ALL_DTYPES for b in ALL_DTYPES]


@pytest.mark.parametrize(("source", "target"), PAIRS)
@S.suite_settings(6)
@given(data=st.data())
def test_astype(source, target, backend, data):
    built = _draw_input(data, source, backend, broadcast=True)
    got = built.tensor.astype(target)
    assert got.dtype is target, f"astype to {target.name} gave {got.dtype.name}"
    _compare(got, built.values.astype(target.numpy),
             _where("astype", backend, [built], {"dtype": target.name}))  # fmt: skip


@S.suite_settings(4)
@given(data=st.data())
def test_astype_gradient(backend, data):
    built = _draw_input(data, mt.float64, backend, smooth=True, max_elements=8)
    where = _where("astype", backend, [built], {}, "gradient")
    _check_grad(lambda t: t.astype(mt.float64) * t, [built], where)
    weights = np.arange(built.values.size, dtype=np.float32).reshape(built.values.shape)
    (built.tensor.astype(mt.float32) * mt.tensor(weights, backend=backend)).sum().backward()
    grad = built.tensor.grad.numpy()
    assert grad.dtype == np.float64, f"{where}\n  the gradient through float32 is {grad.dtype}"
    assert_close(grad, weights.astype(np.float64), f"{where}\n  through float32")
