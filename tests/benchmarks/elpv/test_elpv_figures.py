"""The recipe search's figures: drawn from run files and a verify JSON, written as PNGs."""

from __future__ import annotations

import json

from conftest import run_module


def test_figures_are_drawn_from_the_run_files_and_the_verified_model(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    runs_made = (("a", 0, 0.81, 10.0), ("a", 1, 0.83, 11.0), ("b", 0, 0.80, 30.0), ("all", 0, None, 12.0))
    for recipe, seed, val, minutes in runs_made:
        record = {"recipe": recipe, "seed": seed, "val_accuracy": val, "wall_seconds": 60 * minutes}
        if recipe != "b":
            record["test"] = {"int8": (val or 0.82) + 0.01, "keras_float": val or 0.82}
        (runs / f"{recipe}-seed{seed}.json").write_text(json.dumps(record))
    verified = tmp_path / "verified.json"
    groups = {"0.000": {"images": 375, "accuracy": 0.9}, "1.000": {"images": 184, "accuracy": 0.7}}
    verified.write_text(json.dumps({"accuracy": 0.82, "accuracy_by_expert_probability": groups}))
    proc = run_module("benchmarks.elpv.figures", "--runs", str(runs), "--verified", str(verified))
    for name in ("accuracy_vs_time.png", "accuracy_by_probability.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and name in proc.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_module("benchmarks.elpv.figures", "--runs", str(empty), check=False)
    assert proc.returncode == 2 and "no run files" in proc.stderr
