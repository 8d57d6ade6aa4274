"""functional_call: run a Module with tensors swapped in for its parameters and buffers."""

from __future__ import annotations

from typing import Any


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = (),
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:  # fmt: skip
    """Call `module` with the named tensors in place of its parameters/buffers, restoring
    the originals afterwards (also when the call raises), as `torch.func.functional_call`.
    With `tie_weights`, a tensor given for one of several tied names replaces them all;
    with `strict`, the names must be exactly the module's.

    >>> import mytensor as mt
    >>> from mytensor.func import functional_call
    >>> lin = mt.nn.Linear(2, 1)
    >>> params = {"weight": mt.ones(1, 2), "bias": mt.zeros(1)}
    >>> functional_call(lin, params, (mt.tensor([[1.0, 2.0]]),)).tolist()
    [[3.0]]
    """
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    merged: dict = {}
    for d in dicts:
        for k, v in d.items():
            if k in merged:
                raise ValueError(f"functional_call: {k!r} appears in more than one dict")
            merged[k] = v
    owners = _named_slots(module)
    if strict:
        missing = sorted(set(owners) - set(merged))
        unexpected = sorted(set(merged) - set(owners))
        if missing or unexpected:
            raise RuntimeError(
                f"functional_call(strict=True): missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
    if tie_weights:
        by_id: dict = {}
        for name, (mod, store, attr) in owners.items():
            by_id.setdefault(id(getattr(mod, store)[attr]), []).append(name)
        for names in by_id.values():
            given = [n for n in names if n in merged]
            for n in names:
                if given and n not in merged:
                    merged[n] = merged[given[0]]
    saved = []
    try:
        for name, value in merged.items():
            mod, store, attr = owners.get(name) or _locate(module, name)
            table = getattr(mod, store) if store else None
            if table is not None:
                saved.append((table, attr, table[attr]))
                table[attr] = value
            else:
                saved.append((mod.__dict__, attr, mod.__dict__.get(attr)))
                mod.__dict__[attr] = value
        args = args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for table, attr, old in reversed(saved):
            table[attr] = old


def _named_slots(module: Any) -> dict:
    """Every parameter's and buffer's name (tied ones under each name) -> (owner, store, attr)."""
    slots = {}
    for prefix, mod in module.named_modules(remove_duplicate=False):
        for store in ("_parameters", "_buffers"):
            for attr, value in getattr(mod, store).items():
                if value is not None:
                    slots[f"{prefix}.{attr}" if prefix else attr] = (mod, store, attr)
    return slots


def _locate(module: Any, name: str) -> tuple:
    *path, attr = name.split(".")
    mod = module
    for part in path:
        mod = getattr(mod, part)
    return mod, None, attr
