"""Python's garbage-collector pauses during a run, timed with gc.callbacks, to tell them apart as a cause of misses."""

from __future__ import annotations

import gc
import time
from collections import deque


class GcPauses:
    """Records when each collection ran (time.monotonic()) while installed; usable as a context manager.

    A collection stops every Python thread (capture, workers, the loop) until it ends; `overlap`
    says how much of a frame's time went to collections.
    """

    def __init__(self, keep: int = 256) -> None:
        self._recent: deque[tuple[float, float]] = deque(maxlen=keep)
        self._started: float | None = None
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        now = time.monotonic()
        if phase == "start":
            self._started = now
        elif self._started is not None:
            start, self._started = self._started, None
            self._recent.append((start, now))
            ms = (now - start) * 1000.0
            self.count += 1
            self.total_ms += ms
            self.max_ms = max(self.max_ms, ms)

    def overlap_ms(self, start: float, end: float) -> float:
        """Milliseconds of collections between two time.monotonic() moments (the last `keep` collections)."""
        total = 0.0
        for began, ended in reversed(self._recent):
            if ended <= start:
                break
            total += max(0.0, min(ended, end) - max(began, start))
        return total * 1000.0

    def install(self) -> GcPauses:
        """Starts timing collections (returns self)."""
        gc.callbacks.append(self._callback)
        return self

    def remove(self) -> None:
        """Stops timing them; safe to call twice."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def __enter__(self) -> GcPauses:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.remove()
