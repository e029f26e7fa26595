"""Tests for `python -m train`: a real short training run on ELPV, and every user mistake as one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_module
from edge_runtime.image import load_resized
from labels import read_labels
from train.hyperparameters import Hyperparameters


def _train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--out", str(out), "--image-size", "64", "--seed", "0", *extra]


def test_cli_trains_on_elpv_and_writes_every_artifact(elpv_subset, tmp_path):
    out = tmp_path / "model"
    proc = run_module(*_train_args(elpv_subset / "train", out, "--epochs", "2", "--batch-size", "16"))
    class_names = sorted(p.name for p in (elpv_subset / "train").iterdir())
    assert class_names == ["defective", "functional"]
    n_images = sum(1 for _ in (elpv_subset / "train").glob("*/*.png"))
    assert f"{n_images} images in 2 classes" in proc.stdout
    assert "training cnn (64x64" in proc.stdout and "class weights on" in proc.stdout
    assert "kept epoch" in proc.stdout and "wrote model.keras" in proc.stdout

    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.keras", "labels.txt", "history.json", "training_curves.png", "train_config.json"]
    )  # and no temporary files left behind
    assert read_labels(out / "labels.txt") == class_names
    history = json.loads((out / "history.json").read_text())
    assert set(history) == {"accuracy", "loss", "val_accuracy", "val_loss", "epoch_seconds"}
    assert all(len(values) == 2 for values in history.values())
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"] + history["val_accuracy"])
    assert (out / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "train_config.json").read_text())
    assert config["model"] == {"model": "cnn", "image_size": 64, "alpha": 1.0, "dropout": 0.5}
    assert config["class_names"] == class_names and config["seed"] == 0
    assert config["dataset"] == str((elpv_subset / "train").resolve())
    assert config["hyperparameters"]["epochs"] == 2 and config["hyperparameters"]["batch_size"] == 16
    assert config["class_weights"]["defective"] == pytest.approx(1.0)  # the subset is balanced
    assert config["best_epoch"] in (1, 2) and config["elapsed_seconds"] > 0

    import keras

    model = keras.saving.load_model(out / "model.keras")
    files = sorted((elpv_subset / "test" / "defective").glob("*.png"))[:2]
    pixels = np.stack([load_resized(f, 64, 64) for f in files]).astype(np.float32)
    probabilities = model.predict(pixels, verbose=0)
    assert probabilities.shape == (2, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _png(path: Path, value: int = 128) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((40, 40, 3), value, dtype=np.uint8)).save(path)


def _missing(root: Path) -> Path:
    return root / "nowhere"


def _loose_images(root: Path) -> Path:
    for i in range(3):
        _png(root / f"img{i}.png")
    return root


def _unreadable_class(root: Path) -> Path:
    _png(root / "good" / "a.png")
    (root / "bad").mkdir()
    (root / "bad" / "a.png").write_text("not a png")
    return root


def _one_class(root: Path) -> Path:
    _png(root / "only" / "a.png")
    return root


def _too_few(root: Path) -> Path:
    for i in range(3):
        _png(root / "a" / f"{i}.png", 10)
        _png(root / "b" / f"{i}.png", 200)
    return root


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_missing, "{root}/nowhere: no such dataset folder"),
        (_loose_images, "{root}: no class folders; it holds image files directly"),
        (_unreadable_class, "{root}/bad: class 'bad' has no readable images"),
        (_one_class, "{root}: only one class folder ('only')"),
        (
            _too_few,
            "{root}: only 4 training images (after the validation split), fewer than the batch size "
            f"{Hyperparameters().batch_size}",
        ),
    ],
)
def test_dataset_mistakes_are_one_line_naming_the_folder(tmp_path, make, message):
    data = make(tmp_path / "data")
    line = _one_error_line(run_module(*_train_args(data, tmp_path / "out"), check=False))
    assert line.startswith("error: " + message.format(root=tmp_path / "data")), line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "resnet"], "error: unknown model 'resnet'; valid models: cnn, mobilenet_v2"),
        (["--model", "mobilenet_v2", "--image-size", "100"], "error: image size 100 is not supported by"),
        (["--epochs", "0"], "error: epochs 0 must be at least 1"),
    ],
)
def test_option_mistakes_are_one_line(tmp_path, extra, message):
    line = _one_error_line(run_module(*_train_args(tmp_path, tmp_path / "out"), *extra, check=False))
    assert line.startswith(message), line
