"""Tests for train.ensemble (models averaged into one, its CLI and its mistakes) and --split-seed."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import run_module
from edge_runtime.errors import UserError
from labels import write_labels
from train.dataset import Dataset
from train.ensemble import average_models
from train.fitting import hold_out
from train.hyperparameters import Hyperparameters
from train.model_options import ModelOptions
from train.model_spec import get_spec

SIZE = 32
ELPV = ["defective", "functional"]


def _member(seed: int, size: int = SIZE) -> keras.Model:
    keras.utils.set_random_seed(seed)
    options = ModelOptions(model="cnn_bn", image_size=size, alpha=0.5, grayscale=True)
    return get_spec("cnn_bn").build(options, 2)


def _saved(folder: Path, seed: int, labels: list[str] = ELPV) -> Path:
    folder.mkdir(parents=True)
    _member(seed).save(folder / "model.keras")
    write_labels(folder / "labels.txt", labels)
    return folder / "model.keras"


@pytest.mark.slow
def test_the_ensemble_is_the_mean_of_its_members_and_reloads(tmp_path):
    members = [_member(seed) for seed in range(3)]
    x = np.random.default_rng(0).integers(0, 256, (5, SIZE, SIZE, 3)).astype(np.float32)
    want = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    ensemble = average_models(members)
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), want, atol=1e-6)
    assert ensemble.count_params() == sum(m.count_params() for m in members)
    ensemble.save(tmp_path / "e.keras")
    np.testing.assert_allclose(
        keras.saving.load_model(tmp_path / "e.keras").predict(x, verbose=0), want, atol=1e-6
    )


def test_members_must_be_two_or_more_and_alike():
    with pytest.raises(UserError, match="an ensemble needs at least 2 models, got 1"):
        average_models([_member(0)])
    with pytest.raises(UserError, match=r"ensemble members differ in \(input, output\) shape"):
        average_models([_member(0), _member(1, size=48)])


@pytest.mark.slow
def test_cli_writes_the_ensemble_and_scores_it_on_the_validation_split(elpv_subset, tmp_path):
    paths = [_saved(tmp_path / f"m{seed}", seed) for seed in (0, 1)]
    out = tmp_path / "ensemble"
    proc = run_module(
        "train.ensemble", "--members", *map(str, paths), "--out", str(out),
        "--data", str(elpv_subset / "train"), "--split-seed", "0",
    )  # fmt: skip
    assert proc.stdout.count("validation accuracy") == 3 and "(16 images of" in proc.stdout
    assert f"wrote an ensemble of 2 models to {out / 'model.keras'}" in proc.stdout
    assert (out / "labels.txt").read_text().split() == ELPV
    model = keras.saving.load_model(out / "model.keras")
    assert model.output_shape == (None, 2) and len(model.layers) == 4  # input, 2 members, average


@pytest.mark.slow
def test_cli_mistakes_are_one_line(tmp_path):
    good = _saved(tmp_path / "good", 0)
    other = _saved(tmp_path / "other", 1, labels=["ok", "bad"])

    def error(*members: Path) -> str:
        proc = run_module(
            "train.ensemble", "--members", *map(str, members), "--out", str(tmp_path / "out"), check=False
        )
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        # TensorFlow logs its own lines at import; the user's mistake is the one error line.
        (line,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        return line

    missing = tmp_path / "nowhere" / "model.keras"
    assert error(good, missing) == (
        f"error: {missing}: no such model; pass model.keras files written by python -m train"
    )
    assert error(good, other) == (
        f"error: {other}: classes ['ok', 'bad'] differ from {good}'s ['defective', 'functional']"
    )
    assert error(good) == "error: an ensemble needs at least 2 models, got 1"
    assert not (tmp_path / "out").exists()


def test_split_seed_fixes_the_validation_split_whatever_the_seed():
    rng = np.random.default_rng(0)
    data = Dataset(
        Path("d"), ("a", "b"), rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8), np.arange(40) % 2
    )
    _, base = hold_out(data, None, Hyperparameters(seed=5))
    _, same = hold_out(data, None, Hyperparameters(seed=1, split_seed=5))
    _, other = hold_out(data, None, Hyperparameters(seed=1))
    np.testing.assert_array_equal(same.images, base.images)
    assert not np.array_equal(other.images, base.images)
