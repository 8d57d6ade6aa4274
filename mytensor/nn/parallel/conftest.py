"""DistributedDataParallel's docstring examples need mpi4py (the ``mpi`` extra): without
it pytest skips collecting them rather than failing."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("mpi4py") else ["distributed.py"]
