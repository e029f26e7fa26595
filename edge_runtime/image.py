"""Image decoding and resizing shared by training, calibration, evaluation and the runtime.

One function decides how a file becomes model pixels, so the int8 model is calibrated and
evaluated on exactly what it will see on the device (no train/serve skew from a different
decoder or resize filter).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from edge_runtime.errors import UserError

# The most pixels decoded from one file (after a JPEG's reduced decoding): 48 MP (an 8000x6000 photo) is
# 144 MB as RGB. Pillow's own bomb check refuses only past 179 MP, which a 1-2 GB Raspberry Pi cannot hold.
MAX_PIXELS = 48_000_000

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def is_image_name(path: str | os.PathLike) -> bool:
    """True when the file name ends in an image suffix this module reads."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Converts any Pillow mode to an HxWx3 uint8 RGB array."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit grayscale: scale the full range down to 8 bits instead of clipping.
        array = np.asarray(image, dtype=np.float64)
        top = float(array.max()) or 1.0
        gray = np.clip(array * (255.0 / max(top, 255.0)), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode == "F":
        return np.repeat(_float_to_uint8(np.asarray(image, dtype=np.float32))[:, :, None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels become black, as a camera would see nothing there.
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _float_to_uint8(array: np.ndarray) -> np.ndarray:
    """A float image's pixels as 0..255: values within 0..1 are scaled up, within 0..255 kept."""
    finite = array[np.isfinite(array)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if finite.size != array.size or low < 0 or high > 255:
        raise ValueError(
            f"float pixels from {low:g} to {high:g}{' with NaN or infinity' if finite.size != array.size else ''}, "
            "neither 0..1 nor 0..255; save the image as 8- or 16-bit"
        )
    scale = 255.0 if high <= 1.0 else 1.0
    return np.clip(np.rint(array * scale), 0, 255).astype(np.uint8)


def load_rgb(
    path: str | os.PathLike, size_hint: tuple[int, int] | None = None, max_pixels: int | None = None
) -> np.ndarray:
    """Reads an image file as an HxWx3 uint8 RGB array.

    Grayscale, palette, RGBA, CMYK, 16-bit and float files are converted (float pixels by their
    range: 0..1 or 0..255); EXIF rotation is applied. Only regular files are read: a named pipe
    or a device would block or never end.

    Args:
      path: The image file.
      size_hint: (width, height) the pixels will be resized to; a JPEG is then decoded reduced
        (by 1/2, 1/4 or 1/8 in the decoder) to no less than twice that size, so an 8000x6000
        photo never takes 144 MB to classify at 224x224.
      max_pixels: Refuse images with more pixels than this after reduced decoding (default
        MAX_PIXELS), before decoding them.

    Raises:
      FileNotFoundError: The path does not exist.
      UserError: Not a regular file, not an image Pillow can decode, truncated, or too large.
    """
    path = Path(path)
    limit = MAX_PIXELS if max_pixels is None else max_pixels
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not an image")
    if not path.is_file():
        raise UserError(f"{path}: not a regular file (a pipe, device or socket); pass an image file")
    try:
        with Image.open(path) as image:
            if size_hint is not None and image.format == "JPEG":
                image.draft("RGB", (2 * size_hint[0], 2 * size_hint[1]))
            width, height = image.size
            if width * height > limit:
                raise UserError(
                    f"{path}: {width}x{height} is {width * height / 1e6:.0f} megapixels, over the "
                    f"{limit / 1e6:.0f} MP limit; shrink the image first or raise the limit (max_pixels)"
                )
            image.load()
            return _to_rgb(image)
    except UserError:
        raise
    except UnidentifiedImageError:
        raise UserError(f"{path}: not an image Pillow can read") from None
    except Image.DecompressionBombError as err:
        raise UserError(f"{path}: too large to decode safely ({err})") from None
    except (OSError, SyntaxError, ValueError) as err:
        # Pillow raises OSError("image file is truncated ...") for cut-off files.
        raise UserError(f"{path}: cannot decode image ({err})") from None


def to_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """(..., H, W, 3) uint8 RGB as a model's input depth: unchanged for 3, BT.601 luma for 1 (..., H, W, 1).

    One conversion for calibration, evaluation and the runtime: OpenCV's RGB2GRAY (0.299 R + 0.587 G
    + 0.114 B, the weights of Pillow's convert("L"), in fixed point).
    """
    if channels == 3:
        return images
    if channels != 1:
        raise ValueError(f"cannot make {channels}-channel images; models take depth 1 or 3")
    width = images.shape[-2]
    flat = np.ascontiguousarray(images).reshape(-1, width, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).reshape(*images.shape[:-1], 1)


class ResizeStep(NamedTuple):
    """One cv2.resize of `resize`'s plan.

    Attributes:
      source: (width, height) of the top-left part of the previous image it reads: the whole
        image, or one column or row less when a halving meets an odd size.
      size: (width, height) it makes.
      interpolation: The cv2 interpolation flag.
    """

    source: tuple[int, int]
    size: tuple[int, int]
    interpolation: int


def _even(n: int) -> int:
    return n - n % 2


def _halve_both(width: int, height: int, target_width: int, target_height: int) -> bool:
    """Whether a 2x2 halving comes next: both axes stay at least at their target, or one stays at
    least at it and the other at 7/8 of it (a final enlargement by at most 8/7 costs less detail
    than the halving of one axis alone costs time: 0.1 ms for 320x240 -> 160x240 on Zen 4)."""
    half_w, half_h = width // 2, height // 2
    if half_w >= target_width and half_h >= target_height:
        return True
    if half_w >= target_width:
        return 8 * half_h >= 7 * target_height
    if half_h >= target_height:
        return 8 * half_w >= 7 * target_width
    return False


def resize_steps(width: int, height: int, target_width: int, target_height: int) -> tuple[ResizeStep, ...]:
    """How `resize` takes a width x height image to the target size, one cv2.resize per step.

    1. Halve both axes (2x2 means: OpenCV's SIMD area path) while both stay at least at the
       target (or one does and the other keeps 7/8 of it); an odd size drops its last column or
       row first.
    2. Halve the one axis still more than twice its target (an exact 2x bilinear: the mean of each
       pair of pixels) until it is not.
    3. Bilinear to the target: the factor left is at most 2 on each axis, so every pixel still
       counts (at exactly 2 the samples fall between pixel pairs: their means, as step 2 would
       give, in one pass instead of two).

    Except: no steps at the target size; plain bilinear when enlarging along an axis; and a
    reduction by 3 to 4 on both axes whose sizes divide by 3 (the 300x300 ELPV cells to 96..100 px)
    is one 3x3 area mean then bilinear, the pixels models have been trained on since the start.
    Every plan with fewer than 2x on both axes is the same one bilinear step as ever.
    """
    size, target = (width, height), (target_width, target_height)
    if size == target:
        return ()
    if width < target_width or height < target_height:  # enlarging along an axis: plain bilinear
        return (ResizeStep(size, target, cv2.INTER_LINEAR),)
    if width // target_width == height // target_height == 3 and width % 3 == height % 3 == 0:
        box = (width // 3, height // 3)
        return ResizeStep(size, box, cv2.INTER_AREA), ResizeStep(box, target, cv2.INTER_LINEAR)
    steps = []
    while _halve_both(width, height, target_width, target_height):
        source, (width, height) = (_even(width), _even(height)), (width // 2, height // 2)
        steps.append(ResizeStep(source, (width, height), cv2.INTER_AREA))
    while width > 2 * target_width:
        source, width = (_even(width), height), width // 2
        steps.append(ResizeStep(source, (width, height), cv2.INTER_LINEAR))
    while height > 2 * target_height:
        source, height = (width, _even(height)), height // 2
        steps.append(ResizeStep(source, (width, height), cv2.INTER_LINEAR))
    if (width, height) != target:
        steps.append(ResizeStep((width, height), target, cv2.INTER_LINEAR))
    return tuple(steps)


def resize(image: np.ndarray, width: int, height: int, out: np.ndarray | None = None) -> np.ndarray:
    """Resizes an HxWx3 uint8 image to (height, width, 3), anti-aliased (see `resize_steps`).

    Shrinking halves the image by 2x2 means (OpenCV's SIMD path) while both axes stay at least
    twice the target, halves a remaining long axis by pixel pairs, then interpolates the last
    factor (below 2) bilinearly: every source pixel counts, so nothing aliases. A 640x480 frame
    becomes 128x128 in about 0.12 ms and 224x224 in about 0.15 ms on one Zen 4 core with the frame
    in the caches, 0.2-0.25 ms fresh from memory as a camera's is (OpenCV's fractional area
    filter: 0.8 and 1.2 ms), its pixels within about 1 level (mean absolute
    difference, 0..255) of that exact area filter (tests/edge_runtime/test_image_resize.py).
    Enlarging is bilinear. The aspect ratio is not kept: the model was trained the same way.

    Args:
      image: HxWx3 (or HxW) uint8 pixels.
      width: Target width.
      height: Target height.
      out: Optional (height, width, 3) uint8 array to write into (`Resizer` also reuses the
        intermediate halvings, for a hot path).

    Returns:
      The resized image: `out` when given, else a new array (or `image` itself when no resize
      is needed and no `out` is given).
    """
    return _run_calls(image, _plan_calls(image.shape, width, height), out)


# One (crop or None, size, interpolation, destination or None) per cv2.resize of a plan; the last
# destination is None: the caller's `out`, or a new image.
_Call = tuple[tuple[int, int] | None, tuple[int, int], int, np.ndarray | None]


def _plan_calls(shape: tuple[int, ...], width: int, height: int) -> tuple[_Call, ...]:
    """`resize_steps` for an image of `shape` as cv2.resize calls, crops and intermediate images made."""
    steps = resize_steps(shape[1], shape[0], width, height)
    calls, previous = [], (shape[1], shape[0])
    for index, (source, size, interpolation) in enumerate(steps):
        dst = None if index == len(steps) - 1 else np.empty((size[1], size[0], *shape[2:]), np.uint8)
        calls.append((None if source == previous else source, size, interpolation, dst))
        previous = size
    return tuple(calls)


def _run_calls(image: np.ndarray, calls: tuple[_Call, ...], out: np.ndarray | None) -> np.ndarray:
    """Runs a plan, its last step into `out` when given."""
    if not calls:
        if out is None:
            return image
        np.copyto(out, image)
        return out
    for crop, size, interpolation, dst in calls:
        if crop is not None:
            image = image[: crop[1], : crop[0]]
        image = cv2.resize(image, size, out if dst is None else dst, 0, 0, interpolation)
    return image


_UINT8 = np.dtype(np.uint8)


def _readable(image: np.ndarray) -> bool:
    """Whether `_read_through` can read the image as it lies in memory (uint8, C-contiguous)."""
    return image.dtype == _UINT8 and image.flags.c_contiguous


def _read_through(image: np.ndarray) -> None:
    """Reads every byte of a C-contiguous uint8 image once, with OpenCV's SIMD (a prefetch)."""
    cv2.countNonZero(image.reshape(image.shape[0], -1))


class Resizer:
    """`resize` to one target size into reused buffers: a camera loop's resize without per-frame allocation.

    The plan and its intermediate images are made for the first frame size seen (again if it changes),
    as a list of cv2.resize calls with their crops and destinations worked out: a frame then costs
    its OpenCV passes and little Python (which runs with cold caches right after an invoke()).

    Prefetch: OpenCV's 2x2 area pass over a frame that is not in the caches can take longer than
    reading the frame once with a SIMD pass and then halving it from the cache (640x480 on Zen 4,
    idle: 188 us vs 33 + 74 us; its first halving is too small for OpenCV to split across threads),
    while for larger frames the extra read only costs. So it is measured on this device: the first
    `TRIALS` frames of a size alternate with and without the read, and the read is kept when its
    median is at least 3% lower. The pixels are the same either way. Why 64 frames and 3%: timed
    after each invoke() on a 2-core Zen 4 VM, 32 frames each way put the read 4-31% ahead (medians,
    eight runs) for 640x480 frames and 5-33% behind (five runs) for 1280x720 and 1920x1080 ones,
    while 8 frames each way with a 10% margin chose differently from run to run.

    Attributes:
      width, height: The target size.
      prefetch: Whether frames are read through first: None while the trials run (or before the
        first frame), then the choice; a bool given to the constructor fixes it.
    """

    TRIALS = 64

    def __init__(self, width: int, height: int, prefetch: bool | None = None) -> None:
        self.width, self.height = width, height
        self._fixed = prefetch
        self.prefetch = prefetch
        self._shape: tuple[int, ...] | None = None
        self._calls: tuple[_Call, ...] = ()
        self._trials: tuple[list[int], list[int]] = ([], [])

    def __call__(self, image: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Writes `resize(image, width, height)` into `out` ((height, width, 3) uint8) and returns it."""
        if image.shape != self._shape:
            return self._plan(image, out)
        if self.prefetch is None:
            return self._trial(image, out)
        if self.prefetch and _readable(image):
            _read_through(image)
        return _run_calls(image, self._calls, out)

    def _plan(self, image: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Plans for a new frame size, makes the intermediate images and resizes (untimed: first touch)."""
        self._shape = image.shape
        self._calls = _plan_calls(image.shape, self.width, self.height)
        self.prefetch, self._trials = self._fixed, ([], [])
        if not self._calls or self._calls[0][2] != cv2.INTER_AREA:
            self.prefetch = False  # only the area pass reads the whole frame
        return _run_calls(image, self._calls, out)

    def _trial(self, image: np.ndarray, out: np.ndarray) -> np.ndarray:
        """One timed frame of the prefetch trials; decides after the last."""
        if not _readable(image):
            return _run_calls(image, self._calls, out)
        without, with_read = self._trials
        read = len(with_read) < len(without)
        tick = time.perf_counter_ns()
        if read:
            _read_through(image)
        result = _run_calls(image, self._calls, out)
        (with_read if read else without).append(time.perf_counter_ns() - tick)
        if len(with_read) * 2 >= self.TRIALS:
            self.prefetch = float(np.median(with_read)) < 0.97 * float(np.median(without))
        return result


def load_resized(path: str | os.PathLike, width: int, height: int) -> np.ndarray:
    """`load_rgb` (reduced JPEG decoding for the size) then `resize`: the model-ready pixels of one file."""
    return resize(load_rgb(path, size_hint=(width, height)), width, height)
