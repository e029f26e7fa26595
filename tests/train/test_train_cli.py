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
from train.artifacts import ARTIFACTS
from train.evaluate_keras import EVALUATION_FILES
from train.hyperparameters import Hyperparameters
from train.model_spec import MODEL_SPECS

# The seed `make` fine-tunes ELPV's pre-trained body with (benchmarks/results/elpv/README.md).
MAKE_SEED = 3


def _train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--out", str(out), "--image-size", "64", "--seed", "0", *extra]


@pytest.mark.slow
def test_cli_trains_on_elpv_and_writes_every_artifact(elpv_subset, tmp_path):
    out = tmp_path / "model"
    proc = run_module(
        *_train_args(elpv_subset / "train", out, "--epochs", "2", "--batch-size", "16"),
        "--test-data",
        str(elpv_subset / "test"),
    )
    class_names = sorted(p.name for p in (elpv_subset / "train").iterdir() if p.is_dir())
    assert class_names == ["defective", "functional"]
    n_images = sum(1 for _ in (elpv_subset / "train").glob("*/*.png"))
    assert f"{n_images} images in 2 classes" in proc.stdout
    assert "training cnn (64x64, gray inside" in proc.stdout and "class weights on" in proc.stdout
    assert "kept epoch" in proc.stdout and "wrote model.keras" in proc.stdout
    assert "test (40 images): accuracy " in proc.stdout and "balanced accuracy" in proc.stdout

    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*ARTIFACTS, *EVALUATION_FILES, "checkpoints"]
    )  # and no temporary files left behind
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "best.keras",
        "last.keras",
        "state.json",
    ]
    assert read_labels(out / "labels.txt") == class_names
    history = json.loads((out / "history.json").read_text())
    assert set(history) == {"accuracy", "loss", "val_accuracy", "val_loss", "epoch_seconds"}
    assert all(len(values) == 2 for values in history.values())
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"] + history["val_accuracy"])
    assert (out / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "train_config.json").read_text())
    assert config["model"] == {
        "model": "cnn",
        "image_size": 64,
        "alpha": 1.0,
        "dropout": 0.5,
        "weights": None,
        "grayscale": True,  # ELPV cells are gray: auto-detected
        "views": 1,
    }
    assert config["class_names"] == class_names and config["seed"] == 0
    assert config["dataset"] == str((elpv_subset / "train").resolve())
    assert config["hyperparameters"]["epochs"] == 2 and config["hyperparameters"]["batch_size"] == 16
    assert config["hyperparameters"]["augmentation"]["flip"] == "horizontal_and_vertical"
    assert config["hyperparameters"]["label_smoothing"] == 0.1  # the default: int8 copies stay close
    assert config["class_weights"]["defective"] == pytest.approx(1.0)  # the subset is balanced
    assert config["best_epoch"] in (1, 2) and config["elapsed_seconds"] > 0

    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["num_images"] == 40 and set(evaluation["per_class"]) == set(class_names)
    confusion = json.loads((out / "confusion_matrix.json").read_text())
    assert confusion["class_names"] == class_names and np.sum(confusion["counts"]) == 40
    assert np.trace(confusion["counts"]) / 40 == pytest.approx(evaluation["accuracy"])

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
        pytest.param(  # found when fitting starts, after the child has started TensorFlow
            _too_few,
            "{root}: only 4 training images (after the validation split), fewer than the batch size "
            f"{Hyperparameters().batch_size}",
            marks=pytest.mark.slow,
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
        (["--model", "resnet"], f"error: unknown model 'resnet'; valid models: {', '.join(MODEL_SPECS)}"),
        (
            ["--model", "mobilenet_v2", "--image-size", "100"],
            "error: --image-size 100: not supported by mobilenet_v2",
        ),
        (["--epochs", "0"], "error: --epochs 0: must be at least 1"),
        (["--patience", "0"], "error: --patience 0: must be at least 1"),
        (
            ["--warmup-epochs", "2"],
            "error: --warmup-epochs 2: warm-up needs the cosine learning-rate schedule",
        ),
        (["--flip", "none", "--rotation", "0.9"], "error: --rotation 0.9: must be in [0, 0.5]"),
        (
            ["--model", "cnn", "--weights", "imagenet"],
            "error: --weights 'imagenet': model cnn has no ImageNet weights",
        ),
    ],
)
def test_option_mistakes_are_one_line_under_their_flags(tmp_path, extra, message):
    line = _one_error_line(run_module(*_train_args(tmp_path, tmp_path / "out"), *extra, check=False))
    assert line.startswith(message), line


