"""Calibration images for int8 conversion: a seeded sample, resized as the runtime resizes, with progress."""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import numpy as np

from convert.modes import RECOMMENDED_CALIBRATION_IMAGES
from edge_runtime.errors import UserError
from edge_runtime.folders import list_images
from edge_runtime.image import load_resized, to_channels


def calibration_set(
    folder: str | os.PathLike,
    count: int,
    width: int,
    height: int,
    seed: int = 0,
    channels: int = 3,
    exclude: Collection[Path] = (),
) -> np.ndarray:
    """A seeded sample of up to `count` training images, resized as the runtime resizes them.

    Args:
      folder: Searched recursively for image files.
      count: How many images to use (all when fewer); below 300 prints a warning.
      width, height: The model's input size.
      seed: Seeds the sample.
      channels: The model's input depth (1 or 3).
      exclude: Files never used, e.g. the images held out for the accuracy gate.

    Returns:
      A (N, height, width, channels) uint8 array. Unreadable files are skipped and counted.

    Raises:
      FileNotFoundError: `folder` does not exist.
      UserError: No image file in `folder`, or none readable.
    """
    excluded = {Path(p) for p in exclude}
    files = [p for p in list_images(folder, recursive=True) if p not in excluded]
    if not files:
        raise UserError(
            f"{folder}: no image files for calibration (put training images there, any sub-folders)"
        )
    order = np.random.default_rng(seed).permutation(len(files))
    images, skipped = [], 0
    for index in order:
        if len(images) == count:
            break
        try:
            images.append(load_resized(files[index], width, height))
        except UserError:
            skipped += 1
    if not images:
        raise UserError(f"{folder}: none of the {len(files)} image files could be read")
    if skipped:
        print(f"calibration: skipped {skipped} unreadable image(s) in {folder}", file=sys.stderr)
    if len(images) < RECOMMENDED_CALIBRATION_IMAGES:
        print(
            f"warning: calibrating on {len(images)} images; {RECOMMENDED_CALIBRATION_IMAGES} or more "
            "give more reliable int8 ranges",
            file=sys.stderr,
        )
    return to_channels(np.stack(images), channels)


def representative(images: np.ndarray, progress: bool = True) -> Iterator[list[np.ndarray]]:
    """The converter's representative dataset: each image as a float batch of 1, progress on stderr.

    The first image has two pixels set to 0 and 255: the converter takes the input tensor's range
    from the smallest and largest value it sees, so the range is exactly [0, 255] and the uint8
    input gets scale 1.0 and zero point 0 (raw camera pixels go in unchanged). Two pixels of one
    image barely move the ranges of later layers.
    """
    total = len(images)
    marks = {max(1, round(total * share)) for share in (0.25, 0.5, 0.75, 1.0)}
    for index, image in enumerate(images, start=1):
        batch = image.astype(np.float32)[None].copy()
        if index == 1:
            batch[0, 0, 0, :] = 0.0
            batch[0, -1, -1, :] = 255.0
        yield [batch]
        if progress and index in marks:
            print(f"calibrating: {index}/{total} images", file=sys.stderr, flush=True)
