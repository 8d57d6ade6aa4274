"""The pytest plugin (entry point ``pytest11``): backend selection and expected failures.

It is loaded in every pytest run of an environment with mytensor installed, so it
imports nothing heavy and only acts on the test modules of this package: it
parametrizes their ``backend`` argument over the selected backends.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent
_BACKENDS = pytest.StashKey[list]()
_GUARDED = pytest.StashKey[dict]()
# hypothesis examples of the table tests (test_forward) at the default --examples; every
# other test draws its own count (written in its suite_settings) scaled by the same factor
REFERENCE_EXAMPLES = 15
DEFAULT_EXAMPLES = 18
# backends that run the large tier without --large: those that say where their parallel
# (or tiled) kernels start, with an attribute of this name
LARGE_BY_ATTRIBUTE = "parallel_threshold"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mytensor-conformance", "mytensor conformance suite")
    group.addoption(
        "--backend",
        action="append",
        dest="mytensor_backends",
        default=None,
        metavar="NAME",
        help="mytensor backend to run the conformance suite on (repeatable; "
        "default: every installed backend that loads)",
    )
    group.addoption(
        "--expected-failures",
        dest="mytensor_expected_failures",
        default=None,
        metavar="FILE",
        help="file of conformance test ids (or id suffixes), one per line with "
        "'# reason'; they are marked xfail(strict=True)",
    )
    group.addoption(
        "--seed",
        dest="mytensor_seed",
        type=int,
        default=None,
        metavar="N",
        help="draw hypothesis examples from seed N (default: derandomized, the same "
        "examples in every run)",
    )
    group.addoption(
        "--examples",
        dest="mytensor_examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"hypothesis examples per table test (default {DEFAULT_EXAMPLES}); the other "
        "tests scale their own counts by the same factor (halved in the non-core dtypes)",
    )
    group.addoption(
        "--large",
        dest="mytensor_large",
        action="store_true",
        default=None,
        help="run the large tier (>= 2**21 elements: parallel and tiled kernels) on every "
        f"selected backend (default: on backends with a {LARGE_BY_ATTRIBUTE!r} attribute)",
    )
    group.addoption(
        "--no-large", dest="mytensor_large", action="store_false", help="skip the large tier"
    )
    group.addoption(
        "--primitive-coverage",
        dest="mytensor_coverage",
        action="store_true",
        default=False,
        help="print a table of each primitive x dtype and how often the suite called it",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("mytensor_backends"):  # named explicitly: check the names now
        selected_backends(config)
    if _suite_only(config) and "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
        # nothing of hypothesis' (its constants cache) lands in the working directory
        from hypothesis.configuration import set_hypothesis_home_dir

        set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "mytensor-hypothesis"))


def _suite_only(config: pytest.Config) -> bool:
    """Whether this session runs nothing but the suite (``--pyargs mytensor.conformance``)."""
    args = [a.split("::")[0] for a in config.args]
    return (
        bool(config.option.pyargs)
        and bool(args)
        and all(a == "mytensor.conformance" or a.startswith("mytensor.conformance.") for a in args)
    )


def large_enabled(config: pytest.Config, backend: str) -> bool:
    """Whether the large tier runs on `backend` in this session."""
    chosen = config.getoption("mytensor_large")
    if chosen is not None:
        return bool(chosen)
    from mytensor.core.registry import get_backend

    return hasattr(get_backend(backend).impl, LARGE_BY_ATTRIBUTE)


def selected_backends(config: pytest.Config) -> list[str]:
    """The backend names the suite runs on (resolved once, on first use)."""
    names = config.stash.get(_BACKENDS, None)
    if names is None:
        names = _resolve_backends(config.getoption("mytensor_backends"))
        config.stash[_BACKENDS] = names
    return names


def _resolve_backends(requested: list[str] | None) -> list[str]:
    import mytensor as mt

    infos = {info.name: info for info in mt.backends()}
    if not requested:
        names = [name for name, info in infos.items() if info.status == "loaded"]
        if not names:
            raise pytest.UsageError("mytensor conformance: no working backend is installed")
        return names
    names = list(dict.fromkeys(requested))
    for name in names:
        info = infos.get(name)
        if info is None:
            raise pytest.UsageError(
                f"--backend {name}: unknown backend; installed: {', '.join(sorted(infos))}"
            )
        if info.status != "loaded":
            raise pytest.UsageError(f"--backend {name}: the backend is {info.status}: {info.error}")
    return names


def _in_suite(path: Path | None) -> bool:
    return path is not None and PACKAGE_DIR in Path(path).resolve().parents


@pytest.fixture
def backend(request: pytest.FixtureRequest):
    """The name of the backend under test (the first selected one outside the suite).

    In the suite's tests the backend's primitives are swapped for those of its
    `guard.GuardedBackend` while the test runs, so every primitive call is counted and
    checked against the contract."""
    name = getattr(request, "param", None) or selected_backends(request.config)[0]
    if not _in_suite(getattr(request.node, "path", None)):
        yield name
        return
    from mytensor.conformance.guard import guarded_methods
    from mytensor.core.registry import get_backend

    dispatch = get_backend(name)
    cache = request.config.stash.setdefault(_GUARDED, {})
    if name not in cache:
        cache[name] = guarded_methods(dispatch)
    saved = {attr: dispatch.__dict__[attr] for attr in cache[name]}
    dispatch.__dict__.update(cache[name])
    try:
        yield name
    finally:
        dispatch.__dict__.update(saved)


def suite_id(item: pytest.Item) -> str:
    """The item's id relative to the package's parent (``mytensor/conformance/...``): the
    same from every working directory and rootdir."""
    path = Path(item.path).resolve().relative_to(PACKAGE_DIR.parent.parent)
    return f"{path.as_posix()}::{item.nodeid.partition('::')[2]}"


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames or not _in_suite(metafunc.definition.path):
        return
    names = selected_backends(metafunc.config)
    metafunc.parametrize("backend", names, ids=names, indirect=True)


def read_expected_failures(path: str) -> dict[str, str]:
    """``{test id or suffix: reason}`` from an expected-failures file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise pytest.UsageError(f"--expected-failures: cannot read {path}: {exc}") from None
    entries: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition("#")
        entries[test_id.strip()] = reason.strip() or "declared in " + path
    return entries


