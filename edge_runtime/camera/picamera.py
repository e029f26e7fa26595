"""The Raspberry Pi camera module through Picamera2 (libcamera), where OpenCV's VideoCapture gets no frames."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.metadata
import importlib.util
import io
import sys
import threading
import time
from types import ModuleType

import numpy as np

from edge_runtime.camera.source_base import Source, SourceError, SourceOptions
from edge_runtime.errors import UserError

_INSTALL = (
    "sudo apt install python3-picamera2, and create the virtual environment with --system-site-packages"
)
# A SensorTimestamp further than this before now (or after it) is on another clock: the frame is
# then stamped when it arrives. Picamera2 keeps a frame or two, so a real stamp is far more recent.
_STAMP_WINDOW_S = 10.0


def _numpy_shadowing() -> str | None:
    """'numpy A (in X) hides the system's numpy B (in Y)' when two differ on sys.path, else None."""
    found = list(importlib.metadata.distributions(name="numpy"))
    if len(found) < 2 or found[0].version == found[-1].version:
        return None
    active, system = found[0], found[-1]
    return (
        f"numpy {active.version} (in {active.locate_file('')}) hides the system's numpy "
        f"{system.version} (in {system.locate_file('')})"
    )


def load_picamera2() -> ModuleType:
    """Imports picamera2 (Raspberry Pi OS's python3-picamera2).

    Raises:
      UserError: One line naming the fix: picamera2 is not installed, or it is and does not import
        (e.g. a numpy 2 installed in the virtual environment hides the system numpy 1.24 that
        Bookworm built Picamera2's C extensions, such as simplejpeg, for).
    """
    if importlib.util.find_spec("picamera2") is None:
        raise UserError(f"Picamera2 is not installed; on Raspberry Pi OS: {_INSTALL}")
    noise = io.StringIO()  # numpy prints a page about modules built for NumPy 1.x: the one line replaces it
    try:
        with contextlib.redirect_stderr(noise):
            module = importlib.import_module("picamera2")
    except Exception as err:  # ImportError, or ValueError from an extension built for another numpy
        problem = f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0]}"
        shadowing = _numpy_shadowing()
        if shadowing:
            fix = (
                f"{shadowing}, which Picamera2 was built for: run {sys.executable} -m pip uninstall numpy, "
                "then install requirements-edge.txt again (it keeps the system numpy)"
            )
        elif "numpy" in problem:
            fix = (
                f"Picamera2's extensions were built for another numpy than {np.__version__}; use the "
                "system's numpy (create the virtual environment with --system-site-packages and do not "
                "install numpy into it)"
            )
        else:
            fix = (
                "reinstall it (sudo apt install --reinstall python3-picamera2) and create the virtual "
                "environment with --system-site-packages"
            )
        raise UserError(f"Picamera2 is installed but does not import ({problem}); {fix}") from None
    sys.stderr.write(noise.getvalue())
    return module


def picamera_installed() -> bool:
    """True when picamera2 is installed and imports."""
    try:
        load_picamera2()
    except UserError:
        return False
    return True


def sensor_time(stamp_ns: object, now: float) -> float | None:
    """Picamera2's SensorTimestamp (ns) on the time.monotonic() clock, or None if it is not usable.

    libcamera documents the stamp as CLOCK_BOOTTIME; Raspberry Pi's pipeline fills it from the
    kernel's buffer timestamps, which are CLOCK_MONOTONIC, and Picamera2 itself compares it with
    time.monotonic_ns(). The two clocks differ only by time spent suspended, which a camera device
    does not do; a stamp outside the last `_STAMP_WINDOW_S` seconds is taken to be on another clock.
    """
    if not isinstance(stamp_ns, int) or isinstance(stamp_ns, bool):
        return None
    captured = stamp_ns / 1e9
    return captured if now - _STAMP_WINDOW_S <= captured <= now else None


