"""Our int8 model in the real clients: the TFLite Task Library and MediaPipe Tasks ImageClassifier."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from conftest import REPO

CLIENTS_PYTHON = Path(os.environ.get("CLIENTS_PYTHON", REPO / ".venv-clients" / "bin" / "python"))

pytestmark = [
    pytest.mark.clients,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CLIENTS_PYTHON.exists(),
        reason=f"clients' environment not found at {CLIENTS_PYTHON} (make clients builds it; make test does)",
    ),
]


def run_clients(model: Path, images: list[Path], top_k: int = 2) -> dict:
    proc = subprocess.run(
        [
            str(CLIENTS_PYTHON),
            str(REPO / "tests" / "clients" / "run_clients.py"),
            str(model),
            *map(str, images),
            "--top-k",
            str(top_k),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def model_sized_images(elpv_subset, tmp_path_factory) -> list[Path]:
    """The ELPV test images, resized to the model input by edge_runtime and saved as PNG.

    Both clients then receive exactly the pixels edge_runtime feeds the interpreter, so any
    difference in top-1 is a difference in how they read the model.
    """
    from edge_runtime.folders import list_images
    from edge_runtime.image import load_resized

    folder = tmp_path_factory.mktemp("sized")
    paths = []
    for index, source in enumerate(list_images(elpv_subset / "test", recursive=True)):
        path = folder / f"{index:03d}_{source.parent.name}.png"
        Image.fromarray(load_resized(source, 64, 64)).save(path)
        paths.append(path)
    return paths


def edge_runtime_top(model: Path, images: list[Path], top_k: int = 2) -> list[list[tuple[str, float]]]:
    from edge_runtime.classify import classify_image
    from edge_runtime.image import load_rgb
    from edge_runtime.interpreter import make_interpreter
    from edge_runtime.metadata import read_labels

    labels = read_labels(model.read_bytes())
    interpreter = make_interpreter(model)
    return [
        [(c.label, c.score) for c in classify_image(interpreter, load_rgb(p), top_k=top_k, labels=labels)]
        for p in images
    ]


@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_task_library_and_mediapipe_agree_with_edge_runtime(converted, model_sized_images, name):
    model = converted / name
    ours = edge_runtime_top(model, model_sized_images)
    clients = run_clients(model, model_sized_images)
    assert len(model_sized_images) == 40
    for client in ("task_library", "mediapipe"):
        assert "error" not in clients[client], f"{client} rejected {name}: {clients[client].get('error')}"
        results = clients[client]["results"]
        assert len(results) == len(ours)
        for theirs, mine in zip(results, ours, strict=True):
            # Same label names, read by each client from the metadata we wrote.
            assert {c["label"] for c in theirs} == {"defective", "functional"}
            # Same top-1; on an exact tie either tied label may come first.
            tied = {label for label, score in mine if score == mine[0][1]}
            assert theirs[0]["label"] in tied and mine[0][0] in {
                c["label"] for c in theirs if c["score"] == theirs[0]["score"]
            }
            # uint8 probabilities are multiples of 1/256; the float model matches to rounding.
            assert theirs[0]["score"] == pytest.approx(mine[0][1], abs=1e-5)
