"""Tests for `python -m edge_runtime classify`, run as a user runs it (subprocess from the repo root)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import (
    REPO,  # noqa: E402
    run_edge_runtime_without_heavy_imports,
)
from edge_runtime.classify import classify_image
from edge_runtime.image import load_rgb
from edge_runtime.interpreter import make_interpreter


def classify(*args: str | Path) -> subprocess.CompletedProcess:
    """Runs the classify CLI; returns the finished process (stdout/stderr as text)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "edge_runtime", "classify", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def json_results(proc: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def odd_images(tmp_path_factory) -> list[Path]:
    """Images in awkward modes and sizes that the CLI must all read."""
    folder = tmp_path_factory.mktemp("odd")
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    ramp = np.linspace(0, 255, 4000, dtype=np.float32)[None, :, None]
    files = {
        "rgb.png": Image.fromarray(noise),
        "rgb.jpg": Image.fromarray(noise),
        "gray_L.png": Image.fromarray(noise[:, :, 0]),
        "rgba.png": Image.fromarray(
            np.dstack([noise, rng.integers(0, 256, (48, 64), dtype=np.uint8)]), "RGBA"
        ),
        "palette_P.png": Image.fromarray(noise).convert("P", palette=Image.Palette.ADAPTIVE, colors=16),
        "gray16_I16.png": Image.fromarray(rng.integers(0, 65536, (40, 30), dtype=np.uint16)),
        "one_pixel.png": Image.fromarray(np.array([[[200, 30, 90]]], dtype=np.uint8)),
        "large_4000x3000.jpg": Image.fromarray(np.broadcast_to(ramp, (3000, 4000, 3)).astype(np.uint8)),
        "cmyk.jpg": Image.fromarray(noise).convert("CMYK"),
    }
    paths = []
    for name, image in files.items():
        path = folder / name
        image.save(path)
        paths.append(path)
    assert Image.open(folder / "gray16_I16.png").mode == "I;16"
    assert Image.open(folder / "cmyk.jpg").mode == "CMYK"
    return paths


def test_odd_images_all_classified(tiny_tflite, odd_images):
    proc = classify("--model", tiny_tflite["int8"], "--top-k", "2", *odd_images)
    assert proc.returncode == 0, proc.stderr
    assert error_lines(proc) == []
    lines = proc.stdout.splitlines()
    assert lines[::3] == [str(p) for p in odd_images]
    for line in lines[1::3] + lines[2::3]:
        score, name = line.split()[0], " ".join(line.split()[1:])
        assert 0.0 <= float(score) <= 1.0 and name.startswith("class ")


def test_json_matches_the_api(tiny_tflite, odd_images):
    proc = classify("--model", tiny_tflite["uint8"], "--json", "--top-k", "3", *odd_images)
    assert proc.returncode == 0, proc.stderr
    results = json_results(proc)
    assert [r["image"] for r in results] == [str(p) for p in odd_images]
    interpreter = make_interpreter(tiny_tflite["uint8"])
    for path, result in zip(odd_images, results, strict=True):
        expected = classify_image(interpreter, load_rgb(path), top_k=3)
        assert [row["id"] for row in result["classes"]] == [c.id for c in expected]
        assert [row["score"] for row in result["classes"]] == pytest.approx(
            [c.score for c in expected], abs=1e-6
        )
        assert all(row["label"] is None for row in result["classes"])


def test_bad_images_are_reported_and_the_rest_still_run(tiny_tflite, odd_images, tmp_path):
    not_image = tmp_path / "notes.png"
    not_image.write_text("these are notes, not pixels\n")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(odd_images[0].read_bytes()[:300])
    missing = tmp_path / "missing.jpg"
    good = odd_images[0]
    proc = classify("--model", tiny_tflite["float32"], "--json", not_image, good, truncated, missing)
    assert proc.returncode == 2
    assert [r["image"] for r in json_results(proc)] == [str(good)]
    errors = error_lines(proc)
    assert len(errors) == 3
    assert errors[0] == f"error: {not_image}: not an image Pillow can read"
    assert errors[1].startswith(f"error: {truncated}: cannot decode image (")
    assert errors[2] == f"error: {missing}: no such file"


def test_labels_option_beside_file_and_indices(tiny_tflite, odd_images, tmp_path):
    labels_file = tmp_path / "names.txt"
    labels_file.write_text("crack\nclean\nsmudge\n")
    proc = classify("--model", tiny_tflite["int8"], "--labels", labels_file, "--json", odd_images[0])
    assert proc.returncode == 0, proc.stderr
    assert {row["label"] for row in json_results(proc)[0]["classes"]} == {"crack", "clean", "smudge"}

    folder = tmp_path / "deployed"
    folder.mkdir()
    model = shutil.copy(tiny_tflite["int8"], folder / "model.tflite")
    (folder / "labels.txt").write_text("a\nb\nc\n")
    proc = classify("--model", model, "--top-k", "1", "--json", "-v", odd_images[0])
    assert proc.returncode == 0, proc.stderr
    assert json_results(proc)[0]["classes"][0]["label"] in {"a", "b", "c"}
    assert f"backend: ai_edge_litert, labels: {folder / 'labels.txt'}" in proc.stderr


@pytest.fixture(scope="module")
def model_with_labels(tiny_tflite, tmp_path_factory) -> Path:
    """The tiny int8 model with TFLite Metadata and packed labels, as the converter writes it."""
    from convert.metadata_writer import populate
    from edge_runtime.metadata import ModelMetadata

    folder = tmp_path_factory.mktemp("with_labels")
    data = populate(
        tiny_tflite["int8"].read_bytes(), ModelMetadata(name="tiny"), {"labels.txt": b"ash\nbirch\ncedar\n"}
    )
    (folder / "labels.txt").write_text("x\ny\nz\n")  # a stale file beside it must not win
    model = folder / "model.tflite"
    model.write_bytes(data)
    return model


def test_labels_come_from_the_model_unless_given(model_with_labels, odd_images, tmp_path):
    proc = classify("--model", model_with_labels, "--json", "-v", odd_images[0])
    assert proc.returncode == 0, proc.stderr
    assert {row["label"] for row in json_results(proc)[0]["classes"]} == {"ash", "birch", "cedar"}
    assert f"labels: {model_with_labels} (embedded)" in proc.stderr

    other = tmp_path / "other.txt"
    other.write_text("p\nq\nr\n")
    proc = classify("--model", model_with_labels, "--labels", other, "--top-k", "3", "--json", odd_images[0])
    assert proc.returncode == 0, proc.stderr
    # An explicit --labels file overrides the embedded names (e.g. translated labels).
    assert {row["label"] for row in json_results(proc)[0]["classes"]} == {"p", "q", "r"}


def test_labels_that_do_not_match_the_model(tiny_tflite, odd_images, tmp_path):
    labels_file = tmp_path / "two.txt"
    labels_file.write_text("functional\ndefective\n")
    proc = classify("--model", tiny_tflite["int8"], "--labels", labels_file, odd_images[0])
    assert proc.returncode == 2
    assert error_lines(proc) == [
        f"error: {labels_file}: 2 labels but the model has 3 outputs; use the labels file written with this model"
    ]
    assert proc.stdout == ""


def test_threshold_can_hide_every_class(tiny_tflite, odd_images):
    proc = classify("--model", tiny_tflite["int8"], "--threshold", "0.99", odd_images[0])
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [str(odd_images[0]), "  (no class scored 0.99 or more)"]


@pytest.mark.parametrize(
    ("model_name", "content", "expected"),
    [
        ("missing.tflite", None, "{path}: model file not found; check the path"),
        ("model.h5", b"12345678", "{path}: not a .tflite model (the name must end in .tflite); "),
        (
            "junk.tflite",
            b"\x00" * 64,
            "{path}: not a TFLite flatbuffer (no 'TFL3' identifier at bytes 4..8); ",
        ),
    ],
)
def test_bad_model_is_one_line(tmp_path, odd_images, model_name, content, expected):
    path = tmp_path / model_name
    if content is not None:
        path.write_bytes(content)
    proc = classify("--model", path, odd_images[0])
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("error: " + expected.format(path=path))


def test_missing_delegate_and_unknown_backend(tiny_tflite, odd_images):
    proc = classify("--model", tiny_tflite["int8"], "--delegate", "libedgetpu.so.1", odd_images[0])
    assert proc.returncode == 2
    [line] = error_lines(proc)
    assert line.startswith("error: delegate library 'libedgetpu.so.1' cannot be loaded (")
    assert "Coral: known-good runtime pairings" in line and "libedgetpu1-std" not in line

    proc = classify("--model", tiny_tflite["int8"], "--backend", "tflite", odd_images[0])
    assert proc.returncode == 2
    assert proc.stderr == (
        "error: unknown backend 'tflite'; choose one of: ai_edge_litert, tflite_runtime, tensorflow\n"
    )


def test_bad_option_values_are_rejected_by_argparse(tiny_tflite, odd_images):
    proc = classify("--model", tiny_tflite["int8"], "--top-k", "0", odd_images[0])
    assert proc.returncode == 2
    assert "argument --top-k: 0 must be 1 or more" in proc.stderr


def test_cli_never_imports_tensorflow(tiny_tflite, odd_images):
    proc = run_edge_runtime_without_heavy_imports(
        "classify", "--model", str(tiny_tflite["int8"]), str(odd_images[0])
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "ok"
    assert proc.stdout.splitlines()[0] == str(odd_images[0])
