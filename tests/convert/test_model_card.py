"""The model card written beside the models by `python -m convert`: every field, checked against the files."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def card(converted) -> dict:
    return json.loads((converted / "model_card.json").read_text(encoding="utf-8"))


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_source_dataset_and_classes(card, converted, trained_model, elpv_subset):
    source = card["source_model"]
    assert source["sha256"] == _sha(trained_model / "model.keras")
    assert source["input_shape"] == [None, 64, 64, 3]
    assert card["classes"] == ["defective", "functional"]
    assert card["dataset"]["calibration"] == {"folder": str(elpv_subset / "train"), "images": 64, "seed": 0}
    test = card["dataset"]["test"]
    assert test["folder"] == str(elpv_subset / "test") and test["class_counts"] == {
        "defective": 20,
        "functional": 20,
    }
    assert card["machine"]["cpu_threads"] >= 1 and card["tools"]["tensorflow"]
    assert list(card["models"]) == ["model_int8.tflite", "model_float32.tflite"]
    assert not [p.name for p in converted.iterdir() if p.name.endswith(".tmp")]  # atomic writes left nothing


@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_each_model_entry_matches_its_file(card, converted, name):
    from edge_runtime.interpreter import make_interpreter

    entry, path = card["models"][name], converted / name
    assert entry["file"] == name
    assert entry["sha256"] == _sha(path) and entry["size_bytes"] == path.stat().st_size
    interpreter = make_interpreter(path)
    # The interpreter's node list, less the XNNPACK delegate node it appends when it prepares the graph.
    ops = [op["op_name"] for op in interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
    assert entry["ops"] == {op: ops.count(op) for op in dict.fromkeys(ops)} and entry["num_ops"] == len(ops)
    accuracy = entry["accuracy"]
    assert 0.0 <= accuracy["converted"] <= 1.0 and 0.0 <= accuracy["keras_float"] <= 1.0
    assert accuracy["drop_points"] == pytest.approx(100 * (accuracy["keras_float"] - accuracy["converted"]))
    assert set(accuracy["per_class"]) == {"defective", "functional"}
    assert set(accuracy["per_class"]["defective"]) == {"keras_float", "converted"}
    assert accuracy["test_images"] == 40
    threads = [run["threads"] for run in entry["latency_ms"]]
    assert (
        threads[0] == 1 and threads == sorted(set(threads)) and threads[-1] == card["machine"]["cpu_threads"]
    )
    for run in entry["latency_ms"]:
        assert (
            0 < run["min_ms"] <= run["median_ms"] <= run["max_ms"]
            and run["runs"] == 20
            and run["warmup"] == 3
        )
    assert "TFLite Task Library" in entry["clients"]


def test_input_spec_and_quantization(card):
    int8, float32 = card["models"]["model_int8.tflite"], card["models"]["model_float32.tflite"]
    assert int8["quantization"]["mode"] == "int8" and int8["quantization"]["io"] == "uint8"
    assert int8["input"] == {
        "shape": [1, 64, 64, 3],
        "dtype": "uint8",
        "scale": 1.0,
        "zero_point": 0,
        "color_space": "RGB",
        "pixels": "raw 0..255",
    }
    assert int8["output"]["dtype"] == "uint8" and int8["output"]["scale"] == pytest.approx(1 / 256)
    assert int8["calibration_images"] == 64 and "calibration_images" not in float32
    assert float32["quantization"] == {
        "mode": "float32",
        "io": "float32",
        "description": "float32 weights and activations (no quantization)",
    }
    assert float32["input"]["dtype"] == "float32" and "scale" not in float32["input"]
    assert int8["edge_tpu"]["fully_mapped"] is True and float32["edge_tpu"]["ops_on_edgetpu"] == 0


def test_markdown_card(card, converted):
    text = (converted / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert text.startswith(f"# Model card: {card['source_model']['name']}\n")
    for name, entry in card["models"].items():
        assert f"## {name}" in text and entry["sha256"] in text
    assert card["source_model"]["sha256"] in text
    assert "| input | `[1, 64, 64, 3]` uint8, scale 1, zero point 0; RGB, raw 0..255 |" in text
    assert "| class | Keras float | converted |" in text and "| defective |" in text
    int8 = card["models"]["model_int8.tflite"]
    ops = ", ".join(f"{op} ×{count}" for op, count in int8["ops"].items())
    assert "1 thread:" in text and f"Ops ({int8['num_ops']}): {ops}" in text
    # Full-integer: the int8 model's only float boundary ops are the two QUANTIZE ops of the uint8 I/O.
    assert int8["ops"]["QUANTIZE"] == 2 and int8["ops"]["CONV_2D"] >= 3


def test_a_second_mode_keeps_the_first_modes_entry_while_its_file_is_unchanged(card, converted, tmp_path):
    from convert.model_card import merge_previous

    folder = tmp_path / "tflite"
    shutil.copytree(converted, folder)
    # What a later `--quantize float16 --force` run into the same folder builds: float16 + float32.
    later = {**card, "models": {"model_float16.tflite": {"file": "model_float16.tflite"}}}
    later["models"]["model_float32.tflite"] = card["models"]["model_float32.tflite"]
    merged = merge_previous(later, folder)
    assert list(merged["models"]) == ["model_float16.tflite", "model_float32.tflite", "model_int8.tflite"]
    assert merged["models"]["model_int8.tflite"] == card["models"]["model_int8.tflite"]

    (folder / "model_int8.tflite").write_bytes(b"replaced by hand")
    assert "model_int8.tflite" not in merge_previous(later, folder)["models"]
    other_source = {**later, "source_model": {**card["source_model"], "sha256": "0" * 64}}
    assert "model_int8.tflite" not in merge_previous(other_source, folder)["models"]


def test_latency_measurement_is_a_median_of_real_invokes(converted):
    from convert.model_card import measure_latency

    data = (converted / "model_int8.tflite").read_bytes()
    run = measure_latency(data, np.zeros((64, 64, 3), np.uint8), threads=1, runs=5, warmup=1)
    assert run["threads"] == 1 and run["runs"] == 5 and run["warmup"] == 1
    assert 0 < run["min_ms"] <= run["median_ms"] <= run["max_ms"] < 1000
