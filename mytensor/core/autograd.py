"""Reverse-mode autograd: graph nodes, grad mode, and the backward engine.

An op that needs gradients calls `record`, which gives its output a `Node`:
the op's name, a backward closure written with mytensor ops, and one edge per
input (the input's own node, a `Leaf` for a leaf that requires grad, or None).
`run_backward` sorts the graph iteratively (no recursion, so a 100 000-op chain
is fine), calls each closure once with the summed incoming gradient, checks
what it returns (one gradient or None per input, each with the input's
recorded shape, dtype and backend: `_graph_checks.py` says what is wrong), and
drops the closure afterwards unless the graph is retained, releasing every
saved tensor with it.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from mytensor.core._graph_checks import check_saved, invalid_gradient, run_hooks, wrong_count
from mytensor.core._slice_grad import SliceGrad, sum_grads

if TYPE_CHECKING:
    from mytensor.core.dtypes import DType
    from mytensor.core.tensor import Tensor

BackwardFn = Callable[["Tensor"], Sequence["Tensor | None"]]


class _GradMode(threading.local):
    enabled = True


GRAD_MODE = _GradMode()


def is_grad_enabled() -> bool:
    return GRAD_MODE.enabled


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous = GRAD_MODE.enabled
    GRAD_MODE.enabled = enabled
    try:
        yield
    finally:
        GRAD_MODE.enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Disable graph recording inside the block (also usable as a decorator).

    >>> import mytensor as mt
    >>> x = mt.ones(2, requires_grad=True)
    >>> with mt.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Re-enable graph recording inside a `no_grad` block."""
    return _grad_mode(True)


class set_grad_enabled:  # PyTorch spells this context manager like a function
    """Turn graph recording on or off: at once when called, and back to the previous
    mode at the end of a ``with`` block.

    >>> import mytensor as mt
    >>> x = mt.ones(2, requires_grad=True)
    >>> with mt.set_grad_enabled(False):
    ...     y = x * 2
    >>> y.requires_grad, mt.is_grad_enabled()
    (False, True)
    """

    def __init__(self, mode: bool) -> None:
        self.previous = GRAD_MODE.enabled
        GRAD_MODE.enabled = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        GRAD_MODE.enabled = self.previous


def inference_mode(mode: bool = True) -> contextlib.AbstractContextManager[None]:
    """PyTorch's `inference_mode`: here the same as `no_grad` (``mode=False``: no change).
    Also usable as a decorator.

    >>> import mytensor as mt
    >>> with mt.inference_mode():
    ...     y = mt.ones(2, requires_grad=True) * 2
    >>> y.requires_grad
    False
    """
    return _grad_mode(False) if mode else _grad_mode(GRAD_MODE.enabled)


class Leaf:
    """The graph edge of a leaf tensor that requires grad: gradients accumulate into it.

    It holds its tensor weakly (the tensor holds it): a strong pair would be a reference
    cycle, and a model's parameters would then outlive `del model` until the cyclic
    collector ran. A graph that outlives its leaf tensor accumulates nothing into it."""

    __slots__ = ("_tensor", "hooks", "post_hooks")
    name = "AccumulateGrad"

    def __init__(self, tensor: Tensor) -> None:
        self._tensor = weakref.ref(tensor)
        self.hooks: list | None = None  # Tensor.register_hook's functions, in order
        # Tensor.register_post_accumulate_grad_hook's: called with the tensor once its
        # .grad holds this backward's gradient (DistributedDataParallel starts its
        # all-reduces from them)
        self.post_hooks: list | None = None

    @property
    def tensor(self) -> Tensor | None:
        """The leaf tensor, or None once nothing else holds it."""
        return self._tensor()


class Node:
    """One recorded op: its name, backward closure, input edges and saved versions.

    `fresh_grads` says the closure returns newly allocated gradients that nothing else
    references, so the engine may hand them to a leaf's `.grad` without a copy.
    """

    __slots__ = (
        "backward", "dtype", "edges", "fresh_grads", "hooks", "inputs", "name", "retained",
        "saved", "versions",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        backward: BackwardFn,
        edges: list,
        inputs: list,
        saved: tuple,
        dtype: DType,
        fresh_grads: bool = False,
    ) -> None:
        self.name = name
        self.backward: BackwardFn | None = backward
        self.edges = edges
        # shape, dtype, backend of each input when recorded, flat (input i at 3i, 3i+1,
        # 3i + 2; one list, not a tuple per input: fewer objects per node): what each
        # gradient must have
        self.inputs = inputs
        self.dtype = dtype  # the output's: the gradient the closure receives
        self.saved = saved
        if len(saved) == 2:  # the common case, without a comprehension's frame
            self.versions = (saved[0]._storage.version, saved[1]._storage.version)
        else:
            self.versions = tuple([t._storage.version for t in saved]) if saved else ()
        self.retained: Tensor | None = None
        self.fresh_grads = fresh_grads
        self.hooks: list | None = None  # Tensor.register_hook's functions, in order

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


