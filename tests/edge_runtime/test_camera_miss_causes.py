"""The camera loop's deadline misses by cause: every miss counted once, slow stages blamed correctly."""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest

from benchmarks.instruments.frames import decode_video
from edge_runtime.camera.frame_result import Result
from edge_runtime.camera.gc_pauses import GcPauses
from edge_runtime.camera.loop import LoopOptions, run_loop
from edge_runtime.camera.source_base import Source
from edge_runtime.camera.stats import MISS_CAUSES, LoopStats
from edge_runtime.interpreter import make_interpreter

SLOW_S = 0.15  # far over the budget below, whatever the machine's load
BUDGET_MS = 100.0


class FakeCamera(Source):
    """Frames from memory, one every `interval_s` like a camera; the reads in `late` take SLOW_S
    longer after the frame's stamp (a camera whose delivery or decoding stalled)."""

    name = "fake camera"

    def __init__(self, frames: list[np.ndarray], late: set[int], interval_s: float = 0.03, live: bool = True):
        self.frames, self.late, self.interval_s, self.live = frames, late, interval_s, live
        self.index, self._stamp = 0, None

    def read(self, out=None):
        if self.index >= len(self.frames):
            return None
        time.sleep(self.interval_s)
        self._stamp = time.monotonic()
        if self.index in self.late:
            time.sleep(SLOW_S)
        self.index += 1
        return self.frames[self.index - 1].copy()

    def captured_at(self):
        return self._stamp


class SlowInvoke:
    """A real interpreter whose invoke() calls numbered in `slow` (0 is the loop's warm-up) take SLOW_S longer."""

    def __init__(self, interpreter, slow: set[int]):
        self._interpreter, self._slow, self.calls = interpreter, slow, 0

    def invoke(self):
        if self.calls in self._slow:
            time.sleep(SLOW_S)
        self.calls += 1
        self._interpreter.invoke()

    def __getattr__(self, name):
        return getattr(self._interpreter, name)


@pytest.fixture(scope="module")
def frames(video) -> list[np.ndarray]:
    return decode_video(video, 12)


def _run(interpreter, source) -> tuple[list[Result], object]:
    results: list[Result] = []
    options = LoopOptions(budget_ms=BUDGET_MS, status_interval_s=0)
    summary = run_loop([interpreter], source, options, on_result=results.append)
    assert summary.error is None
    assert sum(summary.miss_causes.values()) == summary.missed == sum(r.missed for r in results)
    assert set(summary.miss_causes) == set(MISS_CAUSES)
    assert all((r.miss_cause is not None) == r.missed for r in results)
    return results, summary


def test_a_late_camera_frame_is_blamed_on_capture(labelled_model, frames):
    results, summary = _run(make_interpreter(labelled_model), FakeCamera(frames, late={4, 8}))
    late = [r for r in results if r.frame_id in (4, 8)]
    assert late, "the late frames were dropped"
    for result in late:
        assert result.missed and result.miss_cause == "capture" and result.capture_ms >= 1000 * SLOW_S
    assert summary.miss_causes["capture"] >= len(late)
    assert "missed by cause: late capture/decode" in summary.text()
    assert summary.to_dict()["miss_causes"]["capture"] == summary.miss_causes["capture"]
    assert late[0].to_record()["miss_cause"] == "capture"


def test_a_slow_invoke_is_blamed_on_invoke(labelled_model, frames):
    interpreter = SlowInvoke(make_interpreter(labelled_model), slow={5})
    results, summary = _run(interpreter, FakeCamera(frames, late=set()))
    slow = [r for r in results if r.inference_ms >= 1000 * SLOW_S]
    assert len(slow) == 1 and slow[0].missed and slow[0].miss_cause == "invoke"
    assert summary.miss_causes["invoke"] >= 1


def test_frames_waiting_behind_a_slow_invoke_are_blamed_on_the_queue(labelled_model, frames):
    """Unpaced files are lossless: the frames read meanwhile wait for the one worker."""
    interpreter = SlowInvoke(make_interpreter(labelled_model), slow={5})
    results, summary = _run(interpreter, FakeCamera(frames, late=set(), interval_s=0.0, live=False))
    assert summary.dropped == 0 and summary.processed == len(frames)
    slow = next(r for r in results if r.inference_ms >= 1000 * SLOW_S)
    assert slow.miss_cause == "invoke"
    after = results[results.index(slow) + 1]
    assert after.missed and after.miss_cause == "queue" and after.queue_ms >= 1000 * SLOW_S / 2


def _result(frame_id: int, invoke_ms: float) -> Result:
    return Result(
        frame_id=frame_id, captured=0.0, captured_wall=0.0, finished=(invoke_ms + 2.0) / 1000.0,
        finished_wall=0.0, classes=(), missed=invoke_ms + 2.0 > BUDGET_MS, worker=0, preprocess_ms=1.0,
        inference_ms=invoke_ms,
    )  # fmt: skip


def test_a_collection_that_took_the_extra_time_is_blamed_on_gc():
    stats = LoopStats(BUDGET_MS)
    for index in range(20):
        assert stats.add(_result(index, 10.0)) is None
    assert stats.add(_result(20, 150.0), gc_ms=120.0) == "gc"
    assert stats.add(_result(21, 150.0), gc_ms=5.0) == "invoke"
    assert stats.miss_causes == {**dict.fromkeys(MISS_CAUSES, 0), "gc": 1, "invoke": 1}


def test_gc_pauses_are_timed_while_installed():
    with GcPauses() as pauses:
        start = time.monotonic()
        gc.collect()
        end = time.monotonic()
    assert pauses.count >= 1 and pauses.total_ms > 0
    assert 0 < pauses.overlap_ms(start, end) <= (end - start) * 1000.0 + 1e-6
    assert pauses.overlap_ms(end + 1.0, end + 2.0) == 0.0
    counted = pauses.count
    gc.collect()
    assert pauses.count == counted  # removed: no longer counting
