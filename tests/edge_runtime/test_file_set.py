"""Artifact sets are replaced whole or not at all, and output folders are checked before any slow work."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from edge_runtime.errors import UserError
from edge_runtime.file_set import check_output_folder, staged_files

NAMES = ("model.tflite", "labels.txt", "card.json")


def _write_set(folder: Path, tag: str) -> None:
    for name in NAMES:
        (folder / name).write_text(f"{tag} {name}\n")


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_a_new_folder_appears_whole_with_every_artifact(tmp_path):
    out = tmp_path / "deep" / "out"
    with staged_files(out, NAMES) as staging:
        assert not out.exists()  # nothing visible while the set is written
        _write_set(staging, "new")
    assert _contents(out) == {name: f"new {name}\n" for name in NAMES}
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no staging folder left behind


def test_the_previous_set_survives_a_failed_run_and_other_files_are_kept(tmp_path):
    _write_set(tmp_path, "old")
    (tmp_path / "notes.txt").write_text("mine\n")
    before = _contents(tmp_path)
    with pytest.raises(RuntimeError, match="disk full"), staged_files(tmp_path, NAMES) as staging:
        (staging / "model.tflite").write_text("new model\n")
        raise RuntimeError("disk full")
    assert _contents(tmp_path) == before


def test_ctrl_c_while_writing_leaves_the_previous_set(tmp_path):
    _write_set(tmp_path, "old")
    before = _contents(tmp_path)
    with pytest.raises(KeyboardInterrupt), staged_files(tmp_path, NAMES) as staging:
        (staging / "model.tflite").write_text("new model\n")
        raise KeyboardInterrupt
    assert _contents(tmp_path) == before


def test_a_set_missing_an_artifact_replaces_nothing(tmp_path):
    _write_set(tmp_path, "old")
    before = _contents(tmp_path)
    refused = pytest.raises(UserError, match=r"did not produce card\.json; nothing was replaced")
    with refused, staged_files(tmp_path, NAMES) as staging:
        (staging / "model.tflite").write_text("new\n")
        (staging / "labels.txt").write_text("new\n")
    assert _contents(tmp_path) == before


def test_a_complete_set_replaces_the_previous_one(tmp_path):
    _write_set(tmp_path, "old")
    with staged_files(tmp_path, NAMES) as staging:
        _write_set(staging, "new")
    assert _contents(tmp_path) == {name: f"new {name}\n" for name in NAMES}


def test_a_failure_during_the_swap_puts_the_previous_files_back(tmp_path, monkeypatch):
    _write_set(tmp_path, "old")
    before = _contents(tmp_path)
    real_replace, moves = os.replace, []

    def failing_replace(src, dst):
        moves.append((Path(src).name, Path(dst).parent == tmp_path))
        # The second new file moving in fails, as a full or vanished disk would.
        if sum(1 for _, into_target in moves if into_target) == 2 and Path(dst).parent == tmp_path:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"), staged_files(tmp_path, NAMES) as staging:
        _write_set(staging, "new")
    monkeypatch.undo()
    assert _contents(tmp_path) == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: (tmp / "out").write_text("x"), r"out: is a file, not a folder; choose another --out"),
        (
            lambda tmp: (tmp / "file").write_text("x"),
            r"cannot be created: .*file is a file, not a folder; choose another --out",
        ),
    ],
    ids=["out-is-a-file", "out-under-a-file"],
)
def test_an_output_in_the_way_of_a_file_is_refused(tmp_path, make, message):
    make(tmp_path)
    out = tmp_path / "out" if (tmp_path / "out").exists() else tmp_path / "file" / "sub" / "out"
    with pytest.raises(UserError, match=message):
        check_output_folder(out)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_an_unwritable_output_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(UserError, match="not writable"):
        check_output_folder(locked / "out")


def test_too_little_free_space_is_refused_up_front(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(
        UserError, match=r"MiB free, about \d+ MiB needed; free some space or choose another --out"
    ):
        check_output_folder(tmp_path / "out", needed_bytes=free * 2)
    assert check_output_folder(tmp_path / "out", needed_bytes=1024) == tmp_path / "out"
