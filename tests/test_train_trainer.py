"""Tests for train.trainer and train.plots: kept weights, class weights, artifacts without validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.errors import UserError
from train.dataset import Dataset
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import get_spec
from train.plots import plot_history
from train.trainer import balanced_class_weights, train

SIZE = 32


def _noise_dataset(n: int, seed: int = 0) -> Dataset:
    """Random images with random labels (2:1 imbalance): a model can only memorize them, so it overfits."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)
    labels = (rng.random(n) < 1 / 3).astype(np.int32)
    return Dataset(Path("noise"), ("a", "b"), images, labels)


def test_balanced_class_weights():
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    assert weights == {0: pytest.approx(4 / 6), 1: pytest.approx(2.0)}
    assert balanced_class_weights(np.array([0, 0]), 2)[1] == 0.0


def test_the_lowest_validation_loss_epoch_is_kept(tmp_path):
    data = _noise_dataset(96)
    hparams = Hyperparameters(epochs=6, batch_size=16, learning_rate=3e-3, seed=1, validation_split=0.25)
    result = train(data, get_spec("cnn"), ModelOptions(image_size=SIZE), hparams, tmp_path)
    val_loss = result.history["val_loss"]
    assert result.best_epoch == int(np.argmin(val_loss)) + 1
    assert result.best_epoch < hparams.epochs, val_loss  # memorizing noise: validation loss rises
    # The returned (and saved) model has the kept epoch's weights, not the last epoch's.
    train_part, val = data.split(0.25, seed=1)
    loss, _ = result.model.evaluate(val.gen_tf_dataset(16), verbose=0)
    assert loss == pytest.approx(val_loss[result.best_epoch - 1], rel=1e-4)
    assert loss != pytest.approx(val_loss[-1], rel=1e-3)
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["best_epoch"] == result.best_epoch and config["epochs_run"] == 6
    expected = balanced_class_weights(train_part.labels, 2)
    assert config["class_weights"] == {"a": expected[0], "b": expected[1]}
    assert expected[1] > 1.5 > expected[0]  # the minority class weighs more
    assert config["class_counts"]["validation"] == val.class_counts()


def test_without_validation_or_class_weights(tmp_path):
    hparams = Hyperparameters(
        epochs=2, batch_size=16, validation_split=0.0, class_weights=False, augment=False
    )
    result = train(_noise_dataset(40), get_spec("cnn"), ModelOptions(image_size=SIZE), hparams, tmp_path)
    assert result.best_epoch == 2
    assert set(result.history) == {"accuracy", "loss", "epoch_seconds"}
    assert result.best("val_accuracy") is None
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["class_weights"] is None and config["class_counts"]["validation"] is None
    assert (tmp_path / "training_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_images_at_the_wrong_size_are_refused(tmp_path):
    with pytest.raises(
        UserError, match=r"noise: images were loaded at \(32, 32\), the model needs \(64, 64\)"
    ):
        train(_noise_dataset(40), get_spec("cnn"), ModelOptions(image_size=64), Hyperparameters(), tmp_path)
    assert not any(tmp_path.iterdir())


def test_plot_history_draws_a_png():
    history = {
        "accuracy": [0.5, 0.7],
        "loss": [0.9, 0.6],
        "val_accuracy": [0.6, 0.65],
        "val_loss": [0.8, 0.7],
    }
    png = plot_history(history, best_epoch=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert plot_history({"accuracy": [0.5], "loss": [0.9]})[:4] == b"\x89PNG"
