"""A moving average of the weights (--ema) and batch-norm statistics re-estimated for it (--precise-bn)."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

EMA_FILE = "ema.npz"


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """Every BatchNormalization layer of `model`, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(batch_norm_layers(layer))
    return found


def precise_batch_norm(model: keras.Model, images: np.ndarray, batch_size: int) -> int:
    """Replaces each batch-norm layer's moving statistics by their mean over `images`' full batches.

    The model runs forward in training mode (weights untouched) with each layer's momentum set
    to i / (i + 1) for the i-th batch, so the moving mean and variance become the plain average
    of the batches' statistics under the current weights, rather than a trail of older weights'
    (Wu and Johnson, "Rethinking 'Batch' in BatchNorm", 2021, call this precise BN).

    Returns:
      The number of batches used (0 when the model has no batch norm or too few images).
    """
    layers = batch_norm_layers(model)
    batches = len(images) // batch_size
    if not layers or batches == 0:
        return 0
    momenta = [layer.momentum for layer in layers]
    try:
        for index in range(batches):
            for layer in layers:
                layer.momentum = index / (index + 1)
            batch = np.asarray(images[index * batch_size : (index + 1) * batch_size], dtype=np.float32)
            model(batch, training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    return batches


class WeightAverage(keras.callbacks.Callback):
    """Keeps an exponential moving average of the model's weights, step by step, and validates it.

    Every variable is averaged, batch-norm statistics included, so the averaged model is complete;
    with `bn_images`, those statistics are then re-estimated for the averaged weights
    (precise_batch_norm) before each validation. Momentum 0 keeps the latest weights, so the
    callback then only re-estimates the statistics.
    The momentum ramps up as min(momentum, (1 + t) / (10 + t)) over the t steps so far, so early
    weights do not linger. At each epoch's end the average is swapped into the model and
    evaluated on the validation data; its figures replace `val_loss` and `val_accuracy` in the
    logs (the raw weights' become `val_raw_loss` and `val_raw_accuracy`), so the callbacks after
    it (the best-epoch tracker among them) see and save the averaged model. `restorer` must run
    after them: it puts the raw weights back before the next epoch trains on.

    Args:
      model: The deployable model whose weights are averaged (not the training wrapper).
      momentum: Decay per step, in (0, 1); 0.99-0.999 for a few thousand steps.
      validation_data: What `fit` validates on; None skips the evaluation (the average is still kept).
      folder: Where the average is saved after each epoch (for --resume); None: not saved.
      bn_images: Unaugmented training images to re-estimate batch-norm statistics on; None: keep
        the averaged moving statistics.
      batch_size: Batch size of that re-estimation (the training batch size).
    """

    def __init__(
        self,
        model: keras.Model,
        momentum: float,
        validation_data=None,
        folder: Path | None = None,
        bn_images: np.ndarray | None = None,
        batch_size: int = 32,
    ) -> None:
        super().__init__()
        self.bn_images, self.batch_size = bn_images, batch_size
        self.inner = model
        self.momentum = momentum
        self.validation_data = validation_data
        self.folder = folder
        self.average: list[np.ndarray] | None = None
        self.steps = 0
        self._raw: list[np.ndarray] | None = None
        self.restorer = _PutRawBack(self)

    def load(self, folder: Path) -> bool:
        """Continues the average saved in `folder` by an interrupted run; False when none is there."""
        path = folder / EMA_FILE
        if not path.is_file():
            return False
        with np.load(path) as saved:
            self.steps = int(saved["steps"])
            self.average = [saved[f"w{i}"] for i in range(len(saved.files) - 1)]
        return True

    def on_train_begin(self, logs=None):
        if self.average is None and self.momentum:
            self.average = [np.array(w, dtype=np.float64) for w in self.inner.get_weights()]

    def on_train_batch_end(self, batch, logs=None):
        if not self.momentum:  # nothing to average: the latest weights are the "average"
            return
        self.steps += 1
        decay = min(self.momentum, (1 + self.steps) / (10 + self.steps))
        for average, weight in zip(self.average, self.inner.get_weights(), strict=True):
            average *= decay
            average += (1.0 - decay) * weight

    def averaged_weights(self) -> list[np.ndarray]:
        """The average, in the model's own dtypes (the current weights when momentum is 0)."""
        if not self.momentum:
            return self.inner.get_weights()
        return [a.astype(w.dtype) for a, w in zip(self.average, self.inner.get_weights(), strict=True)]

    def on_epoch_end(self, epoch, logs=None):
        self._raw = self.inner.get_weights()
        self.inner.set_weights(self.averaged_weights())
        if self.bn_images is not None:
            precise_batch_norm(self.inner, self.bn_images, self.batch_size)
        if self.validation_data is None or logs is None:
            return
        scores = self.model.evaluate(self.validation_data, verbose=0, return_dict=True)
        for name in ("loss", "accuracy"):
            if f"val_{name}" in logs:
                logs[f"val_raw_{name}"] = logs[f"val_{name}"]
            logs[f"val_{name}"] = float(scores[name])

    def save(self) -> None:
        """Writes the average and its step count to folder/ema.npz atomically."""
        if self.folder is None or self.average is None or not self.momentum:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".ema.tmp{os.getpid()}.npz"
        try:
            np.savez(tmp, steps=self.steps, **{f"w{i}": a for i, a in enumerate(self.average)})
            os.replace(tmp, self.folder / EMA_FILE)
        finally:
            tmp.unlink(missing_ok=True)


class _PutRawBack(keras.callbacks.Callback):
    """Restores the raw weights after the epoch-end callbacks have seen the average, and saves it."""

    def __init__(self, average: WeightAverage) -> None:
        super().__init__()
        self.average = average

    def on_epoch_end(self, epoch, logs=None):
        if self.average._raw is not None:
            self.average.inner.set_weights(self.average._raw)
            self.average._raw = None
        self.average.save()
