"""Self-supervised pre-training: its loss, the RGB-to-gray stem, and the CLI's weights loading into train's model."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from conftest import run_module
from train.model_options import ModelOptions
from train.model_spec import get_spec
from train.simclr import nt_xent, to_gray_model


def test_nt_xent_is_low_and_finds_every_pair_when_views_match():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(8, 16)).astype(np.float32)
    matched = np.concatenate([base, base + 0.01 * rng.normal(size=base.shape).astype(np.float32)])
    shuffled = np.concatenate([base, rng.normal(size=base.shape).astype(np.float32)])
    loss, found = (float(v) for v in nt_xent(matched, 0.2))
    worse, found_shuffled = (float(v) for v in nt_xent(shuffled, 0.2))
    assert found == 1.0 and found_shuffled < 0.5
    chance = np.log(15)  # a row's pair among the 15 other rows, guessed
    assert loss < 0.1 * chance and worse > 0.5 * chance


def test_the_gray_model_computes_what_the_rgb_model_does_on_gray_images():
    spec = get_spec("cnn_bn")
    options = ModelOptions(model="cnn_bn", image_size=32, alpha=0.5)
    rgb = spec.build(options, 2)
    for layer in rgb.layers:  # batch norm away from identity, so its statistics are checked too
        if layer.name.endswith("_bn"):
            layer.set_weights(
                [w + np.random.default_rng(1).uniform(0.1, 0.5, w.shape) for w in layer.get_weights()]
            )
    gray = to_gray_model(rgb, spec, options, 2)
    assert gray.get_layer("stem").get_weights()[0].shape[2] == 1
    pixels = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 1)).astype(np.float32).repeat(3, axis=3)
    np.testing.assert_allclose(gray.predict(pixels, verbose=0), rgb.predict(pixels, verbose=0), atol=1e-5)


def test_the_cli_saves_weights_that_train_loads_for_a_gray_folder(tmp_path):
    rng = np.random.default_rng(3)
    for name in ("functional", "defective"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for index in range(12):
            pixels = rng.integers(0, 256, (40, 40), dtype=np.uint8)
            Image.fromarray(pixels, "L").save(tmp_path / "data" / name / f"{index}.png")
    out = tmp_path / "pre" / "simclr.weights.h5"
    args = ("--data", str(tmp_path / "data"), "--epochs", "2", "--batch-size", "8", "--size", "32")
    views = ("--min-crop", "0.5", "--noise", "2")
    run_module("train.simclr", *args, *views, "--load-size", "40", "--alpha", "0.5", "--out", str(out))
    record = json.loads((out.parent / "simclr.weights.h5.json").read_text())
    assert record["gray"] is True and [e["epoch"] for e in record["log"]] == [1, 2]
    assert np.isfinite([e["loss"] for e in record["log"]]).all()
    # The record names the command that made the file, every setting spelled out (publish prints it).
    assert record["command"] == (
        f"python -m train.simclr --data {tmp_path / 'data'} --out {out} --model cnn_bn --alpha 0.5 "
        "--load-size 40 --size 32 --min-crop 0.5 --noise 2.0 --epochs 2 --batch-size 8 "
        "--learning-rate 0.002 --classes 2 --seed 0"
    )
    spec = get_spec("cnn_bn")
    loaded = spec.build(
        ModelOptions(model="cnn_bn", image_size=40, alpha=0.5, grayscale=True, weights=str(out)), 2
    )
    fresh = spec.build(ModelOptions(model="cnn_bn", image_size=40, alpha=0.5, grayscale=True), 2)
    assert not np.allclose(
        loaded.get_layer("stage1_conv1").get_weights()[0], fresh.get_layer("stage1_conv1").get_weights()[0]
    )
    assert sorted(p.name for p in out.parent.iterdir()) == ["simclr.weights.h5", "simclr.weights.h5.json"]


def test_a_bad_output_name_is_one_line(tmp_path):
    proc = run_module("train.simclr", "--data", str(tmp_path), "--out", str(tmp_path / "w.h5"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: --out {tmp_path / 'w.h5'}: name it FILE.weights.h5 (what python -m train --weights loads)"
    ]


def test_bad_view_settings_are_one_line_each(tmp_path):
    for flag, value, message in (
        ("--min-crop", "0", "--min-crop 0.0: give a share of the area, 0 < x <= 1 (e.g. 0.35)"),
        ("--min-crop", "1.5", "--min-crop 1.5: give a share of the area, 0 < x <= 1 (e.g. 0.35)"),
        ("--noise", "-1", "--noise -1.0: give a standard deviation >= 0 (e.g. 8; 0 for none)"),
    ):
        out = tmp_path / "w.weights.h5"
        proc = run_module(
            "train.simclr", "--data", str(tmp_path), "--out", str(out), flag, value, check=False
        )
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [f"error: {message}"]


def test_a_full_crop_without_noise_keeps_the_whole_image_up_to_flips_and_exposure():
    # min_crop 1 and noise 0: every view is the image itself, flipped or transposed, with one
    # contrast and brightness change, so its sorted pixels are an affine map of the image's.
    import tensorflow as tf

    from train.simclr import _augment

    rng = np.random.default_rng(0)
    image = rng.uniform(60, 190, (1, 24, 24, 1)).astype(np.float32)
    view = _augment(tf.constant(np.repeat(image, 4, 0)), 24, min_crop=1.0, noise=0.0).numpy()
    source = np.sort(image.ravel())
    for one in view:
        slope, offset = np.polyfit(source, np.sort(one.ravel()), 1)
        np.testing.assert_allclose(np.sort(one.ravel()), slope * source + offset, atol=1e-2)
        assert 0.7 - 1e-3 <= slope <= 1.3 + 1e-3
