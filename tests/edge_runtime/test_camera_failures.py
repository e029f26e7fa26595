"""The camera CLI when things go wrong mid-run: a truncated video, deleted files, a stream going down, signals."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import signal
import subprocess
import threading

import cv2
import pytest
from camera_helpers import camera, camera_command, cli_env, summary_counts, wait_for_line

from benchmarks.instruments.frames import decode_video, write_video
from conftest import REPO


def test_a_video_truncated_mid_stream_gives_the_error_and_the_summary(tiny_tflite, tmp_path):
    whole = write_video(tmp_path / "whole.avi", frames=60, fourcc="MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    proc = camera("--model", tiny_tflite["uint8"], "--source", cut, "--fps", "0")
    assert proc.returncode == 1, proc.stderr
    counts = summary_counts(proc.stderr)
    assert 0 < counts["captured"] < 60 and counts["reason"] == "source error"
    assert (
        f"error: {cut}: the video ends at frame {counts['captured']} of the 60 it declares; " in proc.stderr
    )
    assert "the file is truncated or damaged" in proc.stderr and "Traceback" not in proc.stderr


def test_a_folder_whose_files_are_deleted_mid_run(tiny_tflite, tmp_path):
    folder = tmp_path / "cells"
    folder.mkdir()
    frames = decode_video(write_video(tmp_path / "src.mp4", frames=40))
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{index:03d}.png"), frame)
    args = (
        "--model",
        tiny_tflite["uint8"],
        "--source",
        folder,
        "--fps",
        "10",
        "--retries",
        "2",
        "--jsonl",
        "-",
    )
    proc = subprocess.Popen(camera_command(*args), cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        first = json.loads(wait_for_line(proc.stdout, 60))
        shutil.rmtree(folder)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    counts = summary_counts(stderr)
    assert first["frame"] == 0 and 0 < counts["captured"] < 40 and counts["reason"] == "source error"
    # Usually the next file is gone ("no such file"). A read racing the deletion may instead find
    # it cut short: that file is skipped as undecodable and the one after it is the missing one.
    warned = re.search(
        rf"warning: {re.escape(str(folder))}/(\d{{3}})\.png: .*; retry 1 of 2 in 0\.1 s", stderr
    )
    assert warned and int(warned.group(1)) in (counts["captured"], counts["captured"] + 1), stderr
    missing = folder / f"{warned.group(1)}.png"
    assert f"error: {missing}: no such file; gave up after 2 retries over 0.3 s" in stderr


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_a_stream_that_goes_down_is_retried_then_ends_with_the_error_and_summary(tiny_tflite, tmp_path):
    video = write_video(tmp_path / "cells.avi", frames=30, fourcc="MJPG")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{video.name}"
    args = ("--model", tiny_tflite["uint8"], "--source", url, "--retries", "3", "--jsonl", "-")
    proc = subprocess.Popen(camera_command(*args), cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        json.loads(wait_for_line(proc.stdout, 60))
        server.shutdown()  # the stream ends, and reconnecting fails from now on
        server.server_close()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        server.server_close()
    assert proc.returncode == 1, stderr
    counts = summary_counts(stderr)
    assert counts["reason"] == "source error" and counts["processed"] >= 1
    assert f"warning: {url}: delivered no frame; retry 1 of 3 in 0.1 s" in stderr
    assert (
        f"error: {url}: cannot be opened (unplugged, busy, or the stream is down); gave up after 3 retries"
        in stderr
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_run_prints_the_summary_and_exits_0(video, tiny_tflite, signum):
    args = (
        "--model",
        tiny_tflite["uint8"],
        "--source",
        video,
        "--loop",
        "--jsonl",
        "-",
        "--status-interval",
        "0.2",
    )
    proc = subprocess.Popen(camera_command(*args), cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        for _ in range(15):  # half a second of video: past the first status lines
            json.loads(wait_for_line(proc.stdout, 60))
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    counts = summary_counts(stderr)
    assert counts["reason"] == "stopped" and counts["processed"] >= 15
    assert len(stdout.splitlines()) + 15 == counts["processed"]
    assert "status: " in stderr and "Traceback" not in stderr
