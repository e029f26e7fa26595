"""Top-k accuracy, accuracy on confident results and the curve: crafted numbers, then a 10-class model end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_module
from convert.accuracy import confidence_curve, confident_accuracy, reported_ks, top_k_accuracy, top_k_hits
from convert.evaluation_report import format_report, report
from convert.scores import EvaluationSet, ModelScores
from edge_runtime.ambiguity import AmbiguityRule
from edge_runtime.classify import classify_image, get_classes_from_scores, get_confidence
from edge_runtime.image import load_rgb
from edge_runtime.interpreter import make_interpreter

CLASSES = 10


def test_top_k_ranks_ties_as_the_runtime_does():
    # A uint8 softmax has many ties; the metric must count the classes the device would show.
    rng = np.random.default_rng(0)
    probabilities = rng.integers(0, 6, size=(200, 7)) / 8.0
    labels = rng.integers(0, 7, size=200)
    for k in (1, 3, 5):
        shown = [{c.id for c in get_classes_from_scores(row, top_k=k)} for row in probabilities]
        expected = [label in ids for label, ids in zip(labels, shown, strict=True)]
        assert top_k_hits(labels, probabilities, k).tolist() == expected
    tie = np.array([[0.4, 0.4, 0.2]])
    assert top_k_accuracy([1], tie, 1) == 0.0 and top_k_accuracy([1], tie, 2) == 1.0
    assert reported_ks(4) == (1,) and reported_ks(5) == (1, 5)


def test_confident_accuracy_and_the_curve_on_crafted_results():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.8, 0.2], [0.3, 0.7]])
    labels = np.array([0, 0, 0, 1])  # right, wrong, right, right
    point = confident_accuracy(labels, probabilities, AmbiguityRule(ambiguous_below=0.75, min_margin=0.0))
    assert (point.results, point.kept, point.accuracy, point.accuracy_all) == (4, 3, 2 / 3, 0.75)
    assert point.share_set_aside == 0.25 and point.to_json()["ambiguous_below"] == 0.75
    curve = confidence_curve(labels, probabilities, "top_score")
    assert curve.thresholds.tolist() == [0.9, 0.8, 0.7]  # the two 0.8s are kept or dropped together
    assert curve.kept_share.tolist() == [0.25, 0.75, 1.0]
    assert curve.accuracy.tolist() == pytest.approx([1.0, 2 / 3, 0.75])
    assert curve.at(0.85) == (0.25, 1.0) and curve.at(0.95) == (0.0, None) and curve.at(0.0)[0] == 1.0
    assert confidence_curve(labels, probabilities, "margin").thresholds.tolist() == pytest.approx(
        [0.8, 0.6, 0.4]
    )
    everything_aside = confident_accuracy(labels, probabilities, AmbiguityRule(ambiguous_below=1.0))
    assert everything_aside.kept == 0 and everything_aside.accuracy is None


def test_two_classes_report_no_top5():
    evaluation = EvaluationSet(np.zeros((4, 2, 2, 3), np.uint8), np.array([0, 1, 1, 0]), ["a", "b"])
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3], [0.52, 0.48]], np.float32)
    scores = ModelScores("m", probabilities.argmax(axis=1), probabilities)
    summary = report(evaluation, [scores])
    entry = summary["models"]["m"]
    assert summary["top_k"] == [1] and "top5_accuracy" not in entry and entry["top1_accuracy"] == 0.75
    # The last result's margin (0.04) sets it aside; of the other three, the third is wrong.
    assert entry["confident"]["kept"] == 3 and entry["confident"]["accuracy_confident"] == pytest.approx(
        2 / 3
    )
    assert "top-5" not in format_report(summary) and "top-1" in format_report(summary)


# --- a 10-class model trained for one epoch, converted and evaluated -----------------------------


@pytest.fixture(scope="module")
def ten_classes(tmp_path_factory):
    """Written 40x40 images of 10 colour classes (train 16, test 6 each), a cnn trained 1 epoch, converted."""
    root = tmp_path_factory.mktemp("ten")
    rng = np.random.default_rng(0)
    for split, count in (("train", 16), ("test", 6)):
        for c in range(CLASSES):
            folder = root / "data" / split / f"class_{c}"
            folder.mkdir(parents=True)
            colour = np.array([(c * 25) % 256, (c * 80) % 256, 255 - c * 25])
            for i in range(count):
                pixels = np.clip(colour + rng.normal(0, 30, (40, 40, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    data = root / "data"
    run_module(
        "train", "--data", str(data / "train"), "--out", str(root / "model"), "--epochs", "1",
        "--image-size", "32", "--batch-size", "16", "--seed", "0",
    )  # fmt: skip
    converted = run_module(
        "convert", "--model", str(root / "model" / "model.keras"), "--out", str(root / "tflite"),
        "--calibration-data", str(data / "train"), "--calibration-images", "32",
        "--max-accuracy-drop", "100", "--latency-runs", "3",
    )  # fmt: skip
    return root, converted.stdout


@pytest.mark.slow
def test_gate_table_and_model_card_show_top5(ten_classes):
    root, gate_output = ten_classes
    header = gate_output.splitlines()[1].split()
    assert header[:3] == ["model", "accuracy", "top-5"] and header[3] == "class_0"
    keras_row = next(line for line in gate_output.splitlines() if line.startswith("keras (float)"))
    assert keras_row.count("%") == 2 + CLASSES
    card = json.loads((root / "tflite" / "model_card.json").read_text())
    for name in ("model_int8.tflite", "model_float32.tflite"):
        accuracy = card["models"][name]["accuracy"]
        assert accuracy["top5"]["converted"] >= accuracy["converted"]
        assert accuracy["top5"]["keras_float"] >= accuracy["keras_float"]
        assert accuracy["confident"]["ambiguous_below"] == 0.5 and accuracy["confident"]["min_margin"] == 0.1
    assert "| top-5 accuracy |" in (root / "tflite" / "MODEL_CARD.md").read_text()


@pytest.mark.slow
def test_evaluate_reports_top5_confident_accuracy_and_the_curve(ten_classes):
    root, _ = ten_classes
    out = root / "evaluation" / "evaluation.json"
    tflite = root / "tflite"
    proc = run_module(
        "convert.evaluate", "--keras", str(root / "model" / "model.keras"),
        "--tflite", str(tflite / "model_float32.tflite"), str(tflite / "model_int8.tflite"),
        "--data", str(root / "data" / "test"), "--out", str(out),
    )  # fmt: skip
    summary = json.loads(out.read_text())
    assert summary["top_k"] == [1, 5] and summary["num_images"] == 60
    assert set(summary["models"]) == {"keras_float32", "model_float32", "model_int8"}
    for entry in summary["models"].values():
        assert 0.0 <= entry["top1_accuracy"] <= entry["top5_accuracy"] <= 1.0
        assert entry["top1_accuracy"] == entry["accuracy"]
        curve = entry["confidence_curve"]["top_score"]
        assert curve[0] == {"threshold": 0.0, "kept_share": 1.0, "accuracy": entry["accuracy"]}
    header = next(line for line in proc.stdout.splitlines() if line.startswith("model "))
    assert header.split()[:6] == ["model", "top-1", "top-5", "confident", "set", "aside"]

    # The int8 numbers again, independently: the runtime's own top-5 and ambiguity on each file.
    interpreter = make_interpreter(tflite / "model_int8.tflite")
    top1 = top5 = kept = kept_right = 0
    files = sorted((root / "data" / "test").glob("class_*/*.png"))
    for path in files:
        label = int(path.parent.name.split("_")[1])
        ids = [c.id for c in classify_image(interpreter, load_rgb(path), top_k=5)]
        top1, top5 = top1 + (ids[0] == label), top5 + (label in ids)
        if not get_confidence(interpreter).ambiguous:
            kept, kept_right = kept + 1, kept_right + (ids[0] == label)
    int8 = summary["models"]["model_int8"]
    assert int8["top1_accuracy"] == pytest.approx(top1 / len(files))
    assert int8["top5_accuracy"] == pytest.approx(top5 / len(files))
    assert int8["confident"]["kept"] == kept
    assert int8["confident"]["share_set_aside"] == pytest.approx(1 - kept / len(files))
    if kept:
        assert int8["confident"]["accuracy_confident"] == pytest.approx(kept_right / kept)

    png = out.with_name("evaluation_confidence.png")
    assert summary["files"]["confidence_png"] == str(png)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (800, 550)
