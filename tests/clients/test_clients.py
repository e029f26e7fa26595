"""Our int8 model in the real clients: the TFLite Task Library and MediaPipe Tasks ImageClassifier."""

from __future__ import annotations

import pytest

from conftest import edge_runtime_top, run_clients

pytestmark = [pytest.mark.clients, pytest.mark.slow]


@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_task_library_and_mediapipe_agree_with_edge_runtime(converted, sized_test_images, name):
    model = converted / name
    ours = edge_runtime_top(model, sized_test_images)
    clients = run_clients(model, sized_test_images)
    assert len(sized_test_images) == 40
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
