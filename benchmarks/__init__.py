"""asv benchmarks of mytensor: every workload of `mytensor.bench` on every backend, with
plain numpy and PyTorch CPU as rows of the same suite. See the README's Performance
section for `asv run`, `asv continuous` and `asv publish`."""
