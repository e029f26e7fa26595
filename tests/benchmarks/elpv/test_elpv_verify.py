"""`python -m benchmarks.elpv.verify`: a model's test accuracy through the real Task Library, its sha256 checked."""

from __future__ import annotations

import json
import shutil

import pytest

from benchmarks.elpv.verify import score
from conftest import CLIENTS_PYTHON, run_clients, run_module
from edge_runtime.files import sha256_file


def test_score_counts_recall_and_accuracy_per_expert_probability():
    truth = ["defective", "defective", "functional", "functional", "functional"]
    predicted = ["defective", "functional", "functional", "functional", "defective"]
    result = score(truth, predicted, [1.0, 0.667, 0.0, 0.333, 0.0])
    assert result["accuracy"] == pytest.approx(3 / 5) and result["correct"] == 3
    assert result["recall"] == {"defective": 0.5, "functional": pytest.approx(2 / 3)}
    assert result["accuracy_by_expert_probability"] == {
        "0.000": {"images": 2, "accuracy": 0.5},
        "0.333": {"images": 1, "accuracy": 1.0},
        "0.667": {"images": 1, "accuracy": 0.0},
        "1.000": {"images": 1, "accuracy": 1.0},
    }


@pytest.mark.slow
@pytest.mark.clients
def test_the_task_library_classifies_every_test_cell_and_a_changed_file_is_refused(
    converted, elpv_subset, tmp_path
):
    model = tmp_path / "model_int8.tflite"
    shutil.copy(converted / "model_int8.tflite", model)
    (tmp_path / "model_int8.tflite.sha256").write_text(f"{sha256_file(model)}  model_int8.tflite\n")
    out = tmp_path / "verify.json"
    run_module(
        "benchmarks.elpv.verify", str(model), "--data", str(elpv_subset / "test"),
        "--clients-python", str(CLIENTS_PYTHON), "--out", str(out),
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert result["sha256_checked"] and result["images"] == 40
    assert result["accuracy"] == result["correct"] / 40
    counts = {p: v["images"] for p, v in result["accuracy_by_expert_probability"].items()}
    assert sum(counts.values()) == 40 and set(result["recall"]) == {"defective", "functional"}
    # The same answers as the Task Library asked image by image (the listing keeps the files' order).
    images = sorted((elpv_subset / "test").glob("*/*.png"))
    answers = run_clients(model, images, top_k=1)["task_library"]["results"]
    truth = [path.parent.name for path in images]
    assert result["correct"] == sum(a[0]["label"] == t for a, t in zip(answers, truth, strict=True))

    model.write_bytes(model.read_bytes() + b"\0")
    proc = run_module("benchmarks.elpv.verify", str(model), "--data", str(elpv_subset / "test"), check=False)
    assert proc.returncode == 2 and "differs from" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_module(
        "benchmarks.elpv.verify", str(converted / "model_int8.tflite"), "--data", str(elpv_subset / "test"),
        "--clients-python", str(tmp_path / "nowhere" / "python"), check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "make clients" in proc.stderr.strip().splitlines()[-1]
