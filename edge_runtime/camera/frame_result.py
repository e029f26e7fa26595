"""One processed frame of the camera loop: its timings, classes, verdict and JSON line."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_runtime.classify import Class


@dataclass(frozen=True)
class Result:
    """One processed frame.

    Attributes:
      frame_id: The frame's capture index.
      captured, finished: time.monotonic() at capture (the camera's timestamp where the source
        gives one) and when the classes were ready.
      captured_wall, finished_wall: The same moments as time.time(), for other programs.
      classes: Top classes, best first.
      missed: The result came later than the budget after capture.
      worker: Index of the worker (and interpreter) that ran it.
      preprocess_ms: Crop, resize, colour conversion (on the capture thread) and the input copy.
      inference_ms: `invoke()` alone.
      capture_ms: From the source's own capture stamp to the frame being read (a camera's
        decoding and delivery; 0 for sources without a stamp, which are stamped when read).
      queue_ms: From the frame's model input being ready to a worker taking it (waiting for a
        free worker).
      image: The BGR frame, when the loop keeps images (for a display), else None.
      ambiguous: The scores are too spread to trust (LoopOptions.ambiguity).
      margin: The top score minus the second one.
      source: The file the frame came from (a folder source), else None.
      miss_cause: For a missed frame, what made it late (see `edge_runtime.camera.stats.MISS_CAUSES`).
    """

    frame_id: int
    captured: float
    captured_wall: float
    finished: float
    finished_wall: float
    classes: tuple[Class, ...]
    missed: bool
    worker: int
    preprocess_ms: float
    inference_ms: float
    image: np.ndarray | None = None
    ambiguous: bool = False
    margin: float = 1.0
    source: str | None = None
    capture_ms: float = 0.0
    queue_ms: float = 0.0
    miss_cause: str | None = None

    @property
    def latency_ms(self) -> float:
        """Capture to result, in milliseconds."""
        return (self.finished - self.captured) * 1000.0

    def to_record(self) -> dict:
        """The JSON line of this result."""
        return {
            "frame": self.frame_id,
            "captured_at": round(self.captured_wall, 6),
            "result_at": round(self.finished_wall, 6),
            "latency_ms": round(self.latency_ms, 3),
            "inference_ms": round(self.inference_ms, 3),
            "missed": self.missed,
            **({"miss_cause": self.miss_cause} if self.miss_cause is not None else {}),
            "worker": self.worker,
            "classes": [{"id": c.id, "label": c.label, "score": round(c.score, 6)} for c in self.classes],
            "ambiguous": self.ambiguous,
            "margin": round(self.margin, 6),
            **({"file": self.source} if self.source is not None else {}),
        }
