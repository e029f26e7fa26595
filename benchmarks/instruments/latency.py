"""Latency of one .tflite model, measured the way TFLite's benchmark_model measures it."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.instruments import memory
from benchmarks.instruments.stats import LatencyStats, summarize
from edge_runtime.errors import ParameterError, check_at_least
from edge_runtime.timing import time_invokes


@dataclass(frozen=True)
class LatencyOptions:
    """How long to measure; the defaults are benchmark_model's.

    Attributes:
      min_runs: Timed runs, at least.
      min_seconds: Keep running until this much time has passed, even after `min_runs`.
      max_seconds: Stop after this long even when `min_runs` is not reached (a slow model).
      warmup_runs: Untimed runs after the first one, at least.
      warmup_seconds: Keep warming up until this much time has passed.
      seed: Seeds the random input.
      backend: Interpreter backend name, or None for edge_runtime's first installed one.
    """

    min_runs: int = 50
    min_seconds: float = 1.0
    max_seconds: float = 150.0
    warmup_runs: int = 1
    warmup_seconds: float = 0.5
    seed: int = 0
    backend: str | None = None

    def __post_init__(self) -> None:
        check_at_least(1, min_runs=self.min_runs)
        check_at_least(
            0, min_seconds=self.min_seconds, warmup_runs=self.warmup_runs, warmup_seconds=self.warmup_seconds
        )
        if not self.max_seconds > 0:
            raise ParameterError("max_seconds", self.max_seconds, "must be more than 0")


@dataclass(frozen=True)
class LatencyResult:
    """One model at one thread count.

    Attributes:
      model: The model path.
      size_bytes: The .tflite file size.
      threads: Interpreter threads.
      backend: The interpreter backend used.
      input_shape, input_dtype: The input tensor.
      init_ms: Creating the interpreter and allocating tensors (benchmark_model's init).
      first_ms: The first inference (lazy kernel preparation shows up here).
      warmup_runs, warmup_avg_ms: The warm-up after the first inference.
      stats: The timed runs.
      rss_baseline_mb: Resident memory before the interpreter was created.
      rss_peak_mb: Peak resident memory while the model was loaded and run.
      rss_delta_mb: rss_peak_mb - rss_baseline_mb: what the model cost.
      rss_peak_scope: 'model' when the kernel's peak mark was reset first, else 'process'.
    """

    model: str
    size_bytes: int
    threads: int
    backend: str
    input_shape: tuple[int, ...]
    input_dtype: str
    init_ms: float
    first_ms: float
    warmup_runs: int
    warmup_avg_ms: float
    stats: LatencyStats
    rss_baseline_mb: float | None
    rss_peak_mb: float
    rss_delta_mb: float | None
    rss_peak_scope: str

    def to_json(self) -> dict:
        """A JSON-ready dict (stats nested)."""
        data = asdict(self)
        data["input_shape"] = list(self.input_shape)
        return data


def seeded_input(shape: tuple[int, ...], dtype: np.dtype, seed: int) -> np.ndarray:
    """A random input covering the tensor type's range: all integers, or 0..255 pixels for floats."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return rng.uniform(0.0, 255.0, size=shape).astype(dtype)


def measure_latency(
    model: str | os.PathLike, threads: int, options: LatencyOptions = LatencyOptions()
) -> LatencyResult:
    """Measures one model at one thread count in this process.

    A fresh interpreter is created (timed as init), run once (first inference), warmed up,
    then timed run by run on the same seeded input.

    Args:
      model: A .tflite file.
      threads: Interpreter CPU threads (>= 1).
      options: Run counts and durations.

    Returns:
      Sizes, phase times, run statistics and resident memory.

    Raises:
      FileNotFoundError, UserError: From edge_runtime.interpreter.make_interpreter.
    """
    from edge_runtime.interpreter import backend_name, load_backend, make_interpreter

    path = Path(model)
    # Importing the backend first keeps the library's own memory out of the model's share.
    load_backend(options.backend)
    scope = "model" if memory.reset_peak_rss() else "process"
    baseline = memory.current_rss_mb()
    before = time.perf_counter_ns()
    interpreter = make_interpreter(path, num_threads=threads, backend=options.backend)
    init_ms = (time.perf_counter_ns() - before) / 1e6
    details = interpreter.get_input_details()[0]
    shape = tuple(int(n) for n in details["shape"])
    dtype = np.dtype(details["dtype"])
    interpreter.set_tensor(details["index"], seeded_input(shape, dtype, options.seed))

    # benchmark_model's first inference is its first warm-up run, reported on its own.
    times = time_invokes(
        interpreter, options.min_runs, min_seconds=options.min_seconds, max_seconds=options.max_seconds,
        warmup_runs=1 + options.warmup_runs, warmup_seconds=options.warmup_seconds if options.warmup_runs else 0.0,
    )  # fmt: skip
    first_ms, warmup = times.warmup_ms[0], times.warmup_ms[1:]
    peak = memory.peak_rss_mb()
    return LatencyResult(
        model=str(path),
        size_bytes=path.stat().st_size,
        threads=threads,
        backend=backend_name(interpreter),
        input_shape=shape,
        input_dtype=dtype.name,
        init_ms=init_ms,
        first_ms=first_ms,
        warmup_runs=len(warmup),
        warmup_avg_ms=float(np.mean(warmup)) if warmup else 0.0,
        stats=summarize(times.runs_ms),
        rss_baseline_mb=baseline,
        rss_peak_mb=peak,
        rss_delta_mb=None if baseline is None else peak - baseline,
        rss_peak_scope=scope,
    )


def thread_counts(cores: int) -> list[int]:
    """1..cores: the thread counts a full benchmark measures."""
    return list(range(1, max(1, cores) + 1))


def interleaved_latency(
    models: Mapping[str, str | os.PathLike], threads: int, rounds: int = 15, runs: int = 10, seed: int = 0
) -> dict[str, float]:
    """Median ms per invoke of each model, timed in alternating rounds, so all see the same machine load.

    Args:
      models: .tflite files by name.
      threads: Interpreter threads.
      rounds: Rounds; each times `runs` invokes of every model in turn, after a 3-invoke warm-up.
      runs: Invokes per model per round (their mean is the round's figure).
      seed: Seeds the random inputs.

    Returns:
      The median of the rounds' means, by name.
    """
    from edge_runtime.interpreter import make_interpreter

    if rounds < 1:
        raise ParameterError("rounds", rounds, "must be 1 or more")
    interpreters = {name: make_interpreter(path, num_threads=threads) for name, path in models.items()}
    for interpreter in interpreters.values():
        details = interpreter.get_input_details()[0]
        shape = tuple(int(n) for n in details["shape"])
        interpreter.set_tensor(details["index"], seeded_input(shape, np.dtype(details["dtype"]), seed))
        time_invokes(interpreter, 1, warmup_runs=3)
    means: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, interpreter in interpreters.items():
            means[name].append(float(np.mean(time_invokes(interpreter, runs).runs_ms)))
    return {name: float(np.median(values)) for name, values in means.items()}
