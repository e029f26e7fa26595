"""Tests for train.keras_datasets: Fashion-MNIST and CIFAR-10 read from files in Keras' real formats, written
into a temporary KERAS_HOME (no download), the offline messages, the folder export, and training on them."""

from __future__ import annotations

import gzip
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_module
from edge_runtime.errors import UserError
from labels import builtin_labels_path, read_labels
from train.keras_datasets import export_folders, load_keras_dataset

PER_CLASS = {"train": 6, "test": 2}  # images per class written for each split


def _fashion_arrays(split: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    count = 10 * PER_CLASS[split]
    labels = (np.arange(count) % 10).astype(np.uint8)
    images = np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)
    images[:, :, :4] = (labels * 25)[:, None, None]  # a stripe whose brightness gives the class away
    return images, labels


def write_fashion_mnist(home: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The four gzipped IDX files keras.datasets.fashion_mnist reads, with big-endian headers."""
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, prefix, seed in (("train", "train", 1), ("test", "t10k", 2)):
        images, labels = _fashion_arrays(split, seed)
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 2049, len(labels)) + labels.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 2051, len(images), 28, 28) + images.tobytes())
        arrays[split] = (images, labels)
    return arrays


def write_cifar10(home: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The extracted python batches (data_batch_1..5, test_batch) as Keras leaves them after a download."""
    folder = home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    train_parts = []
    for name, count in [(f"data_batch_{i}", 10) for i in range(1, 6)] + [("test_batch", 20)]:
        labels = [int(v) for v in np.arange(count) % 10]
        data = rng.integers(0, 256, (count, 3 * 32 * 32), dtype=np.uint8)  # rows of R, G, B planes
        batch = {
            b"batch_label": name.encode(),
            b"labels": labels,
            b"data": data,
            b"filenames": [b"x.png"] * count,
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        if name == "test_batch":
            test = (images, np.asarray(labels))
        else:
            train_parts.append((images, np.asarray(labels)))
    train = (np.concatenate([x for x, _ in train_parts]), np.concatenate([y for _, y in train_parts]))
    return {"train": train, "test": test}


def test_cifar10_batches_load_as_rgb_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    written = write_cifar10(tmp_path)
    train = load_keras_dataset("cifar10", "train", (32, 32))
    assert len(train) == 50 and not train.grayscale
    assert list(train.class_names) == read_labels(builtin_labels_path("cifar10"))  # the shipped labels file
    np.testing.assert_array_equal(train.images, written["train"][0])
    np.testing.assert_array_equal(train.labels, written["train"][1])
    assert train.root == tmp_path / "datasets" / "cifar-10-batches-py-target"
    test = load_keras_dataset("cifar10", "test", (40, 40), limit_per_class=1, seed=0)
    assert test.images.shape == (10, 40, 40, 3) and sorted(test.labels) == list(range(10))


def test_a_cifar_batch_that_would_run_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    write_cifar10(tmp_path)
    batch = tmp_path / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "data_batch_3"

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    batch.write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}, protocol=2))
    with pytest.raises(
        UserError,
        match=rf"^{batch}: not a CIFAR-10 python batch \(refusing \w+\.print in a CIFAR batch file\)",
    ):
        load_keras_dataset("cifar10", "train", (32, 32))


def test_export_writes_class_folders_of_pngs(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    written = write_cifar10(tmp_path / "home")
    counts = export_folders("cifar10", tmp_path / "out", limit_per_class=1)
    assert counts == {"train": 10, "test": 10}
    assert sorted(p.name for p in (tmp_path / "out" / "train").iterdir()) == sorted(
        read_labels(builtin_labels_path("cifar10"))
    )
    first = tmp_path / "out" / "test" / "airplane"
    (png,) = first.iterdir()
    index = int(png.stem)
    np.testing.assert_array_equal(np.asarray(Image.open(png)), written["test"][0][index])
    with pytest.raises(UserError, match=r"exists and is not an empty folder"):
        export_folders("cifar10", tmp_path / "out")


def test_export_cli_reports_a_bad_limit_under_its_flag(tmp_path, monkeypatch, capsys):
    from train.keras_datasets import main

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    write_cifar10(tmp_path / "home")
    assert main(["cifar10", "--out", str(tmp_path / "out"), "--limit-per-class", "0"]) == 2
    assert capsys.readouterr().err == "error: --limit-per-class 0: must be at least 1\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_fashion_mnist_trains_an_ann_with_rgb_input_and_evaluates_on_its_test_split(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    write_fashion_mnist(tmp_path / "home")
    out = tmp_path / "out"
    proc = run_module(
        *("train", "--dataset", "fashion_mnist", "--model", "ann", "--out", str(out)),
        *("--epochs", "2", "--batch-size", "8", "--no-augment", "--learning-rate", "0.01"),
    )
    assert "60 images in 10 classes" in proc.stdout and "training ann (28x28, gray inside" in proc.stdout
    assert "test (20 images): accuracy" in proc.stdout
    assert read_labels(out / "labels.txt") == read_labels(builtin_labels_path("fashion_mnist"))
    import keras

    model = keras.saving.load_model(out / "model.keras")
    assert tuple(model.input_shape) == (None, 28, 28, 3)  # RGB in, gray inside
    assert model.get_layer("grayscale").output.shape[-1] == 1
    confusion = json.loads((out / "confusion_matrix.json").read_text())
    assert len(confusion["counts"]) == 10 and np.sum(confusion["counts"]) == 20
    assert (out / "predictions.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "folder", "files", "fix"),
    [
        (
            "fashion_mnist",
            "datasets/fashion-mnist",
            "4 fashion_mnist files missing (train-labels-idx1-ubyte.gz, train-images-idx3-ubyte.gz, "
            "t10k-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz)",
            "download it from https://storage.googleapis.com/tensorflow/tf-keras-datasets/ and put it there",
        ),
        (
            "cifar10",
            "datasets/cifar-10-batches-py-target",
            "6 cifar10 files missing (cifar-10-batches-py/data_batch_1, ",
            "download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and extract it into "
            "{home}/datasets/cifar-10-batches-py-target",
        ),
    ],
)
def test_offline_every_missing_file_is_named_at_once_with_where_to_put_it(
    tmp_path, monkeypatch, name, folder, files, fix
):
    home = tmp_path / "home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    for variable in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # refuses: no download can happen
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    proc = run_module("train", "--dataset", name, "--out", str(tmp_path / "out"), check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {home}/{folder}: {files}"), line
    assert "cannot be downloaded (" in line
    assert line.endswith(fix.format(home=home)), line


def test_an_empty_placeholder_file_is_refused_by_name(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    write_fashion_mnist(home)
    placeholder = home / "datasets" / "fashion-mnist" / "t10k-images-idx3-ubyte.gz"
    placeholder.write_bytes(b"")
    with pytest.raises(
        UserError,
        match=r"t10k-images-idx3-ubyte\.gz: empty \(0 bytes\), not the fashion_mnist file; delete it and download",
    ):
        load_keras_dataset("fashion_mnist", "train", (28, 28))
