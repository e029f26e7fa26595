"""The suite's subcommands of `python -m benchmarks`: run, latency, peers, report and machine."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields, replace
from pathlib import Path

from benchmarks.instruments.paths import REPO


def thread_list(text: str) -> tuple[int, ...]:
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
    candidate = REPO / ".venv-clients" / "bin" / "python"
    return str(candidate) if candidate.exists() else None


def add_machine_argument(parser: argparse.ArgumentParser) -> None:
    """--machine NAME: the results folder benchmarks/results/NAME (default: named after this CPU)."""
    parser.add_argument(
        "--machine",
        help="results go to benchmarks/results/MACHINE (default: this CPU's model, e.g. amd-epyc-7r13)",
    )


def results_dir(args: argparse.Namespace, out: str | os.PathLike | None) -> Path:
    """OUT when given, else benchmarks/results/<--machine or this machine's name>."""
    from benchmarks.instruments.machine import machine_name
    from benchmarks.instruments.paths import results_folder

    return Path(out) if out else results_folder(args.machine or machine_name())


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """`run`: the whole benchmark and its report."""
    from benchmarks.suite.run import SECTIONS

    run.add_argument("--quick", action="store_true", help="fewer models, runs and rounds (a smoke run)")
    run.add_argument("--name", help="results name: OUT/NAME.json (default: full, or quick with --quick)")
    add_machine_argument(run)
    run.add_argument("--out", help="results folder instead (default with --quick: build/benchmarks/quick)")
    run.add_argument("--work-dir", default="build/benchmarks/models", help="cache of converted models")
    run.add_argument(
        "--build", default="build", help="the pipeline's build folder (default model, evaluation.json)"
    )
    run.add_argument("--threads", type=thread_list, help="thread counts, e.g. 1,2 (default: 1..usable cores)")
    run.add_argument("--clients-python", default=default_clients_python(), help="Python of the clients' venv")
    run.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    run.add_argument("--calibration-images", type=int, help="int8 calibration images (default 100, quick 16)")
    run.add_argument(
        "--repeats", type=int, help="latency repeats, models taking turns; best kept (default 3, quick 1)"
    )
    run.add_argument("--rebuild", action="store_true", help="convert the models even when cached")
    run.add_argument("--seed", type=int, default=0)


def run_suite(args: argparse.Namespace, command: str) -> int:
    """Runs the whole benchmark and writes its JSON, report and charts."""
    from benchmarks.suite.mobilenet_table import markdown
    from benchmarks.suite.report import write_report
    from benchmarks.suite.run import RunOptions, run_all

    out = results_dir(args, args.out or ("build/benchmarks/quick" if args.quick else None))
    options = RunOptions(
        name=args.name, quick=args.quick, out_dir=str(out), work_dir=args.work_dir, build_dir=args.build,
        threads=args.threads, clients_python=args.clients_python,
        skip=tuple(s for s in args.skip.split(",") if s), calibration_images=args.calibration_images,
        repeats=args.repeats, rebuild=args.rebuild, seed=args.seed,
    )  # fmt: skip
    results = run_all(options, command)
    paths = write_report(results, options.out_dir)
    if results.get("mobilenet_table"):
        print(markdown(results["mobilenet_table"]))
    print(f"\nwrote {paths['json']}, {paths['markdown']} and {len(paths) - 2} chart(s) in {options.out_dir}")
    return 0


def add_latency_arguments(latency: argparse.ArgumentParser) -> None:
    """`latency`: benchmark_model-style latency of .tflite files."""
    latency.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files")
    latency.add_argument("--threads", type=thread_list, help="thread counts (default: 1..usable cores)")
    latency.add_argument("--quick", action="store_true", help="10 runs / 0.2 s instead of 50 runs / 1 s")
    latency.add_argument("--min-runs", type=int, help="timed runs, at least (default 50)")
    latency.add_argument("--min-seconds", type=float, help="timed seconds, at least (default 1)")
    latency.add_argument("--max-seconds", type=float, help="stop timing after this long (default 150)")
    latency.add_argument("--warmup-runs", type=int, help="warm-up runs, at least (default 1)")
    latency.add_argument("--warmup-seconds", type=float, help="warm-up seconds, at least (default 0.5)")
    latency.add_argument("--seed", type=int, help="seed of the random input (default 0)")
    latency.add_argument("--backend", help="ai_edge_litert, tflite_runtime or tensorflow")
    latency.add_argument("--json-out", type=Path, help="also write the results as JSON")


