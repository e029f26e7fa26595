"""Tests for soft labels (train.soft_labels, the ELPV sidecar, the trainer and CLI), label smoothing,
mixup, Nesterov SGD and the brightness/contrast augmentation."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import run_module
from edge_runtime.errors import UserError
from train import elpv
from train.augmentation import AugmentOptions, build_augmenter
from train.dataset import Dataset
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import get_spec
from train.multi_worker import _per_image_loss
from train.soft_labels import FILE_NAME, read_soft_labels, soft_labels_json, soft_targets
from train.trainer import train

SIZE = 16
CLASSES = ("a", "b")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_written_file_reads_back_in_class_order(tmp_path):
    path = _write(
        tmp_path / FILE_NAME, soft_labels_json({"b/2.png": {"b": 2 / 3, "a": 1 / 3}, "a/1.png": {"a": 1.0}})
    )
    table = read_soft_labels(path, ["b", "a"])
    assert set(table) == {"a/1.png", "b/2.png"}
    np.testing.assert_allclose(table["b/2.png"], [2 / 3, 1 / 3], atol=1e-6)
    np.testing.assert_array_equal(table["a/1.png"], [0.0, 1.0])  # classes left out are 0
    targets = soft_targets(path, ["b/2.png", "a/1.png", "b/2.png"], ["a", "b"])
    assert targets.shape == (3, 2) and targets.dtype == np.float32
    np.testing.assert_allclose(targets[:, 1], [2 / 3, 0.0, 2 / 3], atol=1e-6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "no such soft-label file"),
        ("{not json", "not a JSON soft-label file"),
        ('["a/1.png"]', 'expected a JSON object {"images"'),
        ('{"images": {}}', 'expected a JSON object {"images"'),
        ('{"images": {"a/1.png": 0.4}}', "entry 'a/1.png' is not an object of class probabilities"),
        ('{"images": {"a/1.png": {"c": 1.0}}}', "entry 'a/1.png' names class 'c', not one of a, b"),
        ('{"images": {"a/1.png": {"a": "high"}}}', "entry 'a/1.png' gives 'a' probability 'high'"),
        (
            '{"images": {"a/1.png": {"a": 1.5}}}',
            "entry 'a/1.png' gives 'a' probability 1.5; use a number in [0, 1]",
        ),
        (
            '{"images": {"a/1.png": {"a": 0.5, "b": 0.2}}}',
            "entry 'a/1.png' probabilities sum to 0.7000, not 1",
        ),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "soft.json"
    if text is not None:
        _write(path, text)
    with pytest.raises(UserError) as err:
        read_soft_labels(path, CLASSES)
    assert str(err.value).startswith(f"{path}: {message}"), err.value
    assert "\n" not in str(err.value)


def test_a_file_that_misses_images_names_them(tmp_path):
    path = _write(tmp_path / "soft.json", soft_labels_json({"a/1.png": {"a": 1.0}}))
    files = ["a/1.png", *(f"b/{i}.png" for i in range(5))]
    with pytest.raises(
        UserError,
        match=r"soft.json: no soft label for 5 of the 6 images \(b/0.png, b/1.png, b/2.png and 2 more\)",
    ):
        soft_targets(path, files, CLASSES)


def test_elpv_export_writes_the_experts_probabilities_for_exactly_its_images(tmp_path):
    probability = {
        Path(p).name: v for p, v in elpv.read_elpv_labels(Path(str(resources.files("elpv_dataset") / "data")))
    }
    elpv.export(tmp_path, per_class_limit={"train": 6, "test": 2}, seed=0)
    for split in elpv.SPLITS:
        files = sorted(p.relative_to(tmp_path / split).as_posix() for p in (tmp_path / split).glob("*/*.png"))
        table = read_soft_labels(tmp_path / split / FILE_NAME, ["functional", "defective"])
        assert sorted(table) == files
        for name, (functional, defective) in table.items():
            assert defective == pytest.approx(probability[Path(name).name], abs=1e-6)
            assert functional == pytest.approx(1 - defective, abs=1e-6)
            assert (defective >= 0.5) == name.startswith("defective/")
    # The loader reads the class folders and ignores the sidecar.
    data = Dataset.from_folder(tmp_path / "train", image_size=(SIZE, SIZE)).with_soft_labels(
        tmp_path / "train" / FILE_NAME
    )
    assert len(data) == 12 and data.targets.shape == (12, 2)
    assert (
        data.files[0]
        == "defective/" + sorted(p.name for p in (tmp_path / "train" / "defective").iterdir())[0]
    )
    np.testing.assert_array_equal(np.argmax(data.targets, axis=1), data.labels)


def _constant_soft_dataset(n: int, target_b: float, seed: int = 0, size: int = SIZE) -> Dataset:
    """Random images labelled a/b alternately, every one with the soft label (1 - target_b, target_b)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    labels = (np.arange(n) % 2).astype(np.int32)
    files = tuple(f"{CLASSES[label]}/{i}.png" for i, label in enumerate(labels))
    targets = np.tile(np.array([[1 - target_b, target_b]], np.float32), (n, 1))
    return Dataset(Path("const"), CLASSES, images, labels, files=files, targets=targets)


