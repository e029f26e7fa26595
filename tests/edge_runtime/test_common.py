"""Tests for edge_runtime.common: input size/type, pixel quantization, dequantized scores."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.common import (
    fill_input,
    get_scores,
    input_details,
    input_dtype,
    input_size,
    output_details,
    pixel_table,
    quantize,
    set_input,
    tensor_info,
)
from edge_runtime.interpreter import make_interpreter

MODES = ["float32", "uint8", "int8"]


def _noise(seed: int, height: int = 32, width: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _input_tensor(interpreter) -> np.ndarray:
    return interpreter.get_tensor(input_details(interpreter)["index"])[0]


@pytest.fixture(scope="module")
def narrow_models(tmp_path_factory) -> dict[str, bytes]:
    """uint8/int8-input models calibrated on pixels 0..127, so the input scale is ~0.5, not 1."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Rescaling(1.0 / 127.0)(inputs)
    outputs = keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(8):
            image = rng.integers(0, 128, (1, 8, 8, 3)).astype(np.float32)
            image[0, 0, 0, 0], image[0, 0, 1, 0] = 0.0, 127.0
            yield [image]

    models = {}
    for name, io_type in (("uint8", tf.uint8), ("int8", tf.int8)):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
        models[name] = converter.convert()
    return models


@pytest.mark.parametrize("mode", MODES)
def test_input_size_and_dtype(tiny_tflite, mode):
    interpreter = make_interpreter(tiny_tflite[mode])
    assert input_size(interpreter) == (32, 32)
    assert input_dtype(interpreter) == np.dtype(mode)
    assert output_details(interpreter)["shape"].tolist() == [1, 3]


def test_input_size_is_width_then_height(narrow_models):
    assert input_size(make_interpreter(narrow_models["uint8"])) == (8, 8)


@pytest.mark.parametrize(
    ("values", "scale", "zero_point", "dtype", "expected"),
    [
        # Our int8 inputs: scale 1, zero point -128 => q = pixel - 128.
        ([0, 1, 127, 128, 254, 255], 1.0, -128, np.int8, [-128, -127, -1, 0, 126, 127]),
        # Our uint8 inputs: the pixels themselves.
        ([0, 1, 128, 255], 1.0, 0, np.uint8, [0, 1, 128, 255]),
        # q = round(p / 0.5) + 3 = 2p + 3, clamped at 127.
        ([0, 1, 10, 62, 63, 200], 0.5, 3, np.int8, [3, 5, 23, 127, 127, 127]),
        # Halves round away from zero (TFLite's std::round), not to even: 0.5->1, 1.5->2, 2.5->3.
        ([1, 3, 5], 2.0, 0, np.uint8, [1, 2, 3]),
        ([-1, -3, -5], 2.0, 0, np.int8, [-1, -2, -3]),
        # Clamped to the dtype's range at both ends.
        ([0, 255], 0.25, -100, np.int8, [-100, 127]),
        ([-10.0, 300.0], 1.0, 0, np.uint8, [0, 255]),
    ],
)
def test_quantize_known_values(values, scale, zero_point, dtype, expected):
    result = quantize(np.array(values), scale, zero_point, dtype)
    assert result.dtype == np.dtype(dtype)
    assert result.tolist() == expected


def test_quantize_rejects_bad_parameters():
    with pytest.raises(ValueError, match=r"^quantization scale 0.0 must be > 0$"):
        quantize(np.arange(3), 0.0, 0, np.int8)
    with pytest.raises(ValueError, match=r"^cannot quantize to float32: not an integer type$"):
        quantize(np.arange(3), 1.0, 0, np.float32)


def test_pixel_table_covers_every_pixel():
    table = pixel_table(1.0, -128, np.int8)
    assert table.shape == (256,)
    assert table.tolist() == list(range(-128, 128))


def test_float32_input_is_raw_pixels(tiny_tflite):
    interpreter = make_interpreter(tiny_tflite["float32"])
    image = _noise(0)
    set_input(interpreter, image)
    tensor = _input_tensor(interpreter)
    assert tensor.dtype == np.float32
    np.testing.assert_array_equal(tensor, image.astype(np.float32))


def test_uint8_unit_scale_input_is_copied(tiny_tflite):
    interpreter = make_interpreter(tiny_tflite["uint8"])
    assert input_details(interpreter)["quantization"] == (1.0, 0)
    image = _noise(1)
    set_input(interpreter, image)
    np.testing.assert_array_equal(_input_tensor(interpreter), image)


def test_int8_input_is_pixel_minus_128(tiny_tflite):
    interpreter = make_interpreter(tiny_tflite["int8"])
    scale, zero_point = input_details(interpreter)["quantization"]
    assert (scale, zero_point) == (1.0, -128)
    image = _noise(2)
    image[0, 0] = (0, 128, 255)
    set_input(interpreter, image)
    tensor = _input_tensor(interpreter)
    assert tensor.dtype == np.int8
    assert tensor[0, 0].tolist() == [-128, 0, 127]
    np.testing.assert_array_equal(tensor.astype(np.int16), image.astype(np.int16) - 128)


