"""Images for the benchmarks and tests: the one ELPV sampler, sized images, and 640x480 camera videos of cells.

Real ELPV solar-cell images when elpv-dataset is installed (seeded uniform noise otherwise, and the
source says so). Latency does not depend on the pixels; int8 calibration ranges do a little, which
is why real images come first.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from edge_runtime.errors import ParameterError
from edge_runtime.image import load_rgb, resize

FRAME_WIDTH, FRAME_HEIGHT, FPS = 640, 480, 30


@dataclass(frozen=True)
class ImageSet:
    """Images and where they came from.

    Attributes:
      images: (N, H, W, 3) uint8 RGB.
      source: Said in the report, e.g. 'real ELPV images (elpv-dataset 1.0), 100 sampled with seed 0, ...'.
    """

    images: np.ndarray
    source: str


def elpv_files(count: int, seed: int | None = None) -> list[Path]:
    """`count` cell images of the installed elpv-dataset, half defective, half functional (as train.elpv splits them).

    Args:
      count: How many (1 or more); with fewer files than that, the sample repeats in the same order.
      seed: Seeds the sample within each class; None takes each class in labels.csv order.

    Returns:
      Defective cells first, then functional ones; [] when elpv-dataset is not installed.
    """
    if count < 1:
        raise ParameterError("count", count, "need at least one image")
    if importlib.util.find_spec("elpv_dataset") is None:
        return []
    from train.elpv import DEFECT_THRESHOLD, read_elpv_labels

    data = Path(str(resources.files("elpv_dataset") / "data"))
    rows = read_elpv_labels(data)
    defective = [data / path for path, probability in rows if probability >= DEFECT_THRESHOLD]
    functional = [data / path for path, probability in rows if probability < DEFECT_THRESHOLD]
    chosen = []
    for files, wanted in ((defective, count // 2), (functional, count - count // 2)):
        order = np.arange(len(files)) if seed is None else np.random.default_rng(seed).permutation(len(files))
        chosen += [files[order[i % len(files)]] for i in range(wanted)]
    return chosen


def sample_images(count: int, width: int, height: int, seed: int = 0) -> ImageSet:
    """`count` images at width x height, resized as the runtime resizes them (see the module docstring)."""
    paths = elpv_files(count, seed)
    if not paths:
        noise = np.random.default_rng(seed).integers(0, 256, size=(count, height, width, 3), dtype=np.uint8)
        return ImageSet(noise, f"seeded uniform noise (seed {seed}; elpv-dataset is not installed)")
    images = np.stack([resize(load_rgb(p), width, height) for p in paths])
    return ImageSet(
        images,
        f"real ELPV images (elpv-dataset {metadata.version('elpv-dataset')}), {count} sampled with seed "
        f"{seed}, half defective, resized from 300x300 grayscale to {width}x{height} RGB",
    )


def camera_frames(count: int, seed: int = 0) -> ImageSet:
    """640x480 RGB frames, what a USB camera hands the runtime; see `sample_images`."""
    return sample_images(count, FRAME_WIDTH, FRAME_HEIGHT, seed)


def camera_frame(rgb: np.ndarray, index: int) -> np.ndarray:
    """A 640x480 BGR frame showing one cell, at a position and size that drift like a handheld camera."""
    import cv2

    frame = np.full((FRAME_HEIGHT, FRAME_WIDTH, 3), 24, np.uint8)
    side = 360 + (index * 7) % 100
    x, y = 40 + (index * 13) % (FRAME_WIDTH - side - 40), (FRAME_HEIGHT - side) // 2
    frame[y : y + side, x : x + side] = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)


def write_video(
    path: Path, frames: int, fourcc: str = "mp4v", hold: int = 4, cells: int = 12, seed: int | None = None
) -> Path:
    """Writes a 640x480 30 fps video of `cells` ELPV cells (`elpv_files`), each held for `hold` frames.

    Raises:
      RuntimeError: OpenCV cannot write this codec here.
    """
    import cv2

    images = [load_rgb(p) for p in elpv_files(cells, seed)]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, (FRAME_WIDTH, FRAME_HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} video to {path}; try fourcc 'mp4v' or 'MJPG'")
    for index in range(frames):
        writer.write(camera_frame(images[(index // hold) % len(images)], index))
    writer.release()
    return path


def decode_video(path: Path, count: int | None = None) -> list[np.ndarray]:
    """The frames of a video (the first `count`, or all) as OpenCV decodes them (BGR): what the loop receives."""
    import cv2

    capture, frames = cv2.VideoCapture(str(path)), []
    while count is None or len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames
