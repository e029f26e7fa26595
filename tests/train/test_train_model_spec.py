"""Tests for train.model_spec (the model registry), its builders' in-model preprocessing, weights and options."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge_runtime.errors import ParameterError, UserError
from train.augmentation import AugmentOptions
from train.hyperparameters import Hyperparameters
from train.model_inputs import CAFFE_MEAN_BGR, LUMA
from train.model_options import ModelOptions
from train.model_spec import MODEL_SPECS, get_spec

ALL = sorted(MODEL_SPECS)


def _scale_0_1(x):
    return x / 255.0


def _scale_minus1_1(x):
    return x / 127.5 - 1.0


def _caffe(x):
    return x[..., ::-1] - CAFFE_MEAN_BGR


# The layer where each model's preprocessing ends, and what it must compute from raw pixels; one entry per
# registered model (test_every_model_builds_for_rgb_raw_pixels looks each one up).
PREPROCESSING = {
    "ann": ("rescale_0_1", _scale_0_1),
    "cnn": ("rescale_0_1", _scale_0_1),
    "cnn_cifar10": ("rescale_0_1", _scale_0_1),
    "cnn_bn": ("rescale_0_1", _scale_0_1),
    "cnn_bn_fullres": ("rescale_0_1", _scale_0_1),
    "cnn_res": ("rescale_0_1", _scale_0_1),
    "vgg16": ("caffe_bgr", _caffe),
    "mobilenet_v1": ("rescale_minus1_1", _scale_minus1_1),
    "mobilenet_v2": ("rescale_minus1_1", _scale_minus1_1),
    "mobilenet_v3_small": ("rescale_minus1_1", _scale_minus1_1),
    "mobilenet_v3_small_minimalistic": ("rescale_minus1_1", _scale_minus1_1),
    "mobilenet_v3_large": ("rescale_minus1_1", _scale_minus1_1),
    "mobilenet_v3_large_minimalistic": ("rescale_minus1_1", _scale_minus1_1),
    "efficientnet_b0": None,  # its base rescales 0..255 itself
}


def _small_size(name: str) -> int:
    spec = get_spec(name)
    return spec.allowed_sizes[0] if spec.allowed_sizes else max(spec.min_size, 32)


# Models on a keras.applications base take seconds each to build: the slow tier builds them.
BUILDS = [pytest.param(name, marks=pytest.mark.slow) if get_spec(name).has_base else name for name in ALL]


@pytest.mark.parametrize("name", BUILDS)
def test_every_model_builds_for_rgb_raw_pixels(name):
    import keras

    spec = get_spec(name)
    size = _small_size(name)
    keras.utils.set_random_seed(0)
    model = spec.build(spec.resolve(ModelOptions(model=name, image_size=size)), num_classes=3)
    assert tuple(model.input_shape) == (None, size, size, 3)
    assert tuple(model.output_shape) == (None, 3)
    pixels = np.random.default_rng(0).integers(0, 256, (2, size, size, 3)).astype(np.float32)
    probabilities = model.predict(pixels, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    if PREPROCESSING[name] is None:
        base = model.layers[1]
        assert isinstance(base, keras.Model) and isinstance(base.layers[1], keras.layers.Rescaling)
        assert float(np.asarray(base.layers[1].scale)) == pytest.approx(1 / 255)
        return
    layer, expected = PREPROCESSING[name]
    probe = keras.Model(model.input, model.get_layer(layer).output)
    np.testing.assert_allclose(probe.predict(pixels, verbose=0), expected(pixels), rtol=1e-5, atol=1e-4)
    assert not model.get_layer(layer).trainable_weights


@pytest.mark.parametrize("name", ["ann", "cnn", "mobilenet_v2", "vgg16"])
def test_grayscale_is_converted_inside_the_model_which_keeps_rgb_input(name):
    import keras

    spec = get_spec(name)
    size = _small_size(name)
    model = spec.build(ModelOptions(model=name, image_size=size, grayscale=True), num_classes=2)
    assert tuple(model.input_shape) == (None, size, size, 3)
    gray = model.get_layer("grayscale")
    assert not gray.trainable_weights  # a fixed BT.601 luma, never trained
    colour = np.random.default_rng(1).integers(0, 256, (1, size, size, 3)).astype(np.float32)
    luma = keras.Model(model.input, gray.output).predict(colour, verbose=0)
    before = {"ann": 255.0, "cnn": 255.0, "mobilenet_v2": 127.5, "vgg16": 1.0}[name]
    offset = -1.0 if name == "mobilenet_v2" else 0.0
    want = (colour @ LUMA)[..., None] / before + offset
    np.testing.assert_allclose(luma[..., :1], want, rtol=1e-5, atol=1e-3)
    # Scratch models see one channel (the ann's first Dense takes 28*28 values); bases keep three.
    assert luma.shape[-1] == (1 if name in ("ann", "cnn") else 3)


def test_default_sizes_and_dropout_are_filled_in_without_mutating_options():
    options = ModelOptions(model="mobilenet_v2")
    resolved = get_spec("mobilenet_v2").resolve(options)
    assert (resolved.image_size, resolved.dropout, resolved.grayscale) == (224, 0.2, False)
    assert options.image_size is None and options.dropout is None and options.grayscale is None
    assert get_spec("cnn").resolve(ModelOptions()).image_size == 128
    assert get_spec("ann").resolve(ModelOptions(model="ann")).image_size == 28
    assert get_spec("cnn").resolve(ModelOptions(dropout=0.1)).dropout == 0.1


def test_width_multipliers_change_the_model():
    for name, narrow, wide in (("mobilenet_v2", 0.35, 1.0), ("cnn_bn", 0.5, 1.0)):
        spec = get_spec(name)
        size = _small_size(name)
        small = spec.build(ModelOptions(model=name, image_size=size, alpha=narrow), 2)
        big = spec.build(ModelOptions(model=name, image_size=size, alpha=wide), 2)
        assert small.count_params() < big.count_params() / 3, name


def test_the_fullres_stem_gives_the_body_of_cnn_bn_at_half_the_size():
    """cnn_bn_fullres at 300 px runs cnn_bn's stages on the maps cnn_bn makes of a 150 px image: same
    weights in the body, one more stride-2 convolution before it."""
    full = get_spec("cnn_bn_fullres").build(ModelOptions(model="cnn_bn_fullres", image_size=300), 2)
    half = get_spec("cnn_bn").build(ModelOptions(model="cnn_bn", image_size=150), 2)
    assert full.get_layer("stage1_conv1").output.shape == half.get_layer("stage1_conv1").output.shape
    assert full.get_layer("stem2").strides == (2, 2) and full.get_layer("stem").strides == (2, 2)
    body = [layer.name for layer in half.layers if layer.name.startswith("stage")]
    for name in body:
        assert [w.shape for w in full.get_layer(name).weights] == [
            w.shape for w in half.get_layer(name).weights
        ]
    assert full.count_params() - half.count_params() == sum(
        int(np.prod(w.shape)) for w in full.get_layer("stem2").weights
    ) + sum(int(np.prod(w.shape)) for w in full.get_layer("stem2_bn").weights)


def test_whole_model_weights_load_from_a_file_and_bad_files_are_named(tmp_path):
    spec = get_spec("cnn")
    options = ModelOptions(image_size=32)
    trained = spec.build(options, 2)
    path = tmp_path / "cnn.weights.h5"
    trained.save_weights(path)
    loaded = spec.build(dataclasses.replace(options, weights=str(path)), 2)
    for a, b in zip(trained.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(UserError, match=rf"^{path}: weights do not fit model cnn \(\d+ parameters\): "):
        spec.build(dataclasses.replace(options, image_size=64, weights=str(path)), 2)
    missing = tmp_path / "nope.weights.h5"
    with pytest.raises(FileNotFoundError, match=rf"^{missing}: no such weights file for --weights"):
        spec.build(dataclasses.replace(options, weights=str(missing)), 2)


@pytest.mark.slow
def test_base_weights_load_from_a_file_and_a_wrong_base_is_named(tmp_path):
    import keras

    base = keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), include_top=False, weights=None, alpha=0.35
    )
    path = tmp_path / "base.weights.h5"
    base.save_weights(path)
    spec = get_spec("mobilenet_v2")
    options = ModelOptions(model="mobilenet_v2", image_size=96, alpha=0.35, weights=str(path))
    model = spec.build(options, 2)
    nested = model.get_layer(base.name)
    for a, b in zip(base.get_weights(), nested.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(
        UserError, match=rf"^{path}: weights do not fit the mobilenet_v2 base \(alpha 0.5, 96 px\)"
    ):
        spec.build(dataclasses.replace(options, alpha=0.5), 2)


def test_unknown_model_lists_the_valid_names():
    with pytest.raises(UserError, match=rf"^unknown model 'resnet'; valid models: {', '.join(MODEL_SPECS)}$"):
        get_spec("resnet")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ModelOptions(model="mobilenet_v2", image_size=100),
            r"image_size=100: not supported by mobilenet_v2; use one of 96, 128, 160, 192, 224",
        ),
        (
            ModelOptions(model="mobilenet_v1", image_size=96),
            r"image_size=96: not supported by mobilenet_v1; use one of 128, 160, 192, 224",
        ),
        (
            ModelOptions(model="mobilenet_v2", alpha=0.6),
            r"alpha=0.6: not supported by mobilenet_v2; use one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4",
        ),
        (
            ModelOptions(model="mobilenet_v3_small_minimalistic", alpha=0.75),
            r"alpha=0.75: not supported by mobilenet_v3_small_minimalistic; use one of 1.0",
        ),
        (ModelOptions(model="cnn", image_size=16), r"image_size=16: out of range for cnn; use 32..512"),
        (ModelOptions(model="ann", image_size=256), r"image_size=256: out of range for ann; use 8..128"),
        (
            ModelOptions(model="cnn", alpha=0.5),
            r"alpha=0.5: model cnn has no width multiplier; leave it at 1.0",
        ),
        (
            ModelOptions(model="cnn", weights="imagenet"),
            r"weights='imagenet': model cnn has no ImageNet weights; use none or a weights file",
        ),
    ],
)
def test_resolve_rejects_what_the_model_cannot_take(options, message):
    with pytest.raises(ParameterError, match=f"^{message}"):
        get_spec(options.model).resolve(options)
    with pytest.raises(UserError, match=r"options are for model 'mobilenet_v2', not 'cnn'"):
        get_spec("cnn").resolve(ModelOptions(model="mobilenet_v2"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ModelOptions(image_size=0), r"image_size=0: must be a positive number of pixels"),
        (lambda: ModelOptions(dropout=1.0), r"dropout=1.0: must be in \[0, 1\)"),
        (lambda: ModelOptions(alpha=0), r"alpha=0: must be positive"),
        (lambda: Hyperparameters(epochs=0), r"epochs=0: must be at least 1"),
        (lambda: Hyperparameters(batch_size=0), r"batch_size=0: must be at least 1"),
        (lambda: Hyperparameters(learning_rate=0.0), r"learning_rate=0.0: must be positive"),
        (lambda: Hyperparameters(validation_split=1.0), r"validation_split=1.0: must be in \[0, 1\)"),
        (
            lambda: Hyperparameters(early_stopping_patience=0),
            r"early_stopping_patience=0: must be at least 1",
        ),
        (
            lambda: Hyperparameters(monitor="loss"),
            r"monitor='loss': not known; use one of val_loss, val_accuracy",
        ),
        (lambda: Hyperparameters(lr_schedule="step"), r"lr_schedule='step': not known"),
        (
            lambda: Hyperparameters(warmup_epochs=2),
            r"warmup_epochs=2: warm-up needs the cosine learning-rate schedule",
        ),
        (lambda: Hyperparameters(fine_tune_layers=0), r"fine_tune_layers=0: must be at least 1"),
        (
            lambda: Hyperparameters(oversample=True),
            r"oversample=True: balances the classes already: turn class weights off with it",
        ),
        (lambda: AugmentOptions(flip="diagonal"), r"flip='diagonal': not a flip mode; use one of none, "),
        (lambda: AugmentOptions(rotation=0.7), r"rotation=0.7: must be in \[0, 0.5\]"),
        (lambda: AugmentOptions(zoom=1.0), r"zoom=1.0: must be in \[0, 1\)"),
    ],
)
def test_options_reject_bad_values(make, message):
    with pytest.raises(ParameterError, match=f"^{message}"):
        make()


def test_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Hyperparameters().epochs = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelOptions().model = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        AugmentOptions().zoom = 0.2  # type: ignore[misc]
