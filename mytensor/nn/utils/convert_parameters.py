"""Flatten parameters into one vector and write one back (e.g. for second-order or
evolutionary optimisers)."""

from __future__ import annotations

from collections.abc import Iterable

from mytensor.core.autograd import no_grad
from mytensor.core.ops.shape import cat
from mytensor.core.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _tensors(op: str, parameters: Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        raise TypeError(
            f"{op}(): parameters must be an iterable of tensors (e.g. model.parameters()), "
            "got a single Tensor; wrap it in a list"
        )
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}(): parameter {i} is a {type(p).__name__}, not a Tensor")
    if params:
        backend = params[0].backend
        for i, p in enumerate(params):
            if p.backend != backend:
                raise ValueError(
                    f"{op}(): parameter {i} is on backend {p.backend!r} but parameter 0 is on "
                    f"{backend!r}; move them to one backend with .to(...)"
                )
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All of `parameters`, flattened and concatenated into one 1-d tensor (in the
    graph: gradients flow back to each parameter).

    >>> import mytensor as mt
    >>> from mytensor.nn.utils import parameters_to_vector
    >>> parameters_to_vector([mt.ones(2, 2), mt.zeros(3)]).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    """
    params = _tensors("parameters_to_vector", parameters)
    if not params:
        raise ValueError("parameters_to_vector(): got no parameters to concatenate")
    return cat([p.reshape(-1) for p in params], 0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-d `vec` into `parameters`, in place and outside
    the graph (entries of `vec` past the parameters' total size are ignored, as in
    PyTorch).

    >>> import mytensor as mt
    >>> from mytensor.nn.utils import vector_to_parameters
    >>> a, b = mt.zeros(2), mt.zeros(1, 2)
    >>> vector_to_parameters(mt.tensor([1.0, 2.0, 3.0, 4.0]), [a, b])
    >>> a.tolist(), b.tolist()
    ([1.0, 2.0], [[3.0, 4.0]])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters(): expected a Tensor, got {type(vec).__name__}")
    params = _tensors("vector_to_parameters", parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] < total:
        raise ValueError(
            f"vector_to_parameters(): vec must be 1-d with at least {total} entries (the "
            f"parameters' total size), got shape {vec.shape}"
        )
    with no_grad():
        start = 0
        for p in params:
            p[...] = vec[start : start + p.numel()].reshape(p.shape)
            start += p.numel()
