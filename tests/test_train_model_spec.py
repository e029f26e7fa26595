"""Tests for train.model_spec (the model registry) and the option dataclasses it resolves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge_runtime.errors import UserError
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import MODEL_SPECS, get_spec

# What each model's in-model preprocessing must map raw pixels 0 and 255 to.
EXPECTED_RANGE = {"cnn": (0.0, 1.0), "mobilenet_v2": (-1.0, 1.0)}
# The smallest accepted size keeps the build fast.
SMALL_SIZE = {"cnn": 32, "mobilenet_v2": 96}


def test_every_model_has_an_expected_preprocessing_range():
    assert set(MODEL_SPECS) == set(EXPECTED_RANGE) == set(SMALL_SIZE)


@pytest.mark.parametrize("name", sorted(MODEL_SPECS))
def test_every_model_builds_for_rgb_raw_pixels(name):
    import keras

    spec = get_spec(name)
    options = spec.resolve(ModelOptions(model=name, image_size=SMALL_SIZE[name]))
    keras.utils.set_random_seed(0)
    model = spec.build(options, num_classes=3)
    size = SMALL_SIZE[name]
    assert tuple(model.input_shape) == (None, size, size, 3)
    assert tuple(model.output_shape) == (None, 3)
    pixels = np.random.default_rng(0).integers(0, 256, (2, size, size, 3)).astype(np.float32)
    probabilities = model.predict(pixels, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # Preprocessing lives inside the model, right after the input.
    rescale = model.layers[1]
    assert isinstance(rescale, keras.layers.Rescaling)
    low, high = np.asarray(rescale(np.array([0.0, 255.0], dtype=np.float32)))
    assert (low, high) == pytest.approx(EXPECTED_RANGE[name])


def test_default_sizes_and_dropout_are_filled_in_without_mutating_options():
    options = ModelOptions(model="mobilenet_v2")
    resolved = get_spec("mobilenet_v2").resolve(options)
    assert (resolved.image_size, resolved.dropout) == (224, 0.2)
    assert options.image_size is None and options.dropout is None
    assert get_spec("cnn").resolve(ModelOptions()).image_size == 128
    assert get_spec("cnn").resolve(ModelOptions(dropout=0.1)).dropout == 0.1


def test_mobilenet_v2_width_multiplier_changes_the_model():
    spec = get_spec("mobilenet_v2")
    narrow = spec.build(ModelOptions(model="mobilenet_v2", image_size=96, alpha=0.35), 2)
    wide = spec.build(ModelOptions(model="mobilenet_v2", image_size=96, alpha=1.0), 2)
    assert narrow.count_params() < wide.count_params() / 3


def test_unknown_model_lists_the_valid_names():
    with pytest.raises(UserError, match=r"^unknown model 'resnet'; valid models: cnn, mobilenet_v2$"):
        get_spec("resnet")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ModelOptions(model="mobilenet_v2", image_size=100),
            r"image size 100 is not supported by mobilenet_v2; use one of 96, 128, 160, 192, 224",
        ),
        (
            ModelOptions(model="mobilenet_v2", alpha=0.6),
            r"alpha 0.6 is not supported by mobilenet_v2; use one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4",
        ),
        (ModelOptions(model="cnn", image_size=16), r"image size 16 is out of range for cnn; use 32..512"),
        (ModelOptions(model="cnn", alpha=0.5), r"model cnn has no width multiplier; leave alpha at 1.0"),
        (ModelOptions(model="mobilenet_v2"), r"options are for model 'mobilenet_v2', not 'cnn'"),
    ],
)
def test_resolve_rejects_what_the_model_cannot_take(options, message):
    with pytest.raises(UserError, match=message):
        get_spec("cnn" if "not 'cnn'" in message else options.model).resolve(options)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ModelOptions(image_size=0), r"image size 0 must be a positive number of pixels"),
        (lambda: ModelOptions(dropout=1.0), r"dropout 1.0 must be in \[0, 1\)"),
        (lambda: ModelOptions(alpha=0), r"alpha 0 must be positive"),
        (lambda: Hyperparameters(epochs=0), r"epochs 0 must be at least 1"),
        (lambda: Hyperparameters(batch_size=0), r"batch size 0 must be at least 1"),
        (lambda: Hyperparameters(learning_rate=0.0), r"learning rate 0.0 must be positive"),
        (lambda: Hyperparameters(validation_split=1.0), r"validation split 1.0 must be in \[0, 1\)"),
        (lambda: Hyperparameters(early_stopping_patience=0), r"early stopping patience 0 must be at least 1"),
    ],
)
def test_options_reject_bad_values(make, message):
    with pytest.raises(UserError, match=message):
        make()


def test_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Hyperparameters().epochs = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelOptions().model = "x"  # type: ignore[misc]
