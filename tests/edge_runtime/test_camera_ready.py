"""Exit codes a service manager can act on: a device not ready at the start is retried, then exit 1;
a configuration mistake is exit 2 at once. Cameras, a stream, files and a delegate library, all real."""

from __future__ import annotations

import functools
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
from camera_helpers import camera, camera_command, cli_env
from edgetpu_helpers import fake_delegate

from conftest import REPO
from edge_runtime.camera.capture import RetryPolicy, retry_until_ready
from edge_runtime.camera.source_base import SourceError
from edge_runtime.errors import EXIT_FAULT, EXIT_USER_ERROR, DeviceNotReady, UserError

CAMERA_FIX = (
    "check that it is plugged in and not used by another program (v4l2-ctl --list-devices lists cameras)"
)


def lines(proc: subprocess.CompletedProcess) -> list[str]:
    """stderr without the backends' and FFmpeg's own log lines; no traceback allowed."""
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith(("warning:", "error:", "camera:"))]


def retried_then_failed(proc: subprocess.CompletedProcess, problem: str, retries: int) -> str:
    """Checks RETRIES warnings naming PROBLEM, then one error line last; returns that line."""
    shown = lines(proc)
    assert proc.returncode == EXIT_FAULT, proc.stderr
    delays = [0.1 * 2**i for i in range(retries)]
    assert shown[:-1] == [
        f"warning: {problem}; retry {i + 1} of {retries} in {delay:.1f} s" for i, delay in enumerate(delays)
    ], proc.stderr
    gave_up = f"; gave up after {retries} retr{'y' if retries == 1 else 'ies'} over {sum(delays):.1f} s"
    assert shown[-1].startswith(f"error: {problem}{gave_up}"), shown[-1]
    assert proc.stderr.rstrip().endswith(shown[-1]) and "summary" not in proc.stderr
    return shown[-1]


def _absent_camera_index() -> int:
    taken = {
        int(m[1]) for m in (re.fullmatch(r"video(\d+)", p.name) for p in Path("/dev").glob("video*")) if m
    }
    return max(taken, default=-1) + 40


def test_a_camera_that_is_not_there_is_retried_then_exit_1(tiny_tflite):
    index = _absent_camera_index()
    proc = camera("--model", tiny_tflite["uint8"], "--source", str(index), "--retries", "2")
    problem = f"camera {index}: cannot be opened (unplugged, busy or not there)"
    assert retried_then_failed(proc, problem, 2).endswith(f"; {CAMERA_FIX}; for the Raspberry Pi camera "
                                                            "module use --source picamera2 (sudo apt install python3-picamera2)")  # fmt: skip
    proc = camera("--model", tiny_tflite["uint8"], "--source", str(index), "--retries", "0")
    assert proc.returncode == EXIT_FAULT and lines(proc) == [f"error: {problem}; {CAMERA_FIX}; for the "
                                                            "Raspberry Pi camera module use --source picamera2 (sudo apt install python3-picamera2)"]  # fmt: skip


def test_a_device_path_not_there_yet_at_boot_is_retried_then_exit_1(tiny_tflite):
    device = f"/dev/video{_absent_camera_index()}"
    proc = camera("--model", tiny_tflite["uint8"], "--source", device, "--retries", "1")
    retried_then_failed(
        proc, f"{device}: no such camera device (not plugged in, or not yet there at boot)", 1
    )


def test_a_stream_down_at_the_start_is_retried_then_exit_1(tiny_tflite):
    with socket.socket() as closed:  # a port nobody listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/cells.mjpg"
    proc = camera("--model", tiny_tflite["uint8"], "--source", url, "--retries", "2")
    problem = f"{url}: cannot be opened (unplugged, busy, or the stream is down)"
    assert retried_then_failed(proc, problem, 2).endswith("; check the URL and that the stream is reachable")


