"""Tests for train.class_report, the confusion-matrix and prediction-grid figures, and `python -m train.evaluate_keras`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_module
from edge_runtime.errors import UserError
from train.class_report import classification_report
from train.plots import plot_confusion
from train.prediction_grid import pick_examples, plot_predictions


def test_report_numbers_worked_by_hand():
    # true:      a a a a b b c
    # predicted: a a b c b b b
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    predictions = np.array([0, 0, 1, 2, 1, 1, 1])
    report = classification_report(labels, predictions, ["a", "b", "c"])
    np.testing.assert_array_equal(report.confusion, [[2, 1, 1], [0, 2, 0], [0, 1, 0]])
    assert report.accuracy == pytest.approx(4 / 7)
    assert report.balanced_accuracy == pytest.approx((2 / 4 + 2 / 2 + 0 / 1) / 3)
    a, b, c = (report.per_class[name] for name in "abc")
    assert (a.precision, a.recall, a.support) == (1.0, 0.5, 4)
    assert a.f1 == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert (b.precision, b.recall) == (pytest.approx(2 / 4), 1.0)
    assert (c.precision, c.recall, c.f1) == (0.0, 0.0, 0.0)  # predicted once, wrongly
    summary = report.to_json()
    assert summary["confusion_matrix"] == {
        "class_names": ["a", "b", "c"],
        "rows": "true class",
        "columns": "predicted class",
        "counts": [[2, 1, 1], [0, 2, 0], [0, 1, 0]],
    }
    assert json.loads(json.dumps(summary))["per_class"]["b"]["support"] == 2


def test_balanced_accuracy_ignores_absent_classes_and_bad_input_is_refused():
    report = classification_report(np.array([0, 0, 1]), np.array([0, 1, 1]), ["a", "b", "never"])
    assert report.balanced_accuracy == pytest.approx((0.5 + 1.0) / 2)
    assert report.per_class["never"].support == 0
    with pytest.raises(UserError, match=r"need as many predictions as labels \(got 1 and 2\)"):
        classification_report(np.array([0, 1]), np.array([0]), ["a", "b"])
    with pytest.raises(UserError, match=r"prediction 5 is outside the 2 classes"):
        classification_report(np.array([0, 1]), np.array([0, 5]), ["a", "b"])


def test_figures_are_pngs():
    confusion = np.array([[40, 2], [5, 20]])
    assert plot_confusion(confusion, ["defective", "functional"])[:8] == b"\x89PNG\r\n\x1a\n"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 28, 28, 3), dtype=np.uint8)
    images[1] = images[1, :, :, :1]  # a gray one
    probabilities = rng.dirichlet(np.ones(10), size=4)
    png = plot_predictions(images, probabilities, np.array([0, 1, 2, 3]), [f"class{i}" for i in range(10)])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    chosen = pick_examples(3, 10, seed=1)
    assert (
        len(set(chosen)) == 3
        and list(chosen) == sorted(chosen)
        and list(pick_examples(3, 10, 1)) == list(chosen)
    )
    assert list(pick_examples(15, 4)) == [0, 1, 2, 3]


@pytest.mark.slow
def test_evaluate_cli_writes_metrics_confusion_and_prediction_grid(trained_model, elpv_subset, tmp_path):
    out = tmp_path / "eval"
    proc = run_module(
        *(
            "train.evaluate_keras",
            "--model",
            str(trained_model / "model.keras"),
            "--data",
            str(elpv_subset / "test"),
        ),
        *("--out", str(out), "--examples", "6"),
    )
    assert "balanced accuracy" in proc.stdout and "defective" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["evaluation.json", "confusion_matrix.json", "confusion_matrix.png", "predictions.png"]
    )
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["num_images"] == 40 and evaluation["split"] == "test"
    recalls = [evaluation["per_class"][name]["recall"] for name in ("defective", "functional")]
    assert evaluation["balanced_accuracy"] == pytest.approx(np.mean(recalls))
    assert (
        json.loads((out / "confusion_matrix.json").read_text())["counts"]
        == evaluation["confusion_matrix"]["counts"]
    )


def test_evaluate_cli_mistakes_are_one_line(tmp_path):
    (tmp_path / "labels.txt").write_text("defective\nfunctional\n")
    args = ["--model", str(tmp_path / "nope.keras"), "--data", str(tmp_path), "--out", str(tmp_path / "o")]
    args += ["--labels", str(tmp_path / "labels.txt")]
    proc = run_module("train.evaluate_keras", *args, check=False)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()[-1]
        == f"error: {tmp_path}/nope.keras: no such Keras model (train one first: python -m train)"
    )
    assert not (tmp_path / "o").exists()


def test_evaluate_cli_reports_a_bad_value_under_its_flag(tmp_path, capsys):
    from train.evaluate_keras import main

    (tmp_path / "labels.txt").write_text("defective\nfunctional\n")
    args = ["--model", str(tmp_path / "m.keras"), "--data", str(tmp_path), "--out", str(tmp_path / "o")]
    assert main([*args, "--labels", str(tmp_path / "labels.txt"), "--examples", "0"]) == 2
    assert capsys.readouterr().err == "error: --examples 0: must be at least 1\n"
