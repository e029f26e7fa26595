"""Fits a registered model on a class-folder dataset and writes the training artifacts."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from edge_runtime.errors import UserError
from edge_runtime.files import atomic_write_bytes, atomic_write_text
from labels import write_labels
from train.dataset import Dataset
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import ModelSpec
from train.plots import plot_history

ARTIFACTS = ("model.keras", "labels.txt", "history.json", "training_curves.png", "train_config.json")


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced.

    Attributes:
      out_dir: Folder holding the artifacts (see ARTIFACTS).
      model: The trained model, with the weights of `best_epoch`.
      class_names: Class names, index i being output i.
      history: Per-epoch metrics (Keras names) and 'epoch_seconds'.
      best_epoch: 1-based epoch whose weights were kept (lowest validation loss, or the last).
      elapsed_seconds: Wall time of fitting.
    """

    out_dir: Path
    model: keras.Model
    class_names: tuple[str, ...]
    history: Mapping[str, list[float]]
    best_epoch: int
    elapsed_seconds: float

    def best(self, metric: str) -> float | None:
        """`metric` (e.g. 'val_accuracy') at the kept epoch, or None when it was not recorded."""
        values = self.history.get(metric)
        return values[self.best_epoch - 1] if values else None


class _EpochTimer(keras.callbacks.Callback):
    """Records each epoch's wall time (training plus validation) in seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.monotonic() - self._start, 3))


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """Weights n / (k * n_c): every class contributes equally to the loss, whatever its size."""
    counts = np.bincount(labels, minlength=num_classes)
    return {c: float(len(labels) / (num_classes * n)) if n else 0.0 for c, n in enumerate(counts)}


def _hold_out(dataset: Dataset, hparams: Hyperparameters) -> tuple[Dataset, Dataset | None]:
    """(training, validation or None) parts of `dataset`, checked for a full batch."""
    train_data, val_data = (
        dataset.split(hparams.validation_split, seed=hparams.seed)
        if hparams.validation_split
        else (dataset, None)
    )
    if len(train_data) < hparams.batch_size:
        raise UserError(
            f"{dataset.root}: only {len(train_data)} training images (after the validation split), "
            f"fewer than the batch size {hparams.batch_size}; lower the batch size or add images"
        )
    if val_data is not None and len(val_data) == 0:
        raise UserError(
            f"{dataset.root}: a validation split of {hparams.validation_split} holds no images; "
            "raise it or add images"
        )
    return train_data, val_data


def train(
    dataset: Dataset,
    spec: ModelSpec,
    options: ModelOptions,
    hparams: Hyperparameters,
    out_dir: str | os.PathLike,
) -> TrainResult:
    """Trains `spec`'s model on `dataset` and writes ARTIFACTS to `out_dir`.

    A seeded, stratified `hparams.validation_split` of each class is held out; the weights of
    the epoch with the lowest validation loss are kept. Adam, sparse categorical cross-entropy,
    class-balanced loss weights unless `hparams.class_weights` is False.

    Args:
      dataset: Images decoded at the model's input size (Dataset.from_folder).
      spec: The model to build.
      options: Model options for `spec` (None fields take the spec's defaults).
      hparams: Epochs, batch size, learning rate, seed, validation split.
      out_dir: Folder for the artifacts; created if missing, files in it replaced atomically.

    Returns:
      The trained model, its history and where the artifacts are.

    Raises:
      UserError: The images are not at the model's size, or too few for one batch.
    """
    options = spec.resolve(options)
    size = (options.image_size, options.image_size)
    if dataset.image_size != size:
        raise UserError(f"{dataset.root}: images were loaded at {dataset.image_size}, the model needs {size}")
    train_data, val_data = _hold_out(dataset, hparams)

    keras.utils.set_random_seed(hparams.seed)
    num_classes = len(dataset.class_names)
    model = spec.build(options, num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(hparams.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    timer = _EpochTimer()
    callbacks: list[keras.callbacks.Callback] = [timer]
    if val_data is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=hparams.early_stopping_patience or hparams.epochs,
                restore_best_weights=True,
            )
        )
    weights = balanced_class_weights(train_data.labels, num_classes) if hparams.class_weights else None
    start = time.monotonic()
    fitted = model.fit(
        train_data.gen_tf_dataset(
            hparams.batch_size, shuffle=True, augment=hparams.augment, seed=hparams.seed
        ),
        validation_data=None if val_data is None else val_data.gen_tf_dataset(hparams.batch_size),
        epochs=hparams.epochs,
        class_weight=weights,
        shuffle=False,  # the tf.data pipeline shuffles, seeded
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    elapsed = time.monotonic() - start

    history = {key: [float(v) for v in values] for key, values in fitted.history.items()}
    history["epoch_seconds"] = timer.seconds
    best_epoch = int(np.argmin(history["val_loss"])) + 1 if val_data is not None else len(timer.seconds)
    config = {
        "model": asdict(options),
        "input_shape": [*size, 3],
        "dataset": str(dataset.root.resolve()),
        "class_names": list(dataset.class_names),
        "class_counts": {
            "train": train_data.class_counts(),
            "validation": None if val_data is None else val_data.class_counts(),
        },
        "skipped_files": len(dataset.skipped),
        "class_weights": None if weights is None else {dataset.class_names[c]: w for c, w in weights.items()},
        "seed": hparams.seed,
        "hyperparameters": asdict(hparams),
        "best_epoch": best_epoch,
        "epochs_run": len(timer.seconds),
        "elapsed_seconds": round(elapsed, 1),
    }
    out = Path(out_dir)
    _write_artifacts(out, model, dataset.class_names, history, best_epoch, config)
    return TrainResult(out, model, dataset.class_names, history, best_epoch, elapsed)


def _write_artifacts(
    out: Path, model: keras.Model, class_names: tuple[str, ...], history: dict, best_epoch: int, config: dict
) -> None:
    """Writes ARTIFACTS, each to a temporary name first, then renamed into place."""
    out.mkdir(parents=True, exist_ok=True)
    # Keras insists on the .keras suffix, so the temporary name keeps it.
    tmp = out / f".model.tmp{os.getpid()}.keras"
    try:
        model.save(tmp)
        os.replace(tmp, out / "model.keras")
    finally:
        tmp.unlink(missing_ok=True)
    write_labels(out / "labels.txt", list(class_names))
    atomic_write_text(out / "history.json", json.dumps(history, indent=2) + "\n")
    atomic_write_bytes(out / "training_curves.png", plot_history(history, best_epoch))
    atomic_write_text(out / "train_config.json", json.dumps(config, indent=2) + "\n")
