"""Report writing from real measurements of the tiny models: JSON that parses, real PNGs, Markdown tables."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from benchmarks.instruments.latency import LatencyOptions, measure_latency
from benchmarks.instruments.machine import describe_machine, load
from benchmarks.suite.accuracy import float_vs_int8, table_pairs
from benchmarks.suite.mobilenet_table import join_table
from benchmarks.suite.peers import PeerOptions, run_peers
from benchmarks.suite.report import write_report
from benchmarks.suite.table_models import TABLE_MODELS
from conftest import run_module

FAST = LatencyOptions(min_runs=5, min_seconds=0.0, warmup_runs=1, warmup_seconds=0.0)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _evaluation(build, accuracies: dict[str, float]) -> None:
    """An evaluation.json in the format convert.evaluate writes."""
    models = {name: {"accuracy": value, "per_class_accuracy": {}} for name, value in accuracies.items()}
    summary = {"num_images": 40, "class_names": ["a", "b", "c"], "models": models, "data": "test-data"}
    (build / "evaluation.json").write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def results(tiny_tflite, tmp_path_factory) -> dict:
    build = tmp_path_factory.mktemp("build")
    (build / "tflite").mkdir()
    shutil.copy(tiny_tflite["float32"], build / "tflite" / "model_float32.tflite")
    shutil.copy(tiny_tflite["uint8"], build / "tflite" / "model_int8.tflite")
    _evaluation(build, {"keras_float32": 0.75, "model_float32": 0.75, "model_int8": 0.725})
    models = {}
    for name in ("model_float32", "model_int8"):
        path = build / "tflite" / f"{name}.tflite"
        models[name] = {
            "kind": "default",
            "path": str(path),
            "size_bytes": path.stat().st_size,
            "latency": [measure_latency(path, t, FAST).to_json() for t in (1, 2)],
        }
    # The tiny models stand in for two table rows, so the join, chart and Markdown have data.
    table_measured = {
        "MobileNet_V1_1.0_224_quant": {"size_bytes": 4_530_000, "macs": 568_740_352, **models["model_int8"]},
        "MobileNet_V1_1.0_224": {"size_bytes": 16_870_000, "macs": 568_740_352, **models["model_float32"]},
    }
    table = join_table(TABLE_MODELS, table_measured, {"int8": 100.0, "float32": 40.0})
    peers = run_peers(
        build / "tflite" / "model_int8.tflite", PeerOptions(rounds=2, calls_per_round=3, frames=3)
    )
    accuracy = float_vs_int8(build, {"model_float32": 0.5, "model_int8": 0.25})
    accuracy["table_pairs"] = table_pairs(table)
    return {
        "name": "unit",
        "command": "python -m benchmarks run --name unit",
        "quick": True,
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "duration_s": 60.0,
        "machine": describe_machine(),
        "settings": {"latency": FAST.__dict__, "run": {}},
        "models": models,
        "probe_gmacs_per_s": {"int8": {"1": 100.0, "2": 190.0}},
        "mobilenet_table": table,
        "peers": [{"name": "model_int8", **peers}],
        "float_vs_int8": accuracy,
        "load_at_end": load(),
    }


def test_float_vs_int8_reads_the_evaluation_and_sizes(results):
    section = results["float_vs_int8"]
    assert section["missing"] == []
    assert section["models"]["model_int8"]["accuracy"] == 0.725
    assert section["int8_accuracy_drop_points"] == pytest.approx(2.5)
    assert section["int8_speedup"] == pytest.approx(2.0)
    assert section["int8_size_ratio"] < 1


def test_missing_default_model_says_how_to_make_it(tmp_path):
    section = float_vs_int8(tmp_path)
    assert section["models"] == {}
    assert len(section["missing"]) == 3
    assert all("make evaluate" in line for line in section["missing"])
    assert str(tmp_path / "evaluation.json") in section["missing"][0]


def test_peers_without_clients_say_why_and_compare_with_the_floor(results):
    peers = results["peers"][0]["peers"]
    assert peers["invoke_floor"]["p50_vs_floor"] == pytest.approx(1.0)
    assert peers["edge_runtime"]["stats"]["count"] == 2 * 3
    assert peers["edge_runtime"]["p50_vs_floor"] > 0
    assert (
        peers["task_library"]["skipped"]
        == "clients' environment not given (make clients builds .venv-clients)"
    )
    assert peers["mediapipe"]["skipped"] == peers["task_library"]["skipped"]


def test_report_files_parse_and_show_the_tables(results, tmp_path):
    paths = write_report(results, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["name"] == "unit"
    assert data["charts"] == {
        "latency_threads": "unit_latency_threads.png",
        "table": "unit_mobilenet_table.png",
        "peers": "unit_peers.png",
        "float_vs_int8": "unit_float_vs_int8.png",
    }
    for name in data["charts"].values():
        png = (tmp_path / name).read_bytes()
        assert png.startswith(PNG_SIGNATURE)
        assert len(png) < 150_000
    text = paths["markdown"].read_text()
    assert paths["markdown"].name == "REPORT.md"
    assert "| model | threads | mean ms | p50 ms | Pixel 3 ms | ratio |" in text
    assert "70.0% (not reproduced)" in text
    assert "| model_int8 | 2 |" in text  # the latency table
    assert "| invoke_floor |" in text and "skipped: clients' environment not given" in text
    assert "## Camera loop (640x480, 30 fps, 33 ms budget)\n\n_Skipped in this run._" in text
    assert "| model_int8 | 72.50% |" in text
    assert "![MobileNet table, published vs measured](unit_mobilenet_table.png)" in text
    assert ("machine was loaded" in text) != ("machine was quiet" in text)
    assert "## At a glance" in text
    assert (
        "- Per 640x480 frame on model_int8, p50 against bare invoke(): invoke_floor ×1.00, edge_runtime ×"
        in text
    )
    assert "- int8 vs float32, MobileNet_V1_1.0_224: speed-up ×" in text


def test_report_command_redraws_from_the_json(results, tmp_path):
    paths = write_report(results, tmp_path / "first")
    run_module("benchmarks", "report", str(paths["json"]), "--out", str(tmp_path / "again"))
    again = (tmp_path / "again" / "REPORT.md").read_text()
    assert again == paths["markdown"].read_text()
    assert (tmp_path / "again" / "unit_peers.png").read_bytes().startswith(PNG_SIGNATURE)


def test_camera_loop_results_become_a_table_and_histogram(results, tmp_path):
    summary = {
        "captured": 300, "processed": 290, "dropped": 10, "missed": 3, "fps": 29.0,
        "latency_ms": {"p50": 12.0, "p95": 30.0, "p99": 40.0}, "inference_ms": {"p50": 8.0},
    }  # fmt: skip
    rng = np.random.default_rng(0)
    runs = [
        {"model": "model_int8", "workers": w, "threads": t, "summary": summary,
         "latencies_ms": list(rng.gamma(4.0, 3.0, 290)), "steal_percent": steal}
        for w, t, steal in ((1, 2, 2.5), (2, 1, None))
    ]  # fmt: skip
    pair = {"model": "model_int8", "threads": 2, "frames": 300, "loop_missed": 3, "bare_invokes": 300}
    pairs = [
        {**pair, "loop_miss_causes": {"invoke": 2, "queue": 1}, "bare_over_budget": 0, "meets": False},
        {**pair, "model": "other", "loop_miss_causes": {"invoke": 3}, "bare_over_budget": 4, "meets": True},
    ]
    camera = {"video": "cells.mp4: 640x480, 30 fps", "budget_ms": 33.0, "runs": runs, "side_by_side": pairs}
    paths = write_report({**results, "camera_loop": camera}, tmp_path)
    text = paths["markdown"].read_text()
    assert "| model_int8 | 2 | 300 | 3 | invoke 2, queue 1 | 0 of 300 | **misses** |" in text
    assert "| other | 2 | 300 | 3 | invoke 3 | 4 of 300 | meets |" in text
    assert (
        "| model_int8 | 1 worker(s) x 2 thread(s) | 300 | 290 | 10 | 3 | 29.0 | 12.0 | 30.0 | 40.0 | 8.0 | 2.5% |"
        in text
    )
    assert (
        "| model_int8 | 2 worker(s) x 1 thread(s) | 300 | 290 | 10 | 3 | 29.0 | 12.0 | 30.0 | 40.0 | 8.0 | – |"
        in text
    )
    assert (tmp_path / "unit_camera_loop_hist.png").read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("cpu", "says"),
    [
        (("x86", "AMD EPYC 7763", ("avx2", "fma")), "AMD EPYC 7763 has no VNNI"),
        (
            ("arm", "Cortex-A76", ("asimd", "asimddp")),
            "Cortex-A76 has int8 dot-product instructions (asimddp)",
        ),
    ],
    ids=["avx2-only", "arm-dotprod"],
)
def test_the_run_advises_int8_or_float_per_pair_by_the_cpu(results, tmp_path, cpu, says):
    from benchmarks.suite.accuracy import precision_advice
    from edge_runtime.doctor.cpu import CpuInfo

    section = results["float_vs_int8"]
    precision = precision_advice(section, CpuInfo(*cpu, cores=2))
    assert precision["cpu"] == {"arch": cpu[0], "model": cpu[1], "features": list(cpu[2])}
    # The default model's pair (timed at 0.5 vs 0.25 ms), then every MobileNet table pair.
    pairs = [(a["int8"], a["float"]) for a in precision["advice"]]
    table = [(f"{p['architecture']}_quant", p["architecture"]) for p in section["table_pairs"]]
    assert pairs == [("model_int8", "model_float32"), *table] and table
    first = precision["advice"][0]
    assert (first["int8_ms"], first["float_ms"]) == (0.25, 0.5)
    assert first["advice"].startswith(says) and "deploy model_int8: 2x faster" in first["advice"]
    text = write_report({**results, "float_vs_int8": {**section, "precision": precision}}, tmp_path)[
        "markdown"
    ]
    text = text.read_text()
    assert f"Which to deploy on this CPU ({cpu[1]}, {cpu[0]})" in text
    assert f"- model_int8 vs model_float32: {first['advice']}" in text


def test_the_peers_section_reads_the_overhead_against_its_targets(results, tmp_path):
    verdict = results["peers"][0]["edge_runtime_overhead"]
    text = write_report(results, tmp_path)["markdown"].read_text()
    split = verdict["split"]
    line = (
        f"edge_runtime over bare invoke(): {verdict['p50_ms']:.3f} ms p50 (own work {split['own_work_p50_ms']:.3f}"
        f" ms, invoke() slower by {split['invoke_slowdown_p50_ms']:.3f} ms); target 0.3 ms: "
    )
    assert line in text
    best = {"name": "mediapipe", "p50_ms": 0.9}
    faster = {
        **verdict,
        "p50_ms": 0.2,
        "meets_absolute": True,
        "best_peer": best,
        "meets_third_of_best_peer": True,
    }
    run = {**results["peers"][0], "edge_runtime_overhead": faster}
    text = write_report({**results, "peers": [run]}, tmp_path / "again")["markdown"].read_text()
    assert "target 0.3 ms: meets; best peer mediapipe 0.900 ms over it, a third of that: meets." in text
