"""Scores of the float Keras model and its .tflite conversions on labelled images.

`ModelScores` holds one model's predictions and probabilities; `EvaluationSet` the images and
labels they are scored against. The .tflite files run through edge_runtime, the code that runs on
the device, on pixels from the same decoder and resize; so a difference is the model's, not the
pipeline's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_runtime.errors import UserError
from edge_runtime.folders import read_class_folder
from edge_runtime.image import load_resized, to_channels


@dataclass(frozen=True)
class ModelScores:
    """Predictions of one model on the evaluation images."""

    name: str
    predictions: np.ndarray  # (N,) predicted class ids
    probabilities: np.ndarray  # (N, C) scores

    def accuracy(self, labels: np.ndarray) -> float:
        return float(np.mean(self.predictions == labels)) if len(labels) else 0.0

    def per_class_accuracy(self, labels: np.ndarray, class_names: list[str]) -> dict[str, float]:
        result = {}
        for index, name in enumerate(class_names):
            mask = labels == index
            result[name] = float(np.mean(self.predictions[mask] == index)) if mask.any() else float("nan")
        return result


@dataclass(frozen=True)
class EvaluationSet:
    """Model-ready images with their labels."""

    images: np.ndarray  # (N, H, W, 3) uint8
    labels: np.ndarray  # (N,) int
    class_names: list[str]
    skipped: list[str] = field(default_factory=list)


def load_files(
    files: Sequence[tuple[Path, int]], class_names: list[str], width: int, height: int, channels: int = 3
) -> EvaluationSet:
    """Reads labelled image files at the model's size and depth, as the runtime does; skips unreadable files.

    Raises:
      UserError: None of the files can be read.
    """
    images, labels, skipped = [], [], []
    for path, label in files:
        try:
            images.append(load_resized(path, width, height))
            labels.append(label)
        except UserError as err:
            skipped.append(str(err))
    if not images:
        folders = sorted({str(Path(p).parent.parent) for p, _ in files}) or ["(no files)"]
        raise UserError(f"{folders[0]}: no readable images to evaluate on")
    if skipped:
        print(f"evaluate: skipped {len(skipped)} unreadable image(s)", file=sys.stderr)
    return EvaluationSet(
        to_channels(np.stack(images), channels), np.asarray(labels), list(class_names), skipped
    )


def load_evaluation_set(
    folder: str | os.PathLike, class_names: list[str], width: int, height: int, channels: int = 3
) -> EvaluationSet:
    """Reads ROOT/<class>/* for the given classes, resized as the runtime does; skips unreadable files."""
    dataset = read_class_folder(folder, class_names)
    return load_files(dataset.files, class_names, width, height, channels)


def keras_scores(model, images: np.ndarray, name: str = "keras_float32", batch_size: int = 32) -> ModelScores:
    """Runs a Keras model on raw 0..255 pixels."""
    probabilities = model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0)
    return ModelScores(name, np.argmax(probabilities, axis=1), np.asarray(probabilities, dtype=np.float32))


def tflite_scores(
    model_path: str | os.PathLike | bytes,
    images: np.ndarray,
    name: str | None = None,
    num_threads: int | None = None,
) -> ModelScores:
    """Runs a .tflite model (path or bytes) through edge_runtime, one image at a time (batch 1, as on the device).

    `images` are (N, H, W, channels) uint8 at the model's input size and depth; give `name` for bytes.
    """
    from edge_runtime.common import get_scores, set_input
    from edge_runtime.interpreter import make_interpreter

    interpreter = make_interpreter(model_path, num_threads=num_threads)
    rows = []
    for image in images:
        set_input(interpreter, image)
        interpreter.invoke()
        rows.append(np.array(get_scores(interpreter), dtype=np.float32))
    probabilities = np.stack(rows)
    if name is None:
        name = "model" if isinstance(model_path, bytes) else Path(model_path).stem
    return ModelScores(name, np.argmax(probabilities, axis=1), probabilities)
