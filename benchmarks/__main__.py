"""`python -m benchmarks run|latency|peers|report|machine`: measure models and write the report."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from edge_runtime.errors import UserError, cli_main


def _threads(text: str) -> tuple[int, ...]:
    """argparse type: '1,2,4' -> (1, 2, 4), each 1 or more."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of thread counts") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: thread counts must be 1 or more")
    return values


def default_clients_python() -> str | None:
    """$CLIENTS_PYTHON, else .venv-clients/bin/python in the repository when it exists."""
    if os.environ.get("CLIENTS_PYTHON"):
        return os.environ["CLIENTS_PYTHON"]
    candidate = Path(__file__).resolve().parent.parent / ".venv-clients" / "bin" / "python"
    return str(candidate) if candidate.exists() else None


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per task (a later issue adds `plan`)."""
    from benchmarks.run import SECTIONS

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="the whole benchmark: MobileNet table, peers, camera loop, report")
    run.add_argument("--quick", action="store_true", help="fewer models, runs and rounds (a smoke run)")
    run.add_argument("--name", help="results name: OUT/NAME.json (default: full, or quick with --quick)")
    run.add_argument(
        "--out", help="results folder (default: benchmarks/results; build/benchmarks/quick with --quick)"
    )
    run.add_argument("--work-dir", default="build/benchmarks/models", help="cache of converted models")
    run.add_argument(
        "--build", default="build", help="the pipeline's build folder (default model, evaluation.json)"
    )
    run.add_argument("--threads", type=_threads, help="thread counts, e.g. 1,2 (default: 1..usable cores)")
    run.add_argument("--clients-python", default=default_clients_python(), help="Python of the clients' venv")
    run.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    run.add_argument("--calibration-images", type=int, help="int8 calibration images (default 100, quick 16)")
    run.add_argument(
        "--repeats", type=int, help="latency repeats, models taking turns; best kept (default 3, quick 1)"
    )
    run.add_argument("--rebuild", action="store_true", help="convert the models even when cached")
    run.add_argument("--seed", type=int, default=0)

    latency = commands.add_parser("latency", help="benchmark_model-style latency of .tflite files")
    latency.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files")
    latency.add_argument("--threads", type=_threads, help="thread counts (default: 1..usable cores)")
    latency.add_argument("--quick", action="store_true", help="10 runs / 0.2 s instead of 50 runs / 1 s")
    latency.add_argument("--min-runs", type=int, help="timed runs, at least (default 50)")
    latency.add_argument("--min-seconds", type=float, help="timed seconds, at least (default 1)")
    latency.add_argument("--max-seconds", type=float, help="stop timing after this long (default 150)")
    latency.add_argument("--warmup-runs", type=int, help="warm-up runs, at least (default 1)")
    latency.add_argument("--warmup-seconds", type=float, help="warm-up seconds, at least (default 0.5)")
    latency.add_argument("--seed", type=int, help="seed of the random input (default 0)")
    latency.add_argument("--backend", help="ai_edge_litert, tflite_runtime or tensorflow")
    latency.add_argument("--json-out", type=Path, help="also write the results as JSON")

    peers = commands.add_parser("peers", help="bare invoke vs edge_runtime vs Task Library vs MediaPipe")
    peers.add_argument("model", help="a .tflite with metadata")
    peers.add_argument(
        "--clients-python", default=default_clients_python(), help="Python of the clients' venv"
    )
    peers.add_argument("--quick", action="store_true", help="3 rounds of 5 calls")
    peers.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")

    report = commands.add_parser("report", help="re-draw the Markdown report and charts from a results JSON")
    report.add_argument("results", type=Path, help="a NAME.json written by `run`")
    report.add_argument("--out", type=Path, help="folder (default: the JSON's folder)")

    commands.add_parser("machine", help="print this machine's description as JSON")
    from benchmarks.plan import add_plan_arguments

    plan = commands.add_parser("plan", help="which model fits a per-frame time budget here, and which to use")
    add_plan_arguments(plan)
    return parser


def _run(args: argparse.Namespace, command: str) -> int:
    from benchmarks.mobilenet_table import markdown
    from benchmarks.report import write_report
    from benchmarks.run import SECTIONS, RunOptions, run_all

    if args.repeats is not None and args.repeats < 1:
        raise UserError(f"--repeats {args.repeats}: must be 1 or more")
    skip = tuple(s for s in args.skip.split(",") if s)
    unknown = sorted(set(skip) - set(SECTIONS))
    if unknown:
        raise UserError(f"--skip {','.join(unknown)}: unknown section; choose from {','.join(SECTIONS)}")
    out = args.out or ("build/benchmarks/quick" if args.quick else "benchmarks/results")
    options = RunOptions(
        name=args.name,
        quick=args.quick,
        out_dir=out,
        work_dir=args.work_dir,
        build_dir=args.build,
        threads=args.threads,
        clients_python=args.clients_python,
        skip=skip,
        calibration_images=args.calibration_images,
        repeats=args.repeats,
        rebuild=args.rebuild,
        seed=args.seed,
    )
    results = run_all(options, command)
    paths = write_report(results, options.out_dir)
    if results.get("mobilenet_table"):
        print(markdown(results["mobilenet_table"]))
    print(f"\nwrote {paths['json']}, {paths['markdown']} and {len(paths) - 2} chart(s) in {options.out_dir}")
    return 0


def _latency(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from benchmarks.latency import measure_latency, thread_counts
    from benchmarks.run import latency_options
    from edge_runtime.interpreter import usable_cores

    options = latency_options(args.quick)
    overrides = {
        key: getattr(args, key)
        for key in (
            "min_runs",
            "min_seconds",
            "max_seconds",
            "warmup_runs",
            "warmup_seconds",
            "seed",
            "backend",
        )
        if getattr(args, key) is not None
    }
    options = replace(options, **overrides)
    threads = args.threads or tuple(thread_counts(usable_cores()))
    results = []
    for model in args.models:
        for count in threads:
            result = measure_latency(model, count, options)
            s = result.stats
            print(
                f"  {Path(model).name} threads={count}: mean {s.avg_ms:.2f} ms, p50 {s.p50_ms:.2f}, "
                f"p99 {s.p99_ms:.2f} ({s.count} runs), init {result.init_ms:.1f} ms, first {result.first_ms:.2f} ms",
                file=sys.stderr,
                flush=True,
            )
            results.append(result.to_json())
    print(json.dumps(results, indent=1))
    if args.json_out:
        from edge_runtime.files import atomic_write_text

        atomic_write_text(args.json_out, json.dumps({"results": results}, indent=1) + "\n")
    return 0


def _peers(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from benchmarks.peers import run_peers
    from benchmarks.run import peer_options

    options = replace(peer_options(args.quick, args.clients_python), threads=args.threads)
    print(json.dumps(run_peers(args.model, options, lambda line: print(line, file=sys.stderr)), indent=1))
    return 0


def _report(args: argparse.Namespace) -> int:
    from benchmarks.report import write_report

    if not args.results.is_file():
        raise FileNotFoundError(
            f"{args.results}: no such results file (make one with python -m benchmarks run)"
        )
    results = json.loads(args.results.read_text())
    paths = write_report(results, args.out or args.results.parent)
    print(f"wrote {paths['markdown']} and {len(paths) - 2} chart(s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs one subcommand; user errors exit 2 with one line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    command = shlex.join(["python", "-m", "benchmarks", *argv])

    @cli_main
    def dispatch() -> int:
        if args.command == "run":
            return _run(args, command)
        if args.command == "latency":
            return _latency(args)
        if args.command == "peers":
            return _peers(args)
        if args.command == "report":
            return _report(args)
        if args.command == "plan":
            from benchmarks.plan import run_plan

            return run_plan(args)
        from benchmarks.machine import describe_machine

        print(json.dumps(describe_machine(), indent=1))
        return 0

    return dispatch()


if __name__ == "__main__":
    sys.exit(main())
