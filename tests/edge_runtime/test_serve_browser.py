"""`camera --serve` in a real headless Chromium: the page shows a class label, the picture, and a frame counter that moves."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from camera_helpers import camera_command, cli_env, summary_counts
from serve_helpers import Browser, chromium_binary, start_serving, stop

from benchmarks.instruments.frames import write_video
from conftest import REPO

LABELS = ["crack", "finger", "clean"]
TOKEN = "browser-test-token-0123456789"
FRAME = "document.getElementById('frame').textContent"


@pytest.fixture(scope="module")
def chromium() -> str:
    """The system's Chromium; missing: skipped on a workstation, a failure in CI (.ci/run installs it)."""
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (sudo apt-get install chromium); CI installs it")
    return binary


def test_the_page_shows_labels_the_picture_and_a_moving_frame_counter(chromium, tiny_tflite, tmp_path):
    shutil.copy(tiny_tflite["uint8"], tmp_path / "model.tflite")
    (tmp_path / "labels.txt").write_text("\n".join(LABELS) + "\n")
    video = write_video(tmp_path / "cells.mp4", frames=60)
    command = camera_command(
        "--model", tmp_path / "model.tflite", "--source", video, "--loop", "--threads", "1",
        "--serve", "127.0.0.1:0", "--serve-token", TOKEN, "--status-interval", "0",
    )  # fmt: skip
    proc, url = start_serving(command, REPO, cli_env())
    browser = Browser(chromium)
    try:
        # The token only in the page's address: the page must pass it on to stream.mjpg, events, status.json.
        browser.open(f"{url}?token={TOKEN}")
        first = int(browser.wait_for(f"{FRAME} !== '-' && {FRAME}"))
        top = browser.evaluate("document.getElementById('top').textContent")
        assert top.split()[0].rstrip("?") in LABELS, top
        assert browser.wait_for("document.getElementById('processed').textContent !== '-'")
        assert (
            browser.wait_for("document.getElementById('view').naturalWidth") == 640
        )  # a JPEG from the stream
        assert browser.wait_for(f"Number({FRAME}) > {first} && {FRAME}")
        assert browser.evaluate("document.querySelectorAll('#results li').length") > 0
        browser.open(f"{url}?token={TOKEN}")  # a second load shows a later frame
        assert int(browser.wait_for(f"{FRAME} !== '-' && {FRAME}")) > first
        if os.environ.get("SERVE_SCREENSHOT"):  # docs/images: SERVE_SCREENSHOT=path pytest this test
            browser.screenshot(Path(os.environ["SERVE_SCREENSHOT"]))
    finally:
        browser.close()
        summary_counts(stop(proc))
