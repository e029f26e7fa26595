"""Camera-loop benchmark: per-frame cost vs bare invoke and the Task Library, 30 fps deadlines, memory.

Usage (repo root): python -m benchmarks.camera_loop [--frames 1000] [--rss-frames 10000] [--out benchmarks/results]
TensorFlow and convert/ only build the MobileNetV2 int8 model; everything timed is edge_runtime (no TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from benchmarks.camera_per_frame import per_frame_cost
from benchmarks.camera_report import load_now, machine, markdown, summarize
from edge_runtime.camera.loop import LoopOptions, run_loop, warm_up
from edge_runtime.camera.priority import reset_priority, set_priority
from edge_runtime.camera.sources import SourceOptions, open_source
from edge_runtime.errors import UserError
from edge_runtime.files import atomic_write_text
from edge_runtime.image import load_resized, load_rgb
from edge_runtime.interpreter import make_interpreter, usable_cores
from edge_runtime.metadata import read_labels

WORK = Path("build/benchmarks/camera")
MODEL = "mobilenet_v2_1.0_224_int8.tflite"
WIDTH, HEIGHT, FPS = 640, 480, 30


def elpv_files(count: int, seed: int = 0) -> list[Path]:
    """A seeded sample of the elpv-dataset package's cell images."""
    folder = Path(str(resources.files("elpv_dataset") / "data" / "images"))
    files = sorted(folder.glob("*.png"))
    return [files[i] for i in np.random.default_rng(seed).permutation(len(files))[:count]]


