"""Images for the benchmarks: real ELPV solar-cell images when elpv-dataset is installed, else seeded noise."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from edge_runtime.folders import list_images
from edge_runtime.image import load_rgb, resize

FRAME_WIDTH, FRAME_HEIGHT = 640, 480


@dataclass(frozen=True)
class ImageSet:
    """Images and where they came from.

    Attributes:
      images: (N, H, W, 3) uint8 RGB.
      source: Said in the report, e.g. 'ELPV (elpv-dataset 1.0), 100 images, seed 0'.
    """

    images: np.ndarray
    source: str


def elpv_image_paths() -> list[Path]:
    """The image files of the installed elpv-dataset package (300x300 grayscale cells); [] if absent."""
    if importlib.util.find_spec("elpv_dataset") is None:
        return []
    folder = Path(str(resources.files("elpv_dataset") / "data" / "images"))
    return list_images(folder) if folder.is_dir() else []


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def sample_images(count: int, width: int, height: int, seed: int = 0) -> ImageSet:
    """`count` images at width x height, resized as the runtime resizes them.

    Real ELPV images (a seeded sample) when elpv-dataset is installed; otherwise seeded uniform
    noise, and the source says so. Latency does not depend on the pixels; int8 calibration
    ranges do a little, which is why real images come first.

    Args:
      count: How many images (>= 1).
      width, height: Output size.
      seed: Seeds the sample (or the noise).

    Returns:
      The images and a one-line description of their source.
    """
    if count < 1:
        raise ValueError(f"count={count}: need at least one image")
    rng = np.random.default_rng(seed)
    paths = elpv_image_paths()
    if not paths:
        noise = rng.integers(0, 256, size=(count, height, width, 3), dtype=np.uint8)
        return ImageSet(noise, f"seeded uniform noise (seed {seed}; elpv-dataset is not installed)")
    order = rng.permutation(len(paths))
    # With fewer files than asked for, the sample repeats in the same seeded order.
    chosen = [paths[order[i % len(paths)]] for i in range(count)]
    images = np.stack([resize(load_rgb(p), width, height) for p in chosen])
    return ImageSet(
        images,
        f"real ELPV images (elpv-dataset {_version('elpv-dataset')}), {count} sampled with seed {seed}, "
        f"resized from 300x300 grayscale to {width}x{height} RGB",
    )


def camera_frames(count: int, seed: int = 0) -> ImageSet:
    """640x480 RGB frames, what a USB camera hands the runtime; see `sample_images`."""
    return sample_images(count, FRAME_WIDTH, FRAME_HEIGHT, seed)
