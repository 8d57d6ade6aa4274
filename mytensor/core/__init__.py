"""The core: everything that is the same on every backend."""
