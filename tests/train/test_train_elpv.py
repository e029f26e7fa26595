"""Tests for train.elpv: the stratified ELPV export to class folders."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from edge_runtime.errors import UserError
from labels import builtin_labels_path, read_labels
from train import elpv

DATA = Path(str(resources.files("elpv_dataset") / "data"))


@pytest.fixture(scope="module")
def probabilities() -> dict[str, float]:
    """Defect probability of every image, by file name, straight from labels.csv."""
    return {Path(path).name: p for path, p in elpv.read_elpv_labels(DATA)}


def _files(root: Path, split: str, name: str) -> list[str]:
    return sorted(p.name for p in (root / split / name).iterdir())


def test_full_split_is_stratified_75_25_and_seeded(probabilities):
    class_names = read_labels(builtin_labels_path("elpv"))
    splits = elpv.split_rows(elpv.read_elpv_labels(DATA), class_names, seed=0)
    assert len(probabilities) == 2624
    assert list(splits["train"]) == class_names  # label-file order
    assert sum(map(len, splits["train"].values())) == 1968
    assert sum(map(len, splits["test"].values())) == 656
    for name in class_names:
        train, test = set(splits["train"][name]), set(splits["test"][name])
        assert not train & test
        assert abs(len(train) - 3 * len(test)) <= 3, name  # 75/25 within rounding
    assert {n: len(v) for n, v in splits["train"].items()} == {"functional": 1352, "defective": 616}
    again = elpv.split_rows(elpv.read_elpv_labels(DATA), class_names, seed=0)
    other = elpv.split_rows(elpv.read_elpv_labels(DATA), class_names, seed=1)
    reordered = elpv.split_rows(elpv.read_elpv_labels(DATA), class_names[::-1], seed=0)
    assert again == splits
    assert reordered == splits  # the split does not depend on the label file's order
    assert other["train"]["defective"] != splits["train"]["defective"]


def test_subset_export_counts_classes_and_probabilities(tmp_path, probabilities):
    root = tmp_path / "elpv"
    summary = elpv.export(root, per_class_limit={"train": 5, "test": 3}, seed=0)
    assert not summary.reused
    assert summary.counts == {
        "train": {"functional": 5, "defective": 5},
        "test": {"functional": 3, "defective": 3},
    }
    assert summary.total("train") == 10 and summary.total("test") == 6
    for split in ("train", "test"):
        assert sorted(p.name for p in (root / split).iterdir()) == [
            "defective",
            "functional",
            "soft_labels.json",
        ]
        for name in ("functional", "defective"):
            for file in _files(root, split, name):
                is_defective = probabilities[file] >= 0.5
                assert is_defective == (name == "defective"), (split, file)
    train = {f for n in ("functional", "defective") for f in _files(root, "train", n)}
    test = {f for n in ("functional", "defective") for f in _files(root, "test", n)}
    assert not train & test
    # Files are copied byte for byte, not re-encoded.
    some = _files(root, "train", "defective")[0]
    assert (root / "train" / "defective" / some).read_bytes() == (DATA / "images" / some).read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["elpv"]  # no staging folder left behind


def test_export_is_reused_and_redone_for_other_settings(tmp_path):
    root = tmp_path / "elpv"
    first = elpv.export(root, per_class_limit={"train": 2, "test": 1}, seed=0)
    seed0_files = _files(root, "train", "defective")
    marker = (root / elpv.MARKER).stat().st_mtime_ns
    again = elpv.export(root, per_class_limit={"train": 2, "test": 1}, seed=0)
    assert again.reused and again.counts == first.counts
    assert (root / elpv.MARKER).stat().st_mtime_ns == marker
    other_seed = elpv.export(root, per_class_limit={"train": 2, "test": 1}, seed=5)
    assert not other_seed.reused
    assert _files(root, "train", "defective") != seed0_files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elpv"]  # old export and staging removed


def test_export_into_existing_empty_folder(tmp_path):
    summary = elpv.export(tmp_path, per_class_limit={"train": 1, "test": 1})
    assert summary.total("train") == 2
    assert (tmp_path / elpv.MARKER).is_file()


def test_export_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=r"not empty and holds no ELPV export"):
        elpv.export(tmp_path, per_class_limit={"train": 1})
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(UserError, match=r"notes.txt: is a file; pass a folder path for the export"):
        elpv.export(tmp_path / "notes.txt")


def test_split_rejects_other_class_names():
    with pytest.raises(
        UserError, match=r"ELPV classes must be 'defective' and 'functional', got \['ok', 'bad'\]"
    ):
        elpv.split_rows([], ["ok", "bad"], seed=0)


def test_export_rejects_unknown_limit_split(tmp_path):
    with pytest.raises(UserError, match=r"unknown split\(s\) \['val'\]"):
        elpv.export(tmp_path / "x", per_class_limit={"val": 1})


def test_cli_exports_everything(tmp_path, capsys):
    assert elpv.main(["--out", str(tmp_path / "full")]) == 0
    out = capsys.readouterr().out
    train_line, test_line = (line for line in out.splitlines() if line.startswith(("train:", "test:")))
    assert train_line.startswith("train: 1968 images (") and {"functional 1352", "defective 616"} <= set(
        train_line[train_line.index("(") + 1 : -1].split(", ")
    )
    assert test_line.startswith("test: 656 images (") and {"functional 451", "defective 205"} <= set(
        test_line[test_line.index("(") + 1 : -1].split(", ")
    )
    assert len(list((tmp_path / "full" / "test" / "defective").iterdir())) == 205
    assert elpv.main(["--out", str(tmp_path / "full")]) == 0
    assert "already exported" in capsys.readouterr().out
