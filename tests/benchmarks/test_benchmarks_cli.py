"""`python -m benchmarks` as a user runs it: latency, a quick run on the tiny models, and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.instruments.converting import with_metadata
from conftest import CLIENTS_PYTHON, run_module


@pytest.fixture(scope="module")
def build_dir(tiny_tflite, tmp_path_factory) -> Path:
    """A build folder holding the tiny models as the default model, with metadata, and an evaluation."""
    build = tmp_path_factory.mktemp("build")
    (build / "tflite").mkdir()
    for mode, name in (("float32", "model_float32"), ("uint8", "model_int8")):
        data = with_metadata(tiny_tflite[mode].read_bytes(), name, classes=3)
        (build / "tflite" / f"{name}.tflite").write_bytes(data)
    models = {n: {"accuracy": a} for n, a in (("model_float32", 0.5), ("model_int8", 0.45))}
    (build / "evaluation.json").write_text(json.dumps({"num_images": 20, "models": models}))
    return build


def test_latency_prints_json_for_each_thread_count(tiny_tflite, tmp_path):
    out = tmp_path / "latency.json"
    proc = run_module(
        "benchmarks", "latency", str(tiny_tflite["int8"]), "--threads", "1,2", "--min-runs", "5",
        "--min-seconds", "0", "--warmup-seconds", "0", "--json-out", str(out),
    )  # fmt: skip
    printed = json.loads(proc.stdout)
    assert [r["threads"] for r in printed] == [1, 2]
    assert json.loads(out.read_text())["results"] == printed
    assert "tiny_int8.tflite threads=2: mean" in proc.stderr


def test_quick_run_on_the_default_model_writes_the_report(build_dir, tmp_path):
    out = tmp_path / "results"
    proc = run_module(
        "benchmarks", "run", "--quick", "--name", "tiny", "--skip", "table,probe,camera",
        "--build", str(build_dir), "--out", str(out), "--work-dir", str(tmp_path / "work"),
        "--clients-python", str(CLIENTS_PYTHON), "--threads", "1,2", "--repeats", "2",
    )  # fmt: skip
    assert "latency repeat 2/2 (1/2) model_float32, threads [1, 2]" in proc.stderr
    assert "peers on model_int8" in proc.stderr
    data = json.loads((out / "tiny.json").read_text())
    assert data["command"].startswith("python -m benchmarks run --quick --name tiny")
    assert set(data["models"]) == {"model_float32", "model_int8"}
    assert [len(r["repeat_means_ms"]) for r in data["models"]["model_int8"]["latency"]] == [2, 2]
    assert data["models"]["model_int8"]["macs"] == 30 * 30 * 8 * 27 + 13 * 13 * 16 * 72 + 48
    assert data["float_vs_int8"]["int8_accuracy_drop_points"] == pytest.approx(5.0)
    precision = data["float_vs_int8"]["precision"]  # int8 or float on this CPU, as the plan advises
    assert precision["cpu"]["model"] and isinstance(precision["cpu"]["features"], list)
    (advice,) = precision["advice"]
    assert (advice["int8"], advice["float"]) == ("model_int8", "model_float32")
    assert "measured model_int8 " in advice["advice"] and " vs model_float32 " in advice["advice"]
    assert data["mobilenet_table"] == []
    assert "camera_loop" not in data
    peers = data["peers"][0]["peers"]
    assert peers["edge_runtime"]["stats"]["count"] == 3 * 5
    if CLIENTS_PYTHON.exists():
        for client in ("task_library", "mediapipe"):
            assert peers[client]["stats"]["count"] == 3 * 5, peers[client]
    report = (out / "REPORT.md").read_text()
    assert "| model_int8 | 45.00% |" in report
    assert f"- model_int8 vs model_float32: {advice['advice']}" in report
    assert "edge_runtime over bare invoke(): " in report and "target 0.3 ms: " in report
    assert "## The MobileNet table\n\n_Skipped in this run._" in report
    assert (out / "tiny_latency_threads.png").is_file()


def test_unknown_section_and_missing_results_are_one_line_errors(tmp_path):
    proc = run_module("benchmarks", "run", "--skip", "tables", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: --skip tables: unknown section; choose from table,probe,default,peers,camera,accuracy"
    )
    proc = run_module("benchmarks", "report", str(tmp_path / "absent.json"), check=False)
    assert proc.returncode == 2
    assert "absent.json: no such results file (make one with python -m benchmarks run)" in proc.stderr
    proc = run_module("benchmarks", "latency", str(tmp_path / "absent.tflite"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("absent.tflite: model file not found; check the path")


def test_machine_prints_the_description_and_its_results_folder_name():
    machine = json.loads(run_module("benchmarks", "machine").stdout)
    assert machine["usable_cores"] >= 1 and "simd_flags" in machine
    assert machine["results_name"] and "/" not in machine["results_name"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("latency", "absent.tflite", "--min-runs", "0"), "error: --min-runs 0: must be 1 or more"),
        (("run", "--repeats", "0"), "error: --repeats 0: must be 1 or more"),
        (("camera", "--rounds", "0"), "error: --rounds 0: must be 1 or more"),
        (
            ("run", "--machine", "../elsewhere"),
            "error: --machine '../elsewhere': give a plain folder name, e.g. zen5 or raspberry-pi-5",
        ),
    ],
)
def test_library_errors_are_reported_under_the_flag(args, message):
    proc = run_module("benchmarks", *args, check=False)
    assert proc.returncode == 2 and proc.stderr.strip() == message


@pytest.mark.parametrize(
    ("old", "new", "bad"),
    [("benchmarks.camera_loop", "camera", "--frames"), ("benchmarks.elpv_accuracy", "elpv", "--members")],
)
def test_old_spellings_say_what_replaced_them_and_run_it(old, new, bad):
    proc = run_module(old, bad, "0", check=False)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"note: python -m {old} is now python -m benchmarks {new}",
        f"error: {bad} 0: must be 1 or more",
    ]


def test_results_go_to_the_machine_folder_unless_a_folder_is_given():
    from argparse import Namespace

    from benchmarks.instruments.machine import machine_name
    from benchmarks.suite.cli import results_dir

    assert results_dir(Namespace(machine=None), None) == Path("benchmarks/results") / machine_name()
    assert results_dir(Namespace(machine="zen5"), None) == Path("benchmarks/results/zen5")
    assert results_dir(Namespace(machine="zen5"), "build/x") == Path("build/x")