def test_unknown_dataset_lists_the_valid_ones(tmp_path):
    proc = run_module("train", "--dataset", "mnist", "--out", str(tmp_path / "out"), check=False)
    assert _one_error_line(proc) == "error: unknown dataset 'mnist'; valid datasets: fashion_mnist, cifar10"


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty Keras cache and a proxy that refuses every connection: no download can happen."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    return home


@pytest.mark.slow
def test_imagenet_weights_that_cannot_be_downloaded_name_the_file_and_where_it_goes(
    elpv_subset, tmp_path, offline
):
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    proc = run_module(
        *_train_args(elpv_subset / "train", tmp_path / "out"),
        *("--model", "mobilenet_v2", "--image-size", "96", "--alpha", "0.35", "--weights", "imagenet"),
        check=False,
    )
    line = _one_error_line(proc)
    assert line.startswith(
        "error: cannot download the ImageNet weights of mobilenet_v2 from "
        f"https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/{name} ("
    ), line
    assert line.endswith(
        f"); put that file at {offline}/models/{name}, or use --weights none or a weights file"
    )


@pytest.mark.slow
def test_weights_files_that_are_missing_or_do_not_fit_are_one_line(elpv_subset, tmp_path):
    import keras

    from train.model_options import ModelOptions
    from train.model_spec import get_spec

    missing = tmp_path / "nope.weights.h5"
    proc = run_module(
        *_train_args(elpv_subset / "train", tmp_path / "out"), "--weights", str(missing), check=False
    )
    assert _one_error_line(proc).startswith(f"error: {missing}: no such weights file for --weights")
    other = tmp_path / "cnn32.weights.h5"
    keras.utils.set_random_seed(0)
    get_spec("cnn").build(ModelOptions(image_size=32), 2).save_weights(other)
    proc = run_module(
        *_train_args(elpv_subset / "train", tmp_path / "out"), "--weights", str(other), check=False
    )
    assert _one_error_line(proc).startswith(f"error: {other}: weights do not fit model cnn (")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--fine-tune-epochs", "1"],
            "error: --fine-tune-epochs 1: fine-tuning unfreezes a pretrained base: cnn needs ImageNet weights",
        ),
        (
            ["--resume"],
            "error: {out}/checkpoints/state.json: no checkpoint to resume; train into {out} without",
        ),
    ],
)
def test_run_mistakes_are_one_line(elpv_subset, tmp_path, extra, message):
    out = tmp_path / "out"
    line = _one_error_line(run_module(*_train_args(elpv_subset / "train", out), *extra, check=False))
    assert line.startswith(message.format(out=out)), line


def test_a_malformed_tf_config_is_one_line(elpv_subset, tmp_path, monkeypatch):
    monkeypatch.setenv(
        "TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}'
    )
    proc = run_module(
        *_train_args(elpv_subset / "train", tmp_path / "out"), "--distribute", "multi-worker", check=False
    )
    assert _one_error_line(proc).startswith("error: TF_CONFIG is not valid: expected JSON like")


