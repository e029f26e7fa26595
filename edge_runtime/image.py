"""Image decoding and resizing shared by training, calibration, evaluation and the runtime.

One function decides how a file becomes model pixels, so the int8 model is calibrated and
evaluated on exactly what it will see on the device (no train/serve skew from a different
decoder or resize filter).
"""

from __future__ import annotations

import os
from pathlib import Path

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


def _box_factor(size: int, target: int) -> int:
    """The largest whole factor k <= size / target that divides size (1 when none does)."""
    for factor in range(size // target, 1, -1):
        if size % factor == 0:
            return factor
    return 1


def resize_steps(
    width: int, height: int, target_width: int, target_height: int
) -> tuple[tuple[int, int], int]:
    """How `resize` takes a width x height image to the target size.

    Returns:
      ((box_width, box_height), interpolation): first a whole-factor box average down to
      box_width x box_height (skipped when that is the image's own size), then one cv2 resize
      to the target with `interpolation`.
    """
    if (width, height) == (target_width, target_height):
        return (width, height), cv2.INTER_NEAREST
    if width < target_width or height < target_height:  # enlarging along an axis: plain bilinear
        return (width, height), cv2.INTER_LINEAR
    box = (width // _box_factor(width, target_width), height // _box_factor(height, target_height))
    if box[0] >= 2 * target_width or box[1] >= 2 * target_height:
        # No whole factor gets within 2x (e.g. a prime width): bilinear would alias, use exact area.
        return (width, height), cv2.INTER_AREA
    return box, cv2.INTER_LINEAR


def resize(image: np.ndarray, width: int, height: int, out: np.ndarray | None = None) -> np.ndarray:
    """Resizes an HxWx3 uint8 image to (height, width, 3).

    Shrinking averages whole blocks of pixels first (a 640x480 frame becomes 320x240 by 2x2 means),
    then bilinear interpolation covers the remaining factor, which is below 2, so every source pixel
    still counts and nothing aliases. This is about 7x faster than OpenCV's fractional area filter
    (0.12 vs 0.87 ms for 640x480 -> 224x224 on one core) and close to it in pixels. Enlarging is
    bilinear. The aspect ratio is not kept: the model was trained the same way.

    Args:
      image: HxWx3 (or HxW) uint8 pixels.
      width: Target width.
      height: Target height.
      out: Optional (height, width, 3) uint8 array to write into (no allocation on a hot path).

    Returns:
      The resized image: `out` when given, else a new array (or `image` itself when no resize
      is needed and no `out` is given).
    """
    h, w = image.shape[:2]
    box, interpolation = resize_steps(w, h, width, height)
    if (w, h) == (width, height):
        if out is None:
            return image
        np.copyto(out, image)
        return out
    if box != (w, h):
        image = cv2.resize(image, box, interpolation=cv2.INTER_AREA)  # whole factors: OpenCV's fast path
    if out is None:
        return cv2.resize(image, (width, height), interpolation=interpolation)
    cv2.resize(image, (width, height), dst=out, interpolation=interpolation)
    return out


def load_resized(path: str | os.PathLike, width: int, height: int) -> np.ndarray:
    """`load_rgb` (reduced JPEG decoding for the size) then `resize`: the model-ready pixels of one file."""
    return resize(load_rgb(path, size_hint=(width, height)), width, height)
