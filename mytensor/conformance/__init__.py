"""The mytensor conformance suite: one op table, every backend, as a pytest plugin.

Run it against every installed backend, or name some::

    pytest --pyargs mytensor.conformance
    pytest --pyargs mytensor.conformance --backend minimal --backend numpy_ref
    pytest --pyargs mytensor.conformance --backend mine --expected-failures known-gaps.txt
    mytensor conformance mine --report conformance.json

An expected-failures file lists one test id (or id suffix) per line, followed by
``# reason``; ids start at the package (``mytensor/conformance/test_ops.py::
test_forward[pow-float32-mine]``, the backend last) whatever the working directory. A
listed test that passes fails the run, and a listed id that matches no collected test
is a usage error. From Python::

    from mytensor.conformance import run
    exit_code = run(["mine"], report="conformance.json")

Runs are derandomized (the same examples every time, nothing written to the working
directory); ``--seed N`` draws other examples reproducibly, ``--examples N`` sets the
examples per table test (default 18; ``MYTENSOR_CONFORMANCE_EXAMPLES`` multiplies
every count), ``--large``/``--no-large`` switch the tier of 2**21-element tensors
(default: on for backends with a ``parallel_threshold``), ``--primitive-coverage``
prints a primitive x dtype table of calls. While a suite test runs, the backend's
primitives are checked against the contract (`mytensor.conformance.guard`).
`mytensor.conformance.fuzz` runs random op programs against numpy_ref.
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
