"""Imports a module, or asks libedgetpu its version, in a child process: a crash, a hang or a noisy
import there cannot take the doctor down, and the doctor reports it as what it is.

The child is `python -m edge_runtime.doctor.probe import MODULE` or `... edgetpu LIBRARY`; it prints one
JSON object as its last stdout line. A numpy-1 extension imported under numpy 2 prints a long banner
on stderr, which the parent keeps (its classifier reads it) instead of showing it.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ProbeResult:
    """What a child probe reported.

    Attributes:
      data: The child's JSON object, or empty when it printed none (crash, timeout).
      error: Why there is no data ('crashed with SIGSEGV', 'no answer in 60 s'), else None.
      stderr: What the child wrote on stderr (warnings, numpy's ABI banner).
    """

    data: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    stderr: str = ""


def first_line(err: BaseException) -> str:
    """`Type: the first non-empty line of the message` (a long traceback text stays out)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _import(name: str) -> dict[str, Any]:
    """Imports NAME; its top package's version and file, and for picamera2 the cameras libcamera sees."""
    try:
        module = importlib.import_module(name)
    except BaseException as err:  # ImportError, but also SystemExit or OSError from a broken extension
        return {"imported": False, "error": first_line(err)}
    top = sys.modules[name.split(".")[0]]
    info: dict[str, Any] = {
        "imported": True,
        "version": getattr(top, "__version__", None),
        "path": getattr(top, "__file__", None),
    }
    if name == "picamera2":
        try:
            info["cameras"] = _jsonable(module.Picamera2.global_camera_info())
        except Exception as err:  # libcamera can refuse (no camera stack, busy)
            info["cameras_error"] = first_line(err)
    return info


def _edgetpu(library: str) -> dict[str, Any]:
    """Loads LIBRARY and calls its `edgetpu_version()` (a C function of libedgetpu's edgetpu_c.h that
    returns 'BuildLabel(...), RuntimeVersion(N)'); also says whether it is a TFLite external delegate."""
    try:
        handle = ctypes.CDLL(library)
    except OSError as err:
        return {"loaded": False, "error": first_line(err)}
    info: dict[str, Any] = {
        "loaded": True,
        "delegate": hasattr(handle, "tflite_plugin_create_delegate"),
        "version": None,
    }
    if hasattr(handle, "edgetpu_version"):
        function = handle.edgetpu_version
        function.argtypes = []
        function.restype = ctypes.c_char_p
        raw = function()
        info["version"] = raw.decode("utf-8", "replace") if raw else None
    return info


def _package_root() -> Path:
    """The folder that holds the `edge_runtime` package, for the child's PYTHONPATH."""
    return Path(__file__).resolve().parents[2]


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"crashed with {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited {code} without an answer"


def run_probe(
    args: Sequence[str],
    *,
    python: str = sys.executable,
    extra_path: Sequence[str | os.PathLike] = (),
    timeout: float = PROBE_TIMEOUT_S,
) -> ProbeResult:
    """Runs `python -m edge_runtime.doctor.probe ARGS` and returns its answer.

    Args:
      args: ['import', MODULE] or ['edgetpu', LIBRARY].
      python: The interpreter to probe (this one by default: same venv, same site packages).
      extra_path: Folders put first on the child's PYTHONPATH (tests put fake packages there).
      timeout: Seconds before the child counts as hung and is killed.
    """
    paths = [*map(str, extra_path), str(_package_root()), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    try:
        proc = subprocess.run(
            [python, "-m", "edge_runtime.doctor.probe", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as err:
        stderr = err.stderr.decode("utf-8", "replace") if isinstance(err.stderr, bytes) else err.stderr or ""
        return ProbeResult(error=f"gave no answer in {timeout:g} s", stderr=stderr)
    lines = proc.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        data = None
    if proc.returncode != 0 or not isinstance(data, dict):
        return ProbeResult(error=_describe_exit(proc.returncode), stderr=proc.stderr)
    return ProbeResult(data=data, stderr=proc.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """The child's side: prints one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m edge_runtime.doctor.probe", description=__doc__)
    parser.add_argument("what", choices=("import", "edgetpu"))
    parser.add_argument("target", help="a module name (import) or a library name or path (edgetpu)")
    args = parser.parse_args(argv)
    result = _import(args.target) if args.what == "import" else _edgetpu(args.target)
    sys.stdout.flush()  # anything the import printed goes before the answer line
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
