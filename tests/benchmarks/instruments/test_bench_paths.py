"""Results by machine, with paths relative to the repository: the generators' rule and the committed files."""

from __future__ import annotations

import re

import pytest

from benchmarks.instruments.paths import REPO, RESULTS, relative_paths, results_folder, shown_path
from edge_runtime.errors import ParameterError

ABSOLUTE = re.compile(r"/(tmp|work|home|root)/")


def test_paths_inside_the_repository_become_relative_and_others_lose_their_root():
    results = {
        "command": f"python -m benchmarks run --out {REPO}/build/x --clients-python /home/me/env/bin/python",
        "models": [{"path": str(REPO / "build" / "tflite" / "model_int8.tflite"), "size_bytes": 5}],
        "note": "1/60 s apart, GMAC/s, p50 / p95",
    }
    assert relative_paths(results) == {
        "command": "python -m benchmarks run --out build/x --clients-python …/env/bin/python",
        "models": [{"path": "build/tflite/model_int8.tflite", "size_bytes": 5}],
        "note": "1/60 s apart, GMAC/s, p50 / p95",
    }
    assert shown_path("/tmp/pytest-7/model0/m.tflite") == "…/pytest-7/model0/m.tflite"
    assert shown_path("/tmp/out") == "…/out"  # never the top folder


def test_the_results_folder_is_one_plain_name_under_benchmarks_results():
    assert results_folder("zen5").as_posix() == "benchmarks/results/zen5"
    with pytest.raises(ParameterError, match=r"^machine='\.\./x': give a plain folder name"):
        results_folder("../x")


def test_committed_results_hold_no_absolute_path_of_the_machine_that_made_them():
    files = [path for path in (REPO / RESULTS).rglob("*") if path.suffix in (".json", ".md")]
    assert files, "no committed results found"
    found = {
        path.relative_to(REPO).as_posix(): match.group(0)
        for path in files
        for match in [ABSOLUTE.search(path.read_text(encoding="utf-8"))]
        if match
    }
    assert found == {}
