"""Fits a registered model on a Dataset in one or two stages and writes the training artifacts."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from edge_runtime.errors import UserError
from train.artifacts import ARTIFACTS, write_artifacts
from train.augmentation import build_augmenter
from train.callbacks import KeepBest, Recorder, RunCheckpoint
from train.dataset import Dataset
from train.distribute import Cluster, make_strategy
from train.fitting import balanced_class_weights, compile_for_training, hold_out
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import ModelSpec
from train.photometric import RandomBlur, RandomGain, RandomGamma, RandomNoise  # noqa: F401  (registered, so a resumed run's augmenter loads)
from train.resume import BEST, checkpoint_folder, read_state
from train.transfer import check_fine_tuning, freeze_base, unfreeze_top
from train.views import average_views
from train.weight_average import WeightAverage, precise_batch_norm

__all__ = ["ARTIFACTS", "TrainResult", "balanced_class_weights", "train"]


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced.

    Attributes:
      out_dir: Folder holding the artifacts (see ARTIFACTS) and checkpoints/.
      model: The trained model, with the weights of `best_epoch`.
      class_names: Class names, index i being output i.
      history: Per-epoch metrics (Keras names) and 'epoch_seconds', over both stages.
      best_epoch: 1-based epoch whose weights were kept (best validation `monitor`, or the last).
      elapsed_seconds: Wall time of fitting in this process.
      completed: False when a callback stopped the run before its epochs were done (resume it).
      cluster: The distribution strategy and this process's place in it.
    """

    out_dir: Path
    model: keras.Model
    class_names: tuple[str, ...]
    history: Mapping[str, list[float]]
    best_epoch: int
    elapsed_seconds: float
    completed: bool = True
    cluster: Cluster | None = None

    def best(self, metric: str) -> float | None:
        """`metric` (e.g. 'val_accuracy') at the kept epoch, or None when it was not recorded."""
        values = self.history.get(metric)
        return values[self.best_epoch - 1] if values else None


