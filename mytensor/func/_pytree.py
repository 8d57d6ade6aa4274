"""Pytrees for the transforms: tuples, lists, dicts (and named tuples) of leaves."""

from __future__ import annotations

from typing import Any


def tree_flatten(tree: Any) -> tuple[list, Any]:
    """The leaves of `tree` in order, and a spec that `tree_unflatten` rebuilds it from."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [tree_flatten(tree[k]) for k in keys]
        return [leaf for p in parts for leaf in p[0]], (dict, keys, [p[1] for p in parts])
    if isinstance(tree, list | tuple):
        parts = [tree_flatten(v) for v in tree]
        return [leaf for p in parts for leaf in p[0]], (type(tree), None, [p[1] for p in parts])
    return [tree], None


def tree_unflatten(leaves: list, spec: Any) -> Any:
    it = iter(leaves)
    return _build(it, spec)


def _build(it: Any, spec: Any) -> Any:
    if spec is None:
        return next(it)
    kind, keys, children = spec
    values = [_build(it, c) for c in children]
    if kind is dict:
        return dict(zip(keys, values, strict=True))
    if hasattr(kind, "_fields"):
        return kind(*values)
    return kind(values)


def broadcast_prefix(prefix: Any, tree: Any, what: str) -> list:
    """One entry of `prefix` (an int/None or a tree matching the top of `tree`) per leaf."""
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(tree_flatten(tree)[0])
    if isinstance(prefix, dict) and isinstance(tree, dict) and set(prefix) == set(tree):
        return [d for k in tree for d in broadcast_prefix(prefix[k], tree[k], what)]
    if (isinstance(prefix, list | tuple) and isinstance(tree, list | tuple)
            and len(prefix) == len(tree)):  # fmt: skip
        return [d for p, t in zip(prefix, tree, strict=True)
                for d in broadcast_prefix(p, t, what)]  # fmt: skip
    raise ValueError(
        f"vmap: {what}={prefix!r} does not match the structure of the values "
        f"({type(tree).__name__} of {len(tree) if hasattr(tree, '__len__') else 1}); pass an "
        "int or None, or a tuple/list/dict with one entry per value"
    )
