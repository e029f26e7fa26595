"""What the benchmarks ran on: CPU model, cores, SIMD flags, OS, library versions and load."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from edge_runtime.interpreter import usable_cores

# SIMD features that decide int8/float speed: x86 VNNI/AVX-512/AMX, ARM NEON dot product (asimddp)
# and int8 matrix multiply (i8mm).
INTERESTING_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_int8",
    "asimd",
    "asimddp",
    "asimdhp",
    "i8mm",
    "sve",
    "neon",
)

LIBRARIES = (
    "ai-edge-litert",
    "tflite-runtime",
    "tensorflow",
    "keras",
    "numpy",
    "opencv-python-headless",
    "pillow",
    "matplotlib",
)


def parse_cpuinfo(text: str) -> dict:
    """Reads the CPU model, flags and clock from the text of /proc/cpuinfo (x86 or ARM).

    x86 lists 'model name' and 'flags' per processor; ARM lists 'Features' per processor and
    names the board in 'Model' (Raspberry Pi) or the core in 'CPU part'.

    Returns:
      {'model': str | None, 'flags': sorted list, 'mhz': float | None, 'processors': int}.
    """
    model = board = None
    flags: set[str] = set()
    mhz = None
    processors = 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "processor":
            processors += 1
        elif key == "model name" and model is None:
            model = value
        elif key in ("model", "hardware") and not value.isdigit() and board is None:
            board = value
        elif key in ("flags", "features"):
            flags.update(value.split())
        elif key == "cpu mhz" and mhz is None:
            with contextlib.suppress(ValueError):
                mhz = float(value)
    return {"model": model or board, "flags": sorted(flags), "mhz": mhz, "processors": processors}


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def os_name() -> str:
    """The distribution's PRETTY_NAME from /etc/os-release, else platform.platform()."""
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return platform.platform()


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution, None when it is not installed."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def load() -> dict:
    """Load averages over 1, 5 and 15 minutes, and `uptime`'s own line when the tool exists."""
    one, five, fifteen = os.getloadavg() if hasattr(os, "getloadavg") else (None, None, None)
    line = None
    if shutil.which("uptime"):
        try:
            line = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            line = None
    return {"loadavg_1m": one, "loadavg_5m": five, "loadavg_15m": fifteen, "uptime": line}


def memory_total_mb() -> float | None:
    """Installed memory from /proc/meminfo, in MB (10^6 bytes); None off Linux."""
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024 / 1e6
    return None


def describe_machine() -> dict:
    """A JSON-ready description of this machine and software, for every results file.

    Returns:
      cpu_model, cpu_mhz, logical_cpus, usable_cores, simd_flags (the INTERESTING_FLAGS
      present), machine (e.g. x86_64, aarch64), os, kernel, python, libraries, memory_mb, load.
    """
    cpu = parse_cpuinfo(_read("/proc/cpuinfo"))
    return {
        "cpu_model": cpu["model"] or platform.processor() or platform.machine(),
        "cpu_mhz": cpu["mhz"],
        "logical_cpus": os.cpu_count(),
        "usable_cores": usable_cores(),
        "simd_flags": [flag for flag in INTERESTING_FLAGS if flag in cpu["flags"]],
        "machine": platform.machine(),
        "os": os_name(),
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "libraries": library_versions(),
        "memory_mb": memory_total_mb(),
        "load": load(),
    }


def cpu_times() -> list[int]:
    """The machine's CPU time counters (the 'cpu' line of /proc/stat), or [] where there is none."""
    try:
        return [int(v) for v in _read("/proc/stat").splitlines()[0].split()[1:]]
    except (IndexError, ValueError):
        return []


def steal_percent(before: list[int], after: list[int]) -> float | None:
    """Share of CPU time the hypervisor gave to other guests between two `cpu_times` (None if unknown).

    0 on bare metal such as a Raspberry Pi; on a virtual machine, deadline misses often come from it.
    """
    if len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return round(100.0 * (after[7] - before[7]) / total, 2) if total > 0 else None


def machine_name(cpu_model: str | None = None) -> str:
    """A folder name for this machine's results, from its CPU model: 'amd-epyc-7r13', 'raspberry-pi-5-model-b'.

    Results live in benchmarks/results/<name>/; `--machine` names the folder by hand instead
    (the committed zen3/ and zen5/ were named so).
    """
    model = cpu_model or parse_cpuinfo(_read("/proc/cpuinfo"))["model"] or platform.machine() or "machine"
    words = re.sub(r"\((r|tm)\)|\bcpu\b|\bprocessor\b|@.*$", " ", model.lower())
    words = re.sub(r"\b\d+-core\b|\brev [\d.]+\b", " ", words)
    return "-".join(re.findall(r"[a-z0-9]+", words)) or "machine"