def run_latency(args: argparse.Namespace, command: str) -> int:
    """Measures each model at each thread count; prints JSON (progress lines on stderr)."""
    from benchmarks.instruments.latency import LatencyOptions, measure_latency, thread_counts
    from benchmarks.suite.run import latency_options
    from edge_runtime.files import atomic_write_text
    from edge_runtime.interpreter import usable_cores

    # Every LatencyOptions field has its flag; the ones given override the preset.
    given = {f.name: getattr(args, f.name) for f in fields(LatencyOptions)}
    overrides = {name: value for name, value in given.items() if value is not None}
    options = replace(latency_options(args.quick), **overrides)
    results = []
    for model in args.models:
        for count in args.threads or tuple(thread_counts(usable_cores())):
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
        atomic_write_text(args.json_out, json.dumps({"results": results}, indent=1) + "\n")
    return 0


PEER_ROUNDS = 50  # PeerOptions.rounds, shown in the help (a test keeps the two equal)


def add_peers_arguments(peers: argparse.ArgumentParser) -> None:
    """`peers`: bare invoke vs edge_runtime vs the Task Library vs MediaPipe."""
    peers.add_argument("model", help="a .tflite with metadata")
    peers.add_argument(
        "--clients-python", default=default_clients_python(), help="Python of the clients' venv"
    )
    peers.add_argument("--quick", action="store_true", help="3 rounds of 5 calls (unless --rounds)")
    peers.add_argument(
        "--rounds",
        type=int,
        help=f"rounds of calls per peer, interleaved (default {PEER_ROUNDS}: the machine's state drifts "
        "over seconds, and 10 rounds let one run's medians swing by 0.1-0.3 ms on a shared 2-core VM)",
    )
    peers.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")


def run_peers_command(args: argparse.Namespace, command: str) -> int:
    """Runs the peers on one model and prints their JSON."""
    from benchmarks.instruments.machine import describe_machine, load
    from benchmarks.instruments.paths import relative_paths
    from benchmarks.suite.peers import run_peers
    from benchmarks.suite.run import peer_options

    options = peer_options(args.quick, args.clients_python)
    rounds = args.rounds if args.rounds is not None else options.rounds
    options = replace(options, threads=args.threads, rounds=rounds)
    result = run_peers(args.model, options, lambda line: print(line, file=sys.stderr))
    result = {"command": command, **result, "machine": describe_machine(), "load_at_end": load()}
    print(json.dumps(relative_paths(result), indent=1))
    return 0


def add_report_arguments(report: argparse.ArgumentParser) -> None:
    """`report`: re-draw the Markdown report and charts of a results JSON."""
    report.add_argument("results", type=Path, help="a NAME.json written by `run`")
    report.add_argument("--out", type=Path, help="folder (default: the JSON's folder)")


def run_report(args: argparse.Namespace, command: str) -> int:
    """Re-draws REPORT.md and the charts from a results JSON."""
    from benchmarks.suite.report import write_report

    if not args.results.is_file():
        raise FileNotFoundError(
            f"{args.results}: no such results file (make one with python -m benchmarks run)"
        )
    paths = write_report(json.loads(args.results.read_text()), args.out or args.results.parent)
    print(f"wrote {paths['markdown']} and {len(paths) - 2} chart(s)")
    return 0


def run_machine(args: argparse.Namespace, command: str) -> int:
    """Prints this machine's description, and the results folder name it gets, as JSON."""
    from benchmarks.instruments.machine import describe_machine, machine_name

    print(json.dumps({**describe_machine(), "results_name": machine_name()}, indent=1))
    return 0


SUBCOMMANDS = {
    "run": (add_run_arguments, run_suite, "the whole benchmark: MobileNet table, peers, camera loop, report"),
    "latency": (add_latency_arguments, run_latency, "benchmark_model-style latency of .tflite files"),
    "peers": (
        add_peers_arguments,
        run_peers_command,
        "bare invoke vs edge_runtime vs Task Library vs MediaPipe",
    ),
    "report": (
        add_report_arguments,
        run_report,
        "re-draw the Markdown report and charts from a results JSON",
    ),
    "machine": (None, run_machine, "print this machine's description and results folder name as JSON"),
}
