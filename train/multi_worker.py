"""The epoch loop for MultiWorkerMirroredStrategy, where Keras 3's Model.fit fails.

With more than one worker, fit() stops inside Keras (keras-team/keras#20585: it reduces per-replica
batches and scalar metrics along an axis they do not have). This loop does what fit() does for our
trainer: the same steps, class weights, callbacks and logs, with gradients all-reduced across
workers by the strategy and the epoch's sums reduced explicitly.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf


def _per_image_loss(targets, probabilities, label_smoothing: float = 0.0):
    """(per-image cross-entropy, class indices) for index (B,) or probability (B, classes) targets."""
    if targets.shape.rank == 2:
        loss = keras.losses.categorical_crossentropy(targets, probabilities, label_smoothing=label_smoothing)
        return loss, tf.argmax(targets, axis=-1, output_type=tf.int32)
    return keras.losses.sparse_categorical_crossentropy(targets, probabilities), tf.cast(targets, tf.int32)


def _step_function(
    trainer: keras.Model,
    strategy: tf.distribute.Strategy,
    class_weight: Mapping[int, float] | None,
    label_smoothing: float = 0.0,
):
    """A tf.function running one global batch: forward, weighted loss, gradients, update; returns sums."""
    weights = None
    if class_weight:
        weights = tf.constant([class_weight[c] for c in range(len(class_weight))], tf.float32)

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            probabilities = trainer(images, training=True)
            per_image, classes = _per_image_loss(labels, probabilities, label_smoothing)
            if weights is not None:
                per_image = per_image * tf.gather(weights, classes)
            loss = tf.nn.compute_average_loss(per_image)
        variables = trainer.trainable_variables
        trainer.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        hits = tf.cast(tf.equal(tf.argmax(probabilities, axis=-1, output_type=tf.int32), classes), tf.float32)
        return tf.reduce_sum(per_image), tf.reduce_sum(hits), tf.cast(tf.size(classes), tf.float32)

    @tf.function
    def step(iterator):
        images, labels = next(iterator)
        sums = strategy.run(replica_step, args=(images, labels))
        return [strategy.reduce("SUM", value, axis=None) for value in sums]

    return step


def _evaluate(model: keras.Model, data: tf.data.Dataset) -> dict[str, float]:
    """Unweighted loss and accuracy of `model` on `data` (every worker holds all validation images)."""
    total, hits, count = 0.0, 0.0, 0
    for images, labels in data:
        probabilities = model(images, training=False)
        per_image, classes = _per_image_loss(labels, probabilities)
        total += float(tf.reduce_sum(per_image))
        hits += float(np.sum(np.argmax(probabilities, axis=-1) == classes.numpy()))
        count += int(classes.shape[0])
    return {"val_loss": total / count, "val_accuracy": hits / count}


def fit_multi_worker(
    trainer: keras.Model,
    strategy: tf.distribute.Strategy,
    data: tf.data.Dataset,
    *,
    steps_per_epoch: int,
    epochs: int,
    initial_epoch: int,
    validation_data: tf.data.Dataset | None,
    class_weight: Mapping[int, float] | None,
    callbacks: Sequence[keras.callbacks.Callback],
    label_smoothing: float = 0.0,
) -> None:
    """Trains `trainer` (compiled in `strategy`'s scope) like trainer.fit(data, ...) would.

    Args:
      trainer: The compiled training model.
      strategy: A MultiWorkerMirroredStrategy; each global batch is split across its replicas.
      data: Global batches for epochs initial_epoch .. epochs - 1, steps_per_epoch each.
      steps_per_epoch: Batches per epoch.
      epochs: Index of the epoch to stop before (as in fit).
      initial_epoch: Index of the first epoch.
      validation_data: Validation batches, evaluated after every epoch; None for none.
      class_weight: Loss weight per class index, or None.
      callbacks: Keras callbacks, called as fit() calls them (epoch begin/end, train begin/end).
      label_smoothing: As in the compiled loss, for probability targets.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    iterator = iter(strategy.experimental_distribute_dataset(data.with_options(options)))
    step = _step_function(trainer, strategy, class_weight, label_smoothing)
    callback_list = keras.callbacks.CallbackList(list(callbacks), model=trainer)
    trainer.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        start = time.monotonic()
        sums = np.zeros(3)
        for _ in range(steps_per_epoch):
            sums += [float(value) for value in step(iterator)]
        logs = {"accuracy": sums[1] / sums[2], "loss": sums[0] / sums[2]}
        if validation_data is not None:
            logs.update(_evaluate(trainer, validation_data))
        print(
            f"Epoch {epoch + 1}/{epochs} - {time.monotonic() - start:.0f}s - "
            + " - ".join(f"{key}: {value:.4f}" for key, value in logs.items()),
            file=sys.stdout,
            flush=True,
        )
        callback_list.on_epoch_end(epoch, logs)
        if trainer.stop_training:
            break
    callback_list.on_train_end()
