"""The mytensor conformance suite: one op table, every backend, as a pytest plugin.

Run it against every installed backend, or name some::

    pytest --pyargs mytensor.conformance
    pytest --pyargs mytensor.conformance --backend minimal --backend numpy_ref
    pytest --pyargs mytensor.conformance --backend mine --expected-failures known-gaps.txt
    mytensor conformance mine --report conformance.json

An expected-failures file lists one test id (or id suffix) per line, followed by
``# reason``; a listed test that passes fails the run, and a listed id that
matches no collected test is a usage error. From Python::

    from mytensor.conformance import run
    exit_code = run(["mine"], report="conformance.json")

Set ``MYTENSOR_CONFORMANCE_EXAMPLES`` (a multiplier, default 1) to draw more
hypothesis examples per test.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["run"]


def run(
    backend_names: Sequence[str], report: str | None = None, extra_args: Sequence[str] = ()
) -> int:
    """Run the suite on `backend_names`; see `mytensor.conformance.runner.run`."""
    from mytensor.conformance.runner import run as _run

    return _run(backend_names, report=report, extra_args=extra_args)
