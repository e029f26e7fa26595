"""Tests for transfer learning: a pretrained base stays frozen, then fine-tuning trains only its top."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from edge_runtime.errors import UserError
from train.augmentation import AugmentOptions
from train.dataset import Dataset
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import get_spec
from train.trainer import train
from train.transfer import find_base, unfreeze_top

SIZE = 32
MODEL = "mobilenet_v3_small_minimalistic"


@pytest.fixture(scope="module")
def base_weights(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """A MobileNetV3-Small minimalistic base's weights file (random, standing in for ImageNet's) and its values."""
    keras.utils.set_random_seed(7)
    base = keras.applications.MobileNetV3Small(
        input_shape=(SIZE, SIZE, 3),
        include_top=False,
        weights=None,
        minimalistic=True,
        include_preprocessing=False,
    )
    # Like real pretrained weights, batch norm gets the statistics of images (here: one batch of
    # the test images), or a random base's ReLU6 activations saturate and nothing can train.
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    probe = keras.Sequential(
        [keras.Input((SIZE, SIZE, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1), base]
    )
    probe.compile(keras.optimizers.SGD(0.0), loss="mse")
    images = _data().images[:16].astype(np.float32)
    probe.fit(images, np.zeros((16, *probe.output_shape[1:])), epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("weights") / "base.weights.h5"
    base.save_weights(path)
    return path, [np.asarray(w) for w in base.get_weights()]


def _data() -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, SIZE, SIZE, 3), dtype=np.uint8)
    labels = (np.arange(32) % 2).astype(np.int32)
    images[labels == 1, :20] = 255
    return Dataset(Path("bright"), ("dark", "bright"), images, labels)


def _options(path: Path) -> ModelOptions:
    return ModelOptions(model=MODEL, image_size=SIZE, weights=str(path))


def _hparams(**changes) -> Hyperparameters:
    settings = {
        "epochs": 1,
        "batch_size": 16,
        "validation_split": 0.25,
        "augmentation": AugmentOptions.none(),
    }
    return Hyperparameters(**{**settings, **changes})


def _changed(model: keras.Model, original: list[np.ndarray]) -> list[bool]:
    """Per base weight: whether training changed it."""
    base = find_base(model)
    return [not np.array_equal(np.asarray(w), o) for w, o in zip(base.get_weights(), original, strict=True)]


class _BaseAfterFirstEpoch(keras.callbacks.Callback):
    """Copies the base's weights at the end of epoch 1 (the frozen stage)."""

    weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.weights = [np.asarray(w) for w in find_base(self.model).get_weights()]


@pytest.mark.slow
def test_frozen_base_then_fine_tuning_trains_only_the_top_of_the_base(tmp_path, base_weights):
    path, original = base_weights
    hparams = _hparams(fine_tune_epochs=1, fine_tune_layers=12, fine_tune_learning_rate=1e-4)
    snapshot = _BaseAfterFirstEpoch()
    result = train(_data(), get_spec(MODEL), _options(path), hparams, tmp_path, callbacks=[snapshot])
    assert len(result.history["loss"]) == 2
    # Stage 1: the base is frozen, only the head trains.
    assert all(np.array_equal(a, b) for a, b in zip(snapshot.weights, original, strict=True))
    # Stage 2: the unfrozen top (batch norm excepted) trains; the rest never does.
    base = find_base(result.model)
    changed = dict(zip([w.path for w in base.weights], _changed(result.model, original), strict=True))
    top = {
        w.path
        for layer in base.layers[-12:]
        for w in layer.weights
        if not isinstance(layer, keras.layers.BatchNormalization)
    }
    assert top and all(changed[p] for p in top if "kernel" in p)
    assert not any(v for p, v in changed.items() if p not in top)
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["fine_tune_from_epoch"] == 2 and config["epochs_run"] == 2


@pytest.mark.slow
def test_unfreeze_top_defaults_to_a_third_and_keeps_batch_norm_frozen(base_weights):
    model = get_spec(MODEL).build(_options(base_weights[0]), 2)
    base = find_base(model)
    base.trainable = False
    trainable = unfreeze_top(model)
    third = base.layers[-(len(base.layers) // 3) :]
    assert trainable == sum(
        1 for layer in third if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    )
    assert not any(layer.trainable for layer in base.layers[: -len(third)])
    assert not any(
        layer.trainable for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)
    )


def test_fine_tuning_needs_a_pretrained_base(tmp_path):
    with pytest.raises(
        UserError,
        match=rf"fine_tune_epochs=1: fine-tuning unfreezes a pretrained base: {MODEL} needs ImageNet weights",
    ):
        train(
            _data(),
            get_spec(MODEL),
            ModelOptions(model=MODEL, image_size=SIZE),
            _hparams(fine_tune_epochs=1),
            tmp_path,
        )
