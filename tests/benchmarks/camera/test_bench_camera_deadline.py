"""The camera-loop benchmark's deadline run: the real loop at a priority, steal from /proc/stat, missed frames."""

from __future__ import annotations

import os
import sys
import time

import pytest

from benchmarks.camera.deadline import loop_run, paced_invoke
from benchmarks.instruments.frames import write_video
from benchmarks.instruments.machine import cpu_times
from edge_runtime.camera.priority import current_priority
from edge_runtime.errors import UserError


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat and SCHED_FIFO are Linux's")
def test_a_deadline_run_reports_priority_steal_and_misses(tiny_tflite, tmp_path):
    video = write_video(tmp_path / "cells.mp4", frames=20)
    run = loop_run(tiny_tflite["uint8"], video, 15, 1, 1)
    summary = run["summary"]
    assert run["priority"] == "normal" and summary["captured"] == 15 == len(run["latencies_ms"])
    assert run["steal_percent"] is not None and 0.0 <= run["steal_percent"] <= 100.0
    assert len(run["misses"]) == summary["missed"]
    assert cpu_times() and len(cpu_times()) >= 8
    try:
        fifo = loop_run(tiny_tflite["uint8"], video, 5, 1, 1, "realtime")
    except UserError as err:  # not root and no CAP_SYS_NICE
        assert "not permitted" in str(err) and os.geteuid() != 0
    else:
        assert fifo["priority"] == "realtime (SCHED_FIFO 10)" and fifo["summary"]["processed"] == 5
    assert current_priority() == "SCHED_OTHER nice 0"  # put back after the run


def test_paced_invoke_times_every_invocation_at_the_camera_pace(tiny_tflite):
    start = time.monotonic()
    run = paced_invoke(tiny_tflite["uint8"], 12, 1, budget_ms=0.0, fps=60.0)
    # 12 invocations 1/60 s apart span at least 11/60 s: the pacing is real.
    assert time.monotonic() - start >= 11 / 60
    assert run["invoke_ms"]["count"] == 12 and 0 < run["invoke_ms"]["p50_ms"] <= run["invoke_ms"]["max_ms"]
    # Every call takes some time, so a zero budget counts all 12 (no timing is asserted).
    assert run["over_budget"] == 12 and run["threads"] == 1


def test_per_frame_cost_splits_end_to_end_and_says_why_the_task_library_is_missing(tiny_tflite, tmp_path):
    from benchmarks.camera.per_frame import per_frame_cost
    from benchmarks.instruments.frames import decode_video

    frames = decode_video(write_video(tmp_path / "cells.mp4", frames=4, hold=1, cells=2))
    cost = per_frame_cost(tiny_tflite["uint8"], frames, 1, 2, clients_python=None)
    for path in ("end_to_end", "invoke", "preprocess", "invoke_in_end_to_end", "top_k", "area_filter"):
        assert cost[path]["count"] == 4 * 2, path
    assert cost["end_to_end"]["avg_ms"] > cost["top_k"]["avg_ms"] > 0
    assert cost["ratio_median"] == cost["end_to_end"]["p50_ms"] / cost["invoke"]["p50_ms"]
    assert (
        cost["task_library_missing"] == "clients' environment not given (make clients builds .venv-clients)"
    )


def test_the_suite_section_puts_bare_invoke_beside_each_model_loop(tiny_tflite, tmp_path):
    from benchmarks.camera.deadline import run_for_report

    lines: list[str] = []
    section = run_for_report({"tiny": {"path": str(tiny_tflite["uint8"])}}, True, 0, lines.append, tmp_path)
    assert [(r["model"], r["workers"]) for r in section["runs"]] == [("tiny", 1), ("tiny", 2)]
    (bare,) = section["paced_invoke"]
    assert bare["model"] == "tiny" and bare["frames"] == 60 and bare["invoke_ms"]["count"] == 60
    (pair,) = section["side_by_side"]
    loop = section["runs"][0]["summary"]
    assert pair["model"] == "tiny" and pair["threads"] == bare["threads"] == section["runs"][0]["threads"]
    assert (pair["loop_missed"], pair["bare_over_budget"]) == (loop["missed"], bare["over_budget"])
    assert pair["meets"] == (loop["missed"] == 0 or bare["over_budget"] > 0)
    assert any("bare invoke() alone at 30 per second, 60 times" in line for line in lines)
