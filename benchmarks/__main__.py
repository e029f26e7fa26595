"""`python -m benchmarks run|latency|peers|camera|plan|elpv|report|machine`: every benchmark, one command line.

Results by machine: `run`, `camera` and `elpv` write into benchmarks/results/<machine>/, the machine
named by --machine NAME (default: after this CPU's model, as `python -m benchmarks machine` shows);
--out (--results for elpv) picks any other folder, and --quick runs default to build/. The planner
writes build/plan/ (its answer is for this machine, not a committed result). Paths in results are
written relative to the repository. The old spellings `python -m benchmarks.camera_loop`,
`-m benchmarks.elpv_accuracy` and `-m benchmarks.plan` still run, the first two saying what
replaced them.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from collections.abc import Sequence

from edge_runtime.errors import cli_main

# command: (module, function adding its arguments, function running it, help); modules import lazily.
COMMANDS = {
    "run": ("benchmarks.suite.cli", "add_run_arguments", "run_suite",
            "the whole benchmark: MobileNet table, peers, camera loop, float vs int8, report"),
    "latency": ("benchmarks.suite.cli", "add_latency_arguments", "run_latency",
                "benchmark_model-style latency of .tflite files"),
    "peers": ("benchmarks.suite.cli", "add_peers_arguments", "run_peers_command",
              "bare invoke vs edge_runtime vs Task Library vs MediaPipe"),
    "camera": ("benchmarks.camera.cli", "add_arguments", "run",
               "the camera loop: per-frame cost, 30 fps deadlines, memory (was -m benchmarks.camera_loop)"),
    "plan": ("benchmarks.plan.cli", "add_plan_arguments", "run_plan",
             "which model fits a per-frame time budget here, and which to use"),
    "elpv": ("benchmarks.elpv.cli", "add_arguments", "run",
             "train, convert and evaluate the ELPV recipe (was -m benchmarks.elpv_accuracy)"),
    "report": ("benchmarks.suite.cli", "add_report_arguments", "run_report",
               "re-draw the Markdown report and charts from a results JSON"),
    "machine": ("benchmarks.suite.cli", None, "run_machine", "print this machine's description as JSON"),
}  # fmt: skip
# Library parameters whose flag is not `--` + the name with dashes, by command.
FLAGS = {"plan": {"models": "--registry-models"}}


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per program."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, add, _, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if add is not None:
            getattr(importlib.import_module(module), add)(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs one subcommand; user errors exit 2 with one line, under the flag."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    module, _, run, _ = COMMANDS[args.command]
    command = shlex.join(["python", "-m", "benchmarks", *argv])
    runner = getattr(importlib.import_module(module), run)
    return cli_main(runner, flags=FLAGS.get(args.command))(args, command)


def renamed(old: str, command: str) -> int:
    """Runs `python -m benchmarks COMMAND` for the old spelling `python -m OLD`, saying so on stderr."""
    print(f"note: python -m {old} is now python -m benchmarks {command}", file=sys.stderr)
    return main([command, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
