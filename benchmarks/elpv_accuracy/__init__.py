"""The old spelling `python -m benchmarks.elpv_accuracy`: now `python -m benchmarks elpv` (benchmarks.elpv)."""
