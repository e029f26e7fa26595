"""Times `invoke()` on the real interpreter the way TFLite's benchmark_model does: warm-up first, kept out.

No TensorFlow: this runs on the device, and the model card, the benchmarks and the planner all time
models with it, so their figures mean the same thing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from edge_runtime.errors import ParameterError, check_at_least


@dataclass(frozen=True)
class InvokeTimes:
    """Milliseconds of each `invoke()`.

    Attributes:
      warmup_ms: The warm-up invokes, the first one first (its lazy kernel preparation shows there);
        timed for the record, never part of `runs_ms`.
      runs_ms: The timed invokes, in order.
    """

    warmup_ms: tuple[float, ...]
    runs_ms: tuple[float, ...]


def _invoke_until(interpreter: Any, min_runs: int, min_seconds: float, max_seconds: float) -> list[float]:
    """Invokes until `min_runs` and `min_seconds` are both met, or `max_seconds` has passed."""
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < min_runs or time.perf_counter() - start < min_seconds:
        before = time.perf_counter_ns()
        interpreter.invoke()
        samples.append((time.perf_counter_ns() - before) / 1e6)
        if time.perf_counter() - start >= max_seconds:
            break
    return samples


def time_invokes(
    interpreter: Any,
    min_runs: int = 1,
    *,
    min_seconds: float = 0.0,
    max_seconds: float = math.inf,
    warmup_runs: int = 0,
    warmup_seconds: float = 0.0,
) -> InvokeTimes:
    """Warms the interpreter up, then times `invoke()` run by run on the input already set.

    Like benchmark_model: at least `warmup_runs` invokes and `warmup_seconds` of warm-up, then at
    least `min_runs` timed invokes and `min_seconds`, both phases cut off after `max_seconds`.

    Args:
      interpreter: A real interpreter with its tensors allocated and its input set.
      min_runs: Timed invokes, at least (1 or more).
      min_seconds: Keep timing until this much time has passed.
      max_seconds: Stop each phase after this long, even before the minimums (a slow model).
      warmup_runs: Untimed invokes first, at least (0 for none).
      warmup_seconds: Keep warming up until this much time has passed (with warmup_runs >= 1).

    Returns:
      The warm-up's and the timed runs' milliseconds.

    Raises:
      ParameterError: A count or duration out of range.
    """
    check_at_least(1, min_runs=min_runs)
    check_at_least(0, warmup_runs=warmup_runs, min_seconds=min_seconds, warmup_seconds=warmup_seconds)
    if not max_seconds > 0:
        raise ParameterError("max_seconds", max_seconds, "must be more than 0")
    warmup = _invoke_until(interpreter, warmup_runs, warmup_seconds, max_seconds) if warmup_runs else []
    runs = _invoke_until(interpreter, min_runs, min_seconds, max_seconds)
    return InvokeTimes(tuple(warmup), tuple(runs))
