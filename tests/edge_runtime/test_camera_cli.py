"""`python -m edge_runtime camera` end to end: a real video and real models, JSON lines, options, errors at start."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import pytest
from camera_helpers import camera, summary_counts

from benchmarks.instruments.frames import FRAME_HEIGHT as HEIGHT
from benchmarks.instruments.frames import FRAME_WIDTH as WIDTH
from benchmarks.instruments.frames import decode_video
from conftest import CAMERA_LABELS, run_edge_runtime_without_heavy_imports
from edge_runtime.classify import classify_image
from edge_runtime.interpreter import make_interpreter

LABELS = CAMERA_LABELS


@pytest.fixture(scope="module")
def heavy_model(tmp_path_factory) -> Path:
    """MobileNetV2 1.0 at 224x224 (untrained, seeded), as a float32 .tflite: a real, heavy model."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    image = keras.Input((224, 224, 3), batch_size=1)
    base = keras.applications.MobileNetV2(input_shape=(224, 224, 3), weights=None, classes=3)
    model = keras.Model(image, base(keras.layers.Rescaling(1 / 127.5, offset=-1)(image)))
    path = tmp_path_factory.mktemp("heavy") / "mobilenet_v2.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


def test_video_through_the_loop_matches_the_single_image_classifier(video, labelled_model, tmp_path):
    out = tmp_path / "results.jsonl"
    proc = camera(
        "--model", labelled_model, "--source", video, "--threads", "1", "--workers", "2",
        "--budget-ms", "500", "--top-k", "3", "--threshold", "0.0", "--frames", "45", "--jsonl", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    counts = summary_counts(proc.stderr)
    assert counts["captured"] == 45 and counts["reason"] == "frame limit"
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == counts["processed"] > 0
    ids = [r["frame"] for r in records]
    assert ids == sorted(set(ids)) and ids[-1] < 45
    decoded = decode_video(video)
    assert len(decoded) == 60 and decoded[0].shape == (HEIGHT, WIDTH, 3)
    reference = make_interpreter(labelled_model)
    for record in records:
        rgb = cv2.cvtColor(decoded[record["frame"]], cv2.COLOR_BGR2RGB)
        expected = classify_image(reference, rgb, top_k=3, labels=LABELS)
        assert record["classes"][0]["label"] == expected[0].label
        got = [(c["id"], c["label"], c["score"]) for c in record["classes"]]
        assert got == [(c.id, c.label, pytest.approx(c.score, abs=1e-6)) for c in expected]
        assert record["result_at"] >= record["captured_at"] and record["latency_ms"] > 0
        assert record["missed"] is (record["latency_ms"] > 500)
    assert sum(r["missed"] for r in records) == counts["missed"]
    assert (
        "camera: " in proc.stderr and "labels: " in proc.stderr and str(labelled_model.parent) in proc.stderr
    )


def test_end_of_video_ends_cleanly_with_json_on_stdout(video, tiny_tflite):
    proc = camera(
        "--model", tiny_tflite["float32"], "--source", video, "--fps", "0", "--jsonl", "-", "--display"
    )
    assert proc.returncode == 0, proc.stderr
    counts = summary_counts(proc.stderr)
    assert counts["captured"] == 60 and counts["reason"] == "end of source"
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == counts["processed"]
    assert all(c["label"] is None for r in records for c in r["classes"])  # no labels: class ids
    assert "warning: --display: " in proc.stderr and "running headless" in proc.stderr
    # No --threads: the one worker's interpreter gets every usable core.
    assert f"1 worker(s) x {len(os.sched_getaffinity(0))} thread(s)" in proc.stderr


def test_a_heavy_model_under_a_tight_budget_keeps_the_counters_consistent(heavy_model, video, tmp_path):
    out = tmp_path / "heavy.jsonl"
    proc = camera(
        "--model", heavy_model, "--source", video, "--fps", "0", "--workers", "2", "--threads", "1",
        "--budget-ms", "1", "--jsonl", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    counts = summary_counts(proc.stderr)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert counts["captured"] == 60 and len(records) == counts["processed"]
    # MobileNetV2 cannot finish within 1 ms of capture: every result is a miss, and says so.
    assert counts["missed"] == counts["processed"] > 0
    assert all(r["missed"] and r["latency_ms"] > 1 for r in records)
    assert {r["worker"] for r in records} <= {0, 1}
    assert "first inference per worker (warm-up, not counted): " in proc.stderr


def test_edgetpu_without_the_library_is_a_clear_error(tiny_tflite, video):
    proc = camera("--model", tiny_tflite["uint8"], "--source", video, "--edgetpu")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: delegate library 'libedgetpu.so.1' cannot be loaded")
    assert "install an Edge TPU runtime built for this TFLite backend (see docs/devices.md" in proc.stderr
    assert "Traceback" not in proc.stderr and "summary" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--source", "nowhere.mp4"), "error: nowhere.mp4: no such file or folder; --source takes"),
        (("--delegate", "libnothing.so", "--source", "x"), "error: delegate library 'libnothing.so' cannot"),
    ],
)
def test_bad_sources_and_delegates_are_one_line_and_exit_2(tiny_tflite, args, message):
    proc = camera("--model", tiny_tflite["uint8"], *args)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1].startswith(message), proc.stderr


def test_bad_option_values_are_rejected(tiny_tflite, video):
    for args in (("--workers", "0"), ("--budget-ms", "0"), ("--fps", "-2"), ("--camera-size", "big")):
        proc = camera("--model", tiny_tflite["uint8"], "--source", video, *args)
        assert proc.returncode == 2 and "error: argument " + args[0] in proc.stderr
    proc = camera("--model", tiny_tflite["uint8"], "--source", video, "--edgetpu", "--delegate", "x.so")
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_the_camera_loop_never_imports_tensorflow(tiny_tflite, video):
    proc = run_edge_runtime_without_heavy_imports(
        "camera", "--model", str(tiny_tflite["int8"]), "--source", str(video), "--fps", "0", "--frames", "10"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "ok" and "summary: 10 captured" in proc.stderr
