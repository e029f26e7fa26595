"""The convert stage: int8 with raw-pixel uint8 I/O, Keras agreement, input quantization check, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_module

pytestmark = pytest.mark.slow


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_int8_model_takes_raw_uint8_pixels_and_gives_uint8_probabilities(converted):
    from edge_runtime.interpreter import make_interpreter

    interpreter = make_interpreter(converted / "model_int8.tflite")
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    assert list(inp["shape"]) == [1, 64, 64, 3]
    assert list(inp["shape_signature"]) == [1, 64, 64, 3]  # batch fixed at 1
    assert inp["dtype"] == np.uint8 and inp["quantization"] == (1.0, 0)
    assert out["dtype"] == np.uint8
    assert out["quantization"][0] == pytest.approx(1 / 256) and out["quantization"][1] == 0
    # Every weight-bearing op computes in int8: no float tensors other than none at all.
    float_tensors = [t["name"] for t in interpreter.get_tensor_details() if t["dtype"] == np.float32]
    assert float_tensors == []

    float_model = make_interpreter(converted / "model_float32.tflite")
    assert float_model.get_input_details()[0]["dtype"] == np.float32


def test_labels_travel_inside_the_model_and_beside_it(converted, elpv_subset):
    from edge_runtime.metadata import read_labels as labels_in_model
    from labels import builtin_labels_path, read_labels

    expected = read_labels(builtin_labels_path("elpv"))
    for name in ("model_int8.tflite", "model_float32.tflite"):
        assert labels_in_model((converted / name).read_bytes()) == expected
    assert read_labels(converted / "labels.txt") == expected


def test_int8_agrees_with_float_keras_on_real_images(trained_model, converted, elpv_subset):
    from convert.converter import load_keras_model
    from convert.scores import keras_scores, tflite_scores
    from edge_runtime.folders import list_images
    from edge_runtime.image import load_resized

    files = list_images(elpv_subset, recursive=True)
    images = np.stack([load_resized(p, 64, 64) for p in files])
    keras = keras_scores(load_keras_model(trained_model / "model.keras"), images)
    int8 = tflite_scores(converted / "model_int8.tflite", images)
    float32 = tflite_scores(converted / "model_float32.tflite", images)
    assert len(files) == 120
    assert np.mean(keras.predictions == int8.predictions) >= 0.95
    assert np.mean(keras.predictions == float32.predictions) >= 0.99
    # The uint8 output is the softmax quantized in steps of 1/256.
    assert np.max(np.abs(keras.probabilities - int8.probabilities)) < 0.1
    assert np.max(np.abs(keras.probabilities - float32.probabilities)) < 1e-4


def test_input_quantization_that_is_not_raw_pixels_is_an_error(tiny_keras):
    import tensorflow as tf

    from convert.converter import ConversionError, ConvertOptions, check_input_quantization, load_keras_model

    model = load_keras_model(tiny_keras)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    rng = np.random.default_rng(0)
    # Calibration images that never reach 0 or 255 give the input a range narrower than 0..255.
    converter.representative_dataset = lambda: (
        [rng.integers(60, 200, (1, 32, 32, 3)).astype(np.float32)] for _ in range(8)
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.uint8
    with pytest.raises(
        ConversionError, match=r"input quantization scale=.* zero_point=.* does not map 0\.\.255"
    ):
        check_input_quantization(converter.convert(), ConvertOptions())


def test_our_converter_pins_the_input_range_even_when_calibration_images_do_not_span_it(tiny_keras, tmp_path):
    from convert.converter import ConvertOptions, convert, load_keras_model

    rng = np.random.default_rng(1)
    dim_images = rng.integers(60, 200, (8, 32, 32, 3)).astype(np.uint8)
    data = convert(load_keras_model(tiny_keras), ConvertOptions(), dim_images)  # checks internally
    from edge_runtime.interpreter import make_interpreter

    assert make_interpreter(data).get_input_details()[0]["quantization"] == (1.0, 0)


def test_int8_io_variant(tiny_keras):
    from convert.converter import ConvertOptions, convert, load_keras_model
    from edge_runtime.interpreter import make_interpreter

    images = np.random.default_rng(2).integers(0, 256, (8, 32, 32, 3)).astype(np.uint8)
    data = convert(load_keras_model(tiny_keras), ConvertOptions(io_type="int8"), images)
    details = make_interpreter(data).get_input_details()[0]
    assert details["dtype"] == np.int8 and details["quantization"] == (1.0, -128)


def test_evaluate_cli_reports_float_and_int8_accuracy(trained_model, converted, elpv_subset, tmp_path):
    out = tmp_path / "evaluation.json"
    proc = run_module(
        "convert.evaluate",
        "--keras",
        str(trained_model / "model.keras"),
        "--tflite",
        str(converted / "model_float32.tflite"),
        str(converted / "model_int8.tflite"),
        "--data",
        str(elpv_subset / "test"),
        "--out",
        str(out),
    )
    summary = json.loads(out.read_text())
    assert set(summary["models"]) == {"keras_float32", "model_float32", "model_int8"}
    assert summary["num_images"] == 40 and summary["class_counts"] == {"defective": 20, "functional": 20}
    int8 = summary["models"]["model_int8"]
    assert 0.0 <= int8["accuracy"] <= 1.0
    assert set(int8["per_class_accuracy"]) == {"defective", "functional"}
    assert int8["top1_agreement_with_keras_float32"] >= 0.95
    assert "model_int8" in proc.stdout


# --- bad input: one line naming the file, exit 2, nothing written --------------------------------


def _convert_args(model: Path, out: Path, data: Path, *extra: str) -> list[str]:
    return ["convert", "--model", str(model), "--out", str(out), "--calibration-data", str(data), *extra]


def test_missing_model(tmp_path, elpv_subset):
    line = _one_error_line(
        run_module(*_convert_args(tmp_path / "nope.keras", tmp_path / "o", elpv_subset), check=False)
    )
    assert "nope.keras" in line and "no such Keras model" in line
    assert not (tmp_path / "o").exists()


def test_truncated_and_non_keras_files(tmp_path, tiny_keras, elpv_subset):
    truncated = tmp_path / "cut.keras"
    truncated.write_bytes(tiny_keras.read_bytes()[:2000])
    line = _one_error_line(run_module(*_convert_args(truncated, tmp_path / "o", elpv_subset), check=False))
    assert "cut.keras" in line and "cannot load as a Keras model" in line
    text = tmp_path / "model.h5"
    text.write_text("not a model")
    line = _one_error_line(run_module(*_convert_args(text, tmp_path / "o", elpv_subset), check=False))
    assert "model.h5" in line and "not a .keras file" in line
    assert not (tmp_path / "o").exists()


def test_calibration_folder_without_images(tmp_path, trained_model):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    out = tmp_path / "o"
    line = _one_error_line(run_module(*_convert_args(trained_model / "model.keras", out, empty), check=False))
    assert str(empty) in line and "no image files for calibration" in line
    assert not out.exists() or not any(out.iterdir())


def test_existing_outputs_are_kept_without_force(tmp_path, trained_model, elpv_subset):
    out = tmp_path / "o"
    out.mkdir()
    (out / "model_int8.tflite").write_bytes(b"keep me")
    line = _one_error_line(
        run_module(*_convert_args(trained_model / "model.keras", out, elpv_subset), check=False)
    )
    assert "model_int8.tflite" in line and "--force" in line
    assert (out / "model_int8.tflite").read_bytes() == b"keep me"


def test_labels_that_do_not_match_the_model(tmp_path, trained_model, elpv_subset):
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    out = tmp_path / "o"
    args = _convert_args(trained_model / "model.keras", out, elpv_subset, "--labels", str(labels))
    line = _one_error_line(run_module(*args, check=False))
    assert "3 labels" in line and "2 outputs" in line
    assert not out.exists() or not any(out.iterdir())
