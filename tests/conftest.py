"""Shared fixtures: small real models and real images written by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent


def _tiny_keras_model(num_classes: int = 3, size: int = 32, seed: int = 0):
    """A small RGB classifier taking raw 0..255 pixels, with its rescaling inside."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3), name="image")
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs)


def _convert(model, mode: str, size: int, seed: int = 0) -> bytes:
    """Plain TF conversion, independent of our convert stage, for runtime tests."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        rng = np.random.default_rng(seed)

        def representative():
            for i in range(16):
                image = rng.integers(0, 256, (1, size, size, 3)).astype(np.float32)
                image[0, 0, 0, 0], image[0, 0, 1, 0] = 0.0, 255.0
                yield [image]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = {"uint8": tf.uint8, "int8": tf.int8}[mode]
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    return converter.convert()


@pytest.fixture(scope="session")
def tiny_keras(tmp_path_factory) -> Path:
    """Path of a saved 3-class Keras model (32x32 RGB input, untrained, seeded)."""
    path = tmp_path_factory.mktemp("keras") / "tiny.keras"
    _tiny_keras_model().save(path)
    return path


@pytest.fixture(scope="session")
def tiny_tflite(tmp_path_factory) -> dict[str, Path]:
    """Plain (metadata-free) .tflite files of the tiny model: 'float32', 'uint8' and 'int8' I/O."""
    model = _tiny_keras_model()
    folder = tmp_path_factory.mktemp("tflite")
    paths = {}
    for mode in ("float32", "uint8", "int8"):
        path = folder / f"tiny_{mode}.tflite"
        path.write_bytes(_convert(model, mode, 32))
        paths[mode] = path
    return paths


@pytest.fixture(scope="session")
def elpv_subset(tmp_path_factory) -> Path:
    """A class-folder dataset of real ELPV images: 24 train and 8 test images per class."""
    from train import elpv

    root = tmp_path_factory.mktemp("elpv")
    elpv.export(root, per_class_limit={"train": 24, "test": 8}, seed=0)
    return root
