"""Class folders: nested images counted the way calibration counts them, hidden ones skipped, order hints."""

from __future__ import annotations

import pytest
from PIL import Image

from edge_runtime.folders import list_images, order_hint, read_class_folder


def _image(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8), 100).save(path)
    return path


def test_training_reads_nested_class_images_like_calibration_and_skips_hidden_ones(tmp_path):
    a = _image(tmp_path / "cat" / "a.png")
    nested = _image(tmp_path / "cat" / "2024" / "b.png")
    c = _image(tmp_path / "dog" / "c.png")
    _image(tmp_path / "dog" / ".ipynb_checkpoints" / "c-checkpoint.png")
    _image(tmp_path / "dog" / ".hidden.png")
    folder = read_class_folder(tmp_path)
    assert folder.files == ((nested, 0), (a, 0), (c, 1))
    assert sorted(p for p, _ in folder.files) == list_images(tmp_path, recursive=True)


@pytest.mark.parametrize(
    "names",
    [["eight", "five", "four", "nine", "one"], ["1", "10", "2"], ["high", "low", "medium"]],
    ids=["number-words", "numbers", "levels"],
)
def test_names_sorted_out_of_their_natural_order_get_a_labels_hint(names):
    hint = order_hint(names)
    assert hint is not None and "pass --labels FILE listing them in that order" in hint
    assert ", ".join(names[:3]) in hint


@pytest.mark.parametrize("names", [["cat", "dog"], ["0", "1", "2", "3"], ["defective", "functional"]])
def test_ordinary_names_get_no_hint(names):
    assert order_hint(names) is None
