"""Interchange: `from_dlpack`, `__dlpack__`, `__dlpack_device__` and `__array__`, zero-copy
with numpy on the host-buffer backends, a copy elsewhere, and PyTorch where installed."""

from __future__ import annotations

import numpy as np
import pytest

import mytensor as mt

HOST = ["numpy_ref", "numba_cpu"]  # backends that declare host_buffers


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    return np.shares_memory(a, b)


@pytest.mark.parametrize("backend", HOST)
@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int64", "float32", "complex128"])
def test_from_numpy_shares_memory(backend, dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    t = mt.from_dlpack(a, device=backend)
    assert t.dtype is getattr(mt, dtype) and t.backend == backend and t.shape == (3, 4)
    a[1, 2] = 0
    np.testing.assert_array_equal(t.numpy(), a)  # the write shows: the memory is shared


@pytest.mark.parametrize("backend", HOST)
def test_from_numpy_strided_views_share_memory(backend):
    a = np.arange(24.0).reshape(4, 6)
    view = a[1:, ::2]
    t = mt.from_dlpack(view, device=backend)
    assert t.stride() == (6, 2)
    a[2, 2] = -5.0
    np.testing.assert_array_equal(t.numpy(), view)
    np.testing.assert_array_equal((t * 2).numpy(), view * 2)  # kernels read the layout


@pytest.mark.parametrize("backend", [*HOST, "minimal"])
def test_to_numpy_shares_memory(backend):
    t = mt.tensor(np.arange(12.0).reshape(3, 4), mt.float64, backend=backend)
    view = t[:, 1::2]
    a = np.from_dlpack(view)
    assert a.shape == (3, 2) and t.__dlpack_device__() == (1, 0)
    a[0, 0] = 99.0  # numpy writes into the tensor's buffer
    assert t[0, 1].item() == 99.0
    b = np.asarray(view, copy=False)
    assert _shares(a, b)
    np.testing.assert_array_equal(np.asarray(view), view.numpy())


def test_copy_keywords():
    a = np.arange(4.0)
    copied = mt.from_dlpack(a, copy=True, device="numpy_ref")
    a[0] = 7.0
    assert copied.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(BufferError, match=r"minimal.*allow a copy"):
        mt.from_dlpack(a, copy=False, device="minimal")
    on_minimal = mt.from_dlpack(a, device="minimal")  # copies: minimal has no host_buffers
    a[1] = 8.0
    assert on_minimal.tolist() == [7.0, 1.0, 2.0, 3.0]
    t = mt.tensor([1.0, 2.0])
    exported = np.from_dlpack(t, copy=True)
    exported[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    with pytest.raises(BufferError, match="device"):
        t.__dlpack__(dl_device=(2, 0))
    assert np.array(t, dtype=np.float64).dtype == np.float64


def test_round_trip_through_mytensor_itself():
    t = mt.tensor([1, 2, 3], dtype=mt.uint8)
    u = mt.from_dlpack(t, device="numba_cpu")
    assert u.dtype is mt.uint8 and u.tolist() == [1, 2, 3]
    empty = mt.from_dlpack(np.zeros((0, 3), np.float32))
    assert empty.shape == (0, 3)


def test_torch_both_ways():
    torch = pytest.importorskip("torch")
    source = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = mt.from_dlpack(source, device="numpy_ref")
    source[0, 0] = 42.0
    assert t[0, 0].item() == 42.0 and t.dtype is mt.float32
    z = mt.from_dlpack(torch.tensor([1 + 2j]))
    assert z.dtype is mt.complex64
    back = torch.from_dlpack(mt.tensor([1, 2, 3], dtype=mt.int16))
    assert back.dtype == torch.int16 and back.tolist() == [1, 2, 3]
    shared = mt.tensor([1.0, 2.0])
    torch.from_dlpack(shared)[1] = -1.0
    assert shared.tolist() == [1.0, -1.0]
