"""`python -m benchmarks camera`: per-frame cost vs bare invoke and the Task Library, 30 fps deadlines, --serve, memory.

TensorFlow and convert/ only build the MobileNetV2 int8 model, in a child process; everything timed
is edge_runtime (no TensorFlow in the measuring process). Writes camera_loop.json and camera_loop.md
into benchmarks/results/<machine>/ (--machine, default named after this CPU) or --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edge_runtime.errors import UserError, check_at_least

MODEL = "mobilenet_v2_1.0_224_int8"
CALIBRATION_IMAGES = 64


@dataclass(frozen=True)
class CameraOptions:
    """How long each part of the camera benchmark runs.

    Attributes:
      frames: Frames of each 30 fps deadline run and of the paced bare invoke().
      rss_frames: Frames of the resident-memory run (the video looped).
      overhead_frames: Frames timed for the per-frame cost.
      rounds: Interleaved rounds of the per-frame timing.
      seed: Seeds the model's weights, its calibration sample and the video's cells.
    """

    frames: int = 1000
    rss_frames: int = 10_000
    overhead_frames: int = 100
    rounds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        check_at_least(
            1, frames=self.frames, rss_frames=self.rss_frames, overhead_frames=self.overhead_frames,
            rounds=self.rounds,
        )  # fmt: skip


QUICK = CameraOptions(frames=60, rss_frames=600, overhead_frames=20, rounds=2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The camera benchmark's options."""
    from benchmarks.suite.cli import add_machine_argument, default_clients_python

    defaults = CameraOptions()
    parser.add_argument("--frames", type=int, help=f"frames of the 30 fps deadline runs ({defaults.frames})")
    parser.add_argument("--rss-frames", type=int, help=f"frames of the memory run ({defaults.rss_frames})")
    parser.add_argument(
        "--overhead-frames",
        type=int,
        help=f"frames timed for the per-frame cost ({defaults.overhead_frames})",
    )
    parser.add_argument(
        "--rounds", type=int, help=f"interleaved rounds of the per-frame timing ({defaults.rounds})"
    )
    parser.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK}")
    parser.add_argument("--seed", type=int, default=0)
    add_machine_argument(parser)
    parser.add_argument(
        "--out", help="results folder instead (default with --quick: build/benchmarks/camera)"
    )
    parser.add_argument(
        "--work-dir", type=Path, default=Path("build/benchmarks/camera"), help="model and videos"
    )
    parser.add_argument(
        "--clients-python", default=default_clients_python(), help="Python of the clients' venv"
    )
    parser.add_argument("--build-model", action="store_true", help=argparse.SUPPRESS)


def _options(args: argparse.Namespace) -> CameraOptions:
    base = QUICK if args.quick else CameraOptions()
    given = {k: getattr(args, k) for k in ("frames", "rss_frames", "overhead_frames", "rounds")}
    return CameraOptions(
        **{**asdict(base), **{k: v for k, v in given.items() if v is not None}, "seed": args.seed}
    )


def build_model(work: Path, seed: int = 0) -> Path:
    """MobileNetV2-1.0-224 int8 for 2 classes, untrained, from the one reference-model builder (cached)."""
    from benchmarks.instruments.reference import reference_model

    built = reference_model(
        MODEL, "mobilenet_v2", 224, work, calibration_images=CALIBRATION_IMAGES, seed=seed
    )
    return Path(built.path)


def run(args: argparse.Namespace, command: str) -> int:
    """Runs every part of the camera benchmark and writes camera_loop.json and camera_loop.md."""
    from benchmarks.camera.deadline import cells_video, loop_run, paced_invoke, side_by_side
    from benchmarks.camera.per_frame import per_frame_cost
    from benchmarks.camera.report import markdown
    from benchmarks.camera.serve_cost import serve_cost
    from benchmarks.instruments.frames import decode_video
    from benchmarks.instruments.machine import describe_machine, load
    from benchmarks.instruments.paths import relative_paths
    from benchmarks.suite.cli import results_dir
    from edge_runtime.files import atomic_write_text
    from edge_runtime.interpreter import usable_cores

    options = _options(args)
    if args.build_model:  # in a child process, so the measuring process never loads TensorFlow
        build_model(args.work_dir, options.seed)
        return 0
    out = results_dir(args, args.out or ("build/benchmarks/camera" if args.quick else None))

    def progress(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    results: dict = {
        "command": command,
        "options": asdict(options),
        "machine": describe_machine(),
        "load_start": load(),
    }
    progress("MobileNetV2-1.0-224 int8 (built, or reused from the cache, in a child process: TensorFlow)")
    child = [sys.executable, "-m", "benchmarks", "camera", "--build-model", "--work-dir", str(args.work_dir)]
    subprocess.run([*child, "--seed", str(options.seed)], check=True)
    model = args.work_dir / f"{MODEL}.tflite"
    video = cells_video(options.frames, options.seed, args.work_dir)
    results["model"] = {
        "path": str(model),
        "size_bytes": model.stat().st_size,
        "calibration_images": CALIBRATION_IMAGES,
    }
    frames = decode_video(video, options.overhead_frames)
    cores = usable_cores()
    results["per_frame"] = []
    for threads in sorted({1, cores}):
        progress(
            f"per frame: end to end, bare invoke, Task Library; {len(frames)} frames x {options.rounds}, {threads} thr."
        )
        cost = per_frame_cost(model, frames, threads, options.rounds, args.clients_python)
        results["per_frame"].append({**cost, "load": load()})
    results["deadline_runs"] = []
    for workers, threads, priority in (
        (1, cores, "normal"),
        (2, max(1, cores // 2), "normal"),
        (1, cores, "realtime"),
    ):
        progress(
            f"30 fps for {options.frames} frames: {workers} worker(s) x {threads} thread(s), priority {priority}"
        )
        try:
            result = loop_run(model, video, options.frames, workers, threads, priority)
        except UserError as err:  # realtime needs root or CAP_SYS_NICE
            results["deadline_runs"].append({"workers": workers, "threads": threads, "skipped": str(err)})
            continue
        results["deadline_runs"].append({**result, "load": load()})
    progress(
        f"30 fps for {options.frames} frames with --serve and one viewer vs without, 2 rounds interleaved"
    )
    results["serve"] = serve_cost(model, video, options.frames, cores)
    results["paced_invoke"] = []
    for threads in sorted({1, cores}):
        progress(f"bare invoke() alone at 30 per second, {options.frames} times, {threads} thread(s)")
        results["paced_invoke"].append({**paced_invoke(model, options.frames, threads), "load": load()})
    progress(f"memory over {options.rss_frames} frames at 30 fps (video looped)")
    memory = loop_run(model, video, options.rss_frames, 1, cores, loop=True, sample_rss=True)
    memory.pop("latencies_ms")
    results["memory"] = {**memory, "load": load()}
    results["side_by_side"] = side_by_side(results)
    results["load_end"] = load()
    results["tensorflow_loaded_while_measuring"] = "tensorflow" in sys.modules
    results = relative_paths(results)
    atomic_write_text(out / "camera_loop.json", json.dumps(results, indent=1) + "\n")
    atomic_write_text(out / "camera_loop.md", markdown(results))
    progress(f"wrote {out / 'camera_loop.json'} and {out / 'camera_loop.md'}")
    return 0


SUBCOMMANDS = {"camera": (add_arguments, run, "camera loop: per-frame cost, 30 fps deadlines, memory")}
