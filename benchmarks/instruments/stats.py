"""Summary statistics of latency samples: mean, spread and tail percentiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatencyStats:
    """Latency of repeated calls, in milliseconds.

    Percentiles interpolate linearly between the two nearest samples (numpy's default), so
    p50 of 1..100 is 50.5. `std_ms` is the population standard deviation, as benchmark_model
    reports it.
    """

    count: int
    avg_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def summarize(samples_ms: Sequence[float] | np.ndarray) -> LatencyStats:
    """Summarizes latency samples.

    Args:
      samples_ms: One duration per call, in milliseconds.

    Returns:
      Count, mean, standard deviation, extremes and p50/p95/p99.

    Raises:
      ValueError: No samples, or a sample that is negative or not finite.
    """
    values = np.asarray(samples_ms, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("no latency samples to summarize; run the model at least once")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("latency samples must be finite and not negative")
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return LatencyStats(
        count=int(values.size),
        avg_ms=float(values.mean()),
        std_ms=float(values.std()),
        min_ms=float(values.min()),
        max_ms=float(values.max()),
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
    )


def ratio(measured: float | None, reference: float | None) -> float | None:
    """measured / reference, or None when either is missing or the reference is not positive."""
    if measured is None or reference is None or not reference > 0:
        return None
    return float(measured) / float(reference)