def edge_of(t: Tensor) -> Node | Leaf | None:
    if t._node is not None:
        return t._node
    if t.requires_grad:
        leaf = t._leaf
        if leaf is None:
            leaf = t._leaf = Leaf(t)
        return leaf
    return None


def needs_grad(*tensors: Tensor) -> bool:
    if not GRAD_MODE.enabled:
        return False
    for t in tensors:  # noqa: SIM110 (any() over a generator: 0.35 us, this 0.15; every op asks)
        if t.requires_grad:
            return True
    return False


def record(
    out: Tensor,
    name: str,
    inputs: tuple[Tensor, ...],
    backward: BackwardFn,
    saved: tuple[Tensor, ...] = (),
    fresh_grads: bool = False,
) -> Tensor:
    """Attach a graph node to `out`; call only when `needs_grad(*inputs)`.

    `backward(grad)` returns one gradient (or None) per input, shaped like the
    input. `saved` lists the tensors whose values the closure reads, so an
    in-place change to any of them before backward is reported, not silently
    differentiated wrong. Pass `fresh_grads=True` only if every gradient the closure
    returns is a new tensor with its own buffer, shared with no other result (see Node).
    """
    # this runs per op: one plain loop (no comprehension frames, edge_of inlined for an
    # op's output and a constant); with the checks in run_backward, chain_backward runs
    # 1.5% more instructions than with no checks (callgrind)
    edges = []
    metas = []
    for t in inputs:
        edges.append(t._node or (edge_of(t) if t.requires_grad else None))
        metas += t.shape, t.dtype, t._storage.backend
    out._node = Node(name, backward, edges, metas, saved, out.dtype, fresh_grads)
    out.requires_grad = True
    return out


def _topological_counts(roots: list) -> dict:
    """How many graph edges point at each node reachable from `roots`."""
    counts: dict = {}
    seen = set(map(id, roots))
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, Leaf):
            continue
        for edge in node.edges:
            if edge is None:
                continue
            counts[edge] = counts.get(edge, 0) + 1
            if id(edge) not in seen:
                seen.add(id(edge))
                stack.append(edge)
    return counts


