"""Tests for train.dataset: the class-folder loader, its seeded split and its tf.data pipeline."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_runtime.image import load_resized, resize
from train.dataset import Dataset


def _write_images(folder: Path, count: int, rng: np.random.Generator, mode: str = "RGB") -> list[Path]:
    """Writes `count` random PNGs of varied sizes into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        size = (int(rng.integers(20, 60)), int(rng.integers(20, 60)))
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        path = folder / f"img{i:03d}.png"
        Image.fromarray(pixels).convert(mode).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def folder(tmp_path) -> Path:
    """cats: 10 RGB images, dogs: 6 grayscale images, plus files the loader must ignore or skip."""
    rng = np.random.default_rng(0)
    _write_images(tmp_path / "cats", 10, rng)
    _write_images(tmp_path / "dogs", 6, rng, mode="L")
    good = (tmp_path / "cats" / "img000.png").read_bytes()
    (tmp_path / "cats" / "truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "dogs" / "notes.png").write_text("not an image, despite the suffix")
    (tmp_path / "dogs" / "README.txt").write_text("not an image suffix: ignored, not counted")
    return tmp_path


def test_from_folder_decodes_like_the_runtime(folder, caplog):
    with caplog.at_level(logging.WARNING, logger="train.dataset"):
        data = Dataset.from_folder(folder, image_size=(24, 32))
    assert data.class_names == ("cats", "dogs")
    assert data.class_counts() == {"cats": 10, "dogs": 6}
    assert len(data) == 16
    assert data.images.shape == (16, 24, 32, 3) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int32 and list(data.labels) == [0] * 10 + [1] * 6
    assert data.image_size == (24, 32)
    np.testing.assert_array_equal(data.images[0], load_resized(folder / "cats" / "img000.png", 32, 24))
    np.testing.assert_array_equal(data.images[10], load_resized(folder / "dogs" / "img000.png", 32, 24))
    # Unreadable files are skipped and counted, and reported in exactly one warning.
    assert sorted(p.name for p, _ in data.skipped) == ["notes.png", "truncated.png"]
    assert all(str(p) in reason for p, reason in data.skipped)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "skipped 2 unreadable image file(s)" in warnings[0]


def test_from_folder_in_given_class_order(folder):
    data = Dataset.from_folder(folder, image_size=(8, 8), class_names=["dogs", "cats"])
    assert data.class_names == ("dogs", "cats")
    assert data.class_counts() == {"dogs": 6, "cats": 10}


def test_split_is_stratified_seeded_and_disjoint(folder):
    data = Dataset.from_folder(folder, image_size=(8, 8))
    train, val = data.split(0.25, seed=3)
    assert train.class_counts() == {"cats": 8, "dogs": 4}
    assert len(train) + len(val) == len(data)
    assert val.class_counts()["cats"] == 10 - train.class_counts()["cats"]
    again_train, again_val = data.split(0.25, seed=3)
    np.testing.assert_array_equal(again_val.images, val.images)
    np.testing.assert_array_equal(again_train.labels, train.labels)
    keys = {img.tobytes() for img in train.images}
    assert not keys & {img.tobytes() for img in val.images}
    other = [data.split(0.25, seed=s)[1].images.tobytes() for s in range(4, 8)]
    assert any(o != val.images.tobytes() for o in other)
    assert train.class_names == data.class_names and train.root == data.root


def test_split_rejects_a_bad_fraction(folder):
    data = Dataset.from_folder(folder, image_size=(8, 8))
    with pytest.raises(ValueError, match=r"fraction=1.0: must be between 0 and 1"):
        data.split(1.0)


def test_tf_dataset_yields_raw_float_pixels_and_int_labels(folder):
    data = Dataset.from_folder(folder, image_size=(8, 8))
    batches = list(data.gen_tf_dataset(5).as_numpy_iterator())
    assert [len(y) for _, y in batches] == [5, 5, 5, 1]
    x, y = batches[0]
    assert x.dtype == np.float32 and x.shape == (5, 8, 8, 3)
    np.testing.assert_array_equal(x, data.images[:5].astype(np.float32))  # raw 0..255, no rescaling
    assert y.dtype == np.int32 and list(np.concatenate([b[1] for b in batches])) == list(data.labels)


def _sums(batches) -> list[int]:
    """Pixel sums identify the images."""
    return [int(v) for x, _ in batches for v in x.sum(axis=(1, 2, 3))]


def test_tf_dataset_epochs_are_shuffled_by_seed_and_epoch_alone(folder):
    data = Dataset.from_folder(folder, image_size=(8, 8))
    everything = sorted(int(v) for v in data.images.astype(np.int64).sum(axis=(1, 2, 3)))

    def epochs(seed: int, count: int = 3, first: int = 0) -> list[list[int]]:
        batches = list(data.gen_tf_dataset(5, shuffle=True, seed=seed, epochs=count, first_epoch=first))
        assert [len(y) for _, y in batches] == [5, 5, 5, 1] * count  # each epoch ends with its own batch
        flat = _sums((x.numpy(), y) for x, y in batches)
        return [flat[i * len(data) : (i + 1) * len(data)] for i in range(count)]

    first = epochs(1)
    assert all(sorted(epoch) == everything for epoch in first)  # every image once per epoch
    assert first[0] != first[1] != first[2]  # a new order every epoch
    assert epochs(1) == first
    assert epochs(2)[0] != first[0]
    # A resumed run's epochs 1 and 2 are the uninterrupted run's.
    assert epochs(1, count=2, first=1) == first[1:]
    assert data.steps(5) == 4 and data.steps(16) == 1


def test_quarter_turns_rotate_each_image_by_a_seeded_multiple_of_90_degrees(folder):
    data = Dataset.from_folder(folder, image_size=(12, 12))
    batches = list(data.gen_tf_dataset(16, quarter_turns=True, seed=4, epochs=2).as_numpy_iterator())
    again = list(data.gen_tf_dataset(16, quarter_turns=True, seed=4, epochs=2).as_numpy_iterator())
    turns = []
    for x, y in batches:
        for image, original in zip(x, data.images, strict=True):
            matches = [k for k in range(4) if np.array_equal(image, np.rot90(original, k))]
            assert matches, "not a quarter turn of the input"
            turns.append(matches[0])
        np.testing.assert_array_equal(y, data.labels)  # not shuffled: turns only
    assert set(turns) == {0, 1, 2, 3}
    assert turns[:16] != turns[16:]  # anew every epoch
    for (x1, _), (x2, _) in zip(batches, again, strict=True):
        np.testing.assert_array_equal(x1, x2)
    with pytest.raises(ValueError, match=r"quarter turns need square images, not \(8, 12\)"):
        Dataset.from_folder(folder, image_size=(8, 12)).gen_tf_dataset(4, quarter_turns=True)


def test_from_arrays_makes_gray_rgb_and_resizes_like_the_runtime():
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    data = Dataset.from_arrays(
        gray, np.arange(6).reshape(6, 1) % 2, ["a", "b"], image_size=(28, 28), root="mem"
    )
    assert data.images.shape == (6, 28, 28, 3) and data.grayscale
    np.testing.assert_array_equal(data.images[..., 2], gray)
    assert list(data.labels) == [0, 1, 0, 1, 0, 1] and data.root == Path("mem")
    bigger = Dataset.from_arrays(gray, np.zeros(6), ["a", "b"], image_size=(32, 40), root="mem")
    np.testing.assert_array_equal(bigger.images[3], resize(np.repeat(gray[3, :, :, None], 3, axis=2), 40, 32))
    colour = Dataset.from_arrays(
        rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8), [0, 1], ["a", "b"], image_size=(8, 8), root="m"
    )
    assert not colour.grayscale
    with pytest.raises(ValueError, match=r"labels 0..2 exceed the 2 classes"):
        Dataset.from_arrays(gray[:3], [0, 1, 2], ["a", "b"], image_size=(28, 28), root="m")


