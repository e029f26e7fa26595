"""Input and output tensors of a classification interpreter: size, pixel quantization, scores."""

from __future__ import annotations

import weakref
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.errors import UserError
from edge_runtime.image import _UINT8, to_channels


def input_details(interpreter: Any) -> dict:
    """The details dict (name, index, shape, dtype, quantization) of the model's only input."""
    return interpreter.get_input_details()[0]


def output_details(interpreter: Any) -> dict:
    """The details dict of the model's only output (the class scores)."""
    return interpreter.get_output_details()[0]


@dataclass(frozen=True)
class TensorInfo:
    """What the hot path needs of a tensor: fixed for a model, so looked up once per interpreter.

    Attributes:
      index: The tensor index.
      dtype: Its element type.
      scale: Its quantization scale (0.0 when not quantized).
      zero_point: Its quantization zero point.
      table: For an integer input, the quantized value of each pixel value 0..255; else None.
      size: Its number of elements.
      pixel_bytes: For an RGB input, how its bytes relate to the pixels: "same" (uint8, scale 1,
        zero point 0), "sign_flipped" (int8, scale 1, zero point -128: pixel - 128 is the pixel
        with its top bit flipped), else None (a table or float conversion is needed).
    """

    index: int
    dtype: np.dtype
    scale: float
    zero_point: int
    table: np.ndarray | None = None
    size: int = 0
    pixel_bytes: str | None = None


_INFO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _info(details: dict, is_input: bool) -> TensorInfo:
    dtype = np.dtype(details["dtype"])
    scale, zero_point = (float(v) for v in details["quantization"])
    table = None
    if is_input and dtype.kind in "iu" and scale > 0:
        table = pixel_table(scale, int(zero_point), dtype)
    size = int(np.prod(details["shape"]))
    pixel_bytes = None
    if is_input and details["shape"][-1] == 3 and scale == 1.0:
        pixel_bytes = {(np.uint8, 0): "same", (np.int8, -128): "sign_flipped"}.get(
            (dtype.type, int(zero_point))
        )
    return TensorInfo(int(details["index"]), dtype, scale, int(zero_point), table, size, pixel_bytes)


def tensor_info(interpreter: Any) -> tuple[TensorInfo, TensorInfo]:
    """The (input, output) TensorInfo of an interpreter, read from its details once and then cached.

    get_input_details() builds dicts and arrays on each call (about 5 us warm, 25 us right after an
    invoke() has flushed the caches): too much to repeat per frame.
    """
    try:
        return _INFO[interpreter]
    except KeyError:
        pass
    except TypeError:  # an interpreter type that cannot be weakly referenced: no cache
        return _info(input_details(interpreter), True), _info(output_details(interpreter), False)
    info = _info(input_details(interpreter), True), _info(output_details(interpreter), False)
    _INFO[interpreter] = info
    return info


_INPUT_TYPES = (np.float32, np.uint8, np.int8)


def check_classifier(interpreter: Any, source: str) -> None:
    """Raises UserError, naming SOURCE, unless the model is an image classifier edge_runtime can feed.

    That is one [1, height, width, 1 or 3] float32, uint8 or int8 input and one [1, classes] (or
    [classes]) output; a single-unit output is read as a sigmoid's two classes (see `num_classes`).
    A model with more inputs would run with all but one of them unset, so it is refused.
    """
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1:
        names = ", ".join(str(d["name"]) for d in inputs)
        raise UserError(
            f"{source}: {len(inputs)} inputs ({names}); edge_runtime feeds one image, so export the "
            "classifier with a single [1, height, width, 3] input"
        )
    shape, dtype = [int(n) for n in inputs[0]["shape"]], np.dtype(inputs[0]["dtype"])
    if len(shape) != 4 or shape[0] != 1 or shape[3] not in (1, 3) or dtype not in _INPUT_TYPES:
        raise UserError(
            f"{source}: input {inputs[0]['name']!r} is {shape} {dtype}, not an image [1, height, width, 1 or 3] "
            "of float32, uint8 or int8; this is not an image classifier edge_runtime can run"
        )
    if len(outputs) != 1:
        raise UserError(
            f"{source}: {len(outputs)} outputs; edge_runtime reads one [1, classes] score output, "
            "so export the classifier with its probabilities alone"
        )
    out = [int(n) for n in outputs[0]["shape"]]
    if not out or int(np.prod(out)) != out[-1]:
        raise UserError(
            f"{source}: output {outputs[0]['name']!r} is {out}, not one score per class [1, classes]"
        )


