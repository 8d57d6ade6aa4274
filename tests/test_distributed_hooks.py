"""`Tensor.register_post_accumulate_grad_hook`: what DistributedDataParallel starts its
all-reduces from (PyTorch's semantics: after `.grad` holds the accumulated gradient)."""

import pytest

import mytensor as mt


def test_hook_sees_the_accumulated_grad_once_per_backward() -> None:
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append((t is w, t.grad.tolist())))
    # w is used twice: the engine sums both paths first, so the hook runs once
    (w * 3 + w * w).sum().backward()
    assert seen == [(True, [5.0, 7.0])]
    (w * 2).sum().backward()  # accumulates into the existing .grad
    assert seen[-1] == (True, [7.0, 9.0])


def test_hook_runs_after_the_plain_gradient_hook_and_removes() -> None:
    w = mt.tensor([1.0], requires_grad=True)
    order = []
    w.register_hook(lambda g: order.append("grad") or g * 10)
    handle = w.register_post_accumulate_grad_hook(lambda t: order.append(t.grad.item()))
    (w * 2).sum().backward()
    assert order == ["grad", 20.0]
    handle.remove()
    (w * 2).sum().backward()
    assert order == ["grad", 20.0, "grad"]


def test_autograd_grad_does_not_run_it() -> None:
    w = mt.tensor([1.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(seen.append)
    mt.autograd.grad((w * 2).sum(), w)
    assert seen == [] and w.grad is None


def test_only_leaves_that_require_grad() -> None:
    w = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only be registered on leaf.*computed by an op"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.tensor([1.0]).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match="must be callable"):
        w.register_post_accumulate_grad_hook(3)


def _hook_events(lib) -> list:
    """The same program on mytensor or PyTorch: what the hooks see, in order."""
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    events: list = []
    w.register_hook(lambda g: events.append(("grad", g.tolist())) or g * 2)
    handle = w.register_post_accumulate_grad_hook(
        lambda t: events.append(("post", t.grad.tolist()))
    )
    (w * 3 + w * w).sum().backward()
    (w * 2).sum().backward()
    lib.autograd.grad((w * 5).sum(), w)
    handle.remove()
    (w * 1).sum().backward()
    return [*events, ("final", w.grad.tolist())]


def test_hooks_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    assert _hook_events(mt) == _hook_events(torch)
