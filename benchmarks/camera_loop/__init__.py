"""The old spelling `python -m benchmarks.camera_loop`: now `python -m benchmarks camera` (benchmarks.camera)."""
