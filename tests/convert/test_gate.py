"""The accuracy gate: which test images, pass and fail, what a failure writes (nothing) and prints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_module


def _main(capsys, *args: str) -> tuple[int, str, str]:
    """Runs `python -m convert` in this process (TensorFlow is already loaded); returns code, stdout, stderr."""
    from convert.__main__ import main

    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _link_training_data(elpv_subset: Path, tmp_path: Path) -> Path:
    """A training folder with no `test` folder beside it (a symlink to the subset's train folder)."""
    folder = tmp_path / "data" / "train"
    folder.parent.mkdir(parents=True)
    os.symlink(elpv_subset / "train", folder)
    return folder


# --- which images the gate uses --------------------------------------------------------------------


def test_the_test_folder_beside_the_calibration_data_is_the_default(elpv_subset):
    from convert.gate import GateOptions, resolve_test_data

    images = resolve_test_data(GateOptions(), elpv_subset / "train", ["defective", "functional"])
    assert images.source == "sibling" and images.folder == elpv_subset / "test"
    assert len(images.files) == 40 and images.held_out == frozenset()
    assert (
        images.describe()
        == f"40 images from {elpv_subset / 'test'} (the test folder beside the calibration data)"
    )


def test_without_a_test_folder_a_seeded_part_is_held_out_of_calibration(elpv_subset, tmp_path):
    from convert.calibration import calibration_set
    from convert.gate import GateOptions, resolve_test_data

    train = _link_training_data(elpv_subset, tmp_path)
    classes = ["defective", "functional"]
    images = resolve_test_data(GateOptions(), train, classes)
    assert images.source == "held_out"
    assert [label for _, label in images.files] == [0] * 8 + [1] * 8  # 20% of 40 per class
    assert images.held_out == {path for path, _ in images.files}
    assert resolve_test_data(GateOptions(), train, classes) == images  # seeded
    assert resolve_test_data(GateOptions(seed=1), train, classes).held_out != images.held_out
    assert "held out of" in images.describe() and "--test-data" in images.describe()
    # Calibration never sees them: all 80 training images minus the 16 held out.
    assert len(calibration_set(train, 1000, 16, 16, exclude=images.held_out)) == 64


def test_test_data_option_and_its_errors(elpv_subset, tmp_path):
    from convert.gate import GateOptions, resolve_test_data
    from edge_runtime.errors import UserError

    classes = ["defective", "functional"]
    given = resolve_test_data(GateOptions(test_data=elpv_subset / "train"), None, classes)
    assert given.source == "given" and len(given.files) == 80
    with pytest.raises(FileNotFoundError, match="nope"):
        resolve_test_data(GateOptions(test_data=tmp_path / "nope"), None, classes)
    with pytest.raises(UserError, match=r"no folder for class\(es\) cracked"):
        resolve_test_data(GateOptions(test_data=elpv_subset / "test"), None, [*classes, "cracked"])
    flat = tmp_path / "flat"
    flat.mkdir()
    with pytest.raises(UserError, match="holds out labelled images from it, or pass --test-data"):
        resolve_test_data(GateOptions(), flat, classes)
    with pytest.raises(UserError, match="give a number of points"):
        GateOptions(max_accuracy_drop=float("nan"))


# --- pass and fail, through the CLI ----------------------------------------------------------------


@pytest.mark.slow
def test_default_conversion_passes_the_gate(converted):
    card = json.loads((converted / "model_card.json").read_text())
    assert card["dataset"]["test"]["source"] == "sibling" and card["dataset"]["test"]["images"] == 40
    for name in ("model_int8.tflite", "model_float32.tflite"):
        accuracy = card["models"][name]["accuracy"]
        assert accuracy["gate"] == "passed" and accuracy["max_drop_points"] == 1.0
        assert accuracy["drop_points"] <= 1.0


@pytest.mark.slow
def test_gate_failure_exits_non_zero_prints_per_class_accuracy_and_writes_nothing(
    trained_model, elpv_subset, tmp_path
):
    out = tmp_path / "out"
    proc = run_module(
        "convert",
        "--model",
        str(trained_model / "model.keras"),
        "--out",
        str(out),
        "--calibration-data",
        str(elpv_subset / "train"),
        "--calibration-images",
        "16",
        "--max-accuracy-drop",
        "-100",
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    table = proc.stdout.splitlines()
    assert (
        table[0].startswith("accuracy gate on 40 images from") and "defective: 20, functional: 20" in table[0]
    )
    assert table[1].split()[:4] == ["model", "accuracy", "defective", "functional"]
    rows = {line.split("  ")[0].strip(): line for line in table[3:6]}
    assert set(rows) == {"keras (float)", "model_int8.tflite", "model_float32.tflite"}
    assert rows["model_int8.tflite"].endswith("FAIL") and rows["model_float32.tflite"].endswith("FAIL")
    assert rows["keras (float)"].count("%") == 3  # overall and both classes, for the Keras model too
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: accuracy gate failed: model_int8.tflite lost ")
    assert "(max -100.00); nothing written to" in errors[0]
    assert not out.exists()


@pytest.mark.slow
def test_failed_model_never_replaces_a_good_one(trained_model, elpv_subset, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "model_float32.tflite").write_bytes(b"the good model")
    code, _, err = _main(
        capsys,
        "--model",
        str(trained_model / "model.keras"),
        "--out",
        str(out),
        "--calibration-data",
        str(elpv_subset / "train"),
        "--quantize",
        "float32",
        "--max-accuracy-drop",
        "-100",
        "--force",
    )
    assert code == 1 and "accuracy gate failed" in err
    assert [p.name for p in out.iterdir()] == ["model_float32.tflite"]
    assert (out / "model_float32.tflite").read_bytes() == b"the good model"


@pytest.mark.slow
def test_keep_failed_writes_the_models_and_the_card_says_failed(trained_model, elpv_subset, tmp_path, capsys):
    out = tmp_path / "out"
    train = _link_training_data(elpv_subset, tmp_path)
    code, stdout, err = _main(
        capsys,
        "--model",
        str(trained_model / "model.keras"),
        "--out",
        str(out),
        "--calibration-data",
        str(train),
        "--quantize",
        "float32",
        "--max-accuracy-drop",
        "-100",
        "--keep-failed",
        "--latency-runs",
        "2",
    )
    assert code == 1 and "written anyway (--keep-failed)" in err
    assert "16 images held out of" in stdout  # no test folder beside the data: the held-out part
    assert sorted(p.name for p in out.iterdir()) == [
        "MODEL_CARD.md",
        "labels.txt",
        "model_card.json",
        "model_float32.tflite",
    ]
    card = json.loads((out / "model_card.json").read_text())
    assert card["dataset"]["test"]["source"] == "held_out"
    assert card["models"]["model_float32.tflite"]["accuracy"]["gate"] == "failed"
    assert "gate failed" in (out / "MODEL_CARD.md").read_text()