def test_split_keeps_each_images_soft_label_and_path():
    data = _constant_soft_dataset(20, 0.3)
    data = Dataset(
        data.root,
        data.class_names,
        data.images,
        data.labels,
        files=data.files,
        targets=np.random.default_rng(1).dirichlet([1, 1], 20).astype(np.float32),
    )
    rest, held = data.split(0.25, seed=3)
    for part in (rest, held):
        index = [data.files.index(name) for name in part.files]
        np.testing.assert_array_equal(part.targets, data.targets[index])
        np.testing.assert_array_equal(part.labels, data.labels[index])
    assert len(held) == 4 and not set(rest.files) & set(held.files)


def test_pipeline_targets_and_seeded_mixup():
    data = _constant_soft_dataset(12, 0.25)
    _, index = next(iter(data.gen_tf_dataset(12, targets="index")))
    _, one_hot = next(iter(data.gen_tf_dataset(12, targets="one_hot")))
    _, soft = next(iter(data.gen_tf_dataset(12, targets="soft")))
    np.testing.assert_array_equal(index, data.labels)
    np.testing.assert_array_equal(one_hot, np.eye(2)[data.labels])
    np.testing.assert_allclose(soft, np.tile([[0.75, 0.25]], (12, 1)))

    plain = Dataset(data.root, CLASSES, data.images, data.labels)
    mixed = [
        list(plain.gen_tf_dataset(6, shuffle=True, targets="one_hot", mixup=0.4, seed=s)) for s in (0, 0, 1)
    ]
    pixels, targets = (np.concatenate([np.asarray(b[i]) for b in mixed[0]]) for i in (0, 1))
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)
    share = targets.max(axis=1)
    assert np.all(share >= 0.5 - 1e-6) and np.any(share < 0.99)  # blended, the image keeps the larger share
    assert pixels.min() >= 0.0 and pixels.max() <= 255.0
    assert not np.array_equal(pixels, np.round(pixels))  # images are blended too
    np.testing.assert_array_equal(pixels, np.concatenate([np.asarray(b[0]) for b in mixed[1]]))
    assert not np.array_equal(pixels, np.concatenate([np.asarray(b[0]) for b in mixed[2]]))
    with pytest.raises(UserError, match="mixup=0.2: blends targets: use targets 'one_hot' or 'soft'"):
        plain.gen_tf_dataset(6, mixup=0.2)


@pytest.mark.slow
def test_the_model_learns_the_soft_labels_not_the_folder_labels(tmp_path):
    # Folder labels alternate a/b (50/50) on noise; every soft label says b with probability 0.8. A
    # model trained on the soft labels can only learn the constant: it answers about 0.8 for b.
    data = _constant_soft_dataset(64, 0.8)
    hparams = Hyperparameters(
        epochs=8,
        batch_size=16,
        learning_rate=0.01,
        validation_split=0,
        class_weights=False,
        augmentation=AugmentOptions.none(),
    )
    result = train(data, get_spec("ann"), ModelOptions(model="ann", image_size=SIZE), hparams, tmp_path)
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["soft_labels"] is None  # made in memory, not read from a file
    probabilities = result.model.predict(data.images.astype(np.float32), verbose=0)
    assert probabilities.shape == (64, 2)
    assert abs(float(probabilities[:, 1].mean()) - 0.8) < 0.1, probabilities.mean(axis=0)
    assert result.history["loss"][-1] == pytest.approx(0.5004, abs=0.05)  # the entropy of (0.2, 0.8)


@pytest.mark.slow
@pytest.mark.parametrize(
    "hparams",
    [
        Hyperparameters(
            epochs=2, batch_size=8, label_smoothing=0.1, mixup=0.2, optimizer="sgd", weight_decay=1e-4
        ),
        Hyperparameters(epochs=2, batch_size=8, augmentation=AugmentOptions(brightness=0.2, contrast=0.2)),
    ],
    ids=["smoothing-mixup-sgd", "brightness-contrast"],
)
def test_the_other_fitting_options_train_and_validate_on_folder_labels(tmp_path, hparams):
    data = _constant_soft_dataset(32, 0.6, size=32)
    data = Dataset(data.root, CLASSES, data.images, data.labels)
    result = train(
        data, get_spec("cnn_bn"), ModelOptions(model="cnn_bn", image_size=32, alpha=0.5), hparams, tmp_path
    )
    assert len(result.history["val_accuracy"]) == 2
    assert all(np.isfinite(result.history["loss"]))
    model = keras.saving.load_model(tmp_path / "model.keras")
    assert not [layer for layer in model.layers if type(layer).__name__.startswith("Random")]
    assert model.output_shape == (None, 2)


