"""Measuring one planner candidate: benchmark_model-style inference latency, the camera loop's own work, its card.

The loop work is what edge_runtime's camera worker does per frame besides `invoke()`: a 640x480
frame resized to the model's input, colour-converted and copied in, the scores ranked and judged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.instruments.frames import FRAME_HEIGHT, FRAME_WIDTH
from edge_runtime.errors import ParameterError
from edge_runtime.model_verify import CARD_JSON

UNTRAINED_NOTE = "unknown: untrained architecture (weights=None)"


@dataclass(frozen=True)
class PlanOptions:
    """What to fit and how long to measure.

    Attributes:
      budget_ms: Time per frame (33 ms: 30 fps video).
      threads: Interpreter threads; None: every usable core.
      max_size_mb: Largest model file accepted (MB of 10^6 bytes); None: any.
      margin_ms: Safety margin on top of the measured work; None: 10% of the budget, at least 1 ms.
      quick: Shorter measurements (10 runs / 0.2 s instead of 50 runs / 1 s).
      seed: Seeds the inputs.
      backend: Interpreter backend, or None for edge_runtime's first installed one.
    """

    budget_ms: float = 33.0
    threads: int | None = None
    max_size_mb: float | None = None
    margin_ms: float | None = None
    quick: bool = False
    seed: int = 0
    backend: str | None = None

    def __post_init__(self) -> None:
        if not self.budget_ms > 0:
            raise ParameterError("budget_ms", self.budget_ms, "must be more than 0, e.g. 33 for 30 fps")
        if self.threads is not None and self.threads < 1:
            raise ParameterError("threads", self.threads, "must be 1 or more")
        if self.max_size_mb is not None and not self.max_size_mb > 0:
            raise ParameterError("max_size_mb", self.max_size_mb, "must be more than 0")
        if self.margin_ms is not None and not 0 <= self.margin_ms < self.budget_ms:
            raise ParameterError("margin_ms", self.margin_ms, "must be 0 or more and below the budget")


def latency_options(options: PlanOptions):
    """benchmark_model's counts (50 runs, 1 s, 0.5 s warm-up), or a fifth of them with --quick."""
    from benchmarks.instruments.latency import LatencyOptions

    if options.quick:
        return LatencyOptions(
            min_runs=10, min_seconds=0.2, max_seconds=5.0, warmup_seconds=0.1, seed=options.seed,
            backend=options.backend,
        )  # fmt: skip
    return LatencyOptions(max_seconds=30.0, seed=options.seed, backend=options.backend)


def loop_work_ms(
    model: Path, threads: int, runs: int, seed: int = 0, backend: str | None = None
) -> list[float]:
    """Milliseconds of the camera worker's per-frame work besides `invoke()`, `runs` times after one warm-up."""
    from edge_runtime.ambiguity import judge
    from edge_runtime.camera.preprocess import FramePreprocessor
    from edge_runtime.classify import get_classes_from_scores
    from edge_runtime.common import get_scores, input_details, set_input
    from edge_runtime.interpreter import make_interpreter

    interpreter = make_interpreter(model, num_threads=threads, backend=backend)
    _, height, width, channels = (int(n) for n in input_details(interpreter)["shape"])
    prepare = FramePreprocessor(width, height)
    # Resize cost does not depend on the pixels; seeded noise stands in for a camera frame.
    frame = np.random.default_rng(seed).integers(0, 256, (FRAME_HEIGHT, FRAME_WIDTH, 3), dtype=np.uint8)
    if channels == 3:
        set_input(interpreter, prepare(frame))
    # The scores read below are the last invoke's: a model whose output buffer the backend allocates
    # only at the first invoke has no data before it ("Tensor data is null").
    interpreter.invoke()
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        rgb = prepare(frame)
        if channels == 3:
            set_input(interpreter, rgb)
        scores = get_scores(interpreter)
        get_classes_from_scores(scores, 3)
        judge(scores)
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples[1:]


def card_accuracy(model: Path) -> tuple[float | None, float | None, str]:
    """(top-1, top-5, where from) of the model's entry in model_card.json beside it; None when unknown."""
    from convert.model_card import sha256

    card_path = model.parent / CARD_JSON
    if not card_path.is_file():
        return None, None, f"unknown: no {CARD_JSON} beside the model"
    try:
        entry = json.loads(card_path.read_text(encoding="utf-8"))["models"].get(model.name)
        if entry is None:
            return None, None, f"unknown: {CARD_JSON} has no entry for {model.name}"
        if entry.get("sha256") not in (None, sha256(model.read_bytes())):
            return None, None, f"unknown: {CARD_JSON} describes another version of {model.name}"
        accuracy = entry["accuracy"]
        top5 = (accuracy.get("top5") or {}).get("converted")
        return accuracy.get("converted"), top5, f"{CARD_JSON}: {accuracy.get('test_images', '?')} test images"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, None, f"unknown: {card_path} is not a readable model card"


def measure(model: Path, options: PlanOptions, threads: int, name: str, untrained: bool = False) -> dict:
    """One candidate's row: input, size, p50/p99 inference, p99 loop work and accuracy."""
    from benchmarks.instruments.latency import measure_latency
    from benchmarks.instruments.stats import summarize

    result = measure_latency(model, threads, latency_options(options))
    loop = summarize(loop_work_ms(model, threads, 15 if options.quick else 50, options.seed, options.backend))
    accuracy, top5, source = (None, None, UNTRAINED_NOTE) if untrained else card_accuracy(model)
    _, height, width, _ = result.input_shape
    return {
        "name": name,
        "path": str(model),
        "input": f"{width}x{height} {result.input_dtype}",
        "size_bytes": result.size_bytes,
        "threads": threads,
        "backend": result.backend,
        "runs": result.stats.count,
        "p50_ms": result.stats.p50_ms,
        "p99_ms": result.stats.p99_ms,
        "loop_ms": loop.p99_ms,
        "accuracy": accuracy,
        "top5": top5,
        "accuracy_source": source,
        "error": None,
    }
