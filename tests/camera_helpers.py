"""Camera test helpers: ELPV images, 640x480 30 fps videos written from them, and running the camera CLI."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from conftest import REPO
from edge_runtime.image import load_rgb

WIDTH, HEIGHT, FPS = 640, 480, 30


def elpv_images(count: int) -> list[Path]:
    """`count` ELPV cell images from the elpv-dataset package, half defective and half functional."""
    data = Path(str(resources.files("elpv_dataset") / "data"))
    rows = [line.split() for line in (data / "labels.csv").read_text().splitlines() if line.strip()]
    defective = [data / path for path, probability, _ in rows if float(probability) >= 0.5]
    functional = [data / path for path, probability, _ in rows if float(probability) < 0.5]
    half = count // 2
    return defective[:half] + functional[: count - half]


def camera_frame(rgb: np.ndarray, index: int) -> np.ndarray:
    """A 640x480 BGR frame showing one cell, at a position and size that drift like a handheld camera."""
    frame = np.full((HEIGHT, WIDTH, 3), 24, np.uint8)
    side = 360 + (index * 7) % 100
    x, y = 40 + (index * 13) % (WIDTH - side - 40), (HEIGHT - side) // 2
    frame[y : y + side, x : x + side] = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)


def write_video(path: Path, frames: int, fourcc: str = "mp4v", hold: int = 4) -> Path:
    """Writes a 640x480 30 fps video of ELPV cells, each held for `hold` frames."""
    images = [load_rgb(p) for p in elpv_images(12)]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} video"
    for index in range(frames):
        writer.write(camera_frame(images[(index // hold) % len(images)], index))
    writer.release()
    return path


def decode_video(path: Path) -> list[np.ndarray]:
    """Every frame of a video as OpenCV decodes it (BGR), the pixels the camera loop receives."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


SUMMARY = re.compile(
    r"summary: (\d+) captured, (\d+) processed, (\d+) dropped, (\d+) missed the ([\d.]+) ms budget; "
    r"[\d.]+ fps over [\d.]+ s \(([a-z ]+)\)"
)


def camera_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "edge_runtime", "camera", *map(str, args)]


def cli_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", "OPENCV_LOG_LEVEL": "ERROR"}


def camera(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        camera_command(*args), cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=timeout
    )


def summary_counts(stderr: str) -> dict:
    """The summary's counters; fails when there is no summary."""
    match = SUMMARY.search(stderr)
    assert match, f"no summary in:\n{stderr}"
    captured, processed, dropped, missed = (int(match.group(i)) for i in range(1, 5))
    assert captured == processed + dropped, match.group(0)
    assert missed <= processed
    return {
        "captured": captured,
        "processed": processed,
        "dropped": dropped,
        "missed": missed,
        "reason": match[6],
    }


def wait_for_line(stream, timeout: float) -> str:
    """The next line of a child's pipe, or fails after `timeout` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return stream.readline()
