"""`python -m benchmarks plan` (or `-m benchmarks.plan`): which models fit a per-frame time budget on this machine, and which to use.

Each candidate .tflite is timed with the benchmark code (benchmarks.instruments.latency: benchmark_model's
warm-up and timed runs). The camera loop does more than `invoke()` per frame, so a candidate fits
when

    p99 inference + p99 loop work + safety margin <= budget

where the loop work is measured per model: a 640x480 camera frame resized to the model's input,
colour-converted, copied into the input tensor, and the scores ranked and judged, exactly what
edge_runtime's camera worker does besides `invoke()`. The safety margin (default 10% of the budget,
at least 1 ms; --margin-ms) covers what is not measured here: the capture thread decoding frames
on the same cores, thread hand-offs and OS jitter. p99 rather than the median, so 99 frames in 100
make the deadline. Accuracy comes from each model's model_card.json (written by `python -m convert`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.plan.measure import PlanOptions, measure
from benchmarks.plan.table import make_plan, write_plan
from edge_runtime.errors import ParameterError

if TYPE_CHECKING:
    from benchmarks.plan.models import RegistryOptions


def _names(paths: Sequence[Path]) -> list[str]:
    """File names, or parent/name where two candidates share a name."""
    names = [p.name for p in paths]
    return [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]


def _log(message: str) -> None:
    print(f"plan: {message}", file=sys.stderr, flush=True)


def _unmeasured(name: str, path: Path | None, error: str) -> dict:
    """The row of a candidate that could not be built or measured."""
    keys = (
        "input",
        "size_bytes",
        "threads",
        "backend",
        "runs",
        "p50_ms",
        "p99_ms",
        "loop_ms",
        "accuracy",
        "top5",
        "accuracy_source",
    )
    return {"name": name, "path": str(path) if path else None, **dict.fromkeys(keys), "error": error}


def given_rows(
    paths: Sequence[Path], options: PlanOptions, threads: int, log: Callable[[str], None]
) -> list[dict]:
    """Measures the .tflite files the user named (checked first, so a typo fails before any timing).

    Args:
      paths: The candidates.
      options: Measurement settings.
      threads: Interpreter threads.
      log: Receives one progress line per candidate.

    Returns:
      One row per candidate, in the given order, with its model card's accuracy.

    Raises:
      FileNotFoundError, UserError: A path is missing or not a .tflite model.
    """
    from edge_runtime.interpreter import read_model

    for path in paths:
        read_model(path)
    rows = []
    for index, (path, name) in enumerate(zip(paths, _names(paths), strict=True), start=1):
        log(f"measuring {name} ({index}/{len(paths)}, {threads} thread(s))")
        rows.append(measure(path, options, threads, name))
    return rows


def registry_rows(
    registry: RegistryOptions, options: PlanOptions, threads: int, log: Callable[[str], None]
) -> list[dict]:
    """Builds (or reuses) and measures every registered model at the table's sizes.

    Args:
      registry: Which models, sizes, classes and quantization; the cache folder.
      options: Measurement settings (--quick keeps only the table's smallest size).
      threads: Interpreter threads.
      log: Receives one progress line per candidate.

    Returns:
      One row per candidate, accuracy unknown; a model that cannot be built is a row with its error.

    Raises:
      UserError: An unknown model name, or no model accepts the sizes.
    """
    from benchmarks.plan.models import build_candidate, registry_candidates, table_sizes

    sizes = registry.sizes or (table_sizes()[:1] if options.quick else table_sizes())
    candidates = registry_candidates(sizes, registry.models)
    if not candidates:
        raise ParameterError("sizes", sizes, "no registered model accepts these input sizes")
    rows = []
    for index, candidate in enumerate(candidates, start=1):
        name = candidate.file_stem(registry.quantize)
        log(f"building and measuring {name} ({index}/{len(candidates)})")
        try:
            path = build_candidate(
                candidate, registry.work_dir, registry.quantize, registry.classes,
                registry.calibration_images, options.seed, registry.rebuild,
            )  # fmt: skip
        except Exception as err:  # one architecture failing to convert must not hide the others
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            log(f"{name}: cannot be built ({reason})")
            rows.append(_unmeasured(name, None, f"cannot be built: {reason}"))
            continue
        rows.append(measure(path, options, threads, name, untrained=True))
    return rows


def _sizes(text: str) -> tuple[int, ...]:
    """argparse type: '128,224' -> (128, 224)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of sizes, e.g. 128,224"
        ) from None


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """The planner's options: the `plan` subcommand of `python -m benchmarks`."""
    add = parser.add_argument
    add(
        "models",
        nargs="*",
        type=Path,
        metavar="MODEL.tflite",
        help="candidates (default: every registered model at the TFLite table's input sizes, untrained)",
    )
    add("--budget-ms", type=float, default=33.0, metavar="MS", help="time per frame (33: 30 fps video)")
    add("--threads", type=int, metavar="N", help="interpreter threads (default: every usable core)")
    add("--max-size-mb", type=float, metavar="S", help="largest model file accepted, MB (default: any)")
    add(
        "--margin-ms",
        type=float,
        metavar="MS",
        help="safety margin besides the measured loop work (default: 10%% of the budget, at least 1 ms)",
    )
    add("--quick", action="store_true", help="shorter measurements; without models, only the smallest size")
    add("--out", type=Path, default=Path("build/plan"), help="folder for plan.md and plan.json (build/plan)")
    add("--backend", help="ai_edge_litert, tflite_runtime or tensorflow (default: first installed)")
    add("--seed", type=int, default=0, help="seeds inputs, random weights and calibration (0)")
    registry = parser.add_argument_group("without models: the registry's models (built untrained, cached)")
    registry.add_argument(
        "--work-dir", type=Path, default=Path("build/plan/models"), help="(build/plan/models)"
    )
    registry.add_argument("--registry-models", default="", metavar="A,B", help="only these (default: all)")
    registry.add_argument("--sizes", type=_sizes, default=(), metavar="S,S", help="input sizes (the table's)")
    registry.add_argument("--classes", type=int, default=2, help="classifier outputs (2)")
    registry.add_argument("--quantize", default="int8", help="int8, float16, dynamic or float32 (int8)")
    registry.add_argument("--calibration-images", type=int, help="int8 calibration images (100, quick 16)")
    registry.add_argument("--rebuild", action="store_true", help="convert again even when cached")