def test_a_delegate_that_does_not_start_is_retried_then_exit_1(tiny_tflite, tmp_path):
    delegate = fake_delegate(tmp_path)
    proc = camera(
        "--model", tiny_tflite["uint8"], "--source", tmp_path, "--delegate", delegate, "--retries", "2"
    )
    retried_then_failed(
        proc,
        f"delegate {str(delegate)!r} failed to start (no accelerator found); check that its device is there",
        2,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--model", "missing.tflite", "--source", "0"),
            "error: missing.tflite: model file not found; check the path",
        ),
        (("--source", "nowhere.mp4"), "error: nowhere.mp4: no such file or folder; --source takes"),
        (("--source", "{empty}"), "error: {empty}: no image files in this folder; --source takes"),
        (
            ("--source", "rtps://camera/stream"),
            "error: --source 'rtps://camera/stream': unknown stream scheme 'rtps'; ",
        ),
        (("--source", "picamera2:x"), "error: --source 'picamera2:x': the camera number after ':' must be"),
        (
            ("--delegate", "libnothing.so", "--source", "0"),
            "error: delegate library 'libnothing.so' cannot be loaded",
        ),
        (
            ("--retries", "-1", "--source", "0"),
            "python -m edge_runtime camera: error: argument --retries: -1 must be at least 0",
        ),
    ],
)
def test_configuration_mistakes_exit_2_at_once(tiny_tflite, tmp_path, args, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(empty=empty) for a in args]
    if "--model" not in args:
        args = ["--model", str(tiny_tflite["uint8"]), *args]
    proc = camera(*args)
    assert proc.returncode == EXIT_USER_ERROR, proc.stderr
    assert "Traceback" not in proc.stderr and "warning:" not in proc.stderr  # no retry of a mistake
    assert proc.stderr.strip().splitlines()[-1].startswith(message.format(empty=empty)), proc.stderr


def test_retry_until_ready_backs_off_and_lets_mistakes_through():
    attempts, logged = [], []
    policy = RetryPolicy(retries=3, backoff_s=0.01, max_backoff_s=0.02)

    def ready_on_third() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise SourceError("camera 0: busy")
        return "open"

    assert retry_until_ready(ready_on_third, policy, logged.append) == "open"
    assert logged == [
        "warning: camera 0: busy; retry 1 of 3 in 0.0 s",
        "warning: camera 0: busy; retry 2 of 3 in 0.0 s",
    ]

    def never() -> None:
        raise DeviceNotReady("delegate 'x' failed to start")

    with pytest.raises(
        DeviceNotReady, match=r"^delegate 'x' failed to start; gave up after 3 retries over 0\.1 s; fix it$"
    ):
        retry_until_ready(never, policy, logged.append, "fix it")

    def mistake() -> None:
        attempts.append(1)
        raise UserError("no such model")

    attempts.clear()
    with pytest.raises(UserError, match="no such model"):
        retry_until_ready(mistake, policy, logged.append)
    assert len(attempts) == 1


_BUSY_PICAMERA2 = '''
class Picamera2:
    """Stands in for Picamera2 when libcamera reports the camera busy (another program holds it)."""

    def __init__(self, camera_num=0):
        raise RuntimeError("Failed to acquire camera: Device or resource busy")
'''


def test_a_busy_picamera2_camera_is_retried_then_exit_1(tiny_tflite, tmp_path):
    (tmp_path / "picamera2").mkdir()
    (tmp_path / "picamera2" / "__init__.py").write_text(_BUSY_PICAMERA2)
    env = {**cli_env(), "PYTHONPATH": os.pathsep.join([str(tmp_path), cli_env()["PYTHONPATH"]])}
    run = functools.partial(subprocess.run, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    proc = run(camera_command("--model", tiny_tflite["uint8"], "--source", "picamera2", "--retries", "1"))
    busy = "cannot start (Failed to acquire camera: Device or resource busy)"
    last = retried_then_failed(proc, f"picamera2 camera 0: {busy}", 1)
    assert last.endswith("; check the camera cable and that `rpicam-hello --list-cameras` sees it")
    # A camera number VideoCapture cannot open falls back to Picamera2: both reasons are given.
    index = _absent_camera_index()
    proc = run(camera_command("--model", tiny_tflite["uint8"], "--source", str(index), "--retries", "0"))
    assert proc.returncode == EXIT_FAULT and lines(proc)[-1].startswith(
        f"error: camera {index}: cannot be opened (unplugged, busy or not there), and with Picamera2 {busy}; "
    )
