"""Program (a): fit sin(x) with a Legendre polynomial written as a custom autograd.Function
(forward/backward with ctx, save_for_backward, needs_input_grad), trained by hand and then
with optim.SGD, on PyTorch and on mytensor, loss for loss."""

from __future__ import annotations

import math

from _frameworks import assert_same_run, run_on_pytorch


def polynomial_fit(torch, nn, optim, data, steps: int = 25) -> dict:
    """The PyTorch tutorial's P3(c + d x) fit of sin(x), then a scaled-input variant whose
    custom Function takes a second, constant input."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x**3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x**2 - 1)

    class Scale(torch.autograd.Function):
        """x * s, where only the inputs that need a gradient get one."""

        @staticmethod
        def forward(ctx, x, s):
            ctx.save_for_backward(x, s)
            return x * s

        @staticmethod
        def backward(ctx, grad_output):
            x, s = ctx.saved_tensors
            grad_x = grad_s = None
            if ctx.needs_input_grad[0]:
                grad_x = grad_output * s
            if ctx.needs_input_grad[1]:
                grad_s = (grad_output * x).sum().reshape(s.shape)
            return grad_x, grad_s

    x = torch.linspace(-math.pi, math.pi, 200)
    y = torch.sin(x)
    a = torch.full((), 0.0, requires_grad=True)
    b = torch.full((), -1.0, requires_grad=True)
    c = torch.full((), 0.0, requires_grad=True)
    d = torch.full((), 0.3, requires_grad=True)
    learning_rate = 5e-6
    manual_losses = []
    for _ in range(steps):
        y_pred = a + b * LegendrePolynomial3.apply(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        manual_losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None

    scale = torch.tensor([1.0 / math.pi], requires_grad=True)
    constant = torch.tensor([0.5])
    params = [a, b, c, d, scale]
    opt = optim.SGD(params, lr=1e-3, momentum=0.9)
    sgd_losses = []
    for _ in range(steps):
        opt.zero_grad()
        u = Scale.apply(x, scale)
        y_pred = a + b * LegendrePolynomial3.apply(c + d * Scale.apply(u, constant))
        loss = nn.functional.mse_loss(y_pred, y)
        sgd_losses.append(loss.item())
        loss.backward()
        opt.step()
    return {
        "manual_losses": manual_losses,
        "sgd_losses": sgd_losses,
        "params": [p.item() for p in params],
        "constant_grad": constant.grad,
        "x_needs_grad": x.requires_grad,
    }


def test_polynomial_fit_matches_pytorch_step_by_step(mytensor_modules):
    theirs = run_on_pytorch(polynomial_fit)
    ours = polynomial_fit(*mytensor_modules)
    assert theirs["manual_losses"][-1] < theirs["manual_losses"][0]
    assert_same_run(ours, theirs)
