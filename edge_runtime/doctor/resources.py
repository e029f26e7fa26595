"""Free memory (/proc/meminfo MemAvailable) and free disk where the model lives, against what a 1-2 GB Pi can spare.

The runtime with numpy, OpenCV, LiteRT and the 2 MB ELPV int8 model held 63 MB resident on x86-64
(Python 3.11; measured while writing this check); the camera loop adds its frame buffers, and a bigger
model adds about its size. Below FAIL_MB of available memory the kernel's OOM killer or swapping on the
SD card is near; below WARN_MB a desktop session or another program can push it there.
"""

from __future__ import annotations

from pathlib import Path

from edge_runtime.doctor.check import FAIL, OK, WARN, Check

MEMORY_FAIL_MB = 128
MEMORY_WARN_MB = 384
# pip's wheels (OpenCV and LiteRT are tens of MB each), the JSON lines a service appends, a compiled
# model beside the original: below WARN a week of results or one upgrade fills the card.
DISK_FAIL_MB = 100
DISK_WARN_MB = 1024

MB = 1024 * 1024


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo as {field: bytes} ('MemAvailable:  812345 kB' -> 831841280)."""
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return values


def check_memory(meminfo: dict[str, int], model_bytes: int = 0) -> Check:
    """Available memory against the runtime's needs (plus the model's size when one is given)."""
    available, total = meminfo.get("MemAvailable"), meminfo.get("MemTotal")
    facts = {"available_bytes": available, "total_bytes": total, "model_bytes": model_bytes or None}
    if available is None:
        return Check("memory", WARN, "cannot read MemAvailable from /proc/meminfo", facts=facts)
    detail = f"{available / MB:.0f} MB available" + (f" of {total / MB:.0f} MB" if total else "")
    need_fail, need_warn = MEMORY_FAIL_MB * MB + model_bytes, MEMORY_WARN_MB * MB + 2 * model_bytes
    if available < need_fail:
        return Check(
            "memory",
            FAIL,
            f"{detail}: the runtime needs about {need_fail / MB:.0f} MB",
            "stop other programs (a desktop: sudo systemctl set-default multi-user.target), or use a smaller model",
            facts,
        )
    if available < need_warn:
        return Check(
            "memory",
            WARN,
            f"{detail}: little headroom (under {need_warn / MB:.0f} MB)",
            "stop programs you do not need, or boot to the console instead of the desktop",
            facts,
        )
    return Check("memory", OK, detail, facts=facts)


def check_disk(path: Path, free: int, total: int) -> Check:
    """Free space on the file system that holds PATH (the model's folder, or where the doctor runs)."""
    facts = {"path": str(path), "free_bytes": free, "total_bytes": total}
    detail = f"{free / MB:,.0f} MB free of {total / MB:,.0f} MB at {path}"
    if free < DISK_FAIL_MB * MB:
        return Check(
            "disk",
            FAIL,
            detail,
            "free space: pip cache purge, sudo apt clean, sudo journalctl --vacuum-size=50M, rotate results.jsonl",
            facts,
        )
    if free < DISK_WARN_MB * MB:
        return Check(
            "disk", WARN, detail + f" (under {DISK_WARN_MB} MB)", "pip cache purge, sudo apt clean", facts
        )
    return Check("disk", OK, detail, facts=facts)
