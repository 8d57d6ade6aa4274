"""The backend contract checked when a backend loads, and the per-dtype opt-out.

Each broken backend is numpy_ref's with one thing wrong, registered through the
registry's public `add`; it must be reported as broken (by `mytensor.backends()` and
`mytensor backends`) with a message naming it, the problem and the fix, and selecting it
must raise. Backends that decline a name for a dtype through ``supports`` must get the
core's fallback for exactly those calls, with results equal to numpy_ref's.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import mytensor as mt
from mytensor import BackendError
from mytensor.backends import spec
from mytensor.backends.numpy_ref.backend import NumpyBackend
from mytensor.backends.spec import BackendEntry
from mytensor.cli import main
from mytensor.core import host_fallbacks
from mytensor.core.registry import REGISTRY, get_backend

RNG = np.random.default_rng(11)


@pytest.fixture
def register():
    """Register backend classes as `name` for one test; removed afterwards."""
    added: list[str] = []

    def add(cls: type, name: str | None = None) -> str:
        name = name or cls.name
        REGISTRY.discover()
        REGISTRY.add(BackendEntry(name, cls, priority=-100), plugin="test_contract_load")
        added.append(name)
        return name

    yield add
    for name in added:
        REGISTRY.infos.pop(name, None)
        REGISTRY.instances.pop(name, None)


def _broken(register, cls: type, name: str | None = None) -> str:
    """The error of `cls`, checked to be the same everywhere it is reported."""
    name = register(cls, name)
    with pytest.raises(BackendError) as raised:
        mt.ones(1, backend=name)
    message = str(raised.value)
    assert message.startswith(f"backend {name!r} is broken: ")
    info = {b.name: b for b in mt.backends()}[name]
    assert info.status == "broken"
    assert message == f"backend {name!r} is broken: {info.error}"
    with pytest.raises(BackendError, match="is broken"):
        mt.set_backend(name)
    assert mt.ones(1).backend == "numpy_ref"  # the others keep working
    return info.error


# -- one thing wrong each ---------------------------------------------------------------
class NoExp(NumpyBackend):
    name = "no_exp"
    map_ops = NumpyBackend.map_ops - {"exp"}


class NoArgmin(NumpyBackend):
    name = "no_argmin"
    reduce_ops = NumpyBackend.reduce_ops - {"argmin"}


class UnknownZipOp(NumpyBackend):
    name = "unknown_zip_op"
    zip_ops = NumpyBackend.zip_ops | {"frobnicate"}


class ZipOpInMapOps(NumpyBackend):
    name = "zip_op_in_map_ops"
    map_ops = NumpyBackend.map_ops | {"add"}


class OpsAsAString(NumpyBackend):
    name = "ops_as_a_string"
    reduce_ops = "sum prod max min argmax argmin any all"


class NoMapOps(NumpyBackend):
    name = "no_map_ops"
    map_ops = None  # as if never declared


class OldSpelling:
    """A backend written against the old contract: `ops` lists the optional names only."""

    name = "old_spelling"
    device = "cpu"
    dtypes = NumpyBackend.dtypes
    ops = frozenset(spec.OPTIONAL_MAP_OPS + spec.OPTIONAL_ZIP_OPS)


for _primitive in spec.REQUIRED_PRIMITIVES:
    setattr(OldSpelling, _primitive, getattr(NumpyBackend, _primitive))


class NoInt64(NumpyBackend):
    name = "no_int64"
    dtypes = frozenset({"bool", "int32", "float32", "float64"})


class UnknownDtype(NumpyBackend):
    name = "unknown_dtype"
    dtypes = NumpyBackend.dtypes | {"float8"}


class MatmulNotCallable(NumpyBackend):
    name = "matmul_not_callable"
    matmul = 3


class SupportsNotCallable(NumpyBackend):
    name = "supports_not_callable"
    supports = True


class SupportsRaises(NumpyBackend):
    name = "supports_raises"

    def supports(self, primitive, dtype):
        raise RuntimeError("no idea")


class SupportsAnswersAString(NumpyBackend):
    name = "supports_answers_a_string"

    def supports(self, primitive, dtype):
        return "yes"


class HalfTheConv(NumpyBackend):
    """Defines only the first of the convolution primitives (whatever they are named)."""

    name = "half_the_conv"


for _missing in spec.CONV_PRIMITIVES[1:]:
    setattr(HalfTheConv, _missing, None)


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (NoExp, r"map_ops lacks the required op\(s\) exp: implement them in map and list them in "
                "map_ops"),
        (NoArgmin, r"reduce_ops lacks the required op\(s\) argmin: implement them in reduce"),
        (UnknownZipOp, "zip_ops declares 'frobnicate', which is not a zip op name: remove it"),
        (ZipOpInMapOps, "map_ops declares 'add', which is a zip op: list it in zip_ops"),
        (OpsAsAString, "reduce_ops must be a collection of op names, got 'sum prod"),
        (NoMapOps, r"declares no map_ops: list the op names its map accepts, e.g. map_ops = "
                   r"frozenset\(spec.MAP_OPS\)"),
        (OldSpelling, r"declares no map_ops: .* \(its ops attribute is the old spelling of "
                      r"the optional names\); declares no zip_ops: .*; declares no reduce_ops"),
        (NoInt64, "dtypes lacks int64, which the core cannot work without .*: add them to "
                  "dtypes"),
        (UnknownDtype, "declares an unknown dtype: .*float8"),
        (MatmulNotCallable, "matmul is a int, not a method: define it as a method, or remove it"),
        (SupportsNotCallable, "supports is a bool, not a method"),
        (SupportsRaises, r"supports\('abs', \w+\) raised RuntimeError\('no idea'\)"),
        (SupportsAnswersAString, r"supports\('abs', \w+\) returned 'yes': supports\(primitive, "
                                 r"dtype\) must answer True or False"),
        (HalfTheConv, f"defines {spec.CONV_PRIMITIVES[0]} but not "
                      f"{', '.join(spec.CONV_PRIMITIVES[1:])}: .* define all of them, or none"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)  # fmt: skip
def test_a_backend_breaking_the_contract_is_reported_broken(register, cls, expected):
    error = _broken(register, cls)
    assert re.search(expected, error), error


def test_name_must_match_the_entry(register):
    error = _broken(register, NumpyBackend, name="renamed")
    assert error == ("its name attribute is 'numpy_ref' but it is registered as 'renamed': "
                     "give the backend object and its BackendEntry the same name")  # fmt: skip


def test_every_problem_is_reported_at_once(register):
    class SeveralWrong(NoExp):
        name = "several_wrong"
        dtypes = frozenset({"float32", "float64"})
        matmul = "fast"

    error = _broken(register, SeveralWrong)
    assert error.split("; ") == [
        "dtypes lacks bool, int64, which the core cannot work without (the least is bool, "
        "int64, float32: masks, indices, default floats): add them to dtypes",
        "map_ops lacks the required op(s) exp: implement them in map and list them in map_ops",
        "matmul is a str, not a method: define it as a method, or remove it so the core uses "
        "its default",
    ]


def test_the_command_line_shows_the_broken_backend(register, capsys):
    register(NoExp)
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "no_exp: broken: map_ops lacks the required op(s) exp" in out


# -- what loads ---------------------------------------------------------------------------
def test_the_installed_example_plugin_loads():
    info = {b.name: b for b in mt.backends()}["minimal"]
    assert (info.status, info.error, info.plugin) == ("loaded", None, "minimal")
    assert get_backend("minimal").ops == frozenset(spec.MAP_OPS + spec.ZIP_OPS)
    x = mt.tensor([1.0, -2.0], backend="minimal")
    assert mt.acos(x / 4).backend == "minimal"  # an optional name: the host fallback


def test_a_backend_with_only_the_minimum_dtypes_works(register):
    class Minimum(NumpyBackend):
        name = "minimum_dtypes"
        dtypes = frozenset(spec.MIN_DTYPES)

    name = register(Minimum)
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    x = mt.tensor(a, backend=name, requires_grad=True)
    y = (x.exp() * 2 - x).sum(dim=1)
    np.testing.assert_allclose(y.numpy(), (np.exp(a) * 2 - a).sum(1), rtol=1e-5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(a) * 2 - 1, rtol=1e-5)
    assert x.argmax(dim=1).tolist() == a.argmax(1).tolist()
    assert x[x > 0].tolist() == a[a > 0].tolist()
    assert mt.arange(3, backend=name).tolist() == [0, 1, 2]
    assert mt.randn(2, 2, backend=name).dtype is mt.float32
    with pytest.raises(TypeError, match="float64"):
        mt.ones(2, dtype=mt.float64, backend=name)


# -- a KeyError that slips through --------------------------------------------------------
def test_a_declared_op_the_kernel_lacks_is_named_not_a_bare_key_error(register):
    class ForgetsExp(NumpyBackend):
        name = "forgets_exp"

        def map(self, op, out, a):
            kernels = {"neg": np.negative}
            kernels[op]  # a kernel table without exp, though map_ops lists it
            super().map(op, out, a)

    name = register(ForgetsExp)
    assert (-mt.ones(2, backend=name)).tolist() == [-1.0, -1.0]
    with pytest.raises(BackendError) as raised:
        mt.ones(2, backend=name).exp()
    assert not isinstance(raised.value, KeyError)
    assert isinstance(raised.value.__cause__, KeyError)
    message = str(raised.value)
    assert message.startswith("backend 'forgets_exp': map('exp') on float32 raised KeyError")
    assert "implement 'exp' in its map, or decline the dtype with supports('exp', dtype)" in message


def test_a_key_error_from_zip_and_reduce_is_named_too(register):
    class ForgetsMulAndProd(NumpyBackend):
        name = "forgets_mul_and_prod"

        def zip(self, op, out, a, b):
            if op == "mul":
                raise KeyError(op)
            super().zip(op, out, a, b)

        def reduce(self, op, out, a, dims):
            if op == "prod":
                raise KeyError(op)
            super().reduce(op, out, a, dims)

    name = register(ForgetsMulAndProd)
    x = mt.ones(2, 2, backend=name)
    assert (x + x).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(BackendError, match=r"'forgets_mul_and_prod': zip\('mul'\) on float32"):
        x * x
    with pytest.raises(BackendError, match=r"'forgets_mul_and_prod': reduce\('prod'\) on "
                       "float32"):  # fmt: skip
        x.prod(dim=0)


# -- supports(primitive, dtype): the core's fallback where a backend declines ---------------
CONV = spec.CONV_PRIMITIVES[0]
DECLINED = {("exp", "float32"), ("acos", "float32"), ("sum", "int64"), ("matmul", "int64"),
            ("argsort", "complex64"), ("argsort", "complex128"), (CONV, "float64")}  # fmt: skip


class Declines(NumpyBackend):
    """numpy_ref that declines the names in DECLINED, and fails if one still reaches it."""

    name = "declines"
    asked: list = []
    native_calls: list = []

    def supports(self, primitive, dtype):
        self.asked.append((primitive, dtype.name))
        return (primitive, dtype.name) not in DECLINED

    def _reached(self, name, dtype):
        if (name, dtype.name) in DECLINED:
            raise AssertionError(f"{name} on {dtype.name} reached the backend it declined")
        self.native_calls.append((name, dtype.name))

    def map(self, op, out, a):
        self._reached(op, a.dtype)
        super().map(op, out, a)

    def reduce(self, op, out, a, dims):
        self._reached(op, a.dtype)
        super().reduce(op, out, a, dims)

    def matmul(self, out, a, b):
        self._reached("matmul", a.dtype)
        super().matmul(out, a, b)

    def argsort(self, out, a, dim, descending):
        self._reached("argsort", a.dtype)
        host_fallbacks.argsort(self, out, a, dim, descending)


for _conv_name in spec.CONV_PRIMITIVES:

    def _checked_conv(self, out, first, *rest, _name=_conv_name):
        self._reached(CONV, first.dtype)
        getattr(NumpyBackend, _name)(self, out, first, *rest)

    setattr(Declines, _conv_name, _checked_conv)


def _both(name, fn, *arrays, dtype):
    """fn on tensors of `arrays` on backend `name` and on numpy_ref."""
    results = []
    for backend in (name, "numpy_ref"):
        results.append(fn(*(mt.tensor(a, dtype=dtype, backend=backend) for a in arrays)))
    return [r.numpy() for r in results]


@pytest.mark.parametrize(
    ("key", "fn", "shapes", "dtype"),
    [
        ("exp", lambda x: x.exp(), [(3, 4)], "float32"),
        ("exp", lambda x: x.exp(), [(3, 4)], "float64"),
        ("acos", lambda x: mt.acos(x / 4), [(5,)], "float32"),
        ("acos", lambda x: mt.acos(x / 4), [(5,)], "float64"),
        ("sum", lambda x: x.sum(dim=1), [(3, 4)], "int64"),
        ("sum", lambda x: x.sum(dim=1), [(3, 4)], "int32"),
        ("matmul", lambda x, y: x @ y, [(2, 3), (3, 2)], "int64"),
        ("matmul", lambda x, y: x @ y, [(2, 3), (3, 2)], "int32"),
        ("argsort", lambda x: mt.argsort(x, dim=-1), [(7,)], "complex64"),
        ("argsort", lambda x: mt.argsort(x, dim=-1), [(7,)], "float32"),
        (CONV, lambda x, w: mt.nn.functional.conv2d(x, w, padding=1),
         [(1, 2, 4, 4), (3, 2, 3, 3)], "float64"),
        (CONV, lambda x, w: mt.nn.functional.conv2d(x, w, padding=1),
         [(1, 2, 4, 4), (3, 2, 3, 3)], "float32"),
    ],
)  # fmt: skip
def test_a_declined_name_takes_the_core_fallback(register, key, fn, shapes, dtype):
    name = register(Declines)
    arrays = [(RNG.standard_normal(s) * 3).astype(dtype) for s in shapes]
    if dtype.startswith("complex"):
        arrays = [a + 1j * RNG.standard_normal(a.shape).astype(dtype) for a in arrays]
    Declines.native_calls.clear()
    got, expected = _both(name, fn, *arrays, dtype=getattr(mt, dtype))
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == expected.dtype
    # a declined call never reaches the backend (it raises there); any other one does
    declined = (key, dtype) in DECLINED
    assert ((key, dtype) in Declines.native_calls) is not declined


def test_declined_conv_gradients_take_the_fallback_too(register):
    name = register(Declines)
    x0, w0 = RNG.standard_normal((2, 2, 5, 5)), RNG.standard_normal((3, 2, 3, 3))
    grads = []
    for backend in (name, "numpy_ref"):
        x = mt.tensor(x0, dtype=mt.float64, backend=backend, requires_grad=True)
        w = mt.tensor(w0, dtype=mt.float64, backend=backend, requires_grad=True)
        (mt.nn.functional.conv2d(x, w, stride=2, padding=1) ** 2).sum().backward()
        grads.append((x.grad.numpy(), w.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_supports_is_asked_once_per_name_and_dtype_at_load(register):
    name = register(Declines)
    Declines.asked.clear()
    backend = get_backend(name)
    asked = list(Declines.asked)
    assert len(asked) == len(set(asked))
    names = {p for p, _ in asked}
    assert names >= set(spec.MAP_OPS + spec.ZIP_OPS + spec.REDUCE_OPS)
    assert {"matmul", "argsort", CONV} <= names and "synchronize" not in names
    assert {d for _, d in asked} == set(NumpyBackend.dtypes)
    x = mt.ones(3, backend=name)
    (x.exp() + x).sum()
    x.double().exp()
    assert Declines.asked == asked  # the hot path asks nothing
    assert {(n, d.name) for n, d in backend.declined} == DECLINED
    assert not backend.is_native("exp", mt.float32) and backend.is_native("exp", mt.float64)
    assert not backend.is_native("argsort", mt.complex64)
    assert backend.is_native("argsort", mt.float32)
    assert not backend.is_native(CONV, mt.float64) and backend.is_native(CONV, mt.float32)
    assert not backend.is_native("fft", mt.complex64)  # not defined: the host fallback


def test_a_backend_declining_nothing_binds_its_methods_for_optional_primitives(register):
    class AgreesToAll(NumpyBackend):
        name = "agrees_to_all"

        def supports(self, primitive, dtype):
            return True

    backend = get_backend(register(AgreesToAll))
    assert backend.declined == frozenset()
    assert backend.matmul.__func__ is NumpyBackend.matmul
    assert (mt.ones(2, 2, backend="agrees_to_all") @ mt.ones(2, 1, backend="agrees_to_all")
            ).tolist() == [[2.0], [2.0]]  # fmt: skip
