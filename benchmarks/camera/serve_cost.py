"""What `--serve` costs the loop: the 30 fps run with the web view on and one viewer, against the same run without it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.camera.deadline import BUDGET_MS, loop_run
from benchmarks.instruments.machine import load
from edge_runtime.camera.serve.live import LiveView, ModelInfo
from edge_runtime.camera.serve.options import ServeOptions
from edge_runtime.camera.serve.server import WebView

SERVE_FPS = 10.0


def _with_viewer(model: Path, video: Path, frames: int, threads: int) -> dict:
    """One run with the web view on 127.0.0.1 and one viewer process reading the stream and the events."""
    live = LiveView(ModelInfo(model.name, (0, 0), "uint8", (), "", "none", 1, BUDGET_MS), 1.0 / SERVE_FPS)
    web = WebView(ServeOptions(port=0, fps=SERVE_FPS), live, stall_s=5.0)
    url = web.start()
    viewer = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.camera.viewer", url], stdout=subprocess.PIPE, text=True
    )
    try:
        viewer.stdout.readline()  # 'watching'
        deadline = time.monotonic() + 10
        while not live.viewers and time.monotonic() < deadline:
            time.sleep(0.05)
        result = loop_run(model, video, frames, 1, threads, tap=live)
    finally:
        viewer.terminate()
        out, _ = viewer.communicate(timeout=10)
        web.close()
    return {**result, "viewer": json.loads(out.strip().splitlines()[-1])}


def serve_cost(model: Path, video: Path, frames: int, threads: int, rounds: int = 2) -> dict:
    """Interleaved rounds of the loop without and with `--serve` and one viewer, 1 worker x `threads`."""
    runs: list[dict] = []
    for index in range(rounds):
        for serving in (False, True):
            run = (
                _with_viewer(model, video, frames, threads)
                if serving
                else loop_run(model, video, frames, 1, threads)
            )
            s = run["summary"]
            runs.append({
                "round": index, "serve": serving, "fps": s["fps"], "p50_ms": s["latency_ms"]["p50"],
                "p99_ms": s["latency_ms"]["p99"], "missed": s["missed"], "dropped": s["dropped"],
                "processed": s["processed"], "viewer": run.get("viewer"), "load": load(),
            })  # fmt: skip
    return {"model": model.name, "frames": frames, "threads": threads, "serve_fps": SERVE_FPS, "runs": runs}


def summary_lines(cost: dict) -> list[str]:
    """A Markdown table of the runs and the added p99 (median of the rounds)."""
    lines = [
        f"{cost['model']}, {cost['frames']} frames at 30 fps, 1 worker x {cost['threads']} threads; with "
        f"`--serve` on 127.0.0.1 and one viewer process reading /stream.mjpg ({cost['serve_fps']:g} fps) and /events.",
        "",
        "| round | serve | fps | latency p50 / p99 ms | missed | dropped | viewer got (jpegs, events) | load 1m |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in cost["runs"]:
        got = f"{r['viewer']['jpegs']}, {r['viewer']['events']}" if r["viewer"] else "-"
        lines.append(
            f"| {r['round']} | {'on' if r['serve'] else 'off'} | {r['fps']:.1f} | {r['p50_ms']:.1f} / "
            f"{r['p99_ms']:.1f} | {r['missed']} | {r['dropped']} | {got} | {r['load']['loadavg_1m']:.2f} |"
        )
    off = sorted(r["p99_ms"] for r in cost["runs"] if not r["serve"])
    on = sorted(r["p99_ms"] for r in cost["runs"] if r["serve"])
    added = 100.0 * (on[len(on) // 2] / off[len(off) // 2] - 1.0)
    lines += [
        "",
        f"Added p99 latency with the server on and one viewer (medians of the rounds): {added:+.1f}% (target <= 5%).",
    ]
    return lines
