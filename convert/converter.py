"""Keras model to .tflite: full-integer int8 with raw-pixel uint8 input, or float32."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.errors import UserError
from edge_runtime.folders import list_images
from edge_runtime.image import load_resized

QUANTIZATIONS = ("int8", "float32")
IO_TYPES = ("uint8", "int8", "float32")
RECOMMENDED_CALIBRATION_IMAGES = 300


class ConversionError(UserError):
    """The converted model would not behave like the Keras model; nothing is written."""


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert.

    Attributes:
      quantize: 'int8' (int8 weights and activations) or 'float32' (no quantization).
      io_type: Input/output tensor type of an int8 model: 'uint8' (Task Library, MediaPipe,
        Coral) or 'int8' (CPU only). A float32 model always has float32 I/O.
      calibration_images: How many training images calibrate the int8 ranges (all if fewer).
      seed: Seeds the choice of calibration images.
    """

    quantize: str = "int8"
    io_type: str = "uint8"
    calibration_images: int = RECOMMENDED_CALIBRATION_IMAGES
    seed: int = 0

    def __post_init__(self) -> None:
        if self.quantize not in QUANTIZATIONS:
            raise UserError(f"--quantize {self.quantize!r} is not one of {', '.join(QUANTIZATIONS)}")
        if self.io_type not in IO_TYPES:
            raise UserError(f"--io {self.io_type!r} is not one of {', '.join(IO_TYPES)}")
        if self.quantize == "int8" and self.io_type == "float32":
            raise UserError("--io float32 with --quantize int8 is not full-integer; use --io uint8 or int8")
        if self.calibration_images < 1:
            raise UserError(f"--calibration-images {self.calibration_images} must be at least 1")


def load_keras_model(path: str | os.PathLike):
    """Loads a saved Keras model with safe_mode on; errors name the file."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such Keras model (train one first: make train)")
    if path.suffix != ".keras":
        raise UserError(f"{path}: not a .keras file (save the model with model.save('model.keras'))")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # Keras raises many types for damaged zips and configs.
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"{path}: cannot load as a Keras model ({reason[:200]})") from None


def image_input_size(model) -> tuple[int, int]:
    """(width, height) of a model taking (None, H, W, 3) images; UserError otherwise."""
    shape = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else None
    if shape is None or len(shape) != 4 or shape[3] != 3 or not shape[1] or not shape[2]:
        raise UserError(
            f"model {model.name!r} input shape {shape} is not an RGB image (None, height, width, 3); "
            "put grayscale handling inside the model so it takes 3 channels"
        )
    return int(shape[2]), int(shape[1])


def calibration_set(
    folder: str | os.PathLike, count: int, width: int, height: int, seed: int = 0
) -> np.ndarray:
    """A seeded sample of up to `count` training images, resized as the runtime resizes them.

    Unreadable files are skipped. Returns a (N, height, width, 3) uint8 array.
    """
    files = list_images(folder, recursive=True)
    if not files:
        raise UserError(f"{folder}: no image files for calibration")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(files))
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
    return np.stack(images)


def _representative(images: np.ndarray) -> Iterator[list[np.ndarray]]:
    first = images[0].astype(np.float32).copy()
    # The converter picks the input tensor's scale and zero point from the smallest and largest
    # value it sees. Two pixels at 0 and 255 make that range exactly [0, 255]: uint8 scale 1.0,
    # zero point 0, so raw camera pixels go in unchanged. Two pixels of one image barely move the
    # ranges of later layers.
    first[0, 0, :] = 0.0
    first[0, 1, :] = 255.0
    yield [first[None]]
    for image in images[1:]:
        yield [image.astype(np.float32)[None]]


def convert(model, options: ConvertOptions, calibration: np.ndarray | None = None) -> bytes:
    """Converts a Keras image classifier to .tflite bytes with batch size 1.

    Args:
      model: A keras.Model taking (None, H, W, 3) raw 0..255 pixels.
      options: The conversion mode.
      calibration: (N, H, W, 3) uint8 images; required for int8.

    Raises:
      ConversionError: The int8 input tensor would not take raw pixels unchanged.
    """
    import keras
    import tensorflow as tf

    width, height = image_input_size(model)
    # A batch-1 input: the Task Library, MediaPipe and the Edge TPU want static shapes.
    image = keras.Input((height, width, 3), batch_size=1, name="image")
    fixed = keras.Model(image, model(image), name=model.name)
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    if options.quantize == "int8":
        if calibration is None or len(calibration) == 0:
            raise UserError("int8 conversion needs calibration images (--calibration-data)")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: _representative(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io = {"uint8": tf.uint8, "int8": tf.int8}[options.io_type]
        converter.inference_input_type = io
        converter.inference_output_type = io
    data = converter.convert()
    check_input_quantization(data, options)
    return data


def check_input_quantization(model: bytes, options: ConvertOptions) -> None:
    """Checks that the input tensor maps 0..255 to exactly the float pixels the Keras model sees.

    real = scale * (q - zero_point): uint8 needs scale 1, zero point 0 (q = pixel); int8 needs
    scale 1, zero point -128 (q = pixel - 128). Anything else would shift or stretch every pixel.
    """
    from edge_runtime.interpreter import make_interpreter

    details = make_interpreter(model).get_input_details()[0]
    dtype = np.dtype(details["dtype"]).name
    expected_dtype = "float32" if options.quantize == "float32" else options.io_type
    if dtype != expected_dtype:
        raise ConversionError(f"converted input tensor is {dtype}, expected {expected_dtype}")
    if dtype == "float32":
        return
    scale, zero_point = details["quantization"]
    expected_zero = 0 if dtype == "uint8" else -128
    if abs(scale - 1.0) > 1e-6 or zero_point != expected_zero:
        raise ConversionError(
            f"input quantization scale={scale:.6g} zero_point={zero_point} does not map 0..255 to the "
            f"model's raw pixels (expected scale=1, zero_point={expected_zero}); the Keras model must take "
            "raw 0..255 pixels with its rescaling inside"
        )
