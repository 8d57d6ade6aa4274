"""Program (h): the dtype and device chores of a PyTorch script (torch.device, .to, .double,
.float, .long, type_as, new_zeros, from_numpy/as_tensor/.numpy, item/tolist, size/dim,
cuda.is_available, the default dtype), on PyTorch and on mytensor, value for value."""

from __future__ import annotations

import numpy as np
from _frameworks import assert_same_run, run_on_pytorch

import mytensor as mt


def dtype_device(torch, nn, optim, data) -> dict:
    """Move a model and a batch to the chosen device, convert dtypes back and forth, and
    report what a script would print or branch on."""

    def name(dtype):  # "float32" from torch.float32 / mytensor.float32
        return str(dtype).rpartition(".")[2]

    out = {}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    out["device"] = [device.type, torch.device("cpu").type, device.index]
    out["default_dtype"] = name(torch.get_default_dtype())

    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = torch.from_numpy(array).to(device)
    y = torch.as_tensor([[1, 2, 3], [4, 5, 6]], device=device)
    out["dtypes"] = [name(t.dtype) for t in (x, y, x.double(), y.float(), x.long(), y.type_as(x))]
    out["to_dtype"] = name(x.to(torch.float64).dtype)
    out["to_device_dtype"] = name(y.to(device, torch.float32).dtype)
    out["sizes"] = [tuple(x.size()), x.size(1), x.size(-1), x.dim(), x.shape[0], x.numel()]
    out["new_zeros"] = [x.new_zeros(2).tolist(), name(x.new_zeros((1, 2)).dtype),
                        name(y.new_ones(3).dtype), x.new_tensor([1, 2]).tolist()]  # fmt: skip
    out["item"] = [x.sum().item(), y.max().item(), type(y[0, 0].item()).__name__]
    out["tolist"] = [x.tolist(), y.long().tolist(), x.double().mean(dim=0).tolist()]
    out["numpy"] = [x.numpy(), x.double().numpy(), (x > 2).numpy()]
    source = np.ones(3, dtype=np.float32)
    shared, copied = torch.from_numpy(source), torch.tensor(source)
    source[0] = 10.0  # from_numpy shares the array's memory on the CPU; tensor() copies
    out["shared"] = [shared[0].item(), copied[0].item()]
    out["from_numpy_dtype"] = name(torch.from_numpy(np.zeros(2, dtype=np.int32)).dtype)

    model = nn.Linear(3, 2).to(device)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]))
        model.bias.fill_(0.25)
    doubled = model.double()
    out["model_dtype"] = name(next(model.parameters()).dtype)
    out["double_forward"] = doubled(x.double()).detach().numpy()
    out["float_forward"] = model.float()(x).detach().numpy()
    out["weight_numpy"] = model.weight.detach().cpu().numpy()
    out["kinds"] = [x.is_floating_point(), y.is_floating_point(), x.element_size(),
                    x.double().element_size(), x.device.type, x.cpu().device.type]  # fmt: skip
    torch.set_default_dtype(torch.float64)
    try:
        out["float64_default"] = [name(torch.tensor([1.0]).dtype), name(torch.zeros(2).dtype),
                                  name(torch.tensor([1]).dtype)]  # fmt: skip
    finally:
        torch.set_default_dtype(torch.float32)
    out["mixed"] = [name((x + y).dtype), name((y / 2).dtype), name((y * 1.5).dtype),
                    name((x.double() + x).dtype), name((y // 2).dtype)]  # fmt: skip
    return out


def test_dtype_and_device_chores_match_pytorch(mytensor_modules):
    theirs = run_on_pytorch(dtype_device)
    ours = dtype_device(*mytensor_modules)
    assert theirs["device"] == ["cpu", "cpu", None]
    assert theirs.pop("shared") == [10.0, 1.0]
    # from_numpy shares memory on the backends that keep host buffers, else copies (its doc)
    shares = mt.zeros(1).backend in ("numpy_ref", "numba_cpu")
    assert ours.pop("shared") == ([10.0, 1.0] if shares else [1.0, 1.0])
    assert_same_run(ours, theirs)
