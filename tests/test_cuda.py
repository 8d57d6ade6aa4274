"""The cuda backend without a GPU: its conformance and kernel tests under numba's CUDA
simulator (in subprocesses: ``NUMBA_ENABLE_CUDASIM`` must be set before numba is first
imported), and the clear error it gives where neither a GPU nor the simulator is there.

The simulator runs one Python thread per CUDA thread; with the conformance suite's small
shapes and small blocks the whole suite runs at its full example counts in about 4
minutes on a 2-core machine. For the CI budget, ``MYTENSOR_CONFORMANCE_EXAMPLES``
(`SIM_EXAMPLES`) scales the hypothesis example counts down to three tenths while every
test and dtype still runs; ``NUMBA_ENABLE_CUDASIM=1 mytensor conformance cuda`` runs the
full counts.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mytensor as mt

TESTS = Path(__file__).resolve().parent
# hypothesis examples per conformance test, as a multiple of the suite's default (1: all).
# Three tenths: every test and dtype still runs, on fewer drawn examples, which keeps this
# subprocess near a tenth of the whole suite's CPU time (the CI budget: 121 s at one half,
# 69 s at three tenths, warm); the other backends run the full counts
SIM_EXAMPLES = "0.3"
# In the simulator kernel bodies run on numpy scalars, which warn where a GPU silently
# returns inf/NaN (1/0, log(0), ...): expected results, not problems, so not reported.
QUIET_IEEE = ("-W", "ignore::RuntimeWarning")
HAVE_NUMBA_CUDA = importlib.util.find_spec("numba") is not None and (
    importlib.util.find_spec("numba_cuda") is not None
)
needs_numba_cuda = pytest.mark.skipif(
    not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed (pip install 'mytensor[cudasim]')"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MYTENSOR_BACKEND", "NUMBA_ENABLE_CUDASIM")}  # fmt: skip
    env.update(extra)
    return env


def _run(args: list[str], timeout: int, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=_env(**env), capture_output=True, text=True,
                          timeout=timeout, cwd=TESTS.parent)  # fmt: skip


def _tail(result: subprocess.CompletedProcess, lines: int = 60) -> str:
    text = (result.stdout + "\n" + result.stderr).strip().splitlines()
    return "\n".join(text[-lines:])


@needs_numba_cuda
def test_conformance_under_simulator():
    """The whole conformance suite, on the real kernels run by numba's simulator."""
    result = _run(
        [sys.executable, "-m", "pytest", "--pyargs", "mytensor.conformance", "--backend", "cuda",
         "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *QUIET_IEEE],
        timeout=600, NUMBA_ENABLE_CUDASIM="1", MYTENSOR_CONFORMANCE_EXAMPLES=SIM_EXAMPLES,
    )  # fmt: skip
    assert result.returncode == 0, f"cuda conformance under the simulator:\n{_tail(result)}"
    assert " passed" in result.stdout


@needs_numba_cuda
def test_kernels_under_simulator():
    """tests/test_cuda_kernels.py (long reductions, tiles, conv, atomics, layouts, launch
    metadata), which only runs with the simulator on."""
    result = _run(
        [sys.executable, "-m", "pytest", str(TESTS / "test_cuda_kernels.py"), "-q",
         "-p", "no:cacheprovider", "-p", "no:randomly", *QUIET_IEEE],
        timeout=300, NUMBA_ENABLE_CUDASIM="1",
    )  # fmt: skip
    assert result.returncode == 0, f"cuda kernel tests under the simulator:\n{_tail(result)}"
    assert " passed" in result.stdout and "skipped" not in result.stdout, _tail(result)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-c", textwrap.dedent(code)], timeout=120, **env)


@needs_numba_cuda
def test_float16_under_simulator_matches_numpy_ref_bit_for_bit():
    """cuda holds float16 and computes it in float32, rounding once (widened copies into
    the float32 kernels): the same bits as numpy_ref, which does the same on the host, for
    arithmetic, transcendentals, reductions, matmul, softmax (the core's composite, run in
    float32 for half dtypes), comparisons, casts, indexing and a backward pass; edge values
    included. Primitives cuda declines for float16 (gather, conv, ...) take the core's
    composite or host fallback."""
    result = _python(
        """
        import numpy as np, mytensor as mt
        rng = np.random.default_rng(0)
        A = rng.standard_normal((3, 4)).astype(np.float16)
        B = rng.standard_normal((4, 5)).astype(np.float16)
        A[0, :3] = [np.nan, -0.0, np.inf]
        def run(backend):
            a, b = mt.tensor(A, backend=backend), mt.tensor(B, backend=backend)
            out = {"add": a + a, "mul": a * 3, "exp": a.exp(), "tanh": a.tanh(),
                   "sigmoid": a.sigmoid(), "sum": a.sum(1), "mean": a.mean(),
                   "max": a.amax(0), "argmax": a.argmax(1), "matmul": a @ b,
                   "softmax": a.softmax(1), "log_softmax": a.log_softmax(0), "gt": a > 0,
                   "where": mt.where(a > 0, a, b[:3, :4]), "float": a.float(),
                   "half": b.float().half(), "slice": a[1:, ::2], "cat": mt.cat([a, a]),
                   "gather": a.gather(1, mt.tensor([[0], [3], [1]], backend=backend))}
            x = mt.tensor(A[1:], backend=backend, requires_grad=True)
            w = mt.tensor(B[:, :3], backend=backend, requires_grad=True)
            (x @ w).tanh().sum().backward()
            out["grad_x"], out["grad_w"] = x.grad, w.grad
            return {k: np.asarray(v.numpy()).reshape(-1) for k, v in out.items()}
        ours, reference = run("cuda"), run("numpy_ref")
        for name, got in ours.items():
            want = reference[name]
            assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
            assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (name, got, want)
        print("float16 ok", len(ours))
        """,
        NUMBA_ENABLE_CUDASIM="1",
    )
    assert result.returncode == 0, _tail(result)
    assert "float16 ok 21" in result.stdout


@needs_numba_cuda
def test_fused_kernels_under_simulator():
    """cuda runs softmax, the optimizer updates, the LSTM cell and layer norm natively
    (`_fused`), float32 and float64 only: the optimizer updates, the LSTM cell (both ways)
    and softmax equal the core's composite on cuda bit for bit, softmax on permuted
    operands with NaN, +-inf and all--inf rows; layer norm is within 1e-5 / 1e-12 of
    numpy_ref's composite. Rows longer than a block and more rows than blocks run the
    kernels' stride loops."""
    result = _python(
        """
        import numpy as np, mytensor as mt
        from mytensor.backends.spec import AdamStep, SGDStep
        from mytensor.core import fused_cells, fused_loss, fused_norm, fused_updates
        from mytensor.core.dispatch import Dispatch
        from mytensor.core.registry import get_backend
        d, ref = get_backend("cuda"), get_backend("numpy_ref")
        fused = ("softmax", "sgd_update", "adam_update", "lstm_cell", "lstm_cell_backward",
                 "layer_norm", "layer_norm_backward", "cross_entropy_backward",
                 "softmax_backward")
        assert set(fused) <= set(d.native), d.native
        for name in fused:
            assert d.is_native(name, mt.float32) and d.is_native(name, mt.float64), name
            assert not d.is_native(name, mt.float16), name
        rng = np.random.default_rng(0)
        def on(a, backend="cuda"):
            return mt.tensor(a, backend=backend)
        def same(got, want, what):
            assert got.shape == want.shape and np.array_equal(
                got.view(np.uint8), want.view(np.uint8)), (what, got, want)
        def both(native, composite, make, what):
            runs = []
            for run in (native, composite):
                tensors, args = make()
                run(*args)
                runs.append([t.numpy() for t in tensors])
            for k, (got, want) in enumerate(zip(*runs)):
                same(got, want, f"{what} output {k}")
        for dt in (np.float32, np.float64):
            P, G = rng.standard_normal((2, 3, 5)).astype(dt)
            G[0, :3], P[1, :2] = (np.nan, -0.0, np.inf), (-0.0, np.finfo(dt).smallest_subnormal)
            sgd = SGDStep(lr=0.1, momentum=0.9, weight_decay=0.01, dampening=0.3,
                          nesterov=True, maximize=True)
            def make_sgd():
                ts = [on(x) for x in (P, G, G * 0.5)]
                return [ts[0], ts[2]], [ts[0]._d, ts[1]._d, ts[2]._d, sgd]
            both(d.impl.sgd_update, lambda *a: fused_updates.sgd_update(d, *a), make_sgd,
                 f"sgd {dt}")
            for adam in (AdamStep(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, step=3,
                                  weight_decay=0.1, amsgrad=True),
                         AdamStep(lr=3e-3, beta1=0.8, beta2=0.99, eps=1e-8, step=2,
                                  weight_decay=0.1, decoupled=True, maximize=True)):
                def make_adam():
                    ts = [on(x) for x in (P, G, G * 0.1, np.abs(G) * 0.01, np.abs(P))]
                    vmax = ts[4]._d if adam.amsgrad else None
                    return ts, [*(t._d for t in ts[:4]), vmax, adam]
                both(d.impl.adam_update, lambda *a: fused_updates.adam_update(d, *a),
                     make_adam, f"adam {dt}")
            B, H = 3, 2
            gates = (rng.standard_normal((B, 4 * H + 1)) * 4).astype(dt)
            c, d_hc = rng.standard_normal((H, B)).astype(dt), rng.standard_normal((2 * H, B))
            def make_cell():
                hc, saved = (mt.empty(B, k * H, dtype=P.dtype.name, backend="cuda")
                             for k in (2, 5))
                return [hc, saved], [hc._d, saved._d, on(gates)[:, 1:]._d, on(c).T._d]
            both(d.impl.lstm_cell, lambda *a: fused_cells.lstm_cell(d, *a), make_cell,
                 f"lstm_cell {dt}")
            saved = on(rng.uniform(-1, 1, (B, 5 * H)).astype(dt))
            def make_cell_backward():
                d_gates, d_c = (mt.empty(B, k * H, dtype=P.dtype.name, backend="cuda")
                                for k in (4, 1))
                return [d_gates, d_c], [d_gates._d, d_c._d, on(d_hc.astype(dt)).T._d,
                                        saved._d, on(c).T._d]
            both(d.impl.lstm_cell_backward, lambda *a: fused_cells.lstm_cell_backward(d, *a),
                 make_cell_backward, f"lstm_cell_backward {dt}")
            logp = (rng.standard_normal((4, 6)) - 2).astype(dt)
            logp[0, :3], logp[1, 1] = (-np.inf, np.nan, -0.0), 0.0
            per_row = np.array([0.5, -0.0, np.inf, -3.0], dt)
            def make_cross_entropy():
                out = mt.empty(4, 6, dtype=P.dtype.name, backend="cuda")
                target = on(np.array([[7, 2], [1, 1], [3, 5], [9, 0]]))[:, 1]  # stride 2
                return [out], [out._d, on(logp)._d, target._d, on(per_row[::-1]).flip(0)._d]
            both(d.impl.cross_entropy_backward,
                 lambda *a: fused_loss.cross_entropy_backward(d, *a), make_cross_entropy,
                 f"cross_entropy_backward {dt}")
            A = rng.standard_normal((3, 11, 4)).astype(dt)
            A[0, 2, 1], A[1, :, 2], A[2, 3, 3], A[2, :, 0] = np.nan, -np.inf, np.inf, -np.inf
            for log in (False, True):
                for dim in (0, 1, 2):
                    def make_softmax():
                        a = on(A).permute(2, 0, 1)
                        out = mt.empty(*a.shape, dtype=a.dtype, backend="cuda")
                        return [out], [out._d, a._d, dim, log]
                    both(d.impl.softmax, lambda *a: Dispatch.softmax(d, *a), make_softmax,
                         f"softmax {dt} log={log} dim={dim}")
                    def make_softmax_backward():
                        y = on(A).permute(2, 0, 1)
                        y = y.log_softmax(dim) if log else y.softmax(dim)
                        g = on(A[::-1].copy()).permute(2, 0, 1)
                        out = mt.empty(*y.shape, dtype=y.dtype, backend="cuda")
                        return [out], [out._d, y._d, g._d, dim, log]
                    runs = []
                    for run in (d.impl.softmax_backward,
                                lambda *a: fused_loss.softmax_backward(d, *a)):
                        tensors, args = make_softmax_backward()
                        run(*args)
                        runs.append(tensors[0].numpy())
                    what = f"softmax_backward {dt} log={log} dim={dim}"
                    if dt == np.float32:  # float64 sums of float32 terms: any order rounds alike
                        same(*runs, what)
                    else:  # float64 terms: the block's tree and the reduction may differ by 1 ulp
                        assert np.allclose(*runs, rtol=1e-15, atol=1e-15, equal_nan=True), what
                        assert np.array_equal(*(np.isnan(r) for r in runs)), what
            X, DY = rng.standard_normal((2, 5, 19)).astype(dt)
            W, Bias = rng.standard_normal((2, 19)).astype(dt)
            results = []
            for backend, forward, backward in (
                    ("cuda", d.impl.layer_norm, d.impl.layer_norm_backward),
                    ("numpy_ref", lambda *a: fused_norm.layer_norm(ref, *a),
                     lambda *a: fused_norm.layer_norm_backward(ref, *a))):
                x, w, b, dy = (on(v, backend) for v in (X, W, Bias, DY))
                new = lambda *shape: mt.empty(*shape, dtype=x.dtype, backend=backend)
                out, dx = new(5, 19), new(5, 19)
                mean, rstd, dw, db = new(5), new(5), new(19), new(19)
                forward(out._d, mean._d, rstd._d, x._d, w._d, b._d, 1e-5)
                backward(dx._d, dw._d, db._d, dy._d, x._d, mean._d, rstd._d, w._d)
                results.append([t.numpy() for t in (out, mean, rstd, dx, dw, db)])
            tol = 1e-5 if dt == np.float32 else 1e-12
            for k, (got, want) in enumerate(zip(*results)):
                assert np.allclose(got, want, rtol=tol, atol=tol), (dt, k, got, want)
        print("fused ok")
        """,
        NUMBA_ENABLE_CUDASIM="1",
    )
    assert result.returncode == 0, _tail(result)
    assert "fused ok" in result.stdout


@needs_numba_cuda
def test_docs_examples_run_under_simulator():
    """The python blocks of docs/cuda.md run as written (on the simulator here)."""
    text = (TESTS.parent / "docs" / "cuda.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "docs/cuda.md has no python example"
    for block in blocks:
        result = _python(block, NUMBA_ENABLE_CUDASIM="1")
        assert result.returncode == 0, f"docs/cuda.md example failed:\n{block}\n{_tail(result)}"


@needs_numba_cuda
def test_no_gpu_is_a_clear_error_and_other_backends_work():
    """Without a GPU and without the simulator, choosing cuda says what is missing."""
    result = _python(
        """
        import mytensor as mt
        from mytensor import BackendError
        try:
            mt.ones(2)
        except BackendError as exc:
            print("ERROR:", exc)
        print("REF:", mt.ones(2, backend="numpy_ref").numpy().tolist())
        """,
        MYTENSOR_BACKEND="cuda",
    )
    if "ERROR:" not in result.stdout and "REF:" in result.stdout:
        pytest.skip("this machine has a usable CUDA GPU: the no-GPU error cannot be shown here")
    assert result.returncode == 0, _tail(result)
    error = result.stdout.split("ERROR:", 1)[1].split("REF:")[0]
    assert "backend 'cuda'" in error
    assert "no usable CUDA GPU" in error and "NUMBA_ENABLE_CUDASIM=1" in error
    assert "nvidia-smi" in error
    assert "REF: [1.0, 1.0]" in result.stdout


@needs_numba_cuda
def test_cli_lists_cuda_with_its_reason():
    result = _run([sys.executable, "-m", "mytensor.cli", "backends"], timeout=120)
    if "cuda: unavailable" not in result.stdout:
        pytest.skip("this machine has a usable CUDA GPU: cuda loads")
    assert result.returncode == 0, _tail(result)
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:] if line}
    assert rows["cuda"][1:3] == ["unavailable", "cuda"]
    assert rows["numpy_ref"][1] == "loaded"
    assert "no usable CUDA GPU" in result.stdout and "NUMBA_ENABLE_CUDASIM" in result.stdout


