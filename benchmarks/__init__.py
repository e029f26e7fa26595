"""Benchmarks: latency like TFLite's benchmark_model, the MobileNet table, peer runtimes, one report."""
