"""train.teacher: the teachers' averaged softmax on a folder, blended with its labels, as a soft-label file."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from conftest import run_module
from train.dataset import Dataset
from train.soft_labels import read_soft_labels
from train.teacher import blend


def test_blend_mixes_the_teachers_with_the_folder_labels():
    teacher = np.array([[0.9, 0.1], [0.4, 0.6]])
    np.testing.assert_allclose(blend(teacher, np.array([0, 0]), 0.5), [[0.95, 0.05], [0.7, 0.3]])
    np.testing.assert_allclose(blend(teacher, np.array([1, 1]), 0.0), [[0.0, 1.0], [0.0, 1.0]])


@pytest.mark.slow
def test_soft_labels_from_a_teacher_cover_the_folder_and_train_a_student(
    trained_model, elpv_subset, tmp_path
):
    out = tmp_path / "teacher.json"
    model = trained_model / "model.keras"
    proc = run_module("train.teacher", "--models", str(model), str(model), "--data", str(elpv_subset / "train"),
                      "--out", str(out), "--mix", "0.5")  # fmt: skip
    assert "teachers agree with the folder labels on" in proc.stdout
    classes = ["defective", "functional"]
    table = read_soft_labels(out, classes)
    data = Dataset.from_folder(elpv_subset / "train", image_size=(64, 64), class_names=classes)
    assert sorted(table) == sorted(data.files)
    expected = blend(keras.saving.load_model(model).predict(data.images, verbose=0), data.labels, 0.5)
    got = np.stack([table[name] for name in data.files])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.all(got[np.arange(len(data)), data.labels] >= 0.5)  # half the target is the folder label

    student = tmp_path / "student"
    run_module("train", "--data", str(elpv_subset / "train"), "--out", str(student), "--soft-labels", str(out),
               "--model", "cnn", "--image-size", "64", "--epochs", "1", "--batch-size", "16")  # fmt: skip
    assert json.loads((student / "train_config.json").read_text())["soft_labels"] == str(out.resolve())

    bad = run_module("train.teacher", "--models", str(model), "--data", str(elpv_subset / "train"),
                     "--out", str(tmp_path / "x.json"), "--mix", "2", check=False)  # fmt: skip
    assert bad.returncode == 2 and "--mix 2.0: must be in [0, 1]" in bad.stderr
    assert not (tmp_path / "x.json").exists()
