"""The namespace functions have the array API standard's (2024.12) signatures: the same
parameters in the same order, of the same kinds (positional-only, keyword-only), with
the same defaults. array_api_strict is the machine-readable reference.

mytensor may add parameters of its own only where listed in EXTRAS (PyTorch aliases
and mytensor's own keywords), and only keyword-only with a default, so they cannot
change what a standard call means.
"""

from __future__ import annotations

import inspect

import array_api_strict as xp
import pytest

import mytensor as mt

xp.set_array_api_strict_flags(api_version="2024.12")

MAIN = [
    "arange", "asarray", "empty", "empty_like", "eye", "full", "full_like", "linspace",
    "meshgrid", "ones", "ones_like", "tril", "triu", "zeros", "zeros_like", "max", "min",
    "mean", "prod", "std", "sum", "var", "cumulative_sum", "cumulative_prod",
    "broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip", "moveaxis",
    "permute_dims", "repeat", "reshape", "roll", "squeeze", "stack", "tile", "unstack",
    "argmax", "argmin", "nonzero", "searchsorted", "where", "count_nonzero", "unique_all",
    "unique_counts", "unique_inverse", "unique_values", "sort", "argsort", "all", "any",
    "diff", "matmul", "tensordot", "vecdot", "matrix_transpose", "take", "take_along_axis"
]  # fmt: skip
LINALG = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet",
    "solve", "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm"
]  # fmt: skip

_REDUCTION = {"dim", "keepdim"}
_CREATION = {"backend", "requires_grad"}
# mytensor's additions: name -> the extra parameters it may have
EXTRAS: dict[str, set[str]] = {
    **{n: _REDUCTION | {"torch_args"} for n in ("mean", "prod", "sum", "argmax", "argmin",
                                                "all", "any")},
    "count_nonzero": {"dim", "torch_args"}, "diff": {"dim", "torch_args"},
    "concat": {"dim", "torch_args"}, "stack": {"dim", "torch_args"},
    "flip": {"dims", "torch_args"},
    "asarray": _CREATION, "full": _CREATION, "empty": _CREATION | {"more"},
    "zeros": _CREATION | {"more"}, "ones": _CREATION | {"more"},
    "zeros_like": {"requires_grad"}, "ones_like": {"requires_grad"},
    "empty_like": {"requires_grad"}, "full_like": {"requires_grad"},
    "arange": _CREATION, "linspace": _CREATION | {"device", "steps"}, "eye": _CREATION,
    # both conventions in one function: PyTorch's positional arguments (a dim, a diagonal)
    # arrive in *torch_args, so they cannot change what a standard call means
    **{n: _REDUCTION | {"torch_args"} for n in ("max", "min")},
    **{n: _REDUCTION | {"torch_args", "unbiased"} for n in ("var", "std")},
    "sort": {"dim", "torch_args"}, "argsort": {"dim", "torch_args"},
    "roll": {"dims", "torch_args"}, "tril": {"diagonal", "torch_args"},
    "triu": {"diagonal", "torch_args"}, "nonzero": {"as_tuple"},
}  # fmt: skip
# parameters the standard requires that may be left out for a PyTorch form of the call
# (linspace(0, 1, steps=5); where(condition), the indices): a standard call means the same
OPTIONAL_FOR_PYTORCH = {"linspace": {"num"}, "where": {"x1", "x2"}}
# PyTorch's zeros(2, 3): the sizes may follow the shape as *more; PyTorch's positional
# arguments after the standard's ones come as *torch_args
_VAR_EXTRAS = {"more", "torch_args"}


def _compare(ours, reference, name: str) -> None:
    mine = inspect.signature(ours).parameters
    theirs = inspect.signature(reference).parameters
    problems = []
    positional = [p for p in theirs.values() if p.kind is not p.KEYWORD_ONLY]
    mine_list = list(mine.values())
    for i, p in enumerate(positional):
        if i >= len(mine_list) or mine_list[i].name != p.name:
            got = mine_list[i].name if i < len(mine_list) else "nothing"
            problems.append(f"positional parameter {i} should be {p.name!r}, is {got!r}")
            continue
        if mine_list[i].kind is not p.kind:
            problems.append(f"{p.name!r} is {mine_list[i].kind.description}, the standard "
                            f"says {p.kind.description}")  # fmt: skip
        optional = p.name in OPTIONAL_FOR_PYTORCH.get(name, ()) and mine_list[i].default is None
        if mine_list[i].default != p.default and not optional:
            problems.append(f"{p.name!r} defaults to {mine_list[i].default!r}, the standard "
                            f"says {p.default!r}")  # fmt: skip
    for p in theirs.values():
        if p.kind is not p.KEYWORD_ONLY:
            continue
        q = mine.get(p.name)
        if q is None or q.kind is not q.KEYWORD_ONLY:
            problems.append(f"{p.name!r} must be keyword-only, got {q and q.kind.description}")
        elif q.default != p.default:
            problems.append(f"{p.name!r} defaults to {q.default!r}, the standard says "
                            f"{p.default!r}")  # fmt: skip
    allowed = EXTRAS.get(name, set())
    for q in mine.values():
        if q.name in theirs:
            continue
        if q.name not in allowed:
            problems.append(f"extra parameter {q.name!r} is not declared in EXTRAS")
        elif q.kind is q.VAR_POSITIONAL and q.name not in _VAR_EXTRAS:
            problems.append(f"extra *{q.name} is not allowed")
        elif q.kind not in (q.KEYWORD_ONLY, q.VAR_POSITIONAL) or (
            q.kind is q.KEYWORD_ONLY and q.default is q.empty
        ):
            problems.append(f"extra parameter {q.name!r} must be keyword-only with a default")
    assert not problems, f"{name}{inspect.signature(ours)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", MAIN)
def test_main_namespace_signature(name):
    assert name in mt.__all__, f"mytensor does not export {name!r}"
    _compare(getattr(mt, name), getattr(xp, name), name)


@pytest.mark.parametrize("name", LINALG)
def test_linalg_signature(name):
    assert name in mt.linalg.__all__, f"mytensor.linalg does not export {name!r}"
    _compare(getattr(mt.linalg, name), getattr(xp.linalg, name), f"linalg.{name}")


def test_torch_style_aliases_still_work():
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert mt.sum(x, dim=1, keepdim=True).tolist() == [[3.0], [7.0]]
    assert x.sum(1).tolist() == [3.0, 7.0]
    assert x.var().item() == pytest.approx(5 / 3)  # the method keeps Bessel's correction
    assert mt.var(x).item() == pytest.approx(1.25)  # the standard's default correction=0
    assert mt.zeros(2, 3).shape == mt.zeros((2, 3)).shape == (2, 3)
    assert mt.stack([x, x], dim=0).shape == (2, 2, 2)
    assert mt.cat([x, x], 1).shape == (2, 4)
    assert mt.permute(x, 1, 0).tolist() == mt.permute_dims(x, (1, 0)).tolist()
    assert x.reshape(4).shape == mt.reshape(x, (4,)).shape
    assert mt.flip(x, dims=(0,)).tolist() == mt.flip(x, axis=0).tolist()


def test_alias_and_standard_keyword_together_is_an_error():
    with pytest.raises(TypeError, match=r"sum\(\): pass axis= or its PyTorch alias dim="):
        mt.sum(mt.ones(2), axis=0, dim=0)