def num_classes(interpreter: Any) -> int:
    """The classes a model scores: its output's length, or 2 for one sigmoid unit (not-class-1, class 1)."""
    return max(2, tensor_info(interpreter)[1].size)


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
    """Writes an RGB image into the input tensor, converted to the tensor's type and depth.

    Writes straight into the interpreter's buffer (no per-frame batch array). Integer inputs go
    through a 256-entry table, as a pixel has only 256 possible values. A grayscale-input model
    (depth 1) gets the image's BT.601 luma, as `convert` calibrated and evaluated it.

    Args:
      interpreter: The interpreter, tensors allocated.
      rgb: An HxWx3 uint8 image already at `input_size`, raw pixel values.

    Raises:
      ValueError: The image has the wrong shape or type, or the input type is unsupported.
    """
    info = tensor_info(interpreter)[0]
    # The view must not outlive this call: the interpreter refuses to run while one is held.
    tensor = interpreter.tensor(info.index)()[0]
    if tensor.shape[-1] == 1 and rgb.ndim == 3 and rgb.shape[-1] == 3:
        rgb = to_channels(rgb, 1)
    if rgb.dtype != np.uint8 or rgb.shape != tensor.shape:
        height, width, channels = tensor.shape
        raise ValueError(
            f"input image is {rgb.shape} {rgb.dtype}; the model wants ({height}, {width}, {channels}) "
            "uint8 (resize it to input_size first)"
        )
    if info.dtype.kind == "f":
        tensor[...] = rgb
    elif info.pixel_bytes == "same":
        np.copyto(tensor, rgb)
    elif info.pixel_bytes == "sign_flipped":  # 2.6 us for 160x160x3 where the table takes 60 (Zen 4)
        np.bitwise_xor(rgb, _SIGN_BIT, out=tensor.view(_UINT8))
    elif info.table is not None:
        np.take(info.table, rgb, out=tensor, mode="clip")
    else:
        raise ValueError(
            f"unsupported input tensor: {info.dtype} with quantization {(info.scale, info.zero_point)}"
        )


def fill_input(
    interpreter: Any, write: Callable[[np.ndarray], object], info: TensorInfo | None = None
) -> bool:
    """Lets `write(pixels)` put model-sized RGB straight into the input tensor, when its bytes allow.

    For a uint8 input that takes raw pixels, `pixels` is the tensor itself; for an int8 one with
    zero point -128, a uint8 view of it, whose top bits are flipped after `write` returns. Either
    way the model input is made without an intermediate image or a copy. Other inputs (float,
    other quantization, grayscale) are left alone: use `set_input`.

    Args:
      interpreter: The interpreter, tensors allocated.
      write: Called once with a (height, width, 3) uint8 array to fill completely; it must not
        keep the array (the interpreter refuses to run while a view of its tensor is held).
      info: The input's `tensor_info`, when the caller keeps it (a hot path skips the lookup).

    Returns:
      Whether `write` was called (and the input is set).
    """
    if info is None:
        info = tensor_info(interpreter)[0]
    if info.pixel_bytes is None:
        return False
    pixels = interpreter.tensor(info.index)()[0]
    if info.pixel_bytes == "same":
        write(pixels)
    else:
        pixels = pixels.view(_UINT8)
        write(pixels)
        np.bitwise_xor(pixels, _SIGN_BIT, out=pixels)
    return True


_SIGN_BIT = np.uint8(0x80)


def get_scores(interpreter: Any) -> np.ndarray:
    """Returns the class scores of the last `invoke` as a 1-D float32 array.

    A quantized output is dequantized with its tensor's parameters: real = scale * (q - zero_point)
    (a uint8 softmax with scale 1/256 and zero point 0 gives q / 256). A single sigmoid unit s
    becomes the two classes [1 - s, s], as Keras' binary classifiers mean it.
    """
    info = tensor_info(interpreter)[1]
    scores = interpreter.get_tensor(info.index).reshape(-1)
    if info.dtype.kind in "iu" and info.scale > 0:
        scores = (scores.astype(np.float32) - np.float32(info.zero_point)) * np.float32(info.scale)
    else:
        scores = scores.astype(np.float32, copy=False)
    if info.size == 1:
        return np.array([1.0 - scores[0], scores[0]], dtype=np.float32)
    return scores


def get_score_list(interpreter: Any) -> list[float]:
    """`get_scores(interpreter).tolist()` without numpy arithmetic: quicker for a few classes."""
    info = tensor_info(interpreter)[1]
    if info.size == 1:  # a sigmoid: the two-class reading of get_scores
        return get_scores(interpreter).tolist()
    return score_list(interpreter.get_tensor(info.index), info)


def score_list(raw: np.ndarray, info: TensorInfo) -> list[float]:
    """An output tensor of two or more scores (`info` its tensor_info) as get_scores' floats, in a list.

    Dequantizes in Python, then rounds through a float32 array, so every value is bit-for-bit
    the float32 one `get_scores` computes ((q - zero_point) is exact, and so is its product with
    the float32 scale in double precision before the one rounding to float32).
    """
    values = raw.reshape(-1).tolist()
    if info.dtype.kind in "iu" and info.scale > 0:
        zero_point, scale = info.zero_point, info.scale
        return array("f", [(q - zero_point) * scale for q in values]).tolist()
    return array("f", values).tolist()