def _planned(build: Path, *args: str) -> str:
    """What `make -n` would run with BUILD=build and these arguments."""
    import shutil
    import subprocess

    from conftest import REPO

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    command = ["make", "-n", "-C", str(REPO), f"BUILD={build}", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _train_line(plan: str) -> list[str]:
    """The arguments of the one `python -m train` command in a make plan."""
    lines = [line.split(" -m train ", 1)[1] for line in plan.splitlines() if " -m train " in line]
    assert len(lines) == 1, plan
    return lines[0].split()


@pytest.mark.parametrize(
    ("pretrain", "learning_rate", "seed", "split_seed", "weights"),
    [
        ("", 0.0007, MAKE_SEED, 0, "benchmarks/results/elpv/pretraining/simclr60_gray.weights.h5"),
        ("PRETRAIN=1", 0.0007, MAKE_SEED, 0, "{build}/ssl/simclr60_gray.weights.h5"),
        ("PRETRAIN=0", 0.002, 1, None, None),
    ],
)
def test_make_plans_a_valid_elpv_training_command_for_each_start(
    tmp_path, pretrain, learning_rate, seed, split_seed, weights
):
    from train.cli import options_from, parser

    args = parser().parse_args(_train_line(_planned(tmp_path, *filter(None, [pretrain]))))
    options, hparams = options_from(args)
    assert options.model == "cnn_bn" and options.image_size == 160
    assert hparams.validation_split == 0.2 and hparams.monitor == "val_accuracy"
    assert hparams.learning_rate == learning_rate and hparams.seed == seed
    assert hparams.split_seed == split_seed
    assert options.weights == (weights.format(build=tmp_path) if weights else None)


def test_make_trains_elpv_from_the_published_body_and_pretrain_picks_another_start(tmp_path):
    from conftest import REPO

    default, pretrained = _planned(tmp_path), _planned(tmp_path, "PRETRAIN=1")
    scratch = _planned(tmp_path, "PRETRAIN=0")
    body = "benchmarks/results/elpv/pretraining/simclr60_gray.weights.h5"
    assert (REPO / body).is_file()
    train = f"-m train --data {tmp_path}/data/elpv/train --out {tmp_path}/model --model cnn_bn"
    assert train in default and f"--weights {body}" in default
    assert "train.simclr" not in default and f"--out {tmp_path}/tflite --force" in default

    weights = f"{tmp_path}/ssl/simclr60_gray.weights.h5"
    simclr = f"-m train.simclr --data {tmp_path}/data/elpv/train --out {weights} --epochs 60"
    train = f"-m train --data {tmp_path}/data/elpv/train --out {tmp_path}/model_pretrained --model cnn_bn"
    assert pretrained.index(simclr) < pretrained.index(train)
    assert f"--out {tmp_path}/tflite_pretrained --force" in pretrained
    assert f"--out {tmp_path}/evaluation_pretrained.json" in pretrained

    assert "train.simclr" not in scratch and "--weights" not in scratch
    assert f"--out {tmp_path}/model_scratch --model cnn_bn" in scratch
    assert f"--out {tmp_path}/evaluation_scratch.json" in scratch


def test_make_names_a_missing_published_body_and_the_ways_round_it(tmp_path):
    import shutil
    import subprocess

    from conftest import REPO

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # A copy of the Makefile with the body's path pointing at nothing, the rest as it is.
    makefile = (REPO / "Makefile").read_text()
    body = "benchmarks/results/elpv/pretraining/simclr60_gray.weights.h5"
    (tmp_path / "Makefile").write_text(makefile.replace(body, f"{tmp_path}/missing.weights.h5"))
    command = ["make", "-C", str(REPO), "-f", str(tmp_path / "Makefile"), f"BUILD={tmp_path}"]
    (tmp_path / "data" / "elpv").mkdir(parents=True)
    (tmp_path / "data" / "elpv" / "export.json").write_text("{}")
    # An environment that counts as installed, so make goes straight to the body.
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / ".installed").write_text("")
    proc = subprocess.run([*command, f"VENV={tmp_path}/venv", "train"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert f"error: {tmp_path}/missing.weights.h5 is missing; restore it" in proc.stdout


def test_oversample_replaces_class_weights():
    from train.cli import options_from, parser

    _, hparams = options_from(parser().parse_args(["--data", "cells", "--out", "run", "--oversample"]))
    assert hparams.oversample and not hparams.class_weights
    _, default = options_from(parser().parse_args(["--data", "cells", "--out", "run"]))
    assert not default.oversample and default.class_weights
