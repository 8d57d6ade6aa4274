"""Compute backends: the contract (`spec`) and the built-in plugins."""
