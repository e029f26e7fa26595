"""Benchmark models go through our convert stage, carry metadata the clients accept, and are cached."""

from __future__ import annotations

import os

import numpy as np
import pytest

from benchmarks.instruments.converting import build_tflite, quiet_output


def _tiny():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(x), name="tiny")


@pytest.mark.slow
def test_int8_model_takes_raw_pixels_has_labels_and_is_reused(tmp_path):
    from edge_runtime.interpreter import make_interpreter
    from edge_runtime.metadata import read_labels

    built = build_tflite("tiny", _tiny, "int8", tmp_path, calibration_images=8)
    assert not built.reused
    assert built.quantize == "int8"
    assert built.keras_macs == 30 * 30 * 8 * 27 + 8 * 4
    assert (
        built.calibration.startswith("real ELPV images")
        and "8 sampled with seed 0, half defective" in built.calibration
    )
    data = (tmp_path / "tiny.tflite").read_bytes()
    assert len(data) > built.size_bytes  # metadata and the labels zip come on top of the flatbuffer
    assert read_labels(data) == ["class_0000", "class_0001", "class_0002", "class_0003"]
    details = make_interpreter(data).get_input_details()[0]
    assert np.dtype(details["dtype"]) == np.uint8 and details["quantization"] == (1.0, 0)

    again = build_tflite("tiny", _tiny, "int8", tmp_path, calibration_images=8)
    assert again.reused and again.size_bytes == built.size_bytes
    other = build_tflite("tiny", _tiny, "int8", tmp_path, calibration_images=4)
    assert not other.reused  # different settings convert again
    changed = build_tflite("tiny", _tiny, "int8", tmp_path, calibration_images=4, architecture={"width": 2})
    assert not changed.reused  # so does a changed architecture


@pytest.mark.slow
def test_float32_model_has_float_input(tmp_path):
    from edge_runtime.interpreter import make_interpreter

    built = build_tflite("tiny_f32", _tiny, "float32", tmp_path)
    assert built.calibration is None
    details = make_interpreter(built.path).get_input_details()[0]
    assert np.dtype(details["dtype"]) == np.float32


def test_quiet_output_hides_native_output_and_replays_it_on_failure(capfd):
    with quiet_output():
        os.write(1, b"native stdout\n")
        os.write(2, b"native stderr\n")
    assert capfd.readouterr() == ("", "")
    with pytest.raises(RuntimeError, match="boom"), quiet_output():
        os.write(2, b"why it failed\n")
        raise RuntimeError("boom")
    assert "why it failed" in capfd.readouterr().err
