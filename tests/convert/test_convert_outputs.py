"""convert's outputs: checked before any work, replaced as one set, never labelled by another run's files."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest

from conftest import run_module
from edge_runtime.files import sha256_file


def _error_line(proc, code: int = 2) -> str:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _convert(model: Path, out: Path, *extra: str, data: Path | None = None):
    calibration = ["--calibration-data", str(data)] if data else []
    return run_module("convert", "--model", str(model), "--out", str(out), *calibration, *extra, check=False)


@pytest.fixture
def keras_file(tmp_path) -> Path:
    """A file named like a Keras model: the output checks run before it is ever loaded."""
    path = tmp_path / "run" / "model.keras"
    path.parent.mkdir()
    path.write_bytes(b"PK not loaded by these checks")
    return path


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("existing-file", "existing-file: is a file, not a folder; choose another --out"),
        ("existing-file/sub", "existing-file is a file, not a folder; choose another --out"),
    ],
)
def test_an_output_that_cannot_be_a_folder_is_refused_before_converting(tmp_path, keras_file, out, message):
    (tmp_path / "existing-file").write_text("mine\n")
    line = _error_line(_convert(keras_file, tmp_path / out, data=tmp_path))
    assert message in line
    assert (tmp_path / "existing-file").read_text() == "mine\n"


def test_a_tflite_or_a_folder_given_as_the_keras_model_is_named_as_such(tmp_path):
    tflite = tmp_path / "model_int8.tflite"
    tflite.write_bytes(b"\0" * 8)
    line = _error_line(_convert(tflite, tmp_path / "o"))
    assert "already a .tflite model; pass the saved Keras model (model.keras)" in line
    line = _error_line(_convert(tmp_path, tmp_path / "o"))
    assert "is a folder; pass the saved Keras model file inside it" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_the_training_record_of_another_model_is_refused(tmp_path, trained_model, tiny_keras):
    """A new model beside an earlier run's train_config.json and labels.txt must not be converted with them."""
    run = tmp_path / "run"
    shutil.copytree(trained_model, run, ignore=shutil.ignore_patterns("checkpoints"))
    config = json.loads((run / "train_config.json").read_text())
    assert config["model_sha256"] == sha256_file(run / "model.keras")  # train records what it wrote
    shutil.copy(tiny_keras, run / "model.keras")  # another model lands in the folder
    line = _error_line(_convert(run / "model.keras", tmp_path / "o"))
    assert "train_config.json: written by the training run of another model" in line
    assert "pass --labels and --calibration-data" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_full_disk_while_writing_keeps_the_previous_set_whole(
    tmp_path, trained_model, converted, elpv_subset
):
    """ENOSPC while the card is written: the previous models, labels and card stay, nothing new lands."""
    from convert import model_card
    from convert.converter import ConvertOptions
    from convert.export import ExportOptions, export_all, output_names

    out = tmp_path / "o"
    shutil.copytree(converted, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    names = output_names(ConvertOptions())
    assert set(names) <= set(before)

    def full_disk(folder, card):
        (folder / model_card.CARD_JSON).write_text("{")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / model_card.CARD_JSON))

    options = ExportOptions(conversion=ConvertOptions(calibration_images=32), latency_runs=1, force=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model_card, "write_card", full_disk)
        with pytest.raises(OSError, match="No space left"):
            export_all(
                trained_model / "model.keras",
                trained_model / "labels.txt",
                elpv_subset / "train",
                out,
                options,
            )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # not one file changed or added


def test_evaluate_out_naming_a_folder_is_refused_before_evaluating(tmp_path, keras_file):
    folder = tmp_path / "results"
    folder.mkdir()
    proc = run_module(
        "convert.evaluate", "--keras", str(keras_file), "--tflite", str(tmp_path / "m.tflite"),
        "--data", str(tmp_path), "--out", str(folder), check=False,
    )  # fmt: skip
    line = _error_line(proc)
    assert (
        line == f"error: {folder}: is a folder; --out names the JSON file, e.g. {folder / 'evaluation.json'}"
    )
    assert list(folder.iterdir()) == []  # no confidence PNG left behind
