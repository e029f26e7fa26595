"""Camera test helpers: running the camera CLI and reading its summary (frames and videos: benchmarks.instruments.frames)."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SUMMARY = re.compile(
    r"summary: (\d+) captured, (\d+) processed, (\d+) dropped, (\d+) missed the ([\d.]+) ms budget; "
    r"[\d.]+ fps over [\d.]+ s \(([a-z ]+)\)"
)


def camera_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "edge_runtime", "camera", *map(str, args)]


def cli_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", "OPENCV_LOG_LEVEL": "ERROR"}


def camera(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        camera_command(*args), cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=timeout
    )


def summary_counts(stderr: str) -> dict:
    """The summary's counters; fails when there is no summary."""
    match = SUMMARY.search(stderr)
    assert match, f"no summary in:\n{stderr}"
    captured, processed, dropped, missed = (int(match.group(i)) for i in range(1, 5))
    assert captured == processed + dropped, match.group(0)
    assert missed <= processed
    return {
        "captured": captured,
        "processed": processed,
        "dropped": dropped,
        "missed": missed,
        "reason": match[6],
    }


def wait_for_line(stream, timeout: float) -> str:
    """The next line of a child's pipe, or fails after `timeout` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return stream.readline()
