"""Labels files: a folder, a pipe or a huge file is refused by name, never read or waited on."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from conftest import run_module
from labels import read_labels


def test_a_folder_given_as_labels_is_one_line_from_classify(tiny_tflite, tmp_path):
    folder = tmp_path / "labels"
    folder.mkdir()

    image = tmp_path / "gray.png"
    Image.new("L", (32, 32), 128).save(image)
    proc = run_module(
        "edge_runtime",
        "classify",
        str(image),
        "--model",
        str(tiny_tflite["uint8"]),
        "--labels",
        str(folder),
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line[line.index("error:") :] for line in proc.stderr.splitlines() if "error:" in line]
    assert errors == [f"error: {folder}: is a folder; pass the labels file (one class name per line)"]


def test_a_named_pipe_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "labels.txt"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        read_labels(fifo)


def test_a_file_far_too_large_for_labels_is_refused(tmp_path):
    big = tmp_path / "labels.txt"
    with open(big, "wb") as f:
        f.truncate(17 * 2**20)
    with pytest.raises(ValueError, match=r"too large for a labels file"):
        read_labels(big)