def test_oversampling_shows_every_class_as_often_as_the_largest_each_epoch():
    rng = np.random.default_rng(5)
    images = np.arange(13, dtype=np.uint8).reshape(13, 1, 1, 1) * np.ones((1, 4, 4, 3), np.uint8)
    images[..., 1] = rng.integers(0, 256, (13, 4, 4))  # an image's id is its first channel
    labels = np.array([0] * 10 + [1] * 3)
    data = Dataset.from_arrays(images, labels, ["ok", "bad"], image_size=(4, 4), root="mem")
    assert data.epoch_size(oversample=True) == 20 and data.steps(8, oversample=True) == 3
    assert data.epoch_size() == 13 and data.steps(8) == 2

    def epochs(seed: int, count: int = 3, first: int = 0) -> list[list[int]]:
        pipeline = data.gen_tf_dataset(
            8, shuffle=True, quarter_turns=True, seed=seed, epochs=count, first_epoch=first, oversample=True
        )
        ids, classes = [], []
        for x, y in pipeline.as_numpy_iterator():
            ids += [int(image[0, 0, 0]) for image in x]
            classes += list(y)
        assert [labels[i] for i in ids] == classes  # each image with its own label
        return [ids[e * 20 : (e + 1) * 20] for e in range(count)]

    first = epochs(seed=1)
    for epoch in first:
        counts = np.bincount(epoch, minlength=13)
        assert list(counts[:10]) == [1] * 10  # the largest class once each
        assert counts[10:].sum() == 10 and counts[10:].min() >= 3 and counts[10:].max() <= 4
    assert first[0] != first[1] and epochs(seed=1) == first and epochs(seed=2) != first
    assert epochs(seed=1, count=2, first=1) == first[1:]  # a resumed run's epochs are the same
    # A plain pipeline still shows every image once, in the order it always had.
    plain = [
        int(x[0, 0, 0])
        for x, _ in data.gen_tf_dataset(13, shuffle=True, seed=1).unbatch().as_numpy_iterator()
    ]
    assert sorted(plain) == list(range(13))


def test_oversampling_turns_an_image_drawn_twice_independently():
    images = np.zeros((9, 6, 6, 3), np.uint8)
    images[:, 0, 0, 0] = 255  # a marked corner shows the turn
    images[:, 5, 5, 2] = np.arange(9)  # the image's id
    data = Dataset.from_arrays(images, np.array([0] * 8 + [1]), ["a", "b"], image_size=(6, 6), root="mem")
    turns = set()
    for x, _ in (
        data.gen_tf_dataset(16, quarter_turns=True, seed=0, epochs=4, oversample=True)
        .unbatch()
        .as_numpy_iterator()
    ):
        if (x[..., 2] == 8).any():  # the one minority image, 8 times an epoch
            corner = tuple(np.argwhere(x[..., 0] == 255)[0])
            turns.add(corner)
    assert len(turns) > 1


def test_oversampling_counts_only_the_classes_that_have_images():
    images = np.zeros((5, 4, 4, 3), np.uint8)
    data = Dataset.from_arrays(
        images, np.array([0, 0, 0, 2, 2]), ["a", "b", "c"], image_size=(4, 4), root="mem"
    )
    assert data.epoch_size(oversample=True) == 6  # b has no image here (e.g. all held out)
    drawn = [
        y for _, y in data.gen_tf_dataset(4, shuffle=True, oversample=True).unbatch().as_numpy_iterator()
    ]
    assert sorted(drawn) == [0, 0, 0, 2, 2, 2]
