"""A stand-in for Raspberry Pi OS's python3-picamera2, for machines without a camera module.

It keeps what edge_runtime relies on from the real package (raspberrypi/picamera2): the import of
simplejpeg (a C extension built against numpy, as the real JpegEncoder imports it), captures run as
jobs completed by a camera thread (`signal_function`, `wait=` seconds, `wait(job, timeout)`),
`cancel_all_and_flush` (0.3.20+), a `stop` that queues behind a capture that never completes, a
camera that stays acquired until `close`, and requests to `release` with a SensorTimestamp (ns,
time.monotonic_ns()'s clock) in their metadata. Frames are numpy arrays, not pixels from a sensor.

Set by environment variables, read when the module is imported or a camera is made:
  FAKE_PICAMERA2_IMPORT_ERROR   the import raises ImportError with this message (a broken install)
  FAKE_PICAMERA2_OLD=1          no cancel_all_and_flush (Picamera2 before 0.3.20)
  FAKE_PICAMERA2_FRAMES=N       the process's cameras deliver N frames in all, then stall for good
  FAKE_PICAMERA2_FRAMES_PER_OPEN=N  each camera made delivers N frames, then stalls (a reopen recovers)
  FAKE_PICAMERA2_CAMERAS=N      cameras attached (default 1)
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from concurrent.futures import CancelledError, Future, TimeoutError

import numpy as np

if os.environ.get("FAKE_PICAMERA2_IMPORT_ERROR"):
    raise ImportError(os.environ["FAKE_PICAMERA2_IMPORT_ERROR"])
try:
    import simplejpeg  # fails like the real package's import when numpy is not the one it was built for
except ModuleNotFoundError:  # the fast tests' environment has no simplejpeg: frames skip the JPEG round trip
    simplejpeg = None

__all__ = ["CancelledError", "Picamera2", "TimeoutError"]
EXPOSURE_US = 20_000  # SensorTimestamp is this much before the frame is handed over
_acquired: set[int] = set()
_lock = threading.Lock()
_left = {"frames": int(os.environ.get("FAKE_PICAMERA2_FRAMES", "-1"))}
outstanding = {"requests": 0}  # requests handed out and not released yet


class Job:
    def __init__(self, signal_function) -> None:
        self.future: Future = Future()
        self.signal_function = signal_function


class CompletedRequest:
    def __init__(self, image: np.ndarray, stamp_ns: int) -> None:
        self._image, self._stamp_ns, self._released = image, stamp_ns, False
        outstanding["requests"] += 1

    def make_array(self, name: str) -> np.ndarray:
        assert name == "main" and not self._released, "make_array after release"
        if simplejpeg is None:
            return self._image.copy()
        return simplejpeg.decode_jpeg(simplejpeg.encode_jpeg(self._image, colorspace="BGR"), colorspace="BGR")

    def get_metadata(self) -> dict:
        return {"SensorTimestamp": self._stamp_ns, "ExposureTime": EXPOSURE_US}

    def release(self) -> None:
        assert not self._released, "released twice"
        self._released = True
        outstanding["requests"] -= 1


class Picamera2:
    def __init__(self, camera_num: int = 0) -> None:
        if camera_num >= int(os.environ.get("FAKE_PICAMERA2_CAMERAS", "1")):
            raise IndexError("list index out of range")
        with _lock:
            if camera_num in _acquired:
                raise RuntimeError("Failed to acquire camera: Device or resource busy")
            _acquired.add(camera_num)
        self.camera_num, self.started, self.frames = camera_num, False, 0
        self._per_open = int(os.environ.get("FAKE_PICAMERA2_FRAMES_PER_OPEN", "-1"))
        self._size, self._jobs, self._cond = (640, 480), [], threading.Condition()
        self._loop = threading.Thread(target=self._event_loop, daemon=True)
        atexit.register(self.close)

    def create_video_configuration(self, main: dict | None = None) -> dict:
        return {"main": {"format": "XBGR8888", "size": (640, 480), **(main or {})}}

    def configure(self, config: dict) -> None:
        self._size = tuple(config["main"]["size"])

    def start(self) -> None:
        self.started = True
        self._loop.start()

    def _event_loop(self) -> None:  # the camera thread: completes the oldest job at each frame
        while self.started:
            time.sleep(0.005)
            with self._cond:
                if not self._jobs or not self._deliver():
                    continue
                job = self._jobs.pop(0)
                self._cond.notify_all()
            job.future.set_result(self._request())
            if job.signal_function:
                job.signal_function(job)

    def _deliver(self) -> bool:
        with _lock:
            if _left["frames"] == 0 or self.frames == self._per_open:
                return False  # stalled: the job waits for ever
            _left["frames"] -= 1
        self.frames += 1
        return True

    def _request(self) -> CompletedRequest:
        width, height = self._size
        image = np.zeros((height, width, 3), np.uint8)
        image[:, :, 0] = (np.arange(width) * 255 // max(width - 1, 1)).astype(np.uint8)
        image[:, :, 1] = (self.frames * 37) % 256
        image[:, :, 2] = (np.arange(height)[:, None] * 255 // max(height - 1, 1)).astype(np.uint8)
        return CompletedRequest(image, time.monotonic_ns() - EXPOSURE_US * 1000)

    def capture_request(self, wait=None, signal_function=None):
        if wait is None:
            wait = signal_function is None
        job = Job(signal_function)
        with self._cond:
            self._jobs.append(job)
        if not wait:
            return job
        return job.future.result(timeout=None if wait is True else wait)

    def wait(self, job: Job, timeout: float | None = None):
        return job.future.result(timeout=timeout)

    def cancel_all_and_flush(self) -> None:
        with self._cond:
            for job in self._jobs:
                job.future.set_exception(CancelledError())
            self._jobs = []
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:  # the stop job runs after the jobs queued before it
            while self._jobs:
                self._cond.wait()
        self.started = False

    def close(self) -> None:
        atexit.unregister(self.close)
        if self.started:
            self.stop()
        with _lock:
            _acquired.discard(self.camera_num)


if os.environ.get("FAKE_PICAMERA2_OLD"):
    del Picamera2.cancel_all_and_flush
