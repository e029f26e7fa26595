"""Loop statistics: fixed-memory latency percentiles, a rolling status line and the end-of-run summary."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field

import numpy as np

from edge_runtime.camera.exchange import Counts
from edge_runtime.camera.frame_result import Result

# Buckets 1% wide from 1 us to ~28 h: percentiles within 0.5%, in a few KB however long the run.
_LOWEST_MS = 1e-3
_RATIO = 1.01
_BUCKETS = 2500
ROLLING_SECONDS = 2.0

# What made a frame miss its deadline: the part of its time that grew most over its usual (median)
# duration, or a garbage collection that took at least half of that growth.
MISS_CAUSES = {
    "capture": "late capture/decode (the camera's stamp to the frame being read)",
    "queue": "waited for a free worker",
    "preprocess": "preprocessing longer than usual",
    "invoke": "invoke() longer than usual",
    "gc": "Python garbage collection",
    "other": "other (top-k, handing over, thread scheduling)",
}


class Histogram:
    """Millisecond samples in log-spaced buckets: constant memory for a camera that runs for weeks."""

    def __init__(self) -> None:
        self._counts = np.zeros(_BUCKETS, np.int64)
        self.count, self.total, self.max = 0, 0.0, 0.0
        self.min = math.inf

    def add(self, ms: float) -> None:
        """Adds one sample."""
        index = 0 if ms <= _LOWEST_MS else int(math.log(ms / _LOWEST_MS, _RATIO)) + 1
        self._counts[min(index, _BUCKETS - 1)] += 1
        self.count += 1
        self.total += ms
        self.min, self.max = min(self.min, ms), max(self.max, ms)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0..100), from the bucket's midpoint, clamped to the seen range; NaN if empty."""
        if not self.count:
            return math.nan
        rank = max(1, math.ceil(q / 100.0 * self.count))
        index = int(np.searchsorted(np.cumsum(self._counts), rank))
        value = _LOWEST_MS * _RATIO ** (index - 0.5) if index else _LOWEST_MS
        return min(max(value, self.min), self.max)

    def summary(self) -> Percentiles:
        """p50/p95/p99, mean and max."""
        mean = self.total / self.count if self.count else math.nan
        p50, p95, p99 = (self.percentile(q) for q in (50, 95, 99))
        return Percentiles(p50, p95, p99, mean, self.max if self.count else math.nan)


@dataclass(frozen=True)
class Percentiles:
    """Milliseconds; NaN when there were no samples."""

    p50: float
    p95: float
    p99: float
    mean: float
    max: float

    def text(self) -> str:
        """'p50 12.3, p95 15.0, p99 17.1, max 20.2 ms'."""
        return f"p50 {self.p50:.1f}, p95 {self.p95:.1f}, p99 {self.p99:.1f}, max {self.max:.1f} ms"


@dataclass(frozen=True)
class Summary:
    """The end of a run.

    Attributes:
      captured, processed, dropped, missed: Frame counters; captured = processed + dropped, and
        missed counts the processed frames whose result came later than the budget after capture.
      budget_ms: The deadline.
      elapsed_s: From the first capture to the end.
      fps: Processed frames per second.
      latency_ms: Capture to result.
      inference_ms: `invoke()` alone.
      preprocess_ms: Crop, resize, colour conversion and writing the input tensor.
      warmup_ms: Each worker's first (uncounted) inference, e.g. loading the model onto an Edge TPU.
      stop_reason: 'end of source', 'frame limit', 'stopped', 'source error' or 'worker error'.
      error: The error that ended the run, or None.
      ambiguous: Processed frames whose result was ambiguous (edge_runtime.ambiguity).
      skipped: Frames the source could not decode and skipped (a folder's corrupt file), not captured.
      miss_causes: Missed frames by cause (MISS_CAUSES, every cause listed); they add up to `missed`.
      gc_collections: Python garbage collections during the run.
      gc_pause_ms: Their total and longest pause (every Python thread stops during one).
    """

    captured: int
    processed: int
    dropped: int
    missed: int
    budget_ms: float
    elapsed_s: float
    fps: float
    latency_ms: Percentiles
    inference_ms: Percentiles
    preprocess_ms: Percentiles
    warmup_ms: tuple[float, ...]
    stop_reason: str
    error: str | None = None
    ambiguous: int = 0
    skipped: int = 0
    miss_causes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MISS_CAUSES, 0))
    gc_collections: int = 0
    gc_pause_ms: tuple[float, float] = (0.0, 0.0)

    @property
    def ambiguous_share(self) -> float:
        """Share of processed frames whose result was ambiguous (0.0 when none were processed)."""
        return self.ambiguous / self.processed if self.processed else 0.0

    def to_dict(self) -> dict:
        """A JSON-ready dict (with ambiguous_share)."""
        return {**asdict(self), "ambiguous_share": self.ambiguous_share}

    def text(self) -> str:
        """The summary printed at the end of a run."""
        lines = [
            f"summary: {self.captured} captured, {self.processed} processed, {self.dropped} dropped, "
            f"{self.missed} missed the {self.budget_ms:g} ms budget; {self.fps:.1f} fps over "
            f"{self.elapsed_s:.1f} s ({self.stop_reason})",
            f"  latency (capture to result): {self.latency_ms.text()}",
            f"  inference: {self.inference_ms.text()}; preprocessing: {self.preprocess_ms.text()}",
            f"  ambiguous results (set aside as untrustworthy): {self.ambiguous} of {self.processed} "
            f"({100 * self.ambiguous_share:.1f}%)",
        ]
        if self.missed:
            causes = ", ".join(f"{MISS_CAUSES[c]}: {n}" for c, n in self.miss_causes.items() if n)
            lines.append(f"  missed by cause: {causes}")
        if self.gc_collections:
            total, longest = self.gc_pause_ms
            lines.append(
                f"  garbage collections: {self.gc_collections}, {total:.1f} ms in all, longest {longest:.1f} ms"
            )
        if self.skipped:
            lines.append(f"  skipped (the source could not decode them, not captured): {self.skipped}")
        if self.warmup_ms:
            warmups = ", ".join(f"{ms:.1f}" for ms in self.warmup_ms)
            lines.append(f"  first inference per worker (warm-up, not counted): {warmups} ms")
        return "\n".join(lines)


