"""The camera command on bad input: a corrupt frame is skipped, --fps 0 drops none, signals at start, --verify."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from camera_helpers import camera, camera_command, cli_env, summary_counts
from PIL import Image

from conftest import REPO


@pytest.fixture
def cells(tmp_path) -> Path:
    """Twelve small frames in a folder, the sixth a truncated PNG."""
    folder = tmp_path / "cells"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(12):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(folder / f"{index:02d}.png")
    damaged = folder / "05.png"
    damaged.write_bytes(damaged.read_bytes()[:60])
    return folder


def test_a_corrupt_frame_of_a_folder_is_skipped_and_counted_and_the_rest_run(tiny_tflite, cells):
    proc = camera("--model", tiny_tflite["uint8"], "--source", cells, "--fps", "0", "--jsonl", "-")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    counts = summary_counts(proc.stderr)
    assert counts == {
        "captured": 11,
        "processed": 11,
        "dropped": 0,
        "missed": counts["missed"],
        "reason": "end of source",
    }
    assert "skipped (the source could not decode them, not captured): 1" in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert (
        len(warnings) == 1
        and str(cells / "05.png") in warnings[0]
        and warnings[0].endswith("; frame skipped")
    )
    files = [json.loads(line)["file"] for line in proc.stdout.splitlines()]
    assert files == [str(cells / f"{i:02d}.png") for i in range(12) if i != 5]  # each result names its file


def test_fps_0_classifies_every_frame_of_a_folder_with_none_dropped(tiny_tflite, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(60):
        Image.new("RGB", (640, 480), (index * 4, 80, 160)).save(folder / f"{index:03d}.png")
    proc = camera("--model", tiny_tflite["uint8"], "--source", folder, "--fps", "0", "--workers", "2")
    counts = summary_counts(proc.stderr)
    assert proc.returncode == 0 and counts["captured"] == counts["processed"] == 60 and counts["dropped"] == 0


def _handler_installed(pid: int, signum: int) -> bool:
    """Whether process PID catches SIGNUM (/proc/PID/status SigCgt, a hex mask of bit signum-1)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_as_soon_as_the_command_starts_ends_with_the_summary_and_exit_0(tiny_tflite, cells, signum):
    """The handlers go in before the imports and the model: from then on a stop is a clean stop."""
    proc = subprocess.Popen(
        camera_command("--model", tiny_tflite["uint8"], "--source", cells, "--loop"),
        cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _handler_installed(proc.pid, signal.SIGTERM):
            assert proc.poll() is None and time.monotonic() < deadline, (
                "the camera command never caught SIGTERM"
            )
            time.sleep(0.002)
        quiet, _, _ = select.select([proc.stderr], [], [], 0)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert quiet == [], "the handlers came only after the command had started printing (the model loaded)"
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert summary_counts(stderr)["reason"] == "stopped"


def test_verify_refuses_a_model_that_does_not_match_its_card(tiny_tflite, cells, tmp_path):
    model = tmp_path / "model_int8.tflite"
    model.write_bytes(tiny_tflite["uint8"].read_bytes())
    (tmp_path / "model_card.json").write_text(json.dumps({"models": {model.name: {"sha256": "0" * 64}}}))
    proc = camera("--model", model, "--source", cells, "--verify")
    assert proc.returncode == 2, proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {model}: sha256 ") and "the file is damaged or another version" in line
    assert "summary:" not in proc.stderr
