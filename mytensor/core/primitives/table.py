"""`docs/ops.md`, the op table, generated from the records so the specification a backend
author reads is the one the code runs: ``python -m mytensor.core.primitives.table > docs/ops.md``
(a test fails when the file is out of date)."""

from __future__ import annotations

import ast
import dis
import inspect
import textwrap
from collections.abc import Callable

from mytensor.backends import spec
from mytensor.core.primitives import scalar
from mytensor.core.primitives.elementwise import BINARY, BOOL_KERNELS, RULES, UNARY, PerInput

__all__ = ["render"]

_KIND_WORDS = {"bool": "bool", "int": "int", "uint": "uint", "float": "float",
               "complex": "complex"}  # fmt: skip
_OUT_WORDS = {"same": "the input's", "bool": "bool", "real": "real (complex -> its real dtype)"}


def _expression(fn: Callable | None) -> str:
    """A backward rule as text: a lambda's body, a per-input pair of them, or a named
    rule's name."""
    if fn is None:
        return "not differentiable"
    if isinstance(fn, PerInput):
        # two lambdas written on one line: the second input's is the second there
        same_line = fn.a.__code__.co_firstlineno == fn.b.__code__.co_firstlineno
        a, b = _lambda_body(fn.a, 0), _lambda_body(fn.b, 1 if same_line else 0)
        return f"`({a}, {b})`" if a and b else "a rule per input"
    if fn.__name__ != "<lambda>":
        return f"`{fn.__name__}`"
    body = _lambda_body(fn, 0)
    return f"`{body}`" if body else "a lambda"


def _lambda_body(fn: Callable, index: int) -> str | None:
    """The body of the `index`-th lambda in the source lines that define `fn`."""
    try:
        source = textwrap.dedent(inspect.getsource(fn)).strip()
    except (OSError, TypeError):
        return None
    # the source is the row's lines: trim closing brackets until the text parses
    for _ in range(4):
        for candidate in (source, f"({source})", f"f({source})"):
            try:
                tree = ast.parse(candidate)
            except SyntaxError:
                continue
            lambdas = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
            if len(lambdas) > index:
                return ast.unparse(lambdas[index].body)
        source = source.rstrip().rstrip(",")[:-1] if source.rstrip().rstrip(",") else source
    return None


def _takes(rule_name: str) -> str:
    rule = RULES[rule_name]
    kinds = ", ".join(_KIND_WORDS[k] for k in rule.accepts)
    return kinds + (" (integers and bool computed as the default float)" if rule.to_float else "")


def _vocabulary(name: str) -> str:
    if name in spec.MAP_OPS or name in spec.ZIP_OPS:
        return "required"
    return "optional"


def _source(fn: Callable) -> str:
    return textwrap.dedent(inspect.getsource(fn)).rstrip()


def _helpers(fn: Callable) -> list[Callable]:
    """The specification's own functions that `fn` calls (``_divmod``, ``_fmod``)."""
    found: list[Callable] = []
    globals_read = {i.argval for i in dis.get_instructions(fn) if i.opname == "LOAD_GLOBAL"}
    for name in sorted(globals_read):
        value = getattr(scalar, name, None)
        own = inspect.isfunction(value) and value.__module__ == scalar.__name__
        if own and value is not fn and value not in found:
            found.append(value)
            found += [h for h in _helpers(value) if h not in found]
    return found


def render() -> str:
    """The Markdown of docs/ops.md."""
    lines = [
        "# The op table",
        "",
        "Generated from `mytensor/core/primitives` by `python -m mytensor.core.primitives.table`;"
        " do not edit by hand.",
        "",
        "Every elementwise op a backend's `map` / `zip` receives, with what the core sends it",
        "(the dtype rule: the core promotes, converts and allocates before the kernel runs),",
        "its gradient (written with mytensor ops, so it runs on every backend), and its",
        "definition: the scalar function in `mytensor/core/primitives/scalar.py` that the",
        "numba_cpu and cuda backends compile and that the conformance suite",
        "(`test_spec.py`) checks every backend against, zero signs and NaN positions bit for",
        "bit. Complex inputs follow numpy's definitions. *required* ops are in every",
        "backend's vocabulary; *optional* ones fall back to a host kernel when a backend does",
        "not declare them in `ops`.",
        "",
        "| op | arity | vocabulary | takes | returns | gradient (g: incoming, x/a/b: inputs,"
        " y: output) | tested domain |",
        "| --- | ---: | --- | --- | --- | --- | --- |",
    ]
    records = [(r, 1) for r in UNARY] + [(r, 2) for r in BINARY]
    for record, arity in records:
        grad = _expression(record.grad)
        if arity == 2 and record.name in ("add", "sub"):
            grad = "`g, g`" if record.name == "add" else "`g, -g`"
        lines.append(
            f"| `{record.name}` | {arity} | {_vocabulary(record.name)} | {_takes(record.rule)}"
            f" | {_OUT_WORDS[RULES[record.rule].out]} | {grad} | {record.domain} |"
        )
    lines += ["", "Bool inputs of " + ", ".join(f"`{k}`" for k in BOOL_KERNELS)
              + " run the logical kernels (" + ", ".join(f"`{v}`" for v in BOOL_KERNELS.values())
              + "): the same truth table.", ""]  # fmt: skip
    lines += ["## Definitions", "",
              "One block per op: the floating-point definition, then the integer/bool one "
              "where it differs, then the helpers they call. The constants they use:", "",
              "```python", *_constants(), "```", ""]  # fmt: skip
    for record, _ in records:
        entry = (scalar.UNARY | scalar.BINARY).get(record.name)
        if entry is None:
            lines += [f"### `{record.name}`", "", "Complex only: numpy's definition.", ""]
            continue
        functions = [f for f in entry if f is not None]
        functions = list(dict.fromkeys(functions))
        helpers = [h for f in functions for h in _helpers(f)]
        lines += [f"### `{record.name}`", "", "```python"]
        for fn in list(dict.fromkeys(functions + helpers)):
            lines += [_source(fn), ""]
        lines[-1] = "```"
        lines.append("")
    lines += _other_primitives()
    return "\n".join(lines).rstrip() + "\n"


def _constants() -> list[str]:
    return [f"{name} = {value!r}" for name, value in vars(scalar).items()
            if name.startswith("_") and isinstance(value, float)]  # fmt: skip


def _other_primitives() -> list[str]:
    """The contract's other primitives, as spec.py defines them."""
    doc = inspect.getdoc(spec) or ""
    start = doc.find("Required primitives")
    return ["## The other primitives", "",
            "From the backend contract (`mytensor/backends/spec.py`):", "", "```text",
            doc[start:].strip() if start >= 0 else doc.strip(), "```", ""]  # fmt: skip


if __name__ == "__main__":
    print(render(), end="")
