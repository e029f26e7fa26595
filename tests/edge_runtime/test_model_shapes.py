"""Models of other shapes: a grayscale input is fed luma, one sigmoid unit reads as two classes, the rest refused."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.classify import classify_image
from edge_runtime.common import check_classifier, get_score_list, get_scores, num_classes, set_input
from edge_runtime.errors import UserError
from edge_runtime.image import resize, to_channels
from edge_runtime.interpreter import make_interpreter

pytestmark = pytest.mark.slow  # builds and converts Keras models in-process


def _tflite(inputs, outputs, tmp_path, name: str):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = keras.Model(inputs, outputs)
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


def _features(x):
    import keras

    x = keras.layers.Rescaling(1.0 / 255.0)(x)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    return keras.layers.GlobalAveragePooling2D()(x)


def test_a_grayscale_input_model_is_fed_the_luma_convert_calibrates_with(tmp_path):
    import keras

    image = keras.Input((16, 16, 1))
    path = _tflite(image, keras.layers.Dense(3, activation="softmax")(_features(image)), tmp_path, "gray")
    interpreter = make_interpreter(path)
    check_classifier(interpreter, str(path))
    rgb = np.random.default_rng(1).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    classes = classify_image(interpreter, rgb, top_k=3)
    # The same as writing the luma of the resized image by hand.

    interpreter.set_tensor(
        interpreter.get_input_details()[0]["index"],
        to_channels(resize(rgb, 16, 16), 1)[None].astype(np.float32),
    )
    interpreter.invoke()
    expected = get_scores(interpreter)
    assert [c.id for c in classes] == list(np.argsort(-expected))
    np.testing.assert_allclose([c.score for c in classes], np.sort(expected)[::-1], rtol=1e-6)


def test_one_sigmoid_unit_is_read_as_two_classes(tmp_path):
    import keras

    image = keras.Input((16, 16, 3))
    path = _tflite(image, keras.layers.Dense(1, activation="sigmoid")(_features(image)), tmp_path, "sigmoid")
    interpreter = make_interpreter(path)
    check_classifier(interpreter, str(path))
    assert num_classes(interpreter) == 2
    set_input(interpreter, np.full((16, 16, 3), 200, np.uint8))
    interpreter.invoke()
    unit = float(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).reshape(-1)[0])
    scores = get_scores(interpreter)
    np.testing.assert_allclose(scores, [1.0 - unit, unit], rtol=1e-6)
    assert get_score_list(interpreter) == scores.tolist()


def test_two_inputs_are_refused_by_name(tmp_path):
    import keras

    image, extra = keras.Input((16, 16, 3), name="image"), keras.Input((4,), name="metadata")
    features = keras.layers.Concatenate()([_features(image), extra])
    path = _tflite(
        [image, extra], keras.layers.Dense(2, activation="softmax")(features), tmp_path, "two_inputs"
    )
    with pytest.raises(UserError, match=r"two_inputs\.tflite: 2 inputs \(.*\); edge_runtime feeds one image"):
        check_classifier(make_interpreter(path), str(path))


def test_a_non_image_input_and_two_outputs_are_refused(tmp_path):
    import keras

    vector = keras.Input((8,))
    path = _tflite(vector, keras.layers.Dense(2, activation="softmax")(vector), tmp_path, "vector")
    with pytest.raises(UserError, match=r"vector\.tflite: input .* is \[1, 8\] float32, not an image"):
        check_classifier(make_interpreter(path), str(path))
    image = keras.Input((16, 16, 3))
    features = _features(image)
    heads = [keras.layers.Dense(2, activation="softmax")(features), keras.layers.Dense(3)(features)]
    path = _tflite(image, heads, tmp_path, "two_heads")
    with pytest.raises(UserError, match=r"two_heads\.tflite: 2 outputs; edge_runtime reads one"):
        check_classifier(make_interpreter(path), str(path))
