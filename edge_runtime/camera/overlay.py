"""--display: the top label, its score (flagged when ambiguous) and the FPS drawn on the frame, in an OpenCV window."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import cv2
import numpy as np

from edge_runtime.classify import Class

WINDOW = "edge_runtime camera"
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_QUIT_KEYS = (27, ord("q"))  # Esc, q
_GREEN, _ORANGE = (0, 255, 0), (0, 165, 255)  # BGR


def draw_overlay(
    image: np.ndarray, classes: Sequence[Class], fps: float, ambiguous: bool = False
) -> np.ndarray:
    """Draws the top class, its score and the FPS in the top-left corner of a BGR frame, in place.

    An ambiguous result is drawn in orange with a '?' and the word 'ambiguous', so nobody acts on it.

    Args:
      image: HxWx3 uint8 BGR frame.
      classes: The frame's classes, best first (may be empty).
      fps: Frames processed per second.
      ambiguous: The result is too spread over the labels to trust (edge_runtime.ambiguity).

    Returns:
      The same array, drawn on.
    """
    scale = max(0.4, image.shape[0] / 480.0 * 0.7)
    thickness = max(1, round(scale * 2))
    if classes:
        top = classes[0]
        name = top.label if top.label is not None else f"class {top.id}"
        lines = [f"{name}? {top.score:.2f} ambiguous" if ambiguous else f"{name} {top.score:.2f}"]
    else:
        lines = ["no class above the threshold"]
    colors = [_ORANGE if ambiguous else _GREEN, _GREEN]
    lines.append(f"FPS {fps:.1f}")
    y = 0
    for text, color in zip(lines, colors, strict=True):
        (width, height), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
        y += height + baseline + 6
        # A dark box behind the text keeps it readable on bright frames.
        cv2.rectangle(image, (4, y - height - baseline - 2), (12 + width, y + 2), (0, 0, 0), cv2.FILLED)
        cv2.putText(image, text, (8, y - baseline), _FONT, scale, color, thickness, cv2.LINE_AA)
    return image


def display_problem() -> str | None:
    """Why a window cannot be shown here (no display, or OpenCV built without a GUI), or None."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display (DISPLAY is not set)"
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)
    except cv2.error:
        return "this OpenCV has no GUI (opencv-python-headless); pip install opencv-python for a window"
    return None


class Display:
    """The window: `show` draws and shows a frame and reports whether the user asked to quit."""

    def show(self, image: np.ndarray, classes: Sequence[Class], fps: float, ambiguous: bool = False) -> bool:
        """Shows the frame with its overlay; True when q or Esc was pressed or the window closed."""
        cv2.imshow(WINDOW, draw_overlay(image, classes, fps, ambiguous))
        key = cv2.waitKey(1) & 0xFF
        closed = cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1
        return key in _QUIT_KEYS or closed

    def close(self) -> None:
        """Closes the window."""
        cv2.destroyAllWindows()
