"""The files a training run leaves in its output folder, each written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import keras

from edge_runtime.files import atomic_write_bytes, atomic_write_text
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
    """Writes ARTIFACTS to `out`: the model, its labels, the history (JSON and curves) and the config.

    Args:
      out: The output folder (created if missing).
      model: The deployable model (no augmentation layers).
      class_names: Class names, index i being output i.
      history: Per-epoch metrics and 'epoch_seconds'.
      best_epoch: 1-based epoch whose weights the model has, marked on the curves.
      config: JSON-ready description of the run (train_config.json).
    """
    out.mkdir(parents=True, exist_ok=True)
    save_model_atomically(model, out / "model.keras")
    write_labels(out / "labels.txt", list(class_names))
    atomic_write_text(out / "history.json", json.dumps(history, indent=2) + "\n")
    atomic_write_bytes(out / "training_curves.png", plot_history(history, best_epoch, training_label(config)))
    atomic_write_text(out / "train_config.json", json.dumps(config, indent=2) + "\n")


def training_label(config: dict) -> str:
    """The legend of the training curves: Keras weights the training loss by class, never the validation loss."""
    return "training (class-weighted loss)" if config.get("class_weights") else "training"
