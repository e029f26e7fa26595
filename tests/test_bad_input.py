"""Bad input, command by command: one `error:` line naming the file and the fix, the right exit code, nothing written.

Each case makes its own hostile files (truncated, lying, a pipe, a folder where a file belongs, a
file where a folder belongs) and runs the command as a user would. The cases here fail before any
model trains or converts; the slower ones (a full disk while writing, another run's labels, signals
during a run) are beside the code they check.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_module

Case = Callable[[Path, dict], tuple[list[str], str]]  # (tmp, files) -> (command line, expected message)


def _png(path: Path, size=(32, 32)) -> Path:
    Image.fromarray(np.full((size[1], size[0], 3), 120, np.uint8)).save(path)
    return path


@pytest.fixture
def files(tmp_path, tiny_tflite) -> dict:
    """A good image, model and labels file, and the hostile ones, all made here."""
    good = _png(tmp_path / "good.png")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:50])
    lying = tmp_path / "notes.png"
    lying.write_text("this is text, not a picture")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    fifo_model = tmp_path / "pipe.tflite"
    os.mkfifo(fifo_model)
    depth = tmp_path / "depth.tiff"
    Image.fromarray(np.array([[-3.5, 1200.0]], dtype=np.float32), mode="F").save(depth)
    empty_folder = tmp_path / "empty"
    empty_folder.mkdir()
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(os.urandom(256))
    labels_folder = tmp_path / "labels_folder"
    labels_folder.mkdir()
    wrong_labels = tmp_path / "wrong_labels.txt"
    wrong_labels.write_text("a\nb\n")
    blank_labels = tmp_path / "blank_labels.txt"
    blank_labels.write_text("a\n\nc\n")
    in_the_way = tmp_path / "in_the_way"
    in_the_way.write_text("a file, not a folder")
    keras_file = tmp_path / "run" / "model.keras"
    keras_file.parent.mkdir()
    keras_file.write_bytes(b"PK")
    return {
        "good": good, "truncated": truncated, "lying": lying, "fifo": fifo, "fifo_model": fifo_model,
        "depth": depth, "empty_folder": empty_folder, "model": tiny_tflite["uint8"], "garbage": garbage,
        "labels_folder": labels_folder, "wrong_labels": wrong_labels, "blank_labels": blank_labels,
        "in_the_way": in_the_way, "keras": keras_file, "tflite_as_keras": tiny_tflite["uint8"],
    }  # fmt: skip


def _classify(image: str, *extra: str) -> Case:
    return lambda tmp, f: (
        ["edge_runtime", "classify", str(f[image]), "--model", str(f["model"]), *extra],
        "",
    )


CLASSIFY = {
    # images: each is one line, the rest would still run
    "image-missing": (lambda t, f: (["edge_runtime", "classify", str(t / "nope.png"), "--model", str(f["model"])], "nope.png: no such file"), 2),
    "image-truncated": (lambda t, f: (["edge_runtime", "classify", str(f["truncated"]), "--model", str(f["model"])], "truncated.png: cannot decode image"), 2),
    "image-not-an-image": (lambda t, f: (["edge_runtime", "classify", str(f["lying"]), "--model", str(f["model"])], "notes.png: not an image Pillow can read"), 2),
    "image-named-pipe": (lambda t, f: (["edge_runtime", "classify", str(f["fifo"]), "--model", str(f["model"])], "pipe.png: not a regular file (a pipe, device or socket)"), 2),
    "image-float-out-of-range": (lambda t, f: (["edge_runtime", "classify", str(f["depth"]), "--model", str(f["model"])], "neither 0..1 nor 0..255; save the image as 8- or 16-bit"), 2),
    "image-empty-folder": (lambda t, f: (["edge_runtime", "classify", str(f["empty_folder"]), "--model", str(f["model"])], "empty: a folder with no image files"), 2),
    # models
    "model-missing": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(t / "nope.tflite")], "nope.tflite: model file not found"), 2),
    "model-folder": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(t)], "is a folder, not a model"), 2),
    "model-named-pipe": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(f["fifo_model"])], "pipe.tflite: not a regular file"), 2),
    "model-garbage": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(f["garbage"])], "garbage.tflite: not a TFLite flatbuffer"), 2),
    "model-wrong-suffix": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(f["lying"])], "notes.png: not a .tflite model"), 2),
    # label files
    "labels-folder": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(f["model"]), "--labels", str(f["labels_folder"])], "labels_folder: is a folder; pass the labels file"), 2),
    "labels-missing": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(f["model"]), "--labels", str(t / "nope.txt")], "nope.txt: labels file not found"), 2),
    "labels-wrong-count": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(f["model"]), "--labels", str(f["wrong_labels"])], "wrong_labels.txt: 2 labels but the model has 3 outputs"), 2),
    "labels-blank-line": (lambda t, f: (["edge_runtime", "classify", str(f["good"]), "--model", str(f["model"]), "--labels", str(f["blank_labels"])], "blank_labels.txt: line 2 is blank"), 2),
}  # fmt: skip

CAMERA = {
    # sources
    "source-missing-folder": (lambda t, f: (["edge_runtime", "camera", "--model", str(f["model"]), "--source", str(t / "nope")], "nope: no such file or folder"), 2),
    "source-empty-folder": (lambda t, f: (["edge_runtime", "camera", "--model", str(f["model"]), "--source", str(f["empty_folder"])], "empty: no image files in this folder"), 2),
    "source-unknown-scheme": (lambda t, f: (["edge_runtime", "camera", "--model", str(f["model"]), "--source", "rtps://camera/stream"], "rtps://camera/stream"), 2),
    "source-one-image": (lambda t, f: (["edge_runtime", "camera", "--model", str(f["model"]), "--source", str(f["good"])], "good.png: is one image"), 2),
    # models and options
    "model-missing": (lambda t, f: (["edge_runtime", "camera", "--model", str(t / "nope.tflite"), "--source", str(t)], "nope.tflite: model file not found"), 2),
    "model-verify-without-card": (lambda t, f: (["edge_runtime", "camera", "--model", str(f["model"]), "--source", str(t), "--verify"], "--verify needs the model card written with it"), 2),
    "jsonl-into-a-folder": (lambda t, f: (["edge_runtime", "camera", "--model", str(f["model"]), "--source", str(t), "--jsonl", str(f["empty_folder"])], "cannot open the JSON-lines file for writing"), 2),
}  # fmt: skip

CONVERT = {
    # outputs, checked before anything is loaded
    "out-is-a-file": (lambda t, f: (["convert", "--model", str(f["keras"]), "--out", str(f["in_the_way"]), "--calibration-data", str(t)], "in_the_way: is a file, not a folder; choose another --out"), 2),
    "out-under-a-file": (lambda t, f: (["convert", "--model", str(f["keras"]), "--out", str(f["in_the_way"] / "o"), "--calibration-data", str(t)], "in_the_way is a file, not a folder"), 2),
    # models
    "model-missing": (lambda t, f: (["convert", "--model", str(t / "nope.keras"), "--out", str(t / "o"), "--calibration-data", str(t)], "nope.keras: no such Keras model"), 2),
    "model-is-tflite": (lambda t, f: (["convert", "--model", str(f["tflite_as_keras"]), "--out", str(t / "o")], "already a .tflite model; pass the saved Keras model"), 2),
    "model-is-a-folder": (lambda t, f: (["convert", "--model", str(t), "--out", str(t / "o")], "is a folder; pass the saved Keras model file"), 2),
    # evaluate's output
    "evaluate-out-is-a-folder": (lambda t, f: (["convert.evaluate", "--keras", str(f["keras"]), "--tflite", str(f["model"]), "--data", str(t), "--out", str(f["empty_folder"])], "empty: is a folder; --out names the JSON file"), 2),
}  # fmt: skip

TRAIN = {
    "out-is-a-file": (lambda t, f: (["train", "--data", str(t), "--out", str(f["in_the_way"])], "in_the_way: is a file, not a folder; choose another --out"), 2),
    "data-missing": (lambda t, f: (["train", "--data", str(t / "nope"), "--out", str(t / "o")], "nope: no such dataset folder"), 2),
    "data-is-a-file": (lambda t, f: (["train", "--data", str(f["good"]), "--out", str(t / "o")], "good.png: is a file; pass the dataset folder"), 2),
    "data-without-class-folders": (lambda t, f: (["train", "--data", str(f["empty_folder"]), "--out", str(t / "o")], "empty: no class folders"), 2),
    "labels-is-a-folder": (lambda t, f: (["train", "--data", str(t), "--labels", str(f["labels_folder"]), "--out", str(t / "o")], "labels_folder: is a folder; pass the labels file"), 2),
}  # fmt: skip


def _check(case, code: int, tmp_path: Path, files: dict) -> None:
    argv, expected = case(tmp_path, files)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    proc = run_module(*argv, check=False, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line[line.index("error:") :] for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    assert expected in errors[0], errors[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written, nothing half-written


@pytest.mark.parametrize(("case", "code"), CLASSIFY.values(), ids=CLASSIFY.keys())
def test_classify(case, code, tmp_path, files):
    _check(case, code, tmp_path, files)


@pytest.mark.parametrize(("case", "code"), CAMERA.values(), ids=CAMERA.keys())
def test_camera(case, code, tmp_path, files):
    _check(case, code, tmp_path, files)


@pytest.mark.parametrize(("case", "code"), CONVERT.values(), ids=CONVERT.keys())
def test_convert(case, code, tmp_path, files):
    _check(case, code, tmp_path, files)


@pytest.mark.parametrize(("case", "code"), TRAIN.values(), ids=TRAIN.keys())
def test_train(case, code, tmp_path, files):
    _check(case, code, tmp_path, files)
