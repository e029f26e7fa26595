"""--source picamera2 with a stand-in Picamera2 (fake_picamera2/): stalls end in retries then exit 1, a broken
install is one line, frames carry their sensor timestamp. The numpy-1 apt stack: test_picamera_bookworm.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from camera_helpers import camera_command, cli_env, summary_counts

from conftest import REPO
from edge_runtime.camera.capture import CaptureEnd, RetryPolicy, capture_frames
from edge_runtime.camera.exchange import FrameExchange
from edge_runtime.camera.loop import LoopOptions, run_loop
from edge_runtime.camera.picamera import PicameraSource, load_picamera2, picamera_installed, sensor_time
from edge_runtime.camera.source_base import Source, SourceError, SourceOptions
from edge_runtime.errors import ParameterError, UserError
from edge_runtime.interpreter import make_interpreter

FAKE = Path(__file__).resolve().parent / "fake_picamera2"
FAKE_SETTINGS = ("IMPORT_ERROR", "OLD", "FRAMES", "FRAMES_PER_OPEN", "CAMERAS")


@pytest.fixture
def fake_picamera2(monkeypatch):
    """The stand-in importable in this process as `picamera2`; returns a function that sets its variables."""
    for name in FAKE_SETTINGS:
        monkeypatch.delenv(f"FAKE_PICAMERA2_{name}", raising=False)
    monkeypatch.syspath_prepend(str(FAKE))
    yield lambda **settings: [monkeypatch.setenv(f"FAKE_PICAMERA2_{k}", str(v)) for k, v in settings.items()]
    sys.modules.pop("picamera2", None)  # the next test imports it again with its own settings


def run_camera(*args, timeout: float = 60, **settings) -> subprocess.CompletedProcess:
    """The camera CLI in a child that imports the stand-in as picamera2; the timeout fails a hang."""
    env = {k: v for k, v in cli_env().items() if not k.startswith("FAKE_PICAMERA2_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(FAKE)])
    env.update({f"FAKE_PICAMERA2_{k}": str(v) for k, v in settings.items()})
    return subprocess.run(
        camera_command(*args), cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("old", [False, True], ids=["picamera2-0.3.20+", "picamera2-before-0.3.20"])
def test_a_stalled_camera_is_retried_then_exits_1(tiny_tflite, old):
    settings = {"FRAMES": 3, **({"OLD": 1} if old else {})}
    proc = run_camera(
        "--model", tiny_tflite["uint8"], "--source", "picamera2", "--frames", "50",
        "--retries", "2", "--frame-timeout", "0.5", **settings,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    counts = summary_counts(proc.stderr)
    assert counts["captured"] == 3 and counts["reason"] == "source error"
    stalled = "picamera2 camera 0: no frame within 0.5 s (the camera stalled; --frame-timeout sets the wait)"
    assert f"warning: {stalled}; retry 1 of 2 in 0.1 s" in proc.stderr
    if old:  # its stop waits behind the stalled capture: the reopen finds the camera still held
        assert (
            "cannot start (Failed to acquire camera: Device or resource busy); the previous camera did "
            in (proc.stderr)
        )
    else:
        assert f"warning: {stalled}; retry 2 of 2 in 0.2 s" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "gave up after 2 retries" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_camera_that_recovers_after_a_reopen_keeps_running(tiny_tflite):
    proc = run_camera(
        "--model", tiny_tflite["uint8"], "--source", "picamera2", "--frames", "10",
        "--retries", "1", "--frame-timeout", "0.5", FRAMES_PER_OPEN=4,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert summary_counts(proc.stderr)["captured"] == 10
    assert proc.stderr.count("no frame within 0.5 s") >= 2  # after frames 4 and 8, each time reopened


def test_a_broken_picamera2_install_is_one_line_naming_the_fix(tiny_tflite):
    proc = run_camera(
        "--model", tiny_tflite["uint8"], "--source", "picamera2",
        IMPORT_ERROR="No module named 'libcamera'",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: Picamera2 is installed but does not import (ImportError: No module named 'libcamera'); "
        "reinstall it (sudo apt install --reinstall python3-picamera2) and create the virtual environment "
        "with --system-site-packages"
    )
    assert "Traceback" not in proc.stderr


def test_no_picamera2_says_how_to_install_it(tiny_tflite):
    env = {**cli_env(), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        camera_command("--model", tiny_tflite["uint8"], "--source", "picamera2"),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: Picamera2 is not installed; on Raspberry Pi OS: sudo apt install python3-picamera2, "
        "and create the virtual environment with --system-site-packages"
    )


def test_picamera_installed_means_it_imports(fake_picamera2):
    assert picamera_installed()
    sys.modules.pop("picamera2")
    fake_picamera2(IMPORT_ERROR="libcamera.so.0.5: cannot open shared object file")
    assert not picamera_installed()
    with pytest.raises(
        UserError, match=r"^Picamera2 is installed but does not import \(ImportError: libcamera"
    ):
        load_picamera2()


def test_frames_carry_the_sensor_timestamp_and_every_request_is_released(fake_picamera2):
    source = PicameraSource(0, SourceOptions(camera_size=(320, 240)))
    try:
        for _ in range(3):
            before = time.monotonic()
            frame = source.read()
            assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8 and frame.flags.c_contiguous
            # The stand-in stamps each frame EXPOSURE_US before handing it over, after the read began.
            exposure_s = sys.modules["picamera2"].EXPOSURE_US / 1e6
            assert before - exposure_s <= source.captured_at() <= time.monotonic() - exposure_s
    finally:
        source.close()
    assert sys.modules["picamera2"].outstanding["requests"] == 0


def test_the_loop_latency_includes_the_camera_s_own_delay(fake_picamera2, tiny_tflite):
    source = PicameraSource(0, SourceOptions())
    results = []
    try:
        summary = run_loop(
            [make_interpreter(tiny_tflite["uint8"])],
            source,
            LoopOptions(max_frames=5),
            on_result=results.append,
        )
    finally:
        source.close()
    assert summary.error is None and len(results) == summary.processed > 0
    exposure_ms = sys.modules["picamera2"].EXPOSURE_US / 1000
    assert all(result.latency_ms >= exposure_ms for result in results)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        (99_500_000_000, 99.5),  # half a second ago, on time.monotonic()'s clock
        (100_000_000_000, 100.0),
        (100_000_000_001, None),  # in the future: another clock (CLOCK_BOOTTIME after a suspend)
        (80_000_000_000, None),  # 20 s old: another clock
        (None, None),  # no SensorTimestamp in the metadata
        (99.5e9, None),  # not an integer count of nanoseconds
    ],
)
def test_sensor_time_converts_nanoseconds_on_the_monotonic_clock(stamp, expected):
    assert sensor_time(stamp, now=100.0) == expected


class _StampedSource(Source):
    """Three frames, each stamped 0.25 s before `read` returns."""

    name, live = "stamped", True

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def read(self, out=None):
        if len(self.stamps) == 3:
            return None
        self.stamps.append(time.monotonic() - 0.25)
        return np.zeros((8, 8, 3), np.uint8)

    def captured_at(self) -> float | None:
        return self.stamps[-1]


def test_capture_stamps_frames_with_the_source_s_time():
    source, exchange, end = _StampedSource(), FrameExchange(pool_size=4), CaptureEnd()
    frames = []

    def take() -> None:
        while (frame := exchange.take()) is not None:
            frames.append(frame)
            exchange.finish(frame.id, frame.id)

    taker = threading.Thread(target=take)
    taker.start()
    capture_frames(source, exchange, threading.Event(), None, RetryPolicy(), lambda message: None, end)
    taker.join()
    assert frames and all(frame.captured == source.stamps[frame.id] for frame in frames)
    # The wall-clock stamp is the same moment: a quarter second before the frame was published.
    assert all(frame.captured_wall < time.time() - 0.25 for frame in frames)


def test_a_frame_timeout_must_be_positive():
    with pytest.raises(ParameterError, match=r"^frame_timeout_s=0: must be more than 0 seconds$"):
        SourceOptions(frame_timeout_s=0)


def test_a_missing_camera_cannot_start_and_close_releases_one(fake_picamera2):
    with pytest.raises(SourceError, match=r"^picamera2 camera 1: cannot start \(list index out of range\)$"):
        PicameraSource(1, SourceOptions())
    PicameraSource(0, SourceOptions()).close()
    PicameraSource(0, SourceOptions()).close()  # the first close released camera 0


def test_an_import_error_about_numpy_without_a_second_numpy_says_to_use_the_system_s(fake_picamera2):
    fake_picamera2(IMPORT_ERROR="numpy.core.multiarray failed to import")
    with pytest.raises(UserError) as raised:
        load_picamera2()
    assert str(raised.value) == (
        "Picamera2 is installed but does not import (ImportError: numpy.core.multiarray failed to import); "
        f"Picamera2's extensions were built for another numpy than {np.__version__}; use the system's numpy "
        "(create the virtual environment with --system-site-packages and do not install numpy into it)"
    )
