"""The Raspberry Pi camera module through Picamera2 (libcamera), where OpenCV's VideoCapture gets no frames."""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

from edge_runtime.camera.source_base import Source, SourceError, SourceOptions
from edge_runtime.errors import UserError


class PicameraSource(Source):
    """The Raspberry Pi camera through Picamera2 (libcamera), where VideoCapture gets no frames."""

    live = retryable = True

    def __init__(self, index: int, options: SourceOptions) -> None:
        self.name, self._index, self._size = f"picamera2 camera {index}", index, options.camera_size
        self._camera = None
        self.reopen()

    def reopen(self) -> None:
        self.close()
        picamera2 = importlib.import_module("picamera2")
        try:
            camera = picamera2.Picamera2(camera_num=self._index)
            main = {"format": "RGB888"}  # libcamera's RGB888 is B, G, R in memory: OpenCV's order
            if self._size:
                main["size"] = tuple(self._size)
            camera.configure(camera.create_video_configuration(main=main))
            camera.start()
        except Exception as err:  # Picamera2 raises RuntimeError, IndexError, OSError...
            raise SourceError(f"{self.name}: cannot start ({err})") from None
        self._camera = camera

    def read(self, out: np.ndarray | None = None) -> np.ndarray | None:
        try:
            frame = self._camera.capture_array("main")
        except Exception as err:
            raise SourceError(f"{self.name}: delivered no frame ({err})") from None
        return np.ascontiguousarray(frame[:, :, :3])

    def close(self) -> None:
        if self._camera is not None:
            try:
                self._camera.stop()
                self._camera.close()
            finally:
                self._camera = None


def picamera_installed() -> bool:
    """True when the picamera2 package can be imported."""
    return importlib.util.find_spec("picamera2") is not None


def open_picamera(index: int, options: SourceOptions) -> Source:
    """Starts camera `index` with Picamera2.

    Raises:
      UserError: picamera2 is not installed, or the camera does not start.
    """
    if not picamera_installed():
        raise UserError(
            "picamera2 is not installed; on Raspberry Pi OS: sudo apt install python3-picamera2 and "
            "create the virtual environment with --system-site-packages"
        )
    try:
        return PicameraSource(index, options)
    except SourceError as err:
        raise UserError(
            f"{err}; check the camera cable and that `rpicam-hello --list-cameras` sees it"
        ) from None