def test_brightness_and_contrast_layers_change_training_images_only():
    augmenter = build_augmenter(AugmentOptions(flip="none", brightness=0.3, contrast=0.3), seed=0)
    assert [layer.name for layer in augmenter.layers] == ["random_brightness", "random_contrast"]
    images = np.full((4, 8, 8, 3), 100.0, np.float32)
    images[:, :4] = 20.0
    changed = np.asarray(augmenter(images, training=True))
    assert not np.allclose(changed, images) and changed.min() >= 0.0 and changed.max() <= 255.0
    np.testing.assert_array_equal(np.asarray(augmenter(images, training=False)), images)
    assert AugmentOptions(flip="none", brightness=0.3).describe() == "brightness 0.3"
    with pytest.raises(UserError, match=r"contrast=1.5: must be in \[0, 1.0\]"):
        AugmentOptions(contrast=1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "rmsprop"}, "optimizer='rmsprop': not known; use one of adam, sgd"),
        ({"label_smoothing": 1.0}, r"label_smoothing=1.0: must be in \[0, 1\)"),
        ({"mixup": -0.1}, "mixup=-0.1: must not be negative"),
    ],
)
def test_bad_fitting_options_are_refused(kwargs, message):
    with pytest.raises(UserError, match=message):
        Hyperparameters(**kwargs)


def test_multi_worker_loss_takes_index_and_probability_targets():
    probabilities = tf.constant([[0.9, 0.1], [0.2, 0.8]])
    sparse, classes = _per_image_loss(tf.constant([0, 1]), probabilities)
    soft, soft_classes = _per_image_loss(tf.constant([[1.0, 0.0], [0.0, 1.0]]), probabilities)
    np.testing.assert_allclose(sparse, -np.log([0.9, 0.8]), rtol=1e-5)
    np.testing.assert_allclose(soft, sparse, rtol=1e-5)
    np.testing.assert_array_equal(classes, [0, 1])
    np.testing.assert_array_equal(soft_classes, [0, 1])


@pytest.mark.slow
def test_cli_trains_on_elpv_soft_labels(elpv_subset, tmp_path):
    soft = elpv_subset / "train" / FILE_NAME
    proc = run_module(
        "train", "--data", str(elpv_subset / "train"), "--soft-labels", str(soft), "--out", str(tmp_path / "m"),
        "--model", "cnn_bn", "--alpha", "0.5", "--image-size", "32", "--epochs", "1", "--batch-size", "16",
    )  # fmt: skip
    assert f"targets soft from {soft}" in proc.stdout
    config = json.loads((tmp_path / "m" / "train_config.json").read_text())
    assert config["soft_labels"] == str(soft.resolve())
    assert (tmp_path / "m" / "labels.txt").read_text().split() == ["defective", "functional"]


def _error_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_cli_soft_label_mistakes_are_one_line(elpv_subset, tmp_path):
    def run(path: Path, *extra: str):
        return run_module(
            "train", "--data", str(elpv_subset / "train"), "--soft-labels", str(path), "--out", str(tmp_path / "m"),
            "--image-size", "32", "--epochs", "1", *extra, check=False,
        )  # fmt: skip

    missing = tmp_path / "nowhere.json"
    assert _error_line(run(missing)) == (
        f"error: {missing}: no such soft-label file; pass the JSON file of per-image class probabilities"
    )
    broken = _write(tmp_path / "broken.json", '{"images": ')
    assert _error_line(run(broken)).startswith(f"error: {broken}: not a JSON soft-label file (")
    other = _write(tmp_path / "other.json", soft_labels_json({"defective/x.png": {"defective": 1.0}}))
    assert _error_line(run(other)).startswith(f"error: {other}: no soft label for 80 of the 80 images (")
    assert (
        _error_line(
            run_module(
                "train",
                "--dataset",
                "fashion_mnist",
                "--soft-labels",
                str(other),
                "--out",
                str(tmp_path / "f"),
                check=False,
            )
        )
        == "error: --soft-labels is for --data folders; a keras dataset has only its class labels"
    )
    assert not (tmp_path / "m").exists()
