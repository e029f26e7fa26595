"""The one clients' timing protocol: the Task Library and MediaPipe timed on request, with or without their image wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.instruments.clients import CLIENTS, ClientsWorker
from benchmarks.instruments.converting import with_metadata
from conftest import CLIENTS_PYTHON


@pytest.mark.clients
def test_each_client_times_the_calls_asked_for(tiny_tflite, tmp_path):
    model = tmp_path / "tiny.tflite"
    model.write_bytes(with_metadata(tiny_tflite["uint8"].read_bytes(), "tiny", classes=3))
    frames = np.random.default_rng(0).integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
    worker = ClientsWorker(str(CLIENTS_PYTHON), model, frames, tmp_path, threads=1, top_k=2)
    try:
        assert worker.ready["ready"] and worker.ready["errors"] == {}, worker.ready
        for client in CLIENTS:
            for prepared in (False, True):
                times, cpu_seconds, wall_seconds = worker.runner(client, prepared)(4, 2)
                assert len(times) == 4 and min(times) > 0 and wall_seconds >= sum(times) / 1000
                assert cpu_seconds >= 0
    finally:
        worker.close()
