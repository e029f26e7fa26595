"""Shared fixtures: small real models and real images written by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
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
            for _ in range(16):
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
    """A class-folder dataset of real ELPV images: 40 train and 20 test images per class."""
    from train import elpv

    root = tmp_path_factory.mktemp("elpv")
    elpv.export(root, per_class_limit={"train": 40, "test": 20}, seed=0)
    return root


def run_module(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    """Runs `python -m ...` from the repo root the way a user does; returns the finished process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"python -m {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


HEAVY_PACKAGES = ("tensorflow", "keras", "train", "convert")


def run_edge_runtime_without_heavy_imports(*argv: str) -> subprocess.CompletedProcess:
    """Runs `python -m edge_runtime ARGV` in a child that then asserts it never imported TensorFlow,
    Keras, train or convert (the device has none of them); prints 'ok' last when all held."""
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['edge_runtime', *{list(argv)!r}]\n"
        "try:\n"
        "    runpy.run_module('edge_runtime', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_PACKAGES!r})\n"
        "assert not heavy, heavy\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="session")
def trained_model(elpv_subset, tmp_path_factory) -> Path:
    """A CNN trained on the ELPV subset by `python -m train`; returns its folder.

    Ten epochs: after four, this model still answers about 0.5 for every image (within one step
    of the uint8 output), and float-vs-int8 agreement would measure rounding, not conversion.
    """
    out = tmp_path_factory.mktemp("model")
    run_module(
        "train",
        "--data",
        str(elpv_subset / "train"),
        "--out",
        str(out),
        "--model",
        "cnn",
        "--image-size",
        "64",
        "--epochs",
        "10",
        "--batch-size",
        "16",
        "--seed",
        "0",
    )
    return out


@pytest.fixture(scope="session")
def converted(trained_model, elpv_subset, tmp_path_factory) -> Path:
    """`python -m convert` output (int8 + float32 .tflite with metadata, labels.txt) of `trained_model`."""
    out = tmp_path_factory.mktemp("tflite")
    run_module(
        "convert",
        "--model",
        str(trained_model / "model.keras"),
        "--out",
        str(out),
        "--calibration-data",
        str(elpv_subset / "train"),
        "--calibration-images",
        "64",
    )
    return out
