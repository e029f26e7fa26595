"""The --gamma, --noise and --blur augmentations: a tone curve, sensor noise and a soft focus per image in training, nothing at inference."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from edge_runtime.errors import ParameterError
from train.augmentation import AugmentOptions, build_augmenter
from train.photometric import RandomBlur, RandomGamma, RandomNoise, gaussian_taps


def _images(channels: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = rng.uniform(1, 254, (64, 8, 8, 1)).astype(np.float32)
    images[:, 0, 0, 0], images[:, 0, 1, 0] = 0.0, 255.0  # black and white in every image
    return np.repeat(images, channels, axis=3)


def test_each_image_follows_one_gamma_within_the_range_with_black_and_white_fixed():
    images = _images(1)
    out = np.asarray(RandomGamma(0.5, seed=3)(images, training=True))
    np.testing.assert_allclose(out[:, 0, 0, 0], 0.0, atol=1e-4)
    np.testing.assert_allclose(out[:, 0, 1, 0], 255.0, rtol=1e-5)
    unit_in, unit_out = images[:, 1:, :, 0] / 255.0, out[:, 1:, :, 0] / 255.0
    gammas = (np.log(unit_out) / np.log(unit_in)).reshape(64, -1)  # the exponent each pixel saw
    np.testing.assert_allclose(gammas, np.repeat(gammas[:, :1], gammas.shape[1], axis=1), rtol=1e-3)
    assert gammas.min() >= 1 / 1.5 - 1e-3 and gammas.max() <= 1.5 + 1e-3
    assert gammas.min() < 0.8 and gammas.max() > 1.25  # both ways: dark areas lifted and deepened
    np.testing.assert_array_equal(np.asarray(RandomGamma(0.5, seed=3)(images, training=False)), images)


def test_noise_is_one_value_per_pixel_of_the_given_spread_and_stays_in_range():
    images = _images(3)
    out = np.asarray(RandomNoise(4.0, seed=1)(images, training=True))
    noise = out - images
    np.testing.assert_array_equal(noise[..., 0], noise[..., 1])  # gray stays gray
    np.testing.assert_array_equal(noise[..., 0], noise[..., 2])
    inside = (images[..., 0] > 20) & (images[..., 0] < 235)  # pixels the clip cannot touch
    assert 3.8 < noise[..., 0][inside].std() < 4.2 and abs(noise[..., 0][inside].mean()) < 0.2
    assert out.min() >= 0.0 and out.max() <= 255.0
    again = np.asarray(RandomNoise(4.0, seed=1)(images, training=True))
    np.testing.assert_array_equal(again, out)  # seeded
    np.testing.assert_array_equal(np.asarray(RandomNoise(4.0, seed=1)(images, training=False)), images)


def test_the_augmenter_holds_the_layers_and_a_saved_one_loads(tmp_path):
    options = AugmentOptions(flip="none", gamma=0.25, noise=3.0, blur=1.5)
    augmenter = build_augmenter(options, seed=0)
    assert [layer.name for layer in augmenter.layers] == ["random_blur", "random_gamma", "random_noise"]
    assert options.active and options.describe() == "blur 1.5, gamma 0.25, noise 3.0"
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), augmenter, keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    blur, gamma, noise = loaded.layers[0].layers
    assert (blur.sigma, gamma.factor, noise.stddev) == (1.5, 0.25, 3.0)
    assert (blur.seed, gamma.seed, noise.seed) == (9, 7, 8)
    for name, value in (("gamma", -0.1), ("gamma", 3.5), ("noise", -1.0), ("noise", 100.0)):
        with pytest.raises(ParameterError, match=name):
            AugmentOptions(**{name: value})


def test_the_command_line_sets_both():
    from train.cli import options_from, parser

    args = parser().parse_args(["--data", "cells", "--out", "run", "--gamma", "0.25", "--noise", "3"])
    _, hparams = options_from(args)
    assert (hparams.augmentation.gamma, hparams.augmentation.noise) == (0.25, 3.0)
    _, defaults = options_from(parser().parse_args(["--data", "cells", "--out", "run"]))
    assert (defaults.augmentation.gamma, defaults.augmentation.noise) == (0.0, 0.0)


def test_blur_blends_each_image_with_its_gaussian_by_one_weight_and_keeps_flat_images_flat():
    images = np.zeros((32, 15, 15, 3), np.float32)
    images[:, 7, 7, :] = 255.0  # one bright point in the middle: the result is the kernel itself
    images[:, :, :, 1] = 100.0  # a flat channel stays flat, mirrored edges included
    out = np.asarray(RandomBlur(1.0, seed=5)(images, training=True))
    np.testing.assert_allclose(out[..., 1], 100.0, rtol=1e-5)
    taps = gaussian_taps(1.0)
    assert len(taps) == 7 and abs(float(taps.sum()) - 1.0) < 1e-6
    full = 255.0 * np.outer(taps, taps)  # the point blurred fully
    point = np.zeros((15, 15), np.float32)
    point[7, 7] = 255.0
    weights = []
    for image in out[..., 0]:
        # image = point + w * (full_blur - point): one w per image, the same at every pixel
        blurred = point.copy()
        blurred[4:11, 4:11] = full
        w = (image[7, 7] - 255.0) / (blurred[7, 7] - 255.0)
        np.testing.assert_allclose(image, point + w * (blurred - point), atol=1e-3)
        weights.append(w)
    assert 0.0 <= min(weights) < 0.3 and 0.7 < max(weights) <= 1.0  # strengths from little to full
    assert abs(float(out[..., 0].sum(axis=(1, 2)).mean()) - 255.0) < 1e-2  # light is kept
    np.testing.assert_array_equal(np.asarray(RandomBlur(1.0, seed=5)(images, training=False)), images)


def test_blur_is_in_the_augmenter_before_the_tone_curve_and_checked():
    options = AugmentOptions(flip="none", blur=1.0, gamma=0.25)
    augmenter = build_augmenter(options, seed=0)
    assert [layer.name for layer in augmenter.layers] == ["random_blur", "random_gamma"]
    assert options.describe() == "blur 1.0, gamma 0.25"
    for value in (-0.5, 9.0):
        with pytest.raises(ParameterError, match="blur"):
            AugmentOptions(blur=value)
    from train.cli import options_from, parser

    _, hparams = options_from(parser().parse_args(["--data", "cells", "--out", "run", "--blur", "1"]))
    assert hparams.augmentation.blur == 1.0


def test_a_blur_wider_than_a_small_image_is_cut_to_fit():
    images = np.full((2, 8, 8, 1), 50.0, np.float32)
    images[:, 4, 4, 0] = 250.0
    out = np.asarray(RandomBlur(3.0, seed=0)(images, training=True))  # 3 sigma = 9 px, more than 8
    assert out.shape == images.shape and np.isfinite(out).all()
    np.testing.assert_allclose(
        out.sum(axis=(1, 2, 3)), images.sum(axis=(1, 2, 3)), rtol=1e-4
    )  # mirrored: light kept
    assert len(gaussian_taps(3.0, 7)) == 15 and abs(float(gaussian_taps(3.0, 7).sum()) - 1.0) < 1e-6


def test_a_gain_layer_saved_before_it_moved_modules_still_loads():
    # Models and checkpoints written before RandomGain moved to train.photometric name its old module.
    config = {
        "module": "train.random_gain",
        "class_name": "RandomGain",
        "registered_name": "train>RandomGain",
        "config": {"name": "random_gain", "trainable": True, "dtype": "float32", "factor": 0.3, "seed": 9},
    }
    layer = keras.saving.deserialize_keras_object(config)
    assert type(layer).__name__ == "RandomGain" and (layer.factor, layer.seed) == (0.3, 9)


def test_every_amount_setting_is_checked_described_and_on_the_command_line():
    import dataclasses

    from train.augmentation import AMOUNTS
    from train.cli import options_from, parser

    floats = {f.name for f in dataclasses.fields(AugmentOptions) if f.type in ("float", float)}
    assert floats == set(AMOUNTS)  # a new amount outside AMOUNTS would be neither on, described nor a flag
    argv = ["--data", "cells", "--out", "run"]
    for name in AMOUNTS:
        argv += [f"--{name}", "0.25"]
    _, hparams = options_from(parser().parse_args(argv))
    options = hparams.augmentation
    assert all(getattr(options, name) == 0.25 for name in AMOUNTS)
    assert options.describe().endswith(", ".join(f"{name} 0.25" for name in AMOUNTS))
    for name in AMOUNTS:
        with pytest.raises(ParameterError, match=name):
            AugmentOptions(**{name: -1.0})
        assert AugmentOptions(flip="none", **{name: 0.25}).active
    assert not AugmentOptions(flip="none").active
