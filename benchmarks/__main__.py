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

# The modules of the programs; each has SUBCOMMANDS: {name: (add its arguments or None, run it, help)}.
PROGRAMS = ("benchmarks.suite.cli", "benchmarks.camera.cli", "benchmarks.plan.cli", "benchmarks.elpv.cli")
# Library parameters whose flag is not `--` + the name with dashes, by command.
FLAGS = {"plan": {"models": "--registry-models"}}


def subcommands() -> dict[str, tuple]:
    """Every program's subcommands: {name: (add arguments or None, run, help, description)}.

    A program with one subcommand describes it with its module docstring; the suite's use their help line.
    """
    found = {}
    for module in map(importlib.import_module, PROGRAMS):
        for name, (add, run, help_text) in module.SUBCOMMANDS.items():
            alone = len(module.SUBCOMMANDS) == 1
            found[name] = (add, run, help_text, module.__doc__ if alone else help_text)
    return found


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per program."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add, _, help_text, description) in subcommands().items():
        sub = commands.add_parser(
            name,
            help=help_text,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if add is not None:
            add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the command line and runs one subcommand; user errors exit 2 with one line, under the flag."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    _, run, _, _ = subcommands()[args.command]
    command = shlex.join(["python", "-m", "benchmarks", *argv])
    return cli_main(run, flags=FLAGS.get(args.command))(args, command)


def renamed(old: str, command: str) -> int:
    """Runs `python -m benchmarks COMMAND` for the old spelling `python -m OLD`, saying so on stderr."""
    print(f"note: python -m {old} is now python -m benchmarks {command}", file=sys.stderr)
    return main([command, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
