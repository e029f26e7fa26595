"""The whole benchmark: build the models, measure them, run the peers and camera loop, write the report."""

from __future__ import annotations

import datetime
import functools
import sys
import time
from dataclasses import asdict, dataclass, replace

from benchmarks.instruments.converting import build_tflite
from benchmarks.instruments.latency import LatencyOptions, thread_counts
from benchmarks.instruments.machine import describe_machine, load
from benchmarks.instruments.reference import reference_model
from benchmarks.instruments.roofline import PROBE_ARCHITECTURE, build_probe_keras, ceiling
from benchmarks.suite import accuracy, camera_section, mobilenet_table, table_models
from benchmarks.suite.measure import Progress, measure_models, probe_ceiling
from benchmarks.suite.peers import PeerOptions, run_peers
from edge_runtime.errors import ParameterError
from edge_runtime.interpreter import usable_cores

SECTIONS = ("table", "probe", "default", "peers", "camera", "accuracy")
PEER_MODEL = "MobileNet_V1_1.0_224_quant"
# Issue 16's second model: the overhead target is read on it too (a full run builds it; --quick does not).
PEER_MODEL_224 = "MobileNet_V2_1.0_224_quant"


@dataclass(frozen=True)
class RunOptions:
    """What a full benchmark run does.

    Attributes:
      name: Results name (OUT_DIR/NAME.json); default 'full' or 'quick'.
      quick: Fewer models, runs and rounds: a smoke run in about a minute or two.
      out_dir: Where the JSON, Markdown report and PNG charts go.
      work_dir: Cache of converted benchmark models.
      build_dir: The pipeline's build folder (the default model and its evaluation).
      threads: Thread counts to measure; None for 1..usable cores.
      clients_python: Python of the clients' environment, for the peers; None skips them.
      skip: Sections (of SECTIONS) not to run.
      calibration_images: int8 calibration images per table model.
      repeats: Latency repeats per model, models taking turns; the best is kept (default 3,
        quick 1).
      rebuild: Convert even when a cached model matches.
      seed: Seeds weights, inputs, frames and calibration samples.
    """

    name: str | None = None
    quick: bool = False
    out_dir: str = "build/benchmarks/results"
    work_dir: str = "build/benchmarks/models"
    build_dir: str = "build"
    threads: tuple[int, ...] | None = None
    clients_python: str | None = None
    skip: tuple[str, ...] = ()
    calibration_images: int | None = None
    repeats: int | None = None
    rebuild: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.repeats is not None and self.repeats < 1:
            raise ParameterError("repeats", self.repeats, "must be 1 or more")
        if self.calibration_images is not None and self.calibration_images < 1:
            raise ParameterError("calibration_images", self.calibration_images, "must be 1 or more")
        unknown = sorted(set(self.skip) - set(SECTIONS))
        if unknown:
            raise ParameterError("skip", unknown, f"unknown section; choose from {','.join(SECTIONS)}")

    @property
    def results_name(self) -> str:
        """The name used for the results files."""
        return self.name or ("quick" if self.quick else "full")


def latency_options(quick: bool, seed: int = 0) -> LatencyOptions:
    """benchmark_model's defaults (50 runs and 1 s, 0.5 s warm-up), or a tenth of them for --quick."""
    if quick:
        return LatencyOptions(min_runs=10, min_seconds=0.2, max_seconds=20.0, warmup_seconds=0.1, seed=seed)
    return LatencyOptions(seed=seed)


def peer_options(quick: bool, clients_python: str | None, seed: int = 0) -> PeerOptions:
    """50 rounds of 20 calls on 30 frames (PeerOptions' defaults), or 3 rounds of 5 calls on 10 frames for --quick."""
    if quick:
        return PeerOptions(rounds=3, calls_per_round=5, frames=10, clients_python=clients_python, seed=seed)
    return PeerOptions(clients_python=clients_python, seed=seed)


def make_progress(start: float) -> Progress:
    """A progress printer: each line on stderr with the seconds since `start`."""

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    return progress


