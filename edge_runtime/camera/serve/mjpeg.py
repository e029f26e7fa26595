"""/stream.mjpg: the newest handed-over frame, overlay drawn and JPEG-encoded on its own low-priority thread."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

import cv2

from edge_runtime.camera.overlay import draw_overlay
from edge_runtime.camera.serve.live import LiveView

BOUNDARY = "frame"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
BACKGROUND_NICE = 10


def lower_priority() -> None:
    """Makes the calling thread (and the threads it starts) yield the CPU to the loop's threads.

    On Linux the nice value and the scheduling policy belong to each thread and new threads inherit
    them, so a server started from a `--priority realtime` thread would otherwise run SCHED_FIFO too.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        if os.sched_getscheduler(0) != os.SCHED_OTHER:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), BACKGROUND_NICE))


class JpegPublisher:
    """Encodes each frame the loop hands over, once, for every viewer; idle while nobody watches.

    The loop hands frames over only while `live.viewers` > 0 (LiveView.wants_image), so with no
    viewer this thread sleeps and nothing is encoded.
    """

    def __init__(self, live: LiveView, quality: int, stop: threading.Event) -> None:
        self._live, self._quality, self._stop = live, quality, stop
        self._ready = threading.Condition()
        self._jpeg: bytes | None = None
        self._sequence = 0
        self._thread = threading.Thread(target=self._run, name="serve-jpeg", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        lower_priority()
        live, seen = self._live, 0
        while not self._stop.is_set():
            with live.changed:
                seen, result, fps = live.frame_after(seen)
                if result is None:
                    live.changed.wait(0.5)
                    continue
            # The overlay goes on a copy: with --display the same image may be drawn on the loop's thread.
            image = draw_overlay(result.image.copy(), result.classes, fps, result.ambiguous)
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
            if ok:
                with self._ready:
                    self._jpeg, self._sequence = encoded.tobytes(), self._sequence + 1
                    self._ready.notify_all()

    def current(self) -> int:
        """The sequence number of the newest JPEG (a viewer waits for the next one)."""
        with self._ready:
            return self._sequence

    def frames(self, after: int, poll_s: float = 0.5) -> Iterator[bytes | None]:
        """Each new JPEG after sequence `after`; None every `poll_s` without one (to check for the end)."""
        while not self._stop.is_set():
            with self._ready:
                if self._sequence <= after:
                    self._ready.wait(poll_s)
                if self._sequence <= after:
                    jpeg = None
                else:
                    after, jpeg = self._sequence, self._jpeg
            yield jpeg

    def wake(self) -> None:
        """Wakes the waiting viewers (at the end)."""
        with self._ready:
            self._ready.notify_all()


def part(jpeg: bytes) -> bytes:
    """One multipart part: boundary, headers, the JPEG."""
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode("ascii") + jpeg + b"\r\n"