def _stop_and_close(camera: object, timeout: float) -> str | None:
    """Stops and closes CAMERA within TIMEOUT s; returns why it could not, or None."""
    with contextlib.suppress(Exception):
        # Picamera2 0.3.20+: a stop queues behind a capture that never completes unless it is cancelled.
        camera.cancel_all_and_flush()
    failure: list[str] = []

    def close() -> None:
        try:
            camera.stop()
            camera.close()
        except Exception as err:
            failure.append(f"{type(err).__name__}: {err}")

    closer = threading.Thread(target=close, name="picamera2-close", daemon=True)
    closer.start()
    closer.join(timeout)
    if closer.is_alive():
        # An older Picamera2 whose stop waits for ever: its exit handler would wait too and hang the exit.
        atexit.unregister(camera.close)
        return f"the previous camera did not stop within {timeout:g} s"
    return failure[0] if failure else None


class PicameraSource(Source):
    """The Raspberry Pi camera through Picamera2, every capture bounded by `frame_timeout_s`.

    A stalled capture raises SourceError after the timeout, so the loop's retries reopen the camera
    and, when they run out, the run ends with exit 1. Frames carry their SensorTimestamp.
    """

    live = retryable = True

    def __init__(self, index: int, options: SourceOptions) -> None:
        self.name, self._index, self._size = f"picamera2 camera {index}", index, options.camera_size
        self._timeout = options.frame_timeout_s
        self._module = load_picamera2()
        self._camera = None
        self._captured: float | None = None
        self.reopen()

    def reopen(self) -> None:
        problem = self._close()
        camera = None
        try:
            camera = self._module.Picamera2(camera_num=self._index)
            main = {"format": "RGB888"}  # libcamera's RGB888 is B, G, R in memory: OpenCV's order
            if self._size:
                main["size"] = tuple(self._size)
            camera.configure(camera.create_video_configuration(main=main))
            camera.start()
        except Exception as err:  # Picamera2 raises RuntimeError, IndexError, OSError...
            if camera is not None:
                _stop_and_close(camera, self._timeout)
            previous = f"; {problem}" if problem else ""
            raise SourceError(f"{self.name}: cannot start ({err}){previous}") from None
        self._camera = camera

    def read(self, out: np.ndarray | None = None) -> np.ndarray | None:
        # Capture as a job with a completion signal: works with every Picamera2 (wait=<seconds> came in 0.3.20).
        camera = self._camera
        if camera is None:
            raise SourceError(f"{self.name}: closed")
        done = threading.Event()
        try:
            job = camera.capture_request(signal_function=lambda job: done.set())
        except Exception as err:
            raise SourceError(f"{self.name}: delivered no frame ({err})") from None
        if not done.wait(self._timeout):
            raise SourceError(
                f"{self.name}: no frame within {self._timeout:g} s (the camera stalled; "
                "--frame-timeout sets the wait)"
            )
        try:
            request = camera.wait(job)
        except Exception as err:
            raise SourceError(f"{self.name}: delivered no frame ({err})") from None
        try:
            frame = request.make_array("main")
            stamp = request.get_metadata().get("SensorTimestamp")
        except Exception as err:
            raise SourceError(f"{self.name}: unreadable frame ({err})") from None
        finally:
            request.release()  # back to the camera's queue
        self._captured = sensor_time(stamp, time.monotonic())
        return np.ascontiguousarray(frame[:, :, :3])

    def captured_at(self) -> float | None:
        return self._captured

    def _close(self) -> str | None:
        camera, self._camera = self._camera, None
        return None if camera is None else _stop_and_close(camera, self._timeout)

    def close(self) -> None:
        self._close()


def open_picamera(index: int, options: SourceOptions) -> Source:
    """Starts camera `index` with Picamera2.

    Raises:
      UserError: picamera2 is not installed or does not import, or the camera does not start.
    """
    load_picamera2()
    try:
        return PicameraSource(index, options)
    except SourceError as err:
        raise UserError(
            f"{err}; check the camera cable and that `rpicam-hello --list-cameras` sees it"
        ) from None
