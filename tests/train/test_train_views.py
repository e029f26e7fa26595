"""Tests for train.views: a model averaged over mirrored views of its input, saved, reloaded and converted."""

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
from train.views import average_views

SIZE = 32


def _images(n: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, SIZE, SIZE, 3)).astype(np.float32)


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return get_spec("cnn_bn").build(
        ModelOptions(model="cnn_bn", image_size=SIZE, alpha=0.5, grayscale=True), 2
    )


@pytest.mark.parametrize("views", [2, 4])
def test_the_average_over_views_is_the_mean_of_the_model_on_each_view(tmp_path, views):
    model, x = _model(), _images()
    mirrored = x[:, :, ::-1]
    each = [x, x.transpose(0, 2, 1, 3), mirrored, mirrored.transpose(0, 2, 1, 3)][:views]
    want = np.mean([model.predict(view, verbose=0) for view in each], axis=0)
    averaged = average_views(model, views)
    np.testing.assert_allclose(averaged.predict(x, verbose=0), want, atol=1e-6)
    assert averaged.count_params() == model.count_params() + (SIZE * SIZE if views == 4 else 0)
    assert not averaged.trainable_weights[len(model.trainable_weights) :]  # the mirror is frozen
    averaged.save(tmp_path / "m.keras")  # built-in layers only: loads without custom objects
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), want, atol=1e-6)


@pytest.mark.slow
def test_four_views_convert_to_int8_with_plain_ops_and_agree_with_float():
    from convert.converter import ConvertOptions, convert
    from convert.tflite_graph import read_graph
    from edge_runtime.interpreter import make_interpreter

    averaged = average_views(_model(), 4)
    calibration = _images(16, seed=1).astype(np.uint8)
    tflite = convert(averaged, ConvertOptions(calibration_images=16), calibration)
    ops = read_graph(tflite).op_counts()
    assert ops["TRANSPOSE"] >= 2 and ops["CONV_2D"] == 4 * 10, ops
    interpreter = make_interpreter(tflite)
    detail, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = _images(8, seed=2)
    float_scores = averaged.predict(x, verbose=0)
    scale, zero = out["quantization"]
    for image, expected in zip(x, float_scores, strict=True):
        interpreter.set_tensor(detail["index"], image[None].astype(np.uint8))
        interpreter.invoke()
        scores = (interpreter.get_tensor(out["index"])[0].astype(np.float32) - zero) * scale
        np.testing.assert_allclose(scores, expected, atol=0.05)


def test_one_view_is_the_model_and_bad_views_are_refused():
    model = _model()
    assert average_views(model, 1) is model
    with pytest.raises(UserError, match=r"views=3: not supported; use one of 1, 2, 4"):
        average_views(model, 3)
    with pytest.raises(UserError, match=r"views=8: not supported"):
        ModelOptions(views=8)
    flat = keras.Sequential([keras.Input((8, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(UserError, match=r"views=2: more than one view needs a square input, not 8x16"):
        average_views(flat, 2)


@pytest.mark.slow
def test_training_saves_the_averaged_model(tmp_path):
    rng = np.random.default_rng(0)
    data = Dataset(
        Path("noise"),
        ("a", "b"),
        rng.integers(0, 256, (32, SIZE, SIZE, 3), dtype=np.uint8),
        np.arange(32) % 2,
    )
    options = ModelOptions(model="cnn_bn", image_size=SIZE, alpha=0.5, views=2)
    hparams = Hyperparameters(epochs=1, batch_size=16, augmentation=AugmentOptions(quarter_turns=True))
    result = train(data, get_spec("cnn_bn"), options, hparams, tmp_path)
    saved = keras.saving.load_model(tmp_path / "model.keras")
    assert saved.name == "cnn_bn_views2" and result.model.name == "cnn_bn_views2"
    assert saved.output_shape == (None, 2)
    assert json.loads((tmp_path / "train_config.json").read_text())["model"]["views"] == 2
    x = data.images[:4].astype(np.float32)
    np.testing.assert_allclose(saved.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-6)