@pytest.mark.parametrize("mode", ["uint8", "int8"])
def test_non_unit_scale_input_is_requantized(narrow_models, mode):
    interpreter = make_interpreter(narrow_models[mode])
    scale, zero_point = input_details(interpreter)["quantization"]
    assert abs(scale - 127 / 255) < 1e-3 and zero_point == (0 if mode == "uint8" else -128)
    image = _noise(3, 8, 8)
    image[0, 0] = (0, 100, 255)
    set_input(interpreter, image)
    tensor = _input_tensor(interpreter)
    # Pixel 100 -> round(100 / scale) + zero point; 255 is past the calibrated range and clamps.
    assert tensor[0, 0].tolist() == [zero_point, round(100 / scale) + zero_point, np.iinfo(mode).max]
    np.testing.assert_array_equal(tensor, quantize(image, scale, zero_point, mode))


def test_set_input_rejects_wrong_shape_or_type(tiny_tflite):
    interpreter = make_interpreter(tiny_tflite["uint8"])
    with pytest.raises(
        ValueError, match=r"the model wants \(32, 32, 3\) uint8 \(resize it to input_size first\)"
    ):
        set_input(interpreter, _noise(0, 40, 32))
    with pytest.raises(ValueError, match=r"^input image is \(32, 32, 3\) float32"):
        set_input(interpreter, _noise(0).astype(np.float32))


@pytest.mark.parametrize("mode", ["uint8", "int8"])
def test_scores_are_dequantized_with_the_output_params(tiny_tflite, mode):
    interpreter = make_interpreter(tiny_tflite[mode])
    details = output_details(interpreter)
    scale, zero_point = details["quantization"]
    assert scale == pytest.approx(1 / 256) and zero_point == {"uint8": 0, "int8": -128}[mode]
    set_input(interpreter, _noise(4))
    interpreter.invoke()
    raw = interpreter.get_tensor(details["index"])[0]
    scores = get_scores(interpreter)
    assert scores.dtype == np.float32 and scores.shape == (3,)
    np.testing.assert_array_equal(scores, (raw.astype(np.float32) - zero_point) * np.float32(scale))
    assert scores.sum() == pytest.approx(1.0, abs=3 / 256)


def test_quantized_scores_match_float_model(tiny_tflite):
    interpreters = {mode: make_interpreter(tiny_tflite[mode]) for mode in MODES}
    for seed in range(6):
        image = _noise(seed)
        scores = {}
        for mode, interpreter in interpreters.items():
            set_input(interpreter, image)
            interpreter.invoke()
            scores[mode] = get_scores(interpreter)
        # Same integer arithmetic inside: only the input/output offsets differ.
        np.testing.assert_array_equal(scores["uint8"], scores["int8"])
        np.testing.assert_allclose(scores["int8"], scores["float32"], atol=4 / 256)
        assert scores["float32"].sum() == pytest.approx(1.0, abs=1e-5)


def test_set_input_can_be_repeated_between_invokes(tiny_tflite):
    # set_input must not keep a view of the tensor, or invoke() would refuse to run.
    interpreter = make_interpreter(tiny_tflite["int8"])
    results = []
    for seed in (5, 6, 5):
        set_input(interpreter, _noise(seed))
        interpreter.invoke()
        results.append(get_scores(interpreter))
    np.testing.assert_array_equal(results[0], results[2])
    assert not np.array_equal(results[0], results[1])


@pytest.mark.parametrize("mode", MODES)
def test_tensor_info_is_read_once_per_interpreter_and_matches_the_details(tiny_tflite, mode):
    first, second = make_interpreter(tiny_tflite[mode]), make_interpreter(tiny_tflite[mode])
    info_in, info_out = tensor_info(first)
    assert tensor_info(first)[0] is info_in  # cached: the same object, no new details lookup
    assert tensor_info(second)[0] is not info_in  # each interpreter its own entry
    details = input_details(first)
    assert (info_in.index, info_in.dtype) == (details["index"], np.dtype(details["dtype"]))
    assert (info_in.scale, info_in.zero_point) == tuple(details["quantization"])
    assert info_out.index == output_details(first)["index"]
    if mode == "float32":
        assert info_in.table is None
    else:
        np.testing.assert_array_equal(info_in.table, pixel_table(*details["quantization"], np.dtype(mode)))


@pytest.mark.parametrize("mode", MODES)
def test_fill_input_writes_what_set_input_would(tiny_tflite, mode):
    # uint8 (pixels as is) and int8 (zero point -128: sign-flipped bytes) take the pixels straight
    # into the tensor; a float input is refused, untouched, so the caller falls back to set_input.
    direct, reference = make_interpreter(tiny_tflite[mode]), make_interpreter(tiny_tflite[mode])
    for seed in (7, 8):  # twice: the view must be released, or invoke() would refuse to run
        image = _noise(seed)
        image[0, 0] = (0, 128, 255)
        before = _input_tensor(direct).copy()
        written = fill_input(direct, lambda pixels, image=image: np.copyto(pixels, image))
        assert written == (mode != "float32")
        set_input(reference, image)
        if written:
            np.testing.assert_array_equal(_input_tensor(direct), _input_tensor(reference))
        else:
            np.testing.assert_array_equal(_input_tensor(direct), before)
            set_input(direct, image)
        direct.invoke()
        reference.invoke()
        np.testing.assert_array_equal(get_scores(direct), get_scores(reference))


@pytest.mark.parametrize("mode", ["uint8", "int8"])
def test_fill_input_refuses_inputs_that_need_a_table(narrow_models, mode):
    interpreter = make_interpreter(narrow_models[mode])
    assert tensor_info(interpreter)[0].pixel_bytes is None
    assert fill_input(interpreter, lambda pixels: pytest.fail("must not be called")) is False
