"""The pytest plugin (entry point ``pytest11``): backend selection and expected failures.

It is loaded in every pytest run of an environment with mytensor installed, so it
imports nothing heavy and only acts on the test modules of this package: it
parametrizes their ``backend`` argument over the selected backends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent
_BACKENDS = pytest.StashKey[list]()


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


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("mytensor_backends"):  # named explicitly: check the names now
        selected_backends(config)


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
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test (the first selected one outside the suite)."""
    return getattr(request, "param", None) or selected_backends(request.config)[0]


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames or not _in_suite(metafunc.definition.path):
        return
    names = selected_backends(metafunc.config)
    metafunc.parametrize("backend", names, ids=names)


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
        for entry, reason in entries.items():
            if _matches(item.nodeid, entry):
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
    try:
        return (yield)
    finally:
        if before is not None and _in_suite(getattr(item, "path", None)):
            function._hypothesis_internal_use_settings = before
