"""Runs the latency measurement of one model in a fresh Python process, as benchmark_model is its own process."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.instruments.latency import LatencyOptions
from benchmarks.instruments.paths import REPO


def latency_command(
    model: str | os.PathLike, threads: Sequence[int], options: LatencyOptions, out: Path
) -> list[str]:
    """The `python -m benchmarks latency` command line that measures `model` with `options`."""
    command = [sys.executable, "-m", "benchmarks", "latency", str(model), "--json-out", str(out)]
    command += ["--threads", ",".join(str(t) for t in threads)]
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if value is not None:
            command += [f"--{field.name.replace('_', '-')}", str(value)]
    return command


def measure_in_child(
    model: str | os.PathLike, threads: Sequence[int], options: LatencyOptions = LatencyOptions()
) -> list[dict]:
    """Measures one model at each thread count in a child process; returns LatencyResult dicts.

    A process of its own keeps TensorFlow (loaded for conversion) out of the measured process,
    so the resident-memory figures are the runtime's, and gives each model a cold start. The
    child's progress lines go to this process's stderr.

    Raises:
      RuntimeError: The child failed; the message has its last lines of output.
    """
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        out = Path(tmp) / "latency.json"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with subprocess.Popen(
            latency_command(model, threads, options, out),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            lines = []
            for line in proc.stderr:
                lines.append(line.rstrip())
                # Progress lines are indented; the runtime's own INFO lines are not repeated.
                if line.startswith("  "):
                    print(line.rstrip(), file=sys.stderr, flush=True)
        if proc.returncode != 0:
            tail = "\n".join(lines[-5:])
            raise RuntimeError(f"latency of {model} failed (exit {proc.returncode}):\n{tail}")
        return json.loads(out.read_text())["results"]
