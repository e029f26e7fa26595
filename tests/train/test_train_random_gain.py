"""The --gain augmentation: one random exposure factor per image in training, nothing at inference."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from edge_runtime.errors import ParameterError
from train.augmentation import AugmentOptions, build_augmenter
from train.photometric import RandomGain


def test_each_image_is_scaled_by_one_factor_within_the_range_and_clipped():
    images = np.random.default_rng(0).uniform(20, 120, (64, 8, 8, 1)).astype(np.float32)
    images[0, 0, 0, 0] = 250.0
    layer = RandomGain(0.5, seed=3)
    out = np.asarray(layer(images, training=True))
    ratios = out[1:] / images[1:]
    per_image = ratios.reshape(63, -1)
    np.testing.assert_allclose(
        per_image, np.repeat(per_image[:, :1], 64, axis=1), rtol=1e-5
    )  # one factor per image
    assert per_image.min() >= 1 / 1.5 - 1e-6 and per_image.max() <= 1.5 + 1e-6
    assert per_image.min() < 0.8 and per_image.max() > 1.25  # the range is used, both ways
    assert out.max() <= 255.0
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)


def test_the_augmenter_holds_the_gain_and_a_saved_one_loads(tmp_path):
    augmenter = build_augmenter(AugmentOptions(flip="none", gain=0.3), seed=0)
    assert [layer.name for layer in augmenter.layers] == ["random_gain"]
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), augmenter, keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].layers[0].factor == 0.3
    assert AugmentOptions(flip="none", gain=0.3).describe() == "gain 0.3"
    with pytest.raises(ParameterError, match="gain"):
        AugmentOptions(gain=-0.1)
