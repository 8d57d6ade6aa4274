"""The cuda backend's performance targets, measured in one run on a real GPU.

    python benchmarks/cuda_targets.py [--quick]

Prints medians (each timing synchronizes the device before its timer stops) and the
ratios the targets are stated in:

1. device-to-device copy bandwidth (CuPy, else numba), the reference for 2-4;
2. elementwise add and mul of 1e8 float32, as % of copy bandwidth (bytes moved: 3 per
   element, two reads and one write, against the copy's two);
3. matmul 4096 x 4096 float32: the cuBLAS path, torch.cuda (if installed) or CuPy as
   the peer, and the tiled kernel as a ratio of the cuBLAS path;
4. sum over each axis of an 8192 x 8192 float32 matrix, as % of copy bandwidth;
5. SGD training steps of the MLP 784-256-256-10 and the LeNet CNN on cuda vs numba_cpu
   at batch sizes 64..1024.

It needs a CUDA GPU with numba-cuda (and preferably CuPy): pip install 'mytensor[cuda12]'
(or cuda13). Without one it stops with a message saying what is missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np


def _require_gpu() -> None:
    try:
        from numba import config, cuda
    except ImportError:
        sys.exit("cuda_targets: numba-cuda is missing: pip install 'mytensor[cuda12]' (or cuda13)")
    if config.ENABLE_CUDASIM:
        sys.exit("cuda_targets: NUMBA_ENABLE_CUDASIM=1 is set; the simulator has no GPU timings")
    if not cuda.is_available():
        reason = " ".join(str(cuda.cuda_error() or "no device").split())
        sys.exit(f"cuda_targets: no usable CUDA GPU ({reason}); "
                 "these targets can only be measured on a real GPU")  # fmt: skip


def median_time(fn: Callable[[], object], sync: Callable[[], None], repeat: int) -> float:
    """Median seconds of `fn` over `repeat` runs after a warm-up, synchronizing the device
    before each timer starts and before it stops."""
    fn()
    sync()
    times = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _row(label: str, seconds: float, extra: str = "") -> None:
    print(f"  {label:<44} {seconds * 1e3:10.3f} ms  {extra}")


def bandwidths(mt, n: int, repeat: int) -> float:
    """Copy bandwidth (GB/s), then add/mul as % of it."""
    sync = lambda: mt.synchronize("cuda")  # noqa: E731
    x = mt.ones(n, backend="cuda")
    y = mt.ones(n, backend="cuda")
    try:
        import cupy

        src, dst = cupy.ones(n, cupy.float32), cupy.empty(n, cupy.float32)
        copy_s = median_time(lambda: dst.data.copy_from_device(src.data, src.nbytes),
                             cupy.cuda.Device().synchronize, repeat)  # fmt: skip
        how = "cupy memcpy"
    except ImportError:
        from numba import cuda

        src, dst = cuda.device_array(n, np.float32), cuda.device_array(n, np.float32)
        copy_s = median_time(lambda: dst.copy_to_device(src), cuda.synchronize, repeat)
        how = "numba memcpy"
    copy_gbs = 2 * 4 * n / copy_s / 1e9
    print(f"\n1. device-to-device copy of {n:.0e} float32 ({how})")
    _row("copy", copy_s, f"{copy_gbs:8.1f} GB/s")
    print(f"\n2. elementwise on {n:.0e} float32, % of copy bandwidth")
    for name, fn in (("add", lambda: x + y), ("mul", lambda: x * y)):
        seconds = median_time(fn, sync, repeat)
        gbs = 3 * 4 * n / seconds / 1e9
        _row(name, seconds, f"{gbs:8.1f} GB/s = {100 * gbs / copy_gbs:5.1f}% of copy")
    return copy_gbs


def matmuls(mt, size: int, repeat: int) -> None:
    from mytensor.backends import cuda as cuda_pkg
    from mytensor.core.registry import get_backend

    sync = lambda: mt.synchronize("cuda")  # noqa: E731
    a, b = mt.randn(size, size, backend="cuda"), mt.randn(size, size, backend="cuda")
    flops = 2 * size**3
    print(f"\n3. matmul {size} x {size} float32")
    impl = get_backend("cuda").impl
    results = {}
    for name in ("cublas", "tiled"):
        if name == "cublas" and impl.cupy is None:
            print("  cublas: skipped (CuPy is not installed)")
            continue
        cuda_pkg.set_matmul(name)
        results[name] = median_time(lambda: a @ b, sync, repeat)
        rate = flops / results[name] / 1e12
        _row(f"mytensor cuda ({name})", results[name], f"{rate:6.1f} TFLOP/s")
    cuda_pkg.set_matmul("cublas" if impl.cupy is not None else "tiled")
    try:
        import torch

        ta, tb = torch.randn(size, size, device="cuda"), torch.randn(size, size, device="cuda")
        peer = median_time(lambda: ta @ tb, torch.cuda.synchronize, repeat)
        peer_name = "torch.cuda"
    except ImportError:
        try:
            import cupy

            ca, cb = cupy.random.rand(size, size, dtype=cupy.float32), cupy.random.rand(
                size, size, dtype=cupy.float32)  # fmt: skip
            peer = median_time(lambda: ca @ cb, cupy.cuda.Device().synchronize, repeat)
            peer_name = "cupy"
        except ImportError:
            peer, peer_name = None, None
    if peer is not None:
        _row(f"peer: {peer_name}", peer, f"{flops / peer / 1e12:6.1f} TFLOP/s")
        if "cublas" in results:
            print(f"  cublas path / {peer_name}: {results['cublas'] / peer:5.2f}x the time")
    if "cublas" in results:
        print(f"  tiled / cublas path: {results['tiled'] / results['cublas']:5.2f}x the time")


def sums(mt, size: int, repeat: int, copy_gbs: float) -> None:
    sync = lambda: mt.synchronize("cuda")  # noqa: E731
    x = mt.ones(size, size, backend="cuda")
    print(f"\n4. sum of {size} x {size} float32 over each axis, % of copy bandwidth")
    for dim in (0, 1):
        seconds = median_time(lambda d=dim: x.sum(d), sync, repeat)
        gbs = 4 * size * size / seconds / 1e9
        _row(f"sum(dim={dim})", seconds, f"{gbs:8.1f} GB/s = {100 * gbs / copy_gbs:5.1f}% of copy")


def training(mt, batches: list[int], repeat: int) -> None:
    """The `mytensor bench` training workloads (`mlp_step`, `lenet_step`) at each batch."""
    from mytensor.bench.workloads import WORKLOADS

    print("\n5. one SGD training step, cuda vs numba_cpu")
    for name in ("mlp_step", "lenet_step"):
        workload = WORKLOADS[name]
        for batch in batches:
            seconds = {}
            for backend in ("cuda", "numba_cpu"):
                try:
                    step = workload.prepare(backend, batch)  # timed calls synchronize
                except Exception as exc:  # numba_cpu not installed, out of memory, ...
                    print(f"  {name} batch {batch} on {backend}: skipped ({exc})")
                    continue
                seconds[backend] = median_time(step, lambda b=backend: mt.synchronize(b), repeat)
            if len(seconds) == 2:
                ratio = seconds["numba_cpu"] / seconds["cuda"]
                cpu_ms = seconds["numba_cpu"] * 1e3
                _row(f"{workload.description[:30]}, batch {batch}", seconds["cuda"],
                     f"numba_cpu {cpu_ms:9.3f} ms  speed-up {ratio:6.2f}x")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run every target; ``--quick`` uses smaller sizes and fewer repeats (a smoke run)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    args = parser.parse_args(argv)
    _require_gpu()
    import mytensor as mt

    repeat = 3 if args.quick else 20
    n = 10**6 if args.quick else 10**8
    copy_gbs = bandwidths(mt, n, repeat)
    matmuls(mt, 512 if args.quick else 4096, repeat)
    sums(mt, 1024 if args.quick else 8192, repeat, copy_gbs)
    training(mt, [64, 1024] if args.quick else [64, 128, 256, 512, 1024], repeat)
    print("\n(medians; every timer stops after mt.synchronize)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