def _build(options: RunOptions, progress: Progress) -> dict[str, dict]:
    """Converts the table models and the probes (cached); returns model entries by name."""
    names = table_models.QUICK_MODELS if options.quick else [m.name for m in table_models.TABLE_MODELS]
    calibration = options.calibration_images or (16 if options.quick else 100)
    jobs = []
    if "table" not in options.skip:
        for name in names:
            row = table_models.table_model(name)
            build = functools.partial(
                reference_model, name, row.registry, row.size, options.work_dir, alpha=row.alpha,
                classes=1000, quantize=row.quantize, calibration_images=calibration, seed=options.seed,
                rebuild=options.rebuild,
            )  # fmt: skip
            jobs.append((name, "table", row.quantize, build))
    if "probe" not in options.skip:
        for quantize in ("int8", "float32"):
            build = functools.partial(
                build_tflite, f"peak_probe_{quantize}", functools.partial(build_probe_keras, options.seed),
                quantize, options.work_dir, calibration, options.seed, options.rebuild, PROBE_ARCHITECTURE,
            )  # fmt: skip
            jobs.append((f"peak_probe_{quantize}", "probe", quantize, build))
    models = {}
    for index, (name, kind, quantize, build) in enumerate(jobs, start=1):
        progress(f"build ({index}/{len(jobs)}) {name}: {quantize} with our convert stage")
        built = build()
        note = "reused cached file" if built.reused else f"converted in {built.convert_seconds:.1f}s"
        progress(f"  {name}: {built.size_bytes / 1e6:.2f} MB, {note}")
        models[name] = {"kind": kind, **asdict(built)}
    if "default" not in options.skip:
        for name, path in accuracy.default_models(options.build_dir).items():
            models[name] = {
                "kind": "default",
                "name": name,
                "path": str(path),
                "size_bytes": path.stat().st_size,
            }
    return models


def run_all(options: RunOptions, command: str, progress: Progress | None = None) -> dict:
    """Runs every section not skipped and returns the JSON-ready results (the caller writes them).

    Args:
      options: What to run.
      command: The command line, recorded so a reader can repeat the run.
      progress: Receives progress lines; default prints them with the elapsed time.
    """
    start = time.perf_counter()
    progress = progress or make_progress(start)
    threads = list(options.threads or thread_counts(usable_cores()))
    latency = latency_options(options.quick, options.seed)
    progress(f"benchmark {options.results_name!r}: threads {threads}, quick={options.quick}")
    results: dict = {
        "name": options.results_name,
        "command": command,
        "quick": options.quick,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "settings": {"run": asdict(replace(options, threads=tuple(threads))), "latency": asdict(latency)},
    }
    models = _build(options, progress)
    repeats = options.repeats or (1 if options.quick else 3)
    results["settings"]["repeats"] = repeats
    measure_models(models, threads, latency, repeats, progress)
    results["models"] = models
    results["probe_gmacs_per_s"] = probe_ceiling(models)
    at_top = {q: ceiling(by, max(threads)) for q, by in results["probe_gmacs_per_s"].items()}
    measured = {name: entry for name, entry in models.items() if entry["kind"] == "table"}
    results["mobilenet_table"] = (
        mobilenet_table.join_table(table_models.TABLE_MODELS, measured, at_top) if measured else []
    )
    results["peers"] = []
    if "peers" not in options.skip:
        peers = peer_options(options.quick, options.clients_python, options.seed)
        for name in peer_models(models):
            progress(
                f"peers on {name}: {peers.rounds} rounds x {peers.calls_per_round} calls each, interleaved"
            )
            results["peers"].append({"name": name, **run_peers(models[name]["path"], peers, progress)})
    if "camera" not in options.skip:
        progress("camera loop")
        results["camera_loop"] = camera_section.run_camera_loop(models, options, progress)
    if "accuracy" not in options.skip:
        means = {n: _mean_at(models[n], max(threads)) for n in ("model_float32", "model_int8") if n in models}
        results["float_vs_int8"] = accuracy.float_vs_int8(options.build_dir, means)
        results["float_vs_int8"]["table_pairs"] = accuracy.table_pairs(results["mobilenet_table"])
        results["float_vs_int8"]["precision"] = accuracy.precision_advice(results["float_vs_int8"])
    results["load_at_end"] = load()
    results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    results["duration_s"] = time.perf_counter() - start
    return results


def peer_models(models: dict[str, dict]) -> list[str]:
    """The models the peers run on: MobileNet V1 quant (or the first table model built), MobileNet V2
    quant when built, and our int8 model."""
    first = next((n for n in (PEER_MODEL, *table_models.QUICK_MODELS) if n in models), None)
    return list(dict.fromkeys(n for n in (first, PEER_MODEL_224, "model_int8") if n in models))


def _mean_at(entry: dict, threads: int) -> float | None:
    row = mobilenet_table.latency_at(entry.get("latency") or [], threads)
    return row["stats"]["avg_ms"] if row else None