def build_model(work: Path, calibration: int = 64, seed: int = 0) -> Path:
    """MobileNetV2-1.0-224 (weights=None, 2 ELPV classes) taking raw pixels, int8 via convert, with metadata."""
    path = work / MODEL
    if path.is_file():
        return path
    import keras

    from convert.converter import ConvertOptions, convert
    from convert.export import ExportOptions, model_metadata
    from convert.metadata_writer import populate
    from labels import builtin_labels_path, format_labels, read_labels

    keras.utils.set_random_seed(seed)
    image = keras.Input((224, 224, 3), name="image")
    base = keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=1.0, weights=None, classes=2)
    model = keras.Model(image, base(keras.layers.Rescaling(1 / 127.5, offset=-1)(image)), name="mobilenet_v2")
    images = np.stack([load_resized(p, 224, 224) for p in elpv_files(calibration, seed)])
    data = convert(model, ConvertOptions(calibration_images=calibration, seed=seed), images)
    names = read_labels(builtin_labels_path("elpv"))
    meta = model_metadata(
        "mobilenet_v2", "MobileNetV2 1.0 224, untrained (benchmark)", names, ExportOptions()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(populate(data, meta, {"labels.txt": format_labels(names).encode()}))
    return path


def write_video(path: Path, frames: int, seed: int = 0) -> Path:
    """A 640x480 30 fps MPEG-4 video of real ELPV cells drifting across the frame, each held 5 frames."""
    if path.is_file():
        return path
    cells = [load_rgb(p) for p in elpv_files(40, seed + 1)]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for index in range(frames):
        frame = np.full((HEIGHT, WIDTH, 3), 24, np.uint8)
        side = 360 + (index * 7) % 100
        x = 40 + (index * 13) % (WIDTH - side - 40)
        y = (HEIGHT - side) // 2
        frame[y : y + side, x : x + side] = cv2.resize(cells[(index // 5) % len(cells)], (side, side))
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def decode(video: Path, count: int) -> list[np.ndarray]:
    """The first `count` frames of a video, BGR, as the loop receives them."""
    capture, frames = cv2.VideoCapture(str(video)), []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def loop_run(
    model: Path, video: Path, frames: int, workers: int, threads: int, priority: str = "normal", **source
) -> dict:
    """The real loop on the video at its 30 fps: counters, latency percentiles, every latency, steal.

    `priority` (edge_runtime.camera.priority) is set before the interpreters are made, so the loop's
    threads inherit it, and reset afterwards. Raises UserError when it is not permitted.
    """
    sample_rss = source.pop("sample_rss", False)
    latencies: list[float] = []
    misses: list[dict] = []
    samples: list[tuple[int, float]] = []

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
        if sample_rss and len(latencies) % 500 == 0:
            samples.append((r.frame_id, rss_mb()))

    cpu_before = cpu_times()
    described = set_priority(priority)
    try:
        interpreters = [make_interpreter(model, num_threads=threads) for _ in range(workers)]
        before = rss_mb()
        options = LoopOptions(budget_ms=33.0, top_k=3, max_frames=frames, status_interval_s=0)
        summary = run_loop(
            interpreters, open_source(str(video), SourceOptions(**source)), options,
            read_labels(model.read_bytes()), on_result,
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
        "rss_mb": {"before": before, "after": rss_mb(), "samples": samples},
    }


def paced_invoke(model: Path, frames: int, threads: int, budget_ms: float = 33.0, fps: float = FPS) -> dict:
    """Bare `invoke()` alone at the camera's pace (no capture, preprocessing or loop): the floor for misses.

    Whatever the loop does, a frame misses when its `invoke()` alone takes longer than the budget;
    this counts how often that happens on this machine at 30 invocations per second.
    """
    interpreter = make_interpreter(model, num_threads=threads)
    warm_up(interpreter)
    times, cpu_before, start = [], cpu_times(), time.monotonic()
    for index in range(frames):
        delay = start + index / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        begin = time.perf_counter()
        interpreter.invoke()
        times.append((time.perf_counter() - begin) * 1000.0)
    return {
        "threads": threads,
        "frames": frames,
        "invoke_ms": summarize(times),
        "over_budget": sum(t > budget_ms for t in times),
        "steal_percent": steal_percent(cpu_before, cpu_times()),
    }


def cpu_times() -> list[int]:
    """The machine's CPU time counters (the 'cpu' line of /proc/stat), or [] where there is none."""
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return []


def steal_percent(before: list[int], after: list[int]) -> float | None:
    """Share of CPU time the hypervisor gave to other guests between two `cpu_times` (None if unknown)."""
    if len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return round(100.0 * (after[7] - before[7]) / total, 2) if total > 0 else None


def rss_mb() -> float:
    """This process's resident memory in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def run_for_report(models: dict, quick: bool, out_dir, seed: int, progress: Callable[[str], None]) -> dict:
    """The camera-loop section of `python -m benchmarks.run`: every .tflite model, 1 and 2 workers, 33 ms budget."""
    video = write_video(WORK / "cells_640x480_30fps_300.mp4", 300, seed)
    frames, runs = (60 if quick else 300), []
    cores = usable_cores()
    for name, entry in models.items():
        path = Path(entry["path"])
        if path.suffix != ".tflite":
            continue
        for workers, threads in ((1, cores), (2, max(1, cores // 2))):
            progress(
                f"camera loop: {name}, {workers} worker(s) x {threads} thread(s), {frames} frames at 30 fps"
            )
            run = loop_run(path, video, frames, workers, threads)
            runs.append({"model": name, **run, "load": load_now()})
    return {"video": f"{video.name}: 640x480, 30 fps, ELPV cells", "budget_ms": 33.0, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000, help="frames of the 30 fps deadline runs")
    parser.add_argument("--rss-frames", type=int, default=10_000, help="frames of the memory run")
    parser.add_argument(
        "--overhead-frames", type=int, default=100, help="frames timed for the per-frame cost"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the per-frame timing")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--build-model", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--clients-python", default=os.environ.get("CLIENTS_PYTHON", ".venv-clients/bin/python")
    )
    args = parser.parse_args()
    if args.build_model:  # in a child process, so the measuring process never loads TensorFlow
        build_model(WORK)
        return
    progress = lambda message: print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)  # noqa: E731
    results: dict = {
        "command": " ".join(["python -m benchmarks.camera_loop", *sys.argv[1:]]),
        "machine": machine(),
    }
    results["load_start"] = load_now()
    model = WORK / MODEL
    if not model.is_file():
        progress("building MobileNetV2-1.0-224 int8 (TensorFlow and convert, in a child process)")
        subprocess.run([sys.executable, "-m", "benchmarks.camera_loop", "--build-model"], check=True)
    video = write_video(WORK / f"cells_640x480_30fps_{args.frames}.mp4", args.frames)
    results["model"] = {"path": str(model), "size_bytes": model.stat().st_size, "calibration_images": 64}
    frames = decode(video, args.overhead_frames)
    cores = usable_cores()
    results["per_frame"] = []
    for threads in sorted({1, cores}):
        progress(
            f"per frame: end to end, bare invoke, Task Library; {len(frames)} frames x {args.rounds}, {threads} thr."
        )
        cost = per_frame_cost(model, frames, threads, args.rounds, args.clients_python)
        results["per_frame"].append({**cost, "load": load_now()})
    results["deadline_runs"] = []
    for workers, threads, priority in (
        (1, cores, "normal"),
        (2, max(1, cores // 2), "normal"),
        (1, cores, "realtime"),
    ):
        progress(
            f"30 fps for {args.frames} frames: {workers} worker(s) x {threads} thread(s), priority {priority}"
        )
        try:
            run = loop_run(model, video, args.frames, workers, threads, priority)
        except UserError as err:  # realtime needs root or CAP_SYS_NICE
            results["deadline_runs"].append({"workers": workers, "threads": threads, "skipped": str(err)})
            continue
        results["deadline_runs"].append({**run, "load": load_now()})
    results["paced_invoke"] = []
    for threads in sorted({1, cores}):
        progress(f"bare invoke() alone at 30 per second, {args.frames} times, {threads} thread(s)")
        results["paced_invoke"].append({**paced_invoke(model, args.frames, threads), "load": load_now()})
    progress(f"memory over {args.rss_frames} frames at 30 fps (video looped)")
    memory = loop_run(model, video, args.rss_frames, 1, cores, loop=True, sample_rss=True)
    memory.pop("latencies_ms")
    results["memory"] = {**memory, "load": load_now()}
    results["load_end"] = load_now()
    results["tensorflow_loaded_while_measuring"] = "tensorflow" in sys.modules
    out = Path(args.out)
    atomic_write_text(out / "camera_loop.json", json.dumps(results, indent=1) + "\n")
    atomic_write_text(out / "camera_loop.md", markdown(results))
    progress(f"wrote {out / 'camera_loop.json'} and {out / 'camera_loop.md'}")


if __name__ == "__main__":
    main()
