"""The files a training run leaves in its output folder, replaced as one set (never a new model beside old labels)."""

from __future__ import annotations

import json
from pathlib import Path

import keras

from edge_runtime.file_set import staged_files
from edge_runtime.files import atomic_write_bytes, atomic_write_text, sha256_file
from labels import write_labels
from train.callbacks import save_model_atomically
from train.plots import plot_history

ARTIFACTS = ("model.keras", "labels.txt", "history.json", "training_curves.png", "train_config.json")


def write_artifacts(
    out: Path,
    model: keras.Model,
    class_names: tuple[str, ...],
    history: dict[str, list[float]],
    best_epoch: int,
    config: dict,
) -> None:
    """Writes ARTIFACTS to `out` as one set: the model, its labels, the history (JSON and curves) and the config.

    The set is staged beside the previous one and swapped in whole: a failure (a bad class name, a
    full disk, Ctrl-C) leaves the previous run's files as they were. train_config.json records the
    model's sha256 (beside the class names), so `convert` can tell labels and a config of another run.

    Args:
      out: The output folder (created if missing).
      model: The deployable model (no augmentation layers).
      class_names: Class names, index i being output i.
      history: Per-epoch metrics and 'epoch_seconds'.
      best_epoch: 1-based epoch whose weights the model has, marked on the curves.
      config: JSON-ready description of the run (train_config.json).
    """
    with staged_files(out, ARTIFACTS) as staging:
        write_labels(staging / "labels.txt", list(class_names))  # first: a bad class name fails fast
        save_model_atomically(model, staging / "model.keras")
        atomic_write_text(staging / "history.json", json.dumps(history, indent=2) + "\n")
        curves = plot_history(history, best_epoch, training_label(config))
        atomic_write_bytes(staging / "training_curves.png", curves)
        recorded = {**config, "model_sha256": sha256_file(staging / "model.keras")}
        atomic_write_text(staging / "train_config.json", json.dumps(recorded, indent=2) + "\n")


def training_label(config: dict) -> str:
    """The legend of the training curves: what makes the training figures unlike validation's (Keras weights
    the training loss by class, never the validation loss; oversampling draws the classes evenly)."""
    if config.get("class_weights"):
        return "training (class-weighted loss)"
    if config.get("hyperparameters", {}).get("oversample"):
        return "training (class-balanced draws)"
    return "training"
