"""The camera loop against the clock: the real loop on a 30 fps video, and bare invoke() at the camera's pace."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from benchmarks.instruments.frames import FPS, write_video
from benchmarks.instruments.machine import cpu_times, load, steal_percent
from benchmarks.instruments.memory import current_rss_mb
from benchmarks.instruments.paths import shown_path
from benchmarks.instruments.stats import summarize
from edge_runtime.camera.loop import LoopOptions, run_loop, warm_up
from edge_runtime.camera.priority import reset_priority, set_priority
from edge_runtime.camera.sources import SourceOptions, open_source
from edge_runtime.interpreter import make_interpreter, usable_cores
from edge_runtime.metadata import read_labels
from edge_runtime.timing import time_invokes

BUDGET_MS = 33.0
WORK = Path("build/benchmarks/camera")
RSS_EVERY = 500  # results between resident-memory samples


def cells_video(frames: int, seed: int = 0, work: Path = WORK) -> Path:
    """WORK/cells_640x480_30fps_FRAMES_seedSEED.mp4 (written once): 40 seeded ELPV cells drifting, each held 5 frames."""
    path = work / f"cells_640x480_30fps_{frames}_seed{seed}.mp4"
    return path if path.is_file() else write_video(path, frames, hold=5, cells=40, seed=seed + 1)


def loop_run(
    model: Path,
    video: Path,
    frames: int,
    workers: int,
    threads: int,
    priority: str = "normal",
    tap=None,
    **source,
) -> dict:
    """The real loop on the video at its 30 fps: counters, latency percentiles, every latency, steal, RSS.

    `priority` (edge_runtime.camera.priority) is set before the interpreters are made, so the loop's
    threads inherit it, and reset afterwards. `sample_rss=True` samples resident memory every 500
    results; `tap` is run_loop's (the web view, for serve_cost); other keyword arguments are
    SourceOptions (e.g. loop=True).

    Raises:
      UserError: The priority is not permitted (realtime needs root or CAP_SYS_NICE).
    """
    sample_rss = source.pop("sample_rss", False)
    latencies: list[float] = []
    misses: list[dict] = []
    samples: list[tuple[int, float | None]] = []

    def on_result(r) -> None:
        latencies.append(r.latency_ms)
        if r.missed:
            misses.append(
                {
                    "frame": r.frame_id,
                    "latency_ms": round(r.latency_ms, 2),
                    "invoke_ms": round(r.inference_ms, 2),
                }
            )
        if sample_rss and len(latencies) % RSS_EVERY == 0:
            samples.append((r.frame_id, current_rss_mb()))

    cpu_before = cpu_times()
    described = set_priority(priority)
    try:
        interpreters = [make_interpreter(model, num_threads=threads) for _ in range(workers)]
        before = current_rss_mb()
        options = LoopOptions(budget_ms=BUDGET_MS, top_k=3, max_frames=frames, status_interval_s=0)
        summary = run_loop(
            interpreters, open_source(str(video), SourceOptions(**source)), options,
            read_labels(model.read_bytes()), on_result, tap=tap,
        )  # fmt: skip
        del interpreters
    finally:
        reset_priority()
    return {
        "workers": workers,
        "threads": threads,
        "priority": described,
        "summary": summary.to_dict(),
        "latencies_ms": [round(v, 3) for v in latencies],
        "misses": misses,
        "steal_percent": steal_percent(cpu_before, cpu_times()),
        "rss_mb": {"before": before, "after": current_rss_mb(), "samples": samples},
    }


def paced_invoke(
    model: Path, frames: int, threads: int, budget_ms: float = BUDGET_MS, fps: float = FPS
) -> dict:
    """Bare `invoke()` alone at the camera's pace (no capture, preprocessing or loop): the floor for misses.

    Whatever the loop does, a frame misses when its `invoke()` alone takes longer than the budget;
    this counts how often that happens on this machine at `fps` invocations per second.
    """
    interpreter = make_interpreter(model, num_threads=threads)
    warm_up(interpreter)
    times, cpu_before, start = [], cpu_times(), time.monotonic()
    for index in range(frames):
        delay = start + index / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        times += time_invokes(interpreter).runs_ms
    return {
        "threads": threads,
        "frames": frames,
        "invoke_ms": asdict(summarize(times)),
        "over_budget": sum(t > budget_ms for t in times),
        "steal_percent": steal_percent(cpu_before, cpu_times()),
    }


def side_by_side(r: dict) -> dict | None:
    """The loop (1 worker, all cores' threads, normal priority) beside bare invoke() paced alone on as
    many threads, from the same run: the issue's target is 0 misses whenever bare invoke() has 0."""
    loop = next(
        (run for run in r.get("deadline_runs", []) if "skipped" not in run and run["workers"] == 1
         and run.get("priority", "normal") == "normal"), None,
    )  # fmt: skip
    if loop is None:
        return None
    bare = next((run for run in r.get("paced_invoke", []) if run["threads"] == loop["threads"]), None)
    if bare is None:
        return None
    s = loop["summary"]
    return {
        "threads": loop["threads"],
        "frames": s["captured"],
        "loop_missed": s["missed"],
        "loop_dropped": s["dropped"],
        "loop_miss_causes": s.get("miss_causes", {}),
        "bare_over_budget": bare["over_budget"],
        "bare_invokes": bare["frames"],
        "meets": s["missed"] == 0 or bare["over_budget"] > 0,
    }


def run_for_report(
    models: dict, quick: bool, seed: int, progress: Callable[[str], None], work: Path = WORK
) -> dict:
    """The camera-loop section of `python -m benchmarks run`: every .tflite model, 1 and 2 workers, 33 ms
    budget, and bare invoke() paced alone on all cores' threads beside each model's 1-worker run."""
    video = cells_video(300, seed, work)
    frames, runs, paced, pairs = (60 if quick else 300), [], [], []
    cores = usable_cores()
    for name, entry in models.items():
        path = Path(entry["path"])
        if path.suffix != ".tflite":
            continue
        mine = []
        for workers, threads in ((1, cores), (2, max(1, cores // 2))):
            progress(
                f"camera loop: {name}, {workers} worker(s) x {threads} thread(s), {frames} frames at 30 fps"
            )
            run = loop_run(path, video, frames, workers, threads)
            mine.append(run)
            runs.append({"model": name, **run, "load": load()})
        progress(
            f"camera loop: {name}, bare invoke() alone at 30 per second, {frames} times, {cores} thread(s)"
        )
        bare = {"model": name, **paced_invoke(path, frames, cores), "load": load()}
        paced.append(bare)
        pair = side_by_side({"deadline_runs": mine, "paced_invoke": [bare]})
        if pair is not None:
            pairs.append({"model": name, **pair})
    return {
        "video": f"{shown_path(video)}: 640x480, 30 fps, ELPV cells",
        "budget_ms": BUDGET_MS,
        "runs": runs,
        "paced_invoke": paced,
        "side_by_side": pairs,
    }
