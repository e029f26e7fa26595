"""The loop's side of the web view: counters, histograms, recent results and the frame to show, fed per result."""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edge_runtime.camera.exchange import Counts
from edge_runtime.camera.frame_result import Result
from edge_runtime.camera.stats import MISS_CAUSES

# Capture-to-result and invoke() buckets, seconds; the budget is added to the latency buckets.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.02, 0.033, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
INFERENCE_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.033, 0.05, 0.1, 0.25, 0.5, 1.0)
FPS_WINDOW_S = 2.0
RECENT_RESULTS = 64  # results kept for /events clients that fall behind a little
PAGE_LATENCIES = 300  # the page's p50/p99 are over the last this many results


@dataclass(frozen=True)
class ModelInfo:
    """What the page and the model_info metric say about the model."""

    name: str
    input_size: tuple[int, int]
    input_dtype: str
    labels: tuple[str, ...]
    backend: str
    delegate: str
    workers: int
    budget_ms: float


class Buckets:
    """A Prometheus histogram's state: counts per bucket (not cumulative), sum and count, in seconds."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = tuple(sorted(set(bounds)))
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum, self.count = 0.0, 0

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, samples at or below it), +Inf last."""
        total, rows = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += count
            rows.append((bound, total))
        return rows


@dataclass(frozen=True)
class Snapshot:
    """The counters at one moment, for /metrics and the page."""

    counts: Counts
    missed: int
    ambiguous: int
    per_class: dict[tuple[int, str], int]
    unclassified: int
    latency: Buckets
    inference: Buckets
    fps: float
    latency_p50_ms: float
    latency_p99_ms: float
    last_frame: int | None
    last_result_wall: float | None
    seconds_since_result: float
    uptime_s: float
    running: bool
    miss_causes: dict[str, int] = field(default_factory=dict)


class LiveView:
    """The `tap` of run_loop for the web view; its methods are safe to call from any thread.

    `add` (the loop's thread) does constant, small work under one lock: counters, two histogram
    buckets, the result kept for /events and, when it carries a frame, the frame for the stream.
    JPEG encoding happens elsewhere (mjpeg.JpegPublisher), only while someone watches.

    Args:
      model: Shown on the page and in the metrics.
      frame_interval_s: Least time between frames handed over for the stream (1 / --serve-fps).
    """

    def __init__(self, model: ModelInfo, frame_interval_s: float) -> None:
        self.model = model
        self.started = time.monotonic()
        self.started_wall = time.time()
        self.changed = threading.Condition()
        self._frame_interval = frame_interval_s
        self._next_frame_due = 0.0
        self._counts: Callable[[], Counts] = lambda: Counts(0, 0, 0, 0)
        self._attached: float | None = None
        self._running = False
        self._miss_causes: dict[str, int] = dict.fromkeys(MISS_CAUSES, 0)
        self._missed = self._ambiguous = self._unclassified = 0
        self._per_class: dict[tuple[int, str], int] = {}
        self._latency = Buckets((*LATENCY_BUCKETS_S, model.budget_ms / 1000.0))
        self._inference = Buckets(INFERENCE_BUCKETS_S)
        self._finished: deque[float] = deque(maxlen=1024)
        self._latencies: deque[float] = deque(maxlen=PAGE_LATENCIES)
        self._recent: deque[tuple[int, Result]] = deque(maxlen=RECENT_RESULTS)
        self._sequence = 0
        self._last: Result | None = None
        self._frame: tuple[Result, float] | None = None
        self._frame_sequence = 0
        self.viewers = 0  # open /stream.mjpg connections, counted by the server

    # The loop's side.

    def attach(self, counts: Callable[[], Counts]) -> None:
        """Called by run_loop as it starts: where to read the frame counters."""
        with self.changed:
            self._counts, self._attached, self._running = counts, time.monotonic(), True

    def wants_image(self) -> bool:
        """Asked by a worker per frame: True about `fps` times a second while someone watches the stream."""
        if not self.viewers:
            return False
        now = time.monotonic()
        if now < self._next_frame_due:
            return False
        # Two workers may both pass before either writes this: one extra frame, harmless.
        self._next_frame_due = now + self._frame_interval
        return True

    def add(self, result: Result) -> None:
        """Counts one result (on the loop's thread)."""
        with self.changed:
            self._missed += result.missed
            if result.miss_cause is not None:
                self._miss_causes[result.miss_cause] = self._miss_causes.get(result.miss_cause, 0) + 1
            self._ambiguous += result.ambiguous
            if result.classes:
                top = result.classes[0]
                key = (top.id, top.label if top.label is not None else "")
                self._per_class[key] = self._per_class.get(key, 0) + 1
            else:
                self._unclassified += 1
            self._latency.add(result.latency_ms / 1000.0)
            self._inference.add(result.inference_ms / 1000.0)
            self._finished.append(result.finished)
            self._latencies.append(result.latency_ms)
            self._sequence += 1
            self._recent.append((self._sequence, result))
            self._last = result
            if result.image is not None:
                self._frame = (result, self._fps(result.finished))
                self._frame_sequence += 1
            self.changed.notify_all()

    def stop(self) -> None:
        """The loop ended: /healthz answers 503 and streams end."""
        with self.changed:
            self._running = False
            self.changed.notify_all()

    # The server's side.

    def _fps(self, now: float) -> float:
        """Results a second over the last FPS_WINDOW_S (call with `changed` held)."""
        count, first = 0, now
        for finished in reversed(self._finished):
            if finished < now - FPS_WINDOW_S:
                break
            count, first = count + 1, finished
        if count < 2:
            return 0.0
        return (count - 1) / max(self._finished[-1] - first, 1e-6)

    def results_after(self, sequence: int) -> list[tuple[int, Result]]:
        """The kept results newer than `sequence`, oldest first (call with `changed` held)."""
        return [(s, r) for s, r in self._recent if s > sequence]

    def latest_sequence(self) -> int:
        """The sequence number of the newest result (call with `changed` held)."""
        return self._sequence

    def frame_after(self, sequence: int) -> tuple[int, Result | None, float]:
        """The newest handed-over frame if newer than `sequence` (call with `changed` held): (sequence, result, fps)."""
        if self._frame is None or self._frame_sequence <= sequence:
            return sequence, None, 0.0
        return self._frame_sequence, *self._frame

    @property
    def running(self) -> bool:
        return self._running

    def snapshot(self) -> Snapshot:
        """Every counter now, consistent with each other."""
        counts = self._counts()
        now = time.monotonic()
        with self.changed:
            latencies = np.fromiter(self._latencies, float) if self._latencies else None
            p50, p99 = np.percentile(latencies, [50, 99]) if latencies is not None else (np.nan, np.nan)
            last = self._last
            since = now - (last.finished if last is not None else (self._attached or self.started))
            latency, inference = Buckets(self._latency.bounds), Buckets(self._inference.bounds)
            for copy, source in ((latency, self._latency), (inference, self._inference)):
                copy.counts, copy.sum, copy.count = list(source.counts), source.sum, source.count
            return Snapshot(
                counts=counts,
                missed=self._missed,
                miss_causes=dict(self._miss_causes),
                ambiguous=self._ambiguous,
                per_class=dict(self._per_class),
                unclassified=self._unclassified,
                latency=latency,
                inference=inference,
                fps=self._fps(now),
                latency_p50_ms=float(p50),
                latency_p99_ms=float(p99),
                last_frame=last.frame_id if last is not None else None,
                last_result_wall=last.finished_wall if last is not None else None,
                seconds_since_result=since,
                uptime_s=now - self.started,
                running=self._running,
            )