def run_backward(
    roots: Sequence[Tensor],
    grads: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
) -> None:
    """Propagate `grads` from `roots` through the graph.

    Without `capture`, gradients accumulate into the `.grad` of leaves. With it
    (a dict keyed by edge), the gradient arriving at each captured edge is stored
    there instead and no `.grad` is touched (that is `autograd.grad`).
    """
    pending: dict = {}
    # edges whose pending gradient only the engine references (a sum it made, or a
    # fresh_grads node's result): a leaf can take it as its .grad without the usual copy
    owned: set = set()
    root_edges = []
    for tensor, grad in zip(roots, grads, strict=True):
        edge = edge_of(tensor)
        if edge is None:
            continue
        pending[edge] = pending[edge] + grad if edge in pending else grad
        if edge not in root_edges:
            root_edges.append(edge)
    counts = _topological_counts(root_edges)
    from mytensor.core.batching import ACTIVE  # (batching imports the tensor, which imports this)

    # sums into gradients only the engine holds may be in place, unless recorded or batched
    add_in_place = not create_graph and not ACTIVE[0]
    ready = [e for e in root_edges if counts.get(e, 0) == 0]
    with _grad_mode(create_graph):
        while ready:
            node = ready.pop()
            grad = pending.pop(node, None)
            grad_owned = node in owned
            if type(grad) is SliceGrad:
                grad, grad_owned = grad.materialize(), True
            owned.discard(node)
            if node.hooks and grad is not None:
                grad, grad_owned = run_hooks(node.hooks, grad), False
            if capture is not None and node in capture:
                capture[node] = grad
                if isinstance(node, Leaf):
                    continue
            if isinstance(node, Leaf):
                tensor = node._tensor()
                if capture is None and grad is not None and tensor is not None:
                    _accumulate(tensor, grad, create_graph, grad_owned)
                    if node.post_hooks:
                        for hook in list(node.post_hooks):
                            hook(tensor)
                continue
            if node.retained is not None and grad is not None:
                # a retained gradient accumulates like a leaf's (also in autograd.grad)
                kept, seen = node.retained, grad if create_graph else grad.detach()
                kept.grad = seen if kept.grad is None else kept.grad + seen
            if grad is not None:
                if node.backward is None:
                    raise RuntimeError(
                        f"backward through {node.name}() a second time: its saved tensors "
                        "were freed after the first backward; pass retain_graph=True to the "
                        "first backward() if you need to call it twice"
                    )
                check_saved(node)
                if grad.dtype is not node.dtype:
                    # an in-place op gave this node's output to a tensor of another dtype
                    # (x32.add_(y64)): the closure gets its own output's dtype, as in PyTorch
                    grad = grad.astype(node.dtype)
                input_grads = node.backward(grad)
                if not retain_graph:
                    node.backward = None
                    node.saved = ()
                kind = type(input_grads)
                if (kind is not tuple and kind is not list) or len(input_grads) != len(node.edges):
                    wrong_count(node, input_grads)
            else:
                input_grads = (None,) * len(node.edges)
            metas = node.inputs
            k = -3
            for edge, input_grad in zip(node.edges, input_grads, strict=True):
                k += 3
                if edge is None:
                    continue
                if input_grad is not None:
                    try:
                        valid = (input_grad.shape == metas[k] and input_grad.dtype is metas[k + 1]
                                 and input_grad._storage.backend is metas[k + 2])  # fmt: skip
                    except AttributeError:  # not a Tensor
                        valid = False
                    if not valid:
                        invalid_gradient(node, input_grads)
                    if edge in pending:
                        pending[edge] = sum_grads(pending[edge], input_grad, edge in owned,
                                                  add_in_place)  # fmt: skip
                        owned.add(edge)
                    else:
                        pending[edge] = input_grad
                        if node.fresh_grads:
                            owned.add(edge)
                counts[edge] -= 1
                if counts[edge] == 0:
                    ready.append(edge)


def _accumulate(tensor: Tensor, grad: Tensor, create_graph: bool, owned: bool = False) -> None:
    if not create_graph:
        grad = grad.detach()
    if grad.dtype is not tensor.dtype:
        grad = grad.astype(tensor.dtype)
        owned = True  # astype made a new buffer
    if tensor.grad is None:
        # own the buffer: a later in-place accumulation must not write into a graph value
        # (a gradient only the engine holds is already ours, and a copy of a large weight's
        # gradient is a measurable part of a training step)
        tensor.grad = grad if create_graph or owned else grad.clone()
    elif create_graph:
        tensor.grad = tensor.grad + grad
    else:
        tensor.grad += grad


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of `outputs` with respect to `inputs`, without touching any `.grad`.

    >>> import mytensor as mt
    >>> x = mt.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = mt.autograd.grad((x * x).sum(), x)
    >>> g.tolist()
    [2.0, 4.0]
    """
    from mytensor.core.tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    seeds = [_seed_gradient("grad", out, g) for out, g in zip(outputs, grad_outputs, strict=True)]
    capture: dict = {}
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad(): input {i} (shape {t.shape}) does not require grad; "
                "call .requires_grad_() on it before building the graph"
            )
        capture[edge_of(t)] = None
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(outputs, seeds, retain_graph, create_graph, capture=capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[edge_of(t)]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad(): input {i} (shape {t.shape}) is not used by the outputs' "
                "graph; pass allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _seed_gradient(op: str, output: Tensor, gradient: Tensor | None) -> Tensor:
    from mytensor.core.tensor import Tensor

    if not output.requires_grad:
        raise RuntimeError(
            f"{op}(): the output (shape {output.shape}) does not require grad: none of the "
            "tensors it was computed from had requires_grad=True (or it was computed under no_grad)"
        )
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError(
                f"{op}(): the output has shape {output.shape}, so a gradient argument is "
                "required; pass gradient=mt.ones_like(output), or reduce it first (.sum())"
            )
        return output._full_like(1)
    if not isinstance(gradient, Tensor):
        raise TypeError(f"{op}(): gradient must be a Tensor, got {type(gradient).__name__}")
    if gradient.shape != output.shape:
        raise ValueError(
            f"{op}(): gradient has shape {gradient.shape} but the output has shape {output.shape}"
        )
    return gradient


def backward(
    tensor: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    seed = _seed_gradient("backward", tensor, gradient)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward([tensor], [seed], retain_graph, create_graph)
