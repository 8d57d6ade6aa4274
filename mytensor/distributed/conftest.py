"""The examples in this package's docstrings need mpi4py (the ``mpi`` extra): without it
pytest skips collecting them rather than failing."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("mpi4py") else ["*.py"]