class LoopStats:
    """Accumulates results for the status line and the summary (fed by one thread)."""

    def __init__(self, budget_ms: float) -> None:
        self.budget_ms = budget_ms
        self.missed = 0
        self.ambiguous = 0
        self.latency, self.inference, self.preprocess = Histogram(), Histogram(), Histogram()
        # A miss's parts, each against its own median; preprocess and invoke are the histograms above.
        self._parts = {
            "capture": Histogram(),
            "queue": Histogram(),
            "preprocess": self.preprocess,
            "invoke": self.inference,
            "other": Histogram(),
        }
        self.miss_causes = dict.fromkeys(MISS_CAUSES, 0)
        self._recent: deque[tuple[float, float]] = deque(maxlen=1024)

    def add(self, result: Result, gc_ms: float = 0.0) -> str | None:
        """Adds one result; returns its miss cause (a MISS_CAUSES key) when it missed the budget, else None.

        Args:
          result: The frame's result, with its stage times.
          gc_ms: Milliseconds of garbage collection between its capture and its result.
        """
        parts = {
            "capture": result.capture_ms,
            "queue": result.queue_ms,
            "preprocess": result.preprocess_ms,
            "invoke": result.inference_ms,
        }
        parts["other"] = max(0.0, result.latency_ms - sum(parts.values()))
        for name, ms in parts.items():
            self._parts[name].add(ms)
        self.missed += result.missed
        self.ambiguous += result.ambiguous
        self.latency.add(result.latency_ms)
        self._recent.append((result.finished, result.latency_ms))
        if not result.missed:
            return None
        cause = self.attribute(parts, gc_ms)
        self.miss_causes[cause] += 1
        return cause

    def attribute(self, parts: dict[str, float], gc_ms: float) -> str:
        """The cause of a miss: the part furthest over its median so far, or 'gc' when collections
        took at least half of that excess (they stop the threads, so they show up inside a part)."""
        excess = {name: ms - self._parts[name].percentile(50) for name, ms in parts.items()}
        cause = max(excess, key=excess.__getitem__)
        return "gc" if gc_ms > 0 and gc_ms >= 0.5 * excess[cause] else cause

    def status(self, counts: Counts, now: float) -> str:
        """The rolling status line: counters, fps and latency over the last two seconds."""
        recent = [latency for finished, latency in self._recent if finished >= now - ROLLING_SECONDS]
        window = min(ROLLING_SECONDS, now - self._recent[0][0]) if self._recent else ROLLING_SECONDS
        fps = len(recent) / max(window, 1e-3)
        if recent:
            p50, p99 = np.percentile(recent, [50, 99])
            latency = f"latency p50 {p50:.1f} p99 {p99:.1f} ms"
        else:
            latency = "no results in the last 2 s"
        return (
            f"{counts.captured} captured, {counts.processed} processed, {counts.dropped} dropped, "
            f"{self.missed} missed | {fps:.1f} fps | {latency}"
        )

    def summary(
        self,
        counts: Counts,
        elapsed_s: float,
        warmup_ms: tuple[float, ...],
        stop_reason: str,
        error: str | None,
    ) -> Summary:
        """The summary; `counts` must be final (nothing pending). Add the run's GC figures with dataclasses.replace."""
        fps = counts.processed / elapsed_s if elapsed_s > 0 else 0.0
        return Summary(
            captured=counts.captured,
            processed=counts.processed,
            dropped=counts.dropped,
            missed=self.missed,
            budget_ms=self.budget_ms,
            elapsed_s=elapsed_s,
            fps=fps,
            latency_ms=self.latency.summary(),
            inference_ms=self.inference.summary(),
            preprocess_ms=self.preprocess.summary(),
            warmup_ms=warmup_ms,
            stop_reason=stop_reason,
            error=error,
            ambiguous=self.ambiguous,
            miss_causes=dict(self.miss_causes),
        )
