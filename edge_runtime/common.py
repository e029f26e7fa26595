"""Input and output tensors of a classification interpreter: size, pixel quantization, scores."""

from __future__ import annotations

from typing import Any

import numpy as np


def input_details(interpreter: Any) -> dict:
    """The details dict (name, index, shape, dtype, quantization) of the model's only input."""
    return interpreter.get_input_details()[0]


def output_details(interpreter: Any) -> dict:
    """The details dict of the model's only output (the class scores)."""
    return interpreter.get_output_details()[0]


def input_size(interpreter: Any) -> tuple[int, int]:
    """Returns the input image size as (width, height); the tensor is [1, height, width, 3]."""
    _, height, width, _ = input_details(interpreter)["shape"]
    return int(width), int(height)


def input_dtype(interpreter: Any) -> np.dtype:
    """Returns the input tensor's element type (float32, uint8 or int8 for our models)."""
    return np.dtype(input_details(interpreter)["dtype"])


def quantize(values: np.ndarray, scale: float, zero_point: int, dtype: np.dtype | type) -> np.ndarray:
    """Quantizes real values to an integer dtype with TFLite's affine scheme.

    TFLite stores real = scale * (q - zero_point), so q = round(real / scale) + zero_point,
    clamped to the dtype's range. Rounding is half away from zero, as in TFLite's own Quantize
    op (std::round), not numpy's half-to-even. Our models want raw pixels (real = 0..255):
    an int8 input calibrated on 0..255 has scale 1.0 and zero point -128, so q = pixel - 128
    (0 -> -128, 255 -> 127); a uint8 input with scale 1.0 and zero point 0 is the pixels as is.

    Args:
      values: Real values.
      scale: The tensor's scale (> 0).
      zero_point: The tensor's zero point.
      dtype: An integer dtype, e.g. np.int8.

    Returns:
      The quantized values, of `dtype`.

    Raises:
      ValueError: The scale is not positive or the dtype is not an integer type.
    """
    dtype = np.dtype(dtype)
    if not scale > 0:
        raise ValueError(f"quantization scale {scale!r} must be > 0")
    if dtype.kind not in "iu":
        raise ValueError(f"cannot quantize to {dtype}: not an integer type")
    scaled = np.asarray(values, dtype=np.float64) / scale
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    info = np.iinfo(dtype)
    return np.clip(rounded + zero_point, info.min, info.max).astype(dtype)


def pixel_table(scale: float, zero_point: int, dtype: np.dtype | type) -> np.ndarray:
    """The quantized value of every pixel value 0..255: a 256-entry lookup table for `set_input`."""
    return quantize(np.arange(256), scale, zero_point, dtype)


def set_input(interpreter: Any, rgb: np.ndarray) -> None:
    """Writes an RGB image into the input tensor, converted to the tensor's type.

    Writes straight into the interpreter's buffer (no per-frame batch array). Integer inputs go
    through a 256-entry table, as a pixel has only 256 possible values.

    Args:
      interpreter: The interpreter, tensors allocated.
      rgb: An HxWx3 uint8 image already at `input_size`, raw pixel values.

    Raises:
      ValueError: The image has the wrong shape or type, or the input type is unsupported.
    """
    details = input_details(interpreter)
    _, height, width, channels = (int(n) for n in details["shape"])
    if rgb.dtype != np.uint8 or rgb.shape != (height, width, channels):
        raise ValueError(
            f"input image is {rgb.shape} {rgb.dtype}; the model wants ({height}, {width}, {channels}) "
            "uint8 (resize it to input_size first)"
        )
    dtype = np.dtype(details["dtype"])
    scale, zero_point = details["quantization"]
    # The view must not outlive this call: the interpreter refuses to run while one is held.
    tensor = interpreter.tensor(details["index"])()[0]
    if dtype.kind == "f":
        tensor[...] = rgb
    elif dtype == np.uint8 and (scale, zero_point) == (1.0, 0):
        np.copyto(tensor, rgb)
    elif dtype.kind in "iu" and scale > 0:
        np.take(pixel_table(scale, zero_point, dtype), rgb, out=tensor, mode="clip")
    else:
        raise ValueError(f"unsupported input tensor: {dtype} with quantization {(scale, zero_point)}")


def get_scores(interpreter: Any) -> np.ndarray:
    """Returns the class scores of the last `invoke` as a 1-D float32 array.

    A quantized output is dequantized with its tensor's parameters: real = scale * (q - zero_point)
    (a uint8 softmax with scale 1/256 and zero point 0 gives q / 256).
    """
    details = output_details(interpreter)
    scores = interpreter.get_tensor(details["index"]).reshape(-1)
    scale, zero_point = details["quantization"]
    if np.dtype(details["dtype"]).kind in "iu" and scale > 0:
        return (scores.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
    return scores.astype(np.float32, copy=False)