def run_plan(args: argparse.Namespace, command: str = "") -> int:
    """Measures the candidates, prints the table and the recommendation, writes plan.md and plan.json."""
    from benchmarks.plan.models import RegistryOptions
    from benchmarks.plan.table import markdown
    from edge_runtime.interpreter import usable_cores

    options = PlanOptions(
        budget_ms=args.budget_ms, threads=args.threads, max_size_mb=args.max_size_mb,
        margin_ms=args.margin_ms, quick=args.quick, seed=args.seed, backend=args.backend,
    )  # fmt: skip
    threads = options.threads or usable_cores()
    registry = None
    if args.models:
        rows = given_rows(args.models, options, threads, _log)
    else:
        registry = RegistryOptions(
            work_dir=args.work_dir,
            models=tuple(name for name in args.registry_models.split(",") if name),
            sizes=args.sizes,
            classes=args.classes,
            quantize=args.quantize,
            calibration_images=args.calibration_images or (16 if args.quick else 100),
            rebuild=args.rebuild,
        )
        rows = registry_rows(registry, options, threads, _log)
    plan = make_plan(rows, options, threads, registry)
    if args.models:
        from benchmarks.plan.precision import compare_precisions, cpu_facts, this_cpu

        cpu = this_cpu()
        plan["cpu"] = cpu_facts(cpu)
        plan["int8_vs_float"] = compare_precisions(plan["candidates"], options, threads, _log, cpu)
    print(markdown(plan))
    json_path, md_path = write_plan(plan, args.out)  # paths in them relative to the repository
    print(f"wrote {md_path} and {json_path}")
    return 0


SUBCOMMANDS = {
    "plan": (add_plan_arguments, run_plan, "which model fits a per-frame time budget here, and which")
}