def _seed_states(model: keras.Model) -> list:
    """The states of the model's random streams (augmentation, dropout), in a fixed order."""
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def train(
    dataset: Dataset,
    spec: ModelSpec,
    options: ModelOptions,
    hparams: Hyperparameters,
    out_dir: str | os.PathLike,
    *,
    validation: Dataset | None = None,
    distribute: str = "none",
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainResult:
    """Trains `spec`'s model on `dataset` and writes ARTIFACTS (and checkpoints/) to `out_dir`.

    Stage 1 trains for hparams.epochs; a pretrained base stays frozen (transfer learning). Stage
    2, when hparams.fine_tune_epochs > 0, unfreezes the top of the base and goes on at the lower
    fine-tuning rate. The validation images (`validation`, else a seeded stratified split) pick
    the best epoch, whose weights are kept; early stopping ends a stage after `patience` epochs
    without improvement. After every epoch, checkpoints/ holds the best model, the training model
    with its optimizer and the run's state, so `resume=True` continues an interrupted run exactly.

    Args:
      dataset: Images decoded at the model's input size.
      spec: The model to build.
      options: Model options for `spec` (None fields take the spec's or the data's defaults).
      hparams: How to fit.
      out_dir: Folder for the artifacts; created if missing, files replaced atomically.
      validation: Validation images; default: hparams.validation_split of `dataset`.
      distribute: 'none', 'mirrored' or 'multi-worker' (train.distribute).
      resume: Continue the run whose checkpoints are in `out_dir` (same settings required).
      callbacks: Extra Keras callbacks; one that stops training leaves a resumable run.

    Returns:
      The trained model, its history and where the artifacts are.

    Raises:
      UserError: Wrong image size, too few images for a batch, fine-tuning without a pretrained
        base, or a checkpoint made with other settings.
    """
    grayscale = dataset.grayscale if options.grayscale is None else options.grayscale
    options = spec.resolve(dataclasses.replace(options, grayscale=grayscale))
    size = (options.image_size, options.image_size)
    if dataset.image_size != size:
        raise UserError(f"{dataset.root}: images were loaded at {dataset.image_size}, the model needs {size}")
    check_fine_tuning(spec, options, hparams)
    train_data, val_data = hold_out(dataset, validation, hparams)
    out = Path(out_dir)
    folder = checkpoint_folder(out)
    settings = {
        "model": asdict(options),
        "hyperparameters": asdict(hparams),
        "dataset": str(dataset.root.resolve()),
        "soft_labels": None if dataset.soft_labels is None else str(dataset.soft_labels.resolve()),
        "class_names": list(dataset.class_names),
        "train_images": len(train_data),
        "validation_images": 0 if val_data is None else len(val_data),
    }
    state = read_state(out, settings) if resume else None
    strategy, cluster = make_strategy(distribute)
    num_classes = len(dataset.class_names)
    steps = train_data.steps(hparams.batch_size, hparams.oversample)
    targets = hparams.targets(soft_labels=train_data.targets is not None)
    keras.utils.set_random_seed(hparams.seed)
    with strategy.scope():
        if state is None:
            model = spec.build(options, num_classes)
            augmenter = build_augmenter(hparams.augmentation, hparams.seed)
            trainer = keras.Sequential([keras.Input((*size, 3)), augmenter, model]) if augmenter else model
            if options.pretrained:
                freeze_base(model)
            compile_for_training(trainer, hparams.learning_rate, hparams, steps, hparams.epochs, targets)
        else:
            trainer = keras.saving.load_model(folder / "last.keras")
            model = trainer.layers[-1] if state["wrapped"] else trainer
            # Keras saves the random layers' seeds but not how far their streams went.
            for variable, value in zip(_seed_states(trainer), state["seed_states"], strict=True):
                variable.assign(np.asarray(value, dtype=variable.dtype))
    chief = cluster.chief
    recorder = Recorder(None if state is None else state["history"])
    best = KeepBest(
        model,
        hparams.monitor,
        hparams.early_stopping_patience,
        folder / BEST if chief else None,
        **({} if state is None else state["best"]),
    )
    stage = {
        "stage": 1 if state is None else state["stage"],
        "stage2_start": None if state is None else state["stage2_start"],
    }

    def run_state(epochs_done: int) -> dict:
        return {
            "epochs_done": epochs_done,
            "seed_states": [np.asarray(v).tolist() for v in _seed_states(trainer)],
            **stage,
            "wrapped": trainer is not model,
            "history": recorder.history,
            "best": best.state(),
            "settings": settings,
        }

    weights = balanced_class_weights(train_data.labels, num_classes) if hparams.class_weights else None
    # Validation always scores the folder labels (one-hot when the loss takes probabilities).
    validation_data = (
        None
        if val_data is None
        else val_data.gen_tf_dataset(hparams.batch_size, targets="index" if targets == "index" else "one_hot")
    )
    average = None
    if hparams.ema or hparams.precise_bn:
        bn_images = None
        if hparams.precise_bn:
            pick = np.random.default_rng(hparams.seed).permutation(len(train_data))[: hparams.precise_bn]
            bn_images = train_data.images[np.sort(pick)]
        average = WeightAverage(
            model, hparams.ema, validation_data, folder if chief else None, bn_images, hparams.batch_size
        )
        if state is not None:
            average.load(folder)
    # The average is swapped in before the recorder and the best-epoch tracker see the epoch, and
    # the raw weights are back before the run checkpoint saves the training model.
    all_callbacks = [
        *([average] if average else []),
        recorder,
        best,
        *([average.restorer] if average else []),
        *([RunCheckpoint(folder, run_state)] if chief else []),
        *callbacks,
    ]
    resumed_at = recorder.epochs_done
    start = time.monotonic()

    def fit(until: int) -> bool:
        """Fits from the epochs done to `until`; False when a callback other than early stopping stopped it."""
        first = recorder.epochs_done
        if first >= until:
            return True
        data = train_data.gen_tf_dataset(
            hparams.batch_size,
            shuffle=True,
            quarter_turns=hparams.augmentation.quarter_turns,
            seed=hparams.seed,
            epochs=until - first,
            first_epoch=first,
            targets=targets,
            mixup=hparams.mixup,
            oversample=hparams.oversample,
        )
        if cluster.strategy == "multi-worker":
            from train.multi_worker import fit_multi_worker

            fit_multi_worker(
                trainer,
                strategy,
                data,
                steps_per_epoch=steps,
                epochs=until,
                initial_epoch=first,
                validation_data=validation_data,
                class_weight=weights,
                callbacks=all_callbacks,
                label_smoothing=hparams.label_smoothing,
            )
        else:
            trainer.fit(
                data,
                validation_data=validation_data,
                epochs=until,
                initial_epoch=first,
                steps_per_epoch=steps,
                class_weight=weights,
                shuffle=False,  # the tf.data pipeline shuffles, seeded per epoch
                callbacks=all_callbacks,
                verbose=1 if sys.stdout.isatty() else 2,
            )
        return recorder.epochs_done >= until or best.stopped_early

    completed = fit(hparams.epochs) if stage["stage"] == 1 else True
    if completed and hparams.fine_tune_epochs:
        if stage["stage"] == 1:
            best.restore()
            best.wait, best.stopped_early = 0, False
            unfreeze_top(model, hparams.fine_tune_layers)
            stage.update(stage=2, stage2_start=recorder.epochs_done)
            with strategy.scope():
                compile_for_training(
                    trainer, hparams.fine_tune_rate, hparams, steps, hparams.fine_tune_epochs, targets
                )
        completed = fit(stage["stage2_start"] + hparams.fine_tune_epochs)
    elapsed = time.monotonic() - start
    history = recorder.history
    if best.restore():
        best_epoch = best.best_epoch
    else:
        best_epoch = recorder.epochs_done
        if average is not None:  # no validation: the final average (or weights) with their statistics
            model.set_weights(average.averaged_weights())
            if average.bn_images is not None:
                precise_batch_norm(model, average.bn_images, hparams.batch_size)
    if options.views > 1:  # the saved model averages the trained one over mirrored views
        model = average_views(model, options.views)
    if trainer is not model:  # ready for evaluate(), like an unwrapped model
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    config = {
        **settings,
        "input_shape": [*size, 3],
        "class_counts": {
            "train": train_data.class_counts(),
            "validation": None if val_data is None else val_data.class_counts(),
        },
        "skipped_files": len(dataset.skipped),
        "class_weights": None if weights is None else {dataset.class_names[c]: w for c, w in weights.items()},
        "seed": hparams.seed,
        "best_epoch": best_epoch,
        "epochs_run": recorder.epochs_done,
        "fine_tune_from_epoch": None if stage["stage2_start"] is None else stage["stage2_start"] + 1,
        "completed": completed,
        "resumed_at_epoch": resumed_at if state is not None else None,
        "distribute": asdict(cluster),
        "elapsed_seconds": round(elapsed, 1),
    }
    if chief:
        write_artifacts(out, model, dataset.class_names, history, best_epoch, config)
    return TrainResult(out, model, dataset.class_names, history, best_epoch, elapsed, completed, cluster)
