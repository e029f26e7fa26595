"""What every frame source is: the Source interface, its options, and the error a failing source raises."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_runtime.errors import ParameterError


class SourceError(RuntimeError):
    """A source that stopped delivering frames mid-run (not a mistake in the command line)."""


@dataclass(frozen=True)
class SourceOptions:
    """How to open a source.

    Attributes:
      fps: Pace for video files and folders, as if a camera delivered them; None: the video's own
        rate (30 for folders); 0: as fast as they decode. Cameras and streams pace themselves.
      loop: Start a video file or folder again at its end instead of stopping.
      camera_size: (width, height) asked of a camera, or None for its default.
      frame_timeout_s: Longest wait for one camera frame (Picamera2) before the read fails and the
        loop's retries take over; a stalled camera never hangs the loop.
    """

    fps: float | None = None
    loop: bool = False
    camera_size: tuple[int, int] | None = (640, 480)
    frame_timeout_s: float = 2.0

    def __post_init__(self) -> None:
        if self.fps is not None and self.fps < 0:
            raise ParameterError("fps", self.fps, "must be 0 (unpaced) or more")
        if not self.frame_timeout_s > 0:
            raise ParameterError("frame_timeout_s", self.frame_timeout_s, "must be more than 0 seconds")


class Source:
    """A stream of HxWx3 uint8 BGR frames.

    Attributes:
      name: What to call the source in messages.
      live: True for cameras and streams (they pace themselves).
      retryable: A failed read may succeed after `reopen` (cameras, streams, folders; not a
        damaged video file).
      fps: The rate to pace a file or folder at, or None for no pacing.
    """

    name: str = "source"
    live: bool = False
    retryable: bool = False
    fps: float | None = None

    def read(self, out: np.ndarray | None = None) -> np.ndarray | None:
        """Returns the next frame (in `out` when the source can), or None at the end of a file.

        Raises:
          SourceError: No frame could be read.
        """
        raise NotImplementedError

    def captured_at(self) -> float | None:
        """When the frame the last `read` returned was captured, on the time.monotonic() clock, if the
        device stamps its frames (Picamera2's sensor timestamp); None, and the loop stamps the frame
        when `read` returns (so its latency leaves out the device's own queue)."""
        return None

    def frame_name(self) -> str | None:
        """The file the last `read` came from (a folder's image), for the JSON lines; None for a stream."""
        return None

    def take_skipped(self) -> list[str]:
        """Why each frame skipped since the last call could not be used (a folder's undecodable file).

        A source that can go on past a bad frame skips it instead of failing the run; the capture
        thread logs and counts these.
        """
        return []

    def reopen(self) -> None:
        """Prepares a retry after a failed read.

        Raises:
          SourceError: Retrying cannot help (a damaged file) or the reopen failed.
        """
        raise SourceError(f"{self.name}: cannot be retried")

    def close(self) -> None:
        """Releases the device or file."""
