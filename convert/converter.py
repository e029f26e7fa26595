"""Keras model to .tflite in every mode: full int8 (raw-pixel uint8 or int8 I/O), float16, dynamic, float32."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from convert.calibration import calibration_set, representative
from convert.modes import IO_TYPES, QUANTIZATIONS, RECOMMENDED_CALIBRATION_IMAGES, ConvertOptions
from edge_runtime.errors import ParameterError, UserError

__all__ = [
    "IO_TYPES",
    "QUANTIZATIONS",
    "RECOMMENDED_CALIBRATION_IMAGES",
    "ConversionError",
    "ConvertOptions",
    "calibration_set",
    "check_input_quantization",
    "convert",
    "image_input_shape",
    "image_input_size",
    "load_keras_model",
]


class ConversionError(UserError):
    """The converted model would not behave like the Keras model; nothing is written."""


def load_keras_model(path: str | os.PathLike):
    """Loads a saved Keras model with safe_mode on; errors name the file."""
    from edge_runtime.native_logs import quiet_tensorflow

    quiet_tensorflow()  # before Keras imports it: no native start-up noise on the console
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


def image_input_shape(model) -> tuple[int, int, int]:
    """(width, height, channels) of a model taking (None, H, W, 1 or 3) images; UserError otherwise."""
    shape = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else None
    if shape is None or len(shape) != 4 or shape[3] not in (1, 3) or not shape[1] or not shape[2]:
        raise UserError(
            f"model {model.name!r} input shape {shape} is not an image (None, height, width, 1 or 3); "
            "give the model one fixed-size grayscale or RGB image input"
        )
    return int(shape[2]), int(shape[1]), int(shape[3])


def image_input_size(model) -> tuple[int, int]:
    """(width, height) of a model taking (None, H, W, 1 or 3) images; UserError otherwise."""
    width, height, _ = image_input_shape(model)
    return width, height


def convert(model, options: ConvertOptions, calibration: np.ndarray | None = None) -> bytes:
    """Converts a Keras image classifier to .tflite bytes with batch size 1.

    Args:
      model: A keras.Model taking (None, H, W, 1 or 3) raw 0..255 pixels.
      options: The conversion mode.
      calibration: (N, H, W, channels) uint8 images; required for int8, unused otherwise.

    Raises:
      UserError: int8 without calibration images.
      ConversionError: The converted input tensor would not take raw pixels unchanged.
    """
    import keras
    import tensorflow as tf

    width, height, channels = image_input_shape(model)
    # A batch-1 input: the Task Library, MediaPipe and the Edge TPU want static shapes.
    image = keras.Input((height, width, channels), batch_size=1, name="image")
    fixed = keras.Model(image, model(image), name=model.name)
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    if options.quantize == "int8":
        if calibration is None or len(calibration) == 0:
            raise ParameterError(
                "calibration", None, "int8 conversion needs calibration images (calibration_set)"
            )
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: representative(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = {"uint8": tf.uint8, "int8": tf.int8}[options.io_type]
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    elif options.quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif options.quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        # Per-channel hybrid FULLY_CONNECTED is op version 12, which the Task Library's runtime
        # (tflite-support 0.4.4) cannot load; per-tensor dense weights stay at version 9.
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    # Keras prints the temporary SavedModel's signature to stdout; the CLI's stdout is its report.
    with contextlib.redirect_stdout(io.StringIO()):
        data = converter.convert()
    check_input_quantization(data, options)
    return data


def check_input_quantization(model: bytes, options: ConvertOptions) -> None:
    """Checks that the input tensor maps 0..255 to exactly the float pixels the Keras model sees.

    real = scale * (q - zero_point): uint8 needs scale 1, zero point 0 (q = pixel); int8 needs
    scale 1, zero point -128 (q = pixel - 128). Anything else would shift or stretch every pixel.
    Float inputs take the pixels as they are.
    """
    from edge_runtime.interpreter import make_interpreter

    details = make_interpreter(model).get_input_details()[0]
    dtype = np.dtype(details["dtype"]).name
    if dtype != options.io_type:
        raise ConversionError(f"converted input tensor is {dtype}, expected {options.io_type}")
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
