"""Shared fixtures: small real models and real images written by the tests, and the clients' gate.

Markers by cost: `slow` trains, converts or starts TensorFlow in a child; `clients` needs the
clients' environment (.venv-clients) and is skipped, with the reason, when it is missing.
`make test-fast` runs `-m "not slow and not clients"`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
CLIENTS_PYTHON = Path(os.environ.get("CLIENTS_PYTHON", REPO / ".venv-clients" / "bin" / "python"))


def pytest_collection_modifyitems(config, items) -> None:
    """Skips `clients` tests, saying why, when the clients' environment is missing."""
    if CLIENTS_PYTHON.exists():
        return
    skip = pytest.mark.skip(
        reason=f"clients' environment not found at {CLIENTS_PYTHON} (make clients builds it; make test does)"
    )
    for item in items:
        if "clients" in item.keywords:
            item.add_marker(skip)


def run_clients_script(script: str, *args: str, timeout: float = 600) -> dict:
    """Runs tests/clients/SCRIPT in the clients' environment; returns the JSON of its last line."""
    proc = subprocess.run(
        [str(CLIENTS_PYTHON), str(REPO / "tests" / "clients" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_clients(model: Path, images: list[Path], top_k: int = 2) -> dict:
    """The Task Library's and MediaPipe Tasks' top-k for each image: {client: {"results"|"error": ...}}."""
    return run_clients_script("run_clients.py", str(model), *map(str, images), "--top-k", str(top_k))


def edge_runtime_top(model: Path, images: list[Path], top_k: int = 2) -> list[list[tuple[str, float]]]:
    """edge_runtime's (label, score) top-k for each image, to compare with the clients'."""
    from edge_runtime.classify import classify_image
    from edge_runtime.image import load_rgb
    from edge_runtime.interpreter import make_interpreter
    from edge_runtime.metadata import read_labels

    labels = read_labels(model.read_bytes())
    interpreter = make_interpreter(model)
    return [
        [(c.label, c.score) for c in classify_image(interpreter, load_rgb(p), top_k=top_k, labels=labels)]
        for p in images
    ]


def write_sized_images(source_folder: Path, out: Path, size: int) -> list[Path]:
    """Every image under SOURCE_FOLDER resized by edge_runtime to SIZE x SIZE and saved as PNG in OUT.

    The clients then receive exactly the pixels edge_runtime feeds the interpreter, so a difference
    in top-1 is a difference in how they read the model.
    """
    from PIL import Image

    from edge_runtime.folders import list_images
    from edge_runtime.image import load_resized

    paths = []
    for index, source in enumerate(list_images(source_folder, recursive=True)):
        path = out / f"{index:03d}_{source.parent.name}.png"
        Image.fromarray(load_resized(source, size, size)).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def sized_test_images(elpv_subset, tmp_path_factory) -> list[Path]:
    """The ELPV subset's test images at 64x64 (the `trained_model` input) as PNG."""
    return write_sized_images(elpv_subset / "test", tmp_path_factory.mktemp("sized"), 64)


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


# The camera tests' shared inputs: a real-cell video and the tiny model with labels beside it.
CAMERA_LABELS = ["crack", "finger", "clean"]


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A 640x480 30 fps MPEG-4 video of real ELPV cells, 60 frames."""
    from benchmarks.instruments.frames import write_video

    return write_video(tmp_path_factory.mktemp("video") / "cells.mp4", frames=60)


@pytest.fixture(scope="module")
def labelled_model(tiny_tflite, tmp_path_factory) -> Path:
    """The tiny uint8 model with a labels.txt of CAMERA_LABELS beside it."""
    import shutil

    folder = tmp_path_factory.mktemp("labelled")
    shutil.copy(tiny_tflite["uint8"], folder / "model.tflite")
    (folder / "labels.txt").write_text("\n".join(CAMERA_LABELS) + "\n")
    return folder / "model.tflite"
