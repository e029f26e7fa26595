"""Frame sources for the camera loop: OpenCV VideoCapture, a folder of images, and `open_source`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge_runtime.camera.capture import RetryPolicy, retry_until_ready
from edge_runtime.camera.source_base import Source, SourceError, SourceOptions
from edge_runtime.errors import ParameterError, UserError
from edge_runtime.folders import list_images
from edge_runtime.image import is_image_name, load_rgb

PICAMERA_PREFIX = "picamera2"
DEFAULT_FOLDER_FPS = 30.0
# Containers round their declared frame count; a file that stops this close to it ended normally.
_TRUNCATION_SLACK = 2
# Network protocols OpenCV's FFmpeg backend opens; another "scheme://" is a typo, not a stream that is down.
STREAM_SCHEMES = frozenset({"http", "https", "rtmp", "rtmps", "rtp", "rtsp", "rtsps", "srt", "tcp", "udp"})
_CAMERA_FIX = (
    "check that it is plugged in and not used by another program (v4l2-ctl --list-devices lists cameras); "
    "for the Raspberry Pi camera module use --source picamera2 (sudo apt install python3-picamera2)"
)
_PICAMERA_FIX = "check the camera cable and that `rpicam-hello --list-cameras` sees it"
_STREAM_FIX = "check the URL and that the stream is reachable"
_SOURCE_HELP = (
    "--source takes a camera index (0), a device (/dev/video0), 'picamera2', a video file, "
    "a URL (rtsp://...) or a folder of images"
)


class CaptureSource(Source):
    """OpenCV VideoCapture over a camera index, a device path, a URL or a video file."""

    def __init__(self, target: int | str, name: str, live: bool, options: SourceOptions) -> None:
        self.name, self.live, self.retryable = name, live, live
        self._target, self._options = target, options
        self._cap = self._open()
        self._read = 0
        self._pending: np.ndarray | None = None
        self._declared = 0 if live else int(max(self._cap.get(cv2.CAP_PROP_FRAME_COUNT), 0))
        native = self._cap.get(cv2.CAP_PROP_FPS) if not live else 0.0
        pace = options.fps if options.fps is not None else (native if native > 0 else DEFAULT_FOLDER_FPS)
        self.fps = None if live or pace == 0 else float(pace)

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self._target)
        is_device = isinstance(self._target, int) or str(self._target).startswith("/dev/")
        if is_device and self._options.camera_size:
            width, height = self._options.camera_size
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.name}: cannot be opened (unplugged, busy, or the stream is down)")
        return cap

    def probe(self) -> None:
        """Reads the first frame now, for the next `read`: a camera that opens but sends nothing fails
        at the start, with advice, instead of after its retries.

        Raises:
          SourceError: No frame.
        """
        self._pending = self.read()

    def read(self, out: np.ndarray | None = None) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        ok, frame = self._cap.read(out) if out is not None else self._cap.read()
        if ok:
            self._read += 1
            return frame
        if self.live:
            raise SourceError(f"{self.name}: delivered no frame")
        if self._declared and self._read + _TRUNCATION_SLACK < self._declared:
            raise SourceError(
                f"{self.name}: the video ends at frame {self._read} of the {self._declared} it declares; "
                "the file is truncated or damaged"
            )
        if self._options.loop and self._read:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._read = 0
            return self.read(out)
        return None

    def reopen(self) -> None:
        if not self.live:
            raise SourceError(f"{self.name}: a damaged file cannot be retried")
        self._cap.release()
        self._cap = self._open()

    def close(self) -> None:
        self._cap.release()


class FolderSource(Source):
    """The image files of a folder, in name order, as frames; an undecodable file is skipped and counted."""

    retryable = True

    def __init__(self, folder: Path, options: SourceOptions) -> None:
        self.name, self._loop = str(folder), options.loop
        self._files = list_images(folder)
        if not self._files:
            raise UserError(f"{folder}: no image files in this folder; {_SOURCE_HELP}")
        self._next = 0
        self._last: str | None = None
        self._skipped: list[str] = []
        pace = DEFAULT_FOLDER_FPS if options.fps is None else options.fps
        self.fps = None if pace == 0 else float(pace)

    def read(self, out: np.ndarray | None = None) -> np.ndarray | None:
        """The next image that decodes; an undecodable one is skipped (see `take_skipped`), not fatal.

        Raises:
          SourceError: The file is gone or unreadable (retried: a network folder may come back), or
            not one image of a looping folder decodes (nothing would ever come).
        """
        failed_in_a_row = 0
        while True:
            if self._next >= len(self._files):
                if not self._loop:
                    return None
                self._next = 0
            path = self._files[self._next]
            try:
                rgb = load_rgb(path)
            except ValueError as err:  # truncated, corrupt or not an image (UserError): skip it
                self._next += 1
                self._skipped.append(str(err))
                failed_in_a_row += 1
                if failed_in_a_row >= len(self._files):
                    raise SourceError(
                        f"{self.name}: none of its {len(self._files)} images can be decoded"
                    ) from None
                continue
            except OSError as err:  # deleted or unreadable: the folder may come back (a network share)
                raise SourceError(str(err)) from None
            self._next += 1
            self._last = str(path)
            return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)

    def frame_name(self) -> str | None:
        return self._last

    def take_skipped(self) -> list[str]:
        skipped, self._skipped = self._skipped, []
        return skipped

    def reopen(self) -> None:
        """Nothing to reopen: the retry reads on from the next file (a network folder may recover)."""


def _camera_once(spec: str, target: int | str, options: SourceOptions) -> Source:
    """One try at a camera: VideoCapture, then Picamera2 for an index VideoCapture cannot read.

    Raises:
      SourceError: The device is not there (yet), cannot be opened (busy) or sends no frame.
    """
    from edge_runtime.camera.picamera import PicameraSource, picamera_installed

    name = f"camera {spec}" if isinstance(target, int) else spec
    if isinstance(target, str) and not Path(target).exists():
        raise SourceError(f"{spec}: no such camera device (not plugged in, or not yet there at boot)")
    problem = "cannot be opened (unplugged, busy or not there)"
    try:
        source = CaptureSource(target, name, live=True, options=options)
    except SourceError:
        pass
    else:
        try:
            source.probe()
            return source
        except SourceError:
            source.close()
            problem = "opens but delivers no frames"
    # The Raspberry Pi camera module runs on libcamera, where VideoCapture gets nothing.
    if isinstance(target, int) and picamera_installed():
        try:
            return PicameraSource(target, options)
        except SourceError as err:
            problem += f", and with Picamera2 {str(err).removeprefix(f'picamera2 camera {target}: ')}"
    raise SourceError(f"{name}: {problem}")


def _stream_once(spec: str, options: SourceOptions) -> Source:
    """One try at a stream URL.

    Raises:
      SourceError: It cannot be opened or sends no frame.
    """
    stream = CaptureSource(spec, spec, live=True, options=options)
    try:
        stream.probe()
    except SourceError:
        stream.close()
        raise SourceError(f"{spec}: opens but delivers no frames") from None
    return stream


def _picamera(index: int, options: SourceOptions, retry: RetryPolicy, log: Callable[[str], None]) -> Source:
    """Picamera2 camera INDEX, retried while it does not start."""
    from edge_runtime.camera.picamera import PicameraSource, open_picamera, picamera_installed

    if not picamera_installed():
        return open_picamera(index, options)  # raises the UserError that says how to install Picamera2
    return retry_until_ready(lambda: PicameraSource(index, options), retry, log, _PICAMERA_FIX)


def open_source(
    spec: str,
    options: SourceOptions | None = None,
    retry: RetryPolicy | None = None,
    log: Callable[[str], None] | None = None,
) -> Source:
    """Opens the source named on the command line.

    A camera or stream that is not ready (absent at boot, busy, down) is tried again with RETRY's
    backoff; then it is a DeviceNotReady (exit 1: a service manager restarts the program). What
    retrying cannot fix (no such file, an empty folder, an unknown URL scheme) is a UserError (exit 2).

    Args:
      spec: A camera index ('0'), a device path ('/dev/video0'), 'picamera2' or 'picamera2:N',
        a URL ('rtsp://...', 'http://...'), a video file or a folder of images.
      options: Pacing, looping and camera size.
      retry: Retries of a camera or stream that is not ready (default: none, one attempt).
      log: Receives a warning per retry (default: ignored).

    Returns:
      The open source.

    Raises:
      FileNotFoundError: No such file or folder.
      UserError: The file cannot be opened, the folder has no images, the spec is not a source.
      DeviceNotReady: The camera or stream cannot be opened, after the retries.
    """
    options = options or SourceOptions()
    retry = retry or RetryPolicy(retries=0)
    log = log or (lambda message: None)
    if spec.isdigit():
        return retry_until_ready(lambda: _camera_once(spec, int(spec), options), retry, log, _CAMERA_FIX)
    if spec == PICAMERA_PREFIX or spec.startswith(f"{PICAMERA_PREFIX}:"):
        index = spec.partition(":")[2] or "0"
        if not index.isdigit():
            raise ParameterError("spec", spec, "the camera number after ':' must be a whole number")
        return _picamera(int(index), options, retry, log)
    if "://" in spec:
        scheme = spec.partition("://")[0].lower()
        if scheme not in STREAM_SCHEMES:
            raise ParameterError(
                "spec",
                spec,
                f"unknown stream scheme {scheme!r}; use one of {', '.join(sorted(STREAM_SCHEMES))}",
            )
        return retry_until_ready(lambda: _stream_once(spec, options), retry, log, _STREAM_FIX)
    path = Path(spec)
    if spec.startswith("/dev/"):
        return retry_until_ready(lambda: _camera_once(spec, spec, options), retry, log, _CAMERA_FIX)
    if path.is_dir():
        return FolderSource(path, options)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such file or folder; {_SOURCE_HELP}")
    if is_image_name(path):
        raise UserError(f"{spec}: is one image; use `python -m edge_runtime classify` or pass its folder")
    try:
        return CaptureSource(os.fspath(path), spec, live=False, options=options)
    except SourceError:
        raise UserError(
            f"{spec}: OpenCV cannot open this video (damaged or truncated file, or an unsupported codec)"
        ) from None