def test_missing_numba_cuda_says_which_extra_to_install():
    """With numba's CUDA package hidden, the factory names the pip extras."""
    result = _python(
        """
        import sys
        sys.modules["numba_cuda"] = None  # importing numba-cuda now raises ImportError
        import mytensor as mt
        try:
            mt.zeros(1, backend="cuda")
        except mt.BackendError as exc:
            print("ERROR:", exc)
        print("REF:", mt.zeros(1, backend="numpy_ref").numpy().tolist())
        """
    )
    assert result.returncode == 0, _tail(result)
    assert "mytensor[cuda12]" in result.stdout and "mytensor[cuda13]" in result.stdout
    assert "nvidia-smi" in result.stdout
    assert "REF: [0.0]" in result.stdout


@needs_numba_cuda
def test_cuda_is_opt_in():
    """cuda loads (here in the simulator) but never becomes the default backend."""
    (info,) = [b for b in mt.backends() if b.name == "cuda"]
    assert info.priority < 0 and info.device == "cuda"
    result = _python(
        """
        import mytensor as mt
        print("DEFAULT:", mt.ones(1).backend, "CUDA:", mt.ones(1, backend="cuda").backend)
        """,
        NUMBA_ENABLE_CUDASIM="1",
    )
    assert result.returncode == 0, _tail(result)
    assert "DEFAULT: numpy_ref CUDA: cuda" in result.stdout, _tail(result)


def test_kernels_are_written_code_not_generated_source():
    """Every cuda kernel is a function in the package's source (a traceback points at a
    real line): no source strings run through exec or compile."""
    package = TESTS.parent / "mytensor" / "backends" / "cuda"
    found = [f"{path.name}:{number}" for path in sorted(package.glob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\b(exec|compile)\(", line)]  # fmt: skip
    assert found == [], f"generated source in the cuda backend at {found}"
