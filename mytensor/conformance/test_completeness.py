"""Every public op has a record in the op table (the table drives this whole suite)."""

from __future__ import annotations

import mytensor as mt
from mytensor.backends import spec
from mytensor.core.ops import OPS

# Public names that are not ops computing on tensors, and why.
NOT_OPS = {
    # classes, errors, the version
    "BackendError", "DType", "Tensor", "__version__",
    # dtypes and dtype arithmetic
    "bool_", "int32", "int64", "float32", "float64", "promote_types", "result_type",
    "bool", "int8", "int16", "uint8", "uint16", "uint32", "uint64", "complex64", "complex128",
    "can_cast", "finfo", "iinfo", "isdtype", "float16", "half", "bfloat16",
    # the array API's namespace metadata, devices and interchange (tests/test_array_api_
    # object.py, tests/test_dlpack.py)
    "__array_api_version__", "__array_namespace_info__", "Device", "from_dlpack",
    # the standard's constants
    "e", "pi", "inf", "nan", "newaxis",
    # the inspection functions of __array_namespace_info__(), also at the top level
    "capabilities", "default_device", "devices", "default_dtypes", "dtypes",
    # creation from data, shapes or seeds (test_creation.py covers them per backend)
    "arange", "asarray", "empty", "empty_like", "eye", "full", "full_like", "linspace",
    "ones", "ones_like", "tensor", "zeros", "zeros_like",
    "manual_seed", "rand", "randint", "randn",
    # backend registry
    "backends", "set_backend", "synchronize", "use_backend",
    # grad modes and the autograd module
    "autograd", "enable_grad", "is_grad_enabled", "no_grad",
    # the libraries on top of the ops, and saving/loading
    "nn", "optim", "data", "distributed", "save", "load",
    # function transforms and mixed precision (tests/test_func*.py, tests/test_autocast.py)
    "func", "amp", "autocast", "is_autocast_enabled", "get_autocast_dtype",
    # array API functions whose arguments a table record cannot draw (tensor lists,
    # positional-only non-tensor arguments, index tensors, tuple results); every one is
    # checked against numpy on the backend under test by test_namespace.py, and with
    # gradients where differentiable by tests/test_array_api_functions.py
    "broadcast_arrays", "concat", "moveaxis", "repeat", "tile", "unstack", "nonzero",
    "searchsorted", "take", "take_along_axis", "tensordot",
    "unique_all", "unique_counts", "unique_inverse", "unique_values", "meshgrid",
    # the linalg extension module (its functions: test_namespace.py and tests/test_linalg.py)
    "linalg",
    # the fft extension module (its functions: test_namespace.py and tests/test_fft.py)
    "fft",
    # namespace functions that take both the array API's and PyTorch's calls: their
    # array API form is a record's function (max, min, sort, argsort, var, std, roll,
    # tril, triu); the PyTorch forms are compared with PyTorch in tests/test_torch_*.py
    "max", "min", "sort", "argsort", "var", "std", "roll", "tril", "triu",
    # PyTorch ops with index / mask / boundary tensor arguments or tuple results
    # (tests/test_torch_indexing.py, tests/test_torch_reductions.py, tests/test_torch_shape.py)
    "masked_fill", "masked_select", "index_select", "index_add", "index_fill", "scatter",
    "take_along_dim", "bucketize", "unique", "topk", "kthvalue", "median", "aminmax",
    "chunk", "unbind",
    # PyTorch's products with fixed ranks or an equation, a bool or tuple result: checked
    # against PyTorch, values and gradients, on every loaded backend by tests/test_torch_math.py
    "mm", "bmm", "addmm", "outer", "ger", "trace", "cross", "cdist", "einsum", "allclose",
    "broadcast_tensors",
    # PyTorch's random functions and logspace (tests/test_torch_random.py: seeding, moments)
    "randperm", "rand_like", "randn_like", "randint_like", "normal", "bernoulli",
    "multinomial", "logspace",
    # PyTorch's generator objects and seed functions (tests/test_torch_extras.py:
    # reproducibility, independence, state round trips)
    "Generator", "default_generator", "initial_seed", "seed", "get_rng_state", "set_rng_state",
    # PyTorch ops with data-dependent shapes or tuple results: checked against PyTorch,
    # values and gradients, on every loaded backend by tests/test_torch_extras.py
    "bincount", "histc", "cummax", "cummin", "mode", "var_mean", "std_mean",
    # PyTorch's spellings of dtypes, devices, grad modes and conversions (tests/test_torch_core.py)
    "Size", "cdouble", "cfloat", "device", "double", "float", "int", "long", "short", "cuda",
    "get_default_dtype", "set_default_dtype", "inference_mode", "set_grad_enabled",
    "as_tensor", "from_numpy", "is_tensor", "numel", "utils", "get_num_threads",
    "set_num_threads", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
}  # fmt: skip


