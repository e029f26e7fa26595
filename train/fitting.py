"""How a stage is fitted: class weights, the validation hold-out, the optimizer and its schedule."""

from __future__ import annotations

import keras
import numpy as np

from edge_runtime.errors import UserError
from train.dataset import Dataset
from train.hyperparameters import Hyperparameters


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """Weights n / (k * n_c): every class contributes equally to the loss, whatever its size."""
    counts = np.bincount(labels, minlength=num_classes)
    return {c: float(len(labels) / (num_classes * n)) if n else 0.0 for c, n in enumerate(counts)}


def hold_out(
    dataset: Dataset, validation: Dataset | None, hparams: Hyperparameters
) -> tuple[Dataset, Dataset | None]:
    """(training, validation or None): `validation`, else a seeded stratified split, else none.

    Raises:
      UserError: The validation set's classes or size differ, the training part holds fewer
        images than a batch, or the split holds none.
    """
    if validation is not None:
        if validation.class_names != dataset.class_names or validation.image_size != dataset.image_size:
            raise UserError(
                f"{validation.root}: validation classes or size {validation.class_names} {validation.image_size} "
                f"differ from the training data's {dataset.class_names} {dataset.image_size}"
            )
        train_data, val_data = dataset, validation
    elif hparams.validation_split:
        seed = hparams.seed if hparams.split_seed is None else hparams.split_seed
        train_data, val_data = dataset.split(hparams.validation_split, seed=seed)
    else:
        train_data, val_data = dataset, None
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


def loss_for(targets: str, label_smoothing: float = 0.0) -> keras.losses.Loss:
    """Cross-entropy for the pipeline's `targets` ('index': sparse; 'one_hot'/'soft': categorical)."""
    if targets == "index":
        return keras.losses.SparseCategoricalCrossentropy()
    return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)


def compile_for_training(
    model: keras.Model, rate: float, hparams: Hyperparameters, steps: int, epochs: int, targets: str = "index"
) -> None:
    """Compiles with Adam (AdamW with weight decay) or Nesterov SGD, cross-entropy and accuracy.

    The learning rate is `rate`, constant, or warmed up linearly then cosine-decayed to 0 over
    `epochs` of `steps` batches. `targets` is what the data yields (Hyperparameters.targets).
    """
    schedule: float | keras.optimizers.schedules.LearningRateSchedule = rate
    if hparams.lr_schedule == "cosine":
        warmup = min(hparams.warmup_epochs, epochs - 1) * steps
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else rate,
            epochs * steps - warmup,
            warmup_target=rate if warmup else None,
            warmup_steps=warmup,
        )
    if hparams.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=hparams.weight_decay or None
        )
    elif hparams.weight_decay:
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=hparams.weight_decay)
    else:
        optimizer = keras.optimizers.Adam(schedule)
    model.compile(optimizer=optimizer, loss=loss_for(targets, hparams.label_smoothing), metrics=["accuracy"])