def _matches(nodeid: str, entry: str) -> bool:
    if nodeid == entry:
        return True
    return nodeid.endswith(entry) and nodeid[-len(entry) - 1] in "/:"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    path = config.getoption("mytensor_expected_failures")
    if not path:
        return
    entries = read_expected_failures(path)
    used = set()
    for item in items:
        ids = [item.nodeid]
        if _in_suite(getattr(item, "path", None)):
            ids.append(suite_id(item))
        for entry, reason in entries.items():
            if any(_matches(nodeid, entry) for nodeid in ids):
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
                used.add(entry)
                break
    unused = [entry for entry in entries if entry not in used]
    if unused:
        raise pytest.UsageError(
            f"--expected-failures {path}: no collected test matches "
            + ", ".join(repr(e) for e in unused)
        )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item):
    """Undo hypothesis' per-call settings layer on parametrized suite tests.

    hypothesis' pytest plugin wraps a parametrized test function's settings in one more
    `settings(parent=...)` on every call, on the function object all parameter sets
    share; reading ``settings.database`` walks that chain recursively, so a test with
    ~950 parameter sets (test_forward: ops x dtypes x backends) overflows the recursion
    limit. Restoring the attribute after each call keeps the chain one layer deep.
    """
    function = getattr(item, "obj", None)
    function = getattr(function, "__func__", function)
    before = getattr(function, "_hypothesis_internal_use_settings", None)
    in_suite = _in_suite(getattr(item, "path", None))
    seed_before = getattr(function, "_hypothesis_internal_use_seed", None)
    if before is not None and in_suite:
        _apply_run_settings(item, function, before)
    try:
        return (yield)
    finally:
        if before is not None and in_suite:
            function._hypothesis_internal_use_settings = before
            function._hypothesis_internal_use_seed = seed_before


def _apply_run_settings(item: pytest.Item, function, base) -> None:
    """This run's example count (--examples) and seed (--seed: a seed per test id)."""
    from hypothesis import settings

    from mytensor.core.dtypes import ALL_DTYPES, DType

    config = item.config
    factor = config.getoption("mytensor_examples") / REFERENCE_EXAMPLES
    callspec = getattr(item, "callspec", None)
    dtypes = [v for v in (callspec.params.values() if callspec else ()) if isinstance(v, DType)]
    if any(d not in ALL_DTYPES for d in dtypes):
        factor /= 2  # the standard's other dtypes: half the examples of the core five
    factor *= float(os.environ.get("MYTENSOR_CONFORMANCE_EXAMPLES", "1"))
    seed = config.getoption("mytensor_seed")
    function._hypothesis_internal_use_settings = settings(
        base, max_examples=max(1, round(base.max_examples * factor)), derandomize=seed is None,
        database=None,
    )  # fmt: skip
    if seed is not None:
        function._hypothesis_internal_use_seed = zlib.crc32(f"{seed}:{item.nodeid}".encode())


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not config.getoption("mytensor_coverage"):
        return
    from mytensor.conformance.guard import coverage_table
    from mytensor.core.registry import get_backend

    for name in selected_backends(config):
        dtypes = sorted(d.name for d in get_backend(name).dtypes)
        terminalreporter.write_sep("=", f"primitive calls by input dtype ({name})")
        terminalreporter.write_line(coverage_table(name, dtypes))
