"""The newest-frame slot between capture and workers, and the frame-ordered results: one lock, exact counts."""

from __future__ import annotations

import heapq
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One captured frame.

    Attributes:
      id: Capture order, from 0; dropped frames leave gaps in the processed ids.
      image: HxWx3 uint8 BGR pixels (a pooled buffer: workers hand it back with `recycle`).
      captured: time.monotonic() when the frame was captured, for latencies: the camera's own
        timestamp where the source gives one (`Source.captured_at`), else when `read` returned it.
      captured_wall: time.time() at the same moment, for logs.
      name: The file it came from (a folder source), else None.
      rgb: The model's input made from it on the capture thread (a pooled buffer: workers hand
        it back with `recycle_input`), or None when the worker makes it.
      read: time.monotonic() when the frame was read (after a file's pacing): `captured` is
        earlier by the source's own delay (a camera's timestamp before its decoding).
      prepared: time.monotonic() when `rgb` was ready (= `read` without it).
    """

    id: int
    image: np.ndarray
    captured: float
    captured_wall: float
    name: str | None = None
    rgb: np.ndarray | None = None
    read: float = 0.0
    prepared: float = 0.0


@dataclass(frozen=True)
class Counts:
    """The counters at one moment: captured = processed + dropped + pending (frames not finished yet)."""

    captured: int
    processed: int
    dropped: int
    pending: int


class FrameExchange:
    """Hands the newest frame to the next free worker and gives results back in frame order.

    Capture `put`s frames; a frame still waiting when the next one arrives is dropped, so a slow
    model skips stale frames instead of falling behind. Workers `take` a frame and `finish` it;
    `ready_results` releases a result once no earlier frame is still being processed, so results
    come out in frame order. Every frame ends processed or dropped, under one lock.

    Args:
      pool_size: Frame buffers kept for reuse (workers + 2 covers one per worker, the slot and the
        one being read).
      lossless: `put` waits while a frame is still waiting instead of dropping it: for files and
        folders read unpaced (--fps 0), where every frame should be classified, as fast as the
        workers go.
    """

    def __init__(self, pool_size: int, lossless: bool = False) -> None:
        self.lossless = lossless
        self._cond = threading.Condition()
        self._pool: list[np.ndarray] = []
        self._inputs: list[np.ndarray] = []
        self._pool_size = pool_size
        self._slot: Frame | None = None
        self._in_flight: set[int] = set()
        self._done: list[tuple[int, Any]] = []
        self._closed = False
        self._next_id = self._processed = self._dropped = 0

    def buffer(self) -> np.ndarray | None:
        """A recycled frame buffer for the next read, or None (the source then allocates one)."""
        with self._cond:
            return self._pool.pop() if self._pool else None

    def recycle(self, image: np.ndarray) -> None:
        """Returns a frame's buffer once its pixels are no longer needed."""
        with self._cond:
            self._recycle(image)

    def input_buffer(self) -> np.ndarray | None:
        """A recycled model-input buffer for the capture thread's preprocessing, or None (make one)."""
        with self._cond:
            return self._inputs.pop() if self._inputs else None

    def recycle_input(self, rgb: np.ndarray) -> None:
        """Returns a model-input buffer once it has been copied into the interpreter."""
        with self._cond:
            self._keep(self._inputs, rgb)

    def _recycle(self, image: np.ndarray) -> None:
        self._keep(self._pool, image)

    def _keep(self, pool: list[np.ndarray], image: np.ndarray) -> None:
        if len(pool) < self._pool_size and (not pool or pool[0].shape == image.shape):
            pool.append(image)

    def _drop(self, frame: Frame) -> None:
        self._dropped += 1
        self._recycle(frame.image)
        if frame.rgb is not None:
            self._keep(self._inputs, frame.rgb)

    def put(
        self,
        image: np.ndarray,
        captured: float,
        captured_wall: float,
        name: str | None = None,
        rgb: np.ndarray | None = None,
        read: float | None = None,
        prepared: float | None = None,
    ) -> Frame | None:
        """Publishes a new frame (with its model input `rgb`, when made already, and the moments it
        was read and prepared; default: `captured`), dropping the one still waiting (lossless:
        waiting for a worker to take it); None (not counted) once closed."""
        read = captured if read is None else read
        with self._cond:
            while self.lossless and self._slot is not None and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            frame = Frame(
                self._next_id, image, captured, captured_wall, name, rgb, read,
                read if prepared is None else prepared,
            )  # fmt: skip
            self._next_id += 1
            if self._slot is not None:
                self._drop(self._slot)
            self._slot = frame
            self._cond.notify_all()
            return frame

    def take(self) -> Frame | None:
        """Blocks until a frame is waiting and takes it; None once closed with nothing waiting."""
        with self._cond:
            while self._slot is None and not self._closed:
                self._cond.wait()
            frame, self._slot = self._slot, None
            if frame is not None:
                self._in_flight.add(frame.id)
                self._cond.notify_all()  # a lossless `put` waits for the slot to empty
            return frame

    def finish(self, frame_id: int, result: Any | None) -> None:
        """Records a taken frame's result; None means it failed and counts as dropped."""
        with self._cond:
            self._in_flight.discard(frame_id)
            if result is None:
                self._dropped += 1
            else:
                self._processed += 1
                heapq.heappush(self._done, (frame_id, result))
            self._cond.notify_all()

    def close(self, drain: bool) -> None:
        """No more frames: with `drain` the waiting frame is still processed, else it is dropped."""
        with self._cond:
            if not self._closed:
                self._closed = True
                if not drain and self._slot is not None:
                    self._drop(self._slot)
                    self._slot = None
            self._cond.notify_all()

    def ready_results(self, timeout: float) -> tuple[list[Any], bool]:
        """Waits up to `timeout` s for results that can go out in frame order.

        Returns:
          The results whose earlier frames are all finished or dropped, in frame order, and True
          when nothing more will come (closed, nothing waiting, processing or unreleased).
        """
        with self._cond:
            if not self._releasable() and not self._finished():
                self._cond.wait(timeout)
            limit = min(self._in_flight, default=math.inf)
            ready = []
            while self._done and self._done[0][0] < limit:
                ready.append(heapq.heappop(self._done)[1])
            return ready, self._finished()

    def _releasable(self) -> bool:
        return bool(self._done) and self._done[0][0] < min(self._in_flight, default=math.inf)

    def _finished(self) -> bool:
        return self._closed and self._slot is None and not self._in_flight and not self._done

    def counts(self) -> Counts:
        """The counters now."""
        with self._cond:
            pending = self._next_id - self._processed - self._dropped
            return Counts(self._next_id, self._processed, self._dropped, pending)
