"""Edge TPU readiness: which ops map and where the graph splits; `python -m convert.edgetpu` compiles.

The Edge TPU compiler maps ops in execution order until the first one it cannot map; that op
and every op after it run on the CPU, even ops it could have mapped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from convert.edgetpu_ops import DEFAULT_RUNTIME_VERSION, OpCheck, check_op
from convert.tflite_graph import Graph, read_graph
from edge_runtime.errors import UserError, cli_main

COMPILER = "edgetpu_compiler"
INSTALL_HINT = (
    f"{COMPILER} is not on PATH; install it on x86-64 Debian/Ubuntu from Coral's apt repository "
    "(https://coral.ai/docs/edgetpu/compiler/: add coral-edgetpu-stable, then sudo apt-get install edgetpu-compiler)"
)


@dataclass(frozen=True)
class OpVerdict:
    """One operator in the report: does it map on its own, and where does it run after the split."""

    index: int
    name: str
    check: OpCheck
    on_edgetpu: bool


@dataclass(frozen=True)
class EdgeTpuReport:
    """The op-compatibility report of one model.

    Attributes:
      runtime_version: The Edge TPU runtime version checked against.
      ops: Every operator in execution order.
      split_at: Index of the first op that does not map (the rest runs on the CPU), or None.
    """

    runtime_version: int
    ops: tuple[OpVerdict, ...]
    split_at: int | None

    @property
    def mapped(self) -> int:
        """Ops that would run on the Edge TPU."""
        return sum(1 for op in self.ops if op.on_edgetpu)

    def to_dict(self) -> dict:
        """A JSON-ready summary (used by the model card)."""
        first = self.ops[self.split_at] if self.split_at is not None else None
        return {
            "runtime_version": self.runtime_version,
            "ops_total": len(self.ops),
            "ops_on_edgetpu": self.mapped,
            "fully_mapped": self.split_at is None and bool(self.ops),
            "first_unmapped_op": None
            if first is None
            else {"index": first.index, "op": first.name, "reasons": list(first.check.reasons)},
            "unmapped_ops": [
                {"index": op.index, "op": op.name, "reasons": list(op.check.reasons)}
                for op in self.ops
                if not op.check.maps
            ],
        }


def edgetpu_report(graph: Graph, runtime_version: int = DEFAULT_RUNTIME_VERSION) -> EdgeTpuReport:
    """Checks every op of `graph` and finds where the compiler would split it."""
    checks = [check_op(op, runtime_version) for op in graph.ops]
    split_at = next((i for i, c in enumerate(checks) if not c.maps), None)
    verdicts = tuple(
        OpVerdict(op.index, op.name, check, split_at is None or op.index < split_at)
        for op, check in zip(graph.ops, checks, strict=True)
    )
    return EdgeTpuReport(runtime_version, verdicts, split_at)


def summary_line(report: EdgeTpuReport) -> str:
    """One sentence: how much maps and where the graph splits."""
    total = len(report.ops)
    if report.split_at is None:
        return f"all {total} ops map to the Edge TPU (runtime {report.runtime_version}); no CPU fallback"
    first = report.ops[report.split_at]
    if report.split_at == 0:
        hint = ""
        if any("not 8-bit" in r for r in first.check.reasons):
            hint = "; the Edge TPU needs a full-integer model (python -m convert --quantize int8 --io uint8)"
        return (
            f"0 of {total} ops map: op 0 ({first.name}) does not ({first.check.reasons[0]}), so the whole "
            f"model runs on the CPU{hint}"
        )
    return (
        f"{report.mapped} of {total} ops map: the graph splits before op {first.index} ({first.name}); "
        f"ops 0-{first.index - 1} run on the Edge TPU, op {first.index} and the {total - first.index - 1} "
        "after it on the CPU"
    )


def format_report(report: EdgeTpuReport, source: str = "model") -> str:
    """The report as a table, one op per line, with the reason for each op that does not map."""
    lines = [
        f"Edge TPU op report for {source} (runtime {report.runtime_version}; Coral's documented op list "
        "and limits):",
        f"{'#':>4}  {'op':<26} {'maps':<5} {'runs on':<9} why",
    ]
    for op in report.ops:
        why = "; ".join(op.check.reasons or op.check.notes)
        maps = "yes" if op.check.maps else "no"
        where = "Edge TPU" if op.on_edgetpu else "CPU"
        lines.append(f"{op.index:>4}  {op.name:<26} {maps:<5} {where:<9} {why}".rstrip())
    lines.append(summary_line(report))
    return "\n".join(lines)


def compiler_command(
    model: Path, out_dir: Path, min_runtime_version: int | None = None, compiler: str = COMPILER
) -> list[str]:
    """The edgetpu_compiler command line that writes <stem>_edgetpu.tflite and .log into `out_dir`."""
    command = [compiler, "--show_operations", "--out_dir", str(out_dir)]
    if min_runtime_version is not None:
        command += ["--min_runtime_version", str(min_runtime_version)]
    return [*command, str(model)]


def compiled_paths(model: Path, out_dir: Path) -> tuple[Path, Path]:
    """Where the compiler puts the compiled model and its log."""
    return out_dir / f"{model.stem}_edgetpu.tflite", out_dir / f"{model.stem}_edgetpu.log"


def compile_model(model: Path, out_dir: Path, min_runtime_version: int | None, force: bool) -> list[Path]:
    """Runs edgetpu_compiler into a temporary folder, then moves its outputs beside the model.

    Raises:
      UserError: The compiler is not installed, outputs exist without `force`, or it fails.
    """
    compiler = shutil.which(COMPILER)
    if compiler is None:
        raise UserError(INSTALL_HINT)
    targets = compiled_paths(model, out_dir)
    if targets[0].exists() and not force:
        raise UserError(f"{targets[0]}: already exists; pass --force to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".edgetpu-", dir=out_dir) as scratch:
        command = compiler_command(model.resolve(), Path(scratch), min_runtime_version, compiler)
        print("$ " + " ".join(command), file=sys.stderr)
        proc = subprocess.run(command, capture_output=True, text=True)
        print(proc.stdout, end="")
        produced = compiled_paths(model, Path(scratch))
        if proc.returncode != 0 or not produced[0].is_file():
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise UserError(f"{model}: {COMPILER} failed ({detail[-1] if detail else proc.returncode})")
        if reattach_metadata(model, produced[0]):
            print(f"re-attached the metadata and packed files of {model} (edgetpu_compiler drops them)")
        written = []
        for source, target in zip(produced, targets, strict=True):
            if source.is_file():  # same filesystem: the rename is atomic
                os.replace(source, target)
                written.append(target)
    return written


def reattach_metadata(model: Path, compiled: Path) -> bool:
    """Writes MODEL's TFLite Metadata and packed files (labels.txt) into COMPILED, in place.

    edgetpu_compiler drops both (ultralytics/yolov5 PR 9903; tflite-support PR 916 shows the same
    transfer with tflite-support), so the compiled model would otherwise have no labels and no
    normalization for the Task Library, MediaPipe or edge_runtime. Our writer replaces whatever
    metadata COMPILED kept, so calling it twice gives the same file.

    Returns:
      True when MODEL had metadata to re-attach (False: COMPILED is left as it is).

    Raises:
      UserError: A model's metadata or packed files are corrupt, or they do not fit COMPILED.
    """
    from convert.metadata_writer import populate
    from edge_runtime.files import atomic_write_bytes
    from edge_runtime.metadata import associated_files, read_metadata

    data = model.read_bytes()
    meta = read_metadata(data, str(model))
    if meta is None:
        return False
    files = associated_files(data, str(model))
    atomic_write_bytes(compiled, populate(compiled.read_bytes(), meta, files, source=str(compiled)))
    return True


@cli_main
def main(argv: list[str] | None = None) -> int:
    """`python -m convert.edgetpu`: prints the op report, then compiles with edgetpu_compiler if installed."""
    parser = argparse.ArgumentParser(prog="python -m convert.edgetpu", description=main.__doc__)
    parser.add_argument("--model", required=True, type=Path, help="an int8 .tflite (uint8 I/O for pycoral)")
    parser.add_argument(
        "--out", type=Path, help="folder for <model>_edgetpu.tflite (default: beside the model)"
    )
    parser.add_argument(
        "--min-runtime-version",
        type=int,
        help=f"oldest Edge TPU runtime to support (report default: {DEFAULT_RUNTIME_VERSION})",
    )
    parser.add_argument("--report-only", action="store_true", help="print the op report, do not compile")
    parser.add_argument("--force", action="store_true", help="replace an existing *_edgetpu.tflite")
    args = parser.parse_args(argv)
    from edge_runtime.interpreter import read_model

    data, source = read_model(args.model)
    report = edgetpu_report(read_graph(data), args.min_runtime_version or DEFAULT_RUNTIME_VERSION)
    print(format_report(report, source))
    if args.report_only:
        return 0
    if report.mapped == 0:
        raise UserError(f"{source}: no op maps to the Edge TPU; compile the int8 model (model_int8.tflite)")
    for path in compile_model(
        args.model, args.out or args.model.parent, args.min_runtime_version, args.force
    ):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
