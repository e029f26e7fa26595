"""Camera frame to model input: optional centre crop, resize and BGR->RGB into reused buffers."""

from __future__ import annotations

import cv2
import numpy as np

from edge_runtime.image import Resizer


def center_crop_box(
    width: int, height: int, target_width: int, target_height: int
) -> tuple[int, int, int, int]:
    """The largest centred box of a width x height frame with the target's aspect ratio.

    Returns:
      (x, y, box_width, box_height).
    """
    if width * target_height > height * target_width:  # frame wider than the model input
        box_width, box_height = max(1, round(height * target_width / target_height)), height
    else:
        box_width, box_height = width, max(1, round(width * target_height / target_width))
    return (width - box_width) // 2, (height - box_height) // 2, box_width, box_height


class FramePreprocessor:
    """Turns BGR frames into the model's RGB input, allocating nothing after the first frame.

    The pixels are the same as `edge_runtime.image.resize` of the RGB frame (the same plan runs; a
    per-channel resize commutes with the channel swap), so the loop sees exactly what the
    single-image classifier sees. Resizing first makes the swap cheap: it touches model-sized pixels.
    Not thread-safe: one per thread.

    Args:
      width: Model input width.
      height: Model input height.
      center_crop: Crop each frame to the model's aspect ratio before resizing, instead of
        stretching it.
    """

    def __init__(self, width: int, height: int, center_crop: bool = False) -> None:
        self.width, self.height, self.center_crop = width, height, center_crop
        self._resize = Resizer(width, height)
        self._resized = np.empty((height, width, 3), np.uint8)
        self._rgb = np.empty((height, width, 3), np.uint8)

    def new_buffer(self) -> np.ndarray:
        """An empty (height, width, 3) uint8 array for `out`."""
        return np.empty((self.height, self.width, 3), np.uint8)

    def __call__(self, bgr: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Returns the (height, width, 3) uint8 RGB model input of an HxWx3 uint8 BGR frame.

        Written into `out` when given, else into this preprocessor's own buffer, which the next
        call overwrites (copy it to keep it).

        Raises:
          ValueError: The frame is not HxWx3 uint8.
        """
        if bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3:
            raise ValueError(f"frame is {bgr.shape} {bgr.dtype}; expected HxWx3 uint8 BGR")
        out = self._rgb if out is None else out
        frame_height, frame_width = bgr.shape[:2]
        if self.center_crop:
            x, y, frame_width, frame_height = center_crop_box(
                frame_width, frame_height, self.width, self.height
            )
            bgr = bgr[y : y + frame_height, x : x + frame_width]
        if (frame_width, frame_height) == (self.width, self.height):
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=out)
        self._resize(bgr, self._resized)
        return cv2.cvtColor(self._resized, cv2.COLOR_BGR2RGB, dst=out)