def _record_of(obj) -> str | None:
    for record in OPS.values():
        if record.func is obj:
            return record.name
    return None


def test_every_public_op_has_a_record():
    missing = [
        name for name in mt.__all__
        if name not in NOT_OPS and _record_of(getattr(mt, name)) is None
    ]  # fmt: skip
    assert not missing, (
        f"public op(s) without a record in mytensor.core.ops.OPS: {', '.join(missing)}; "
        "register an OpRecord for each (aliases must be the record's function object), or "
        "list the name in NOT_OPS of test_completeness.py if it does not compute on tensors"
    )


def test_not_ops_list_is_current():
    stale = sorted(name for name in NOT_OPS if name not in mt.__all__)
    assert not stale, f"NOT_OPS names that mytensor no longer exports: {', '.join(stale)}"
    wrongly = sorted(name for name in NOT_OPS if _record_of(getattr(mt, name)) is not None)
    assert not wrongly, f"NOT_OPS lists names that do have a record: {', '.join(wrongly)}"


def test_every_kernel_name_is_reachable():
    names = set(spec.MAP_OPS) | set(spec.ZIP_OPS) | set(spec.REDUCE_OPS)
    names |= set(spec.OPTIONAL_MAP_OPS) | set(spec.OPTIONAL_ZIP_OPS)
    unreachable = sorted(names - set(OPS))
    assert not unreachable, (
        f"kernel names of the backend contract with no op record: {', '.join(unreachable)}"
    )


def test_records_are_well_formed():
    problems = []
    for record in OPS.values():
        if record.shapes not in ("unary", "broadcast", "where", "matmul", "custom"):
            problems.append(f"{record.name}: unknown shapes {record.shapes!r}")
        if record.shapes != "custom" and record.ref is None:
            problems.append(f"{record.name}: table op without a numpy reference")
        if record.domain[0] >= record.domain[1]:
            problems.append(f"{record.name}: empty domain {record.domain}")
        if not record.dtypes:
            problems.append(f"{record.name}: no dtypes")
    assert not problems, "malformed op records:\n  " + "\n  ".join(problems)


def test_every_custom_record_has_a_test():
    from mytensor.conformance import shape_cases

    covered = set(shape_cases.SINGLE) | {
        "cat", "stack", "getitem", "gather", "scatter_add", "astype",  # test_custom.py
        "conv1d", "conv2d", "conv3d",  # test_conv.py
        "linear", "cross_entropy", "lstm_cell", "lstm_sequence", "layer_norm",  # test_nn_ops.py
        "max_pool",  # test_pooling.py
    }  # fmt: skip
    untested = sorted(
        r.name for r in OPS.values() if r.shapes == "custom" and r.name not in covered
    )
    assert not untested, (
        f"custom op records without a conformance test: {', '.join(untested)}; add one "
        "(or give the record a table shape kind so test_ops.py covers it)"
    )
