"""Python and platform: the interpreter's version, the OS release (Raspberry Pi OS Bookworm or Trixie) and the board."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edge_runtime.doctor.check import FAIL, OK, WARN, Check

# pyproject.toml's requires-python, and the newest Python the device requirements are checked for.
OLDEST_PYTHON = (3, 10)
NEWEST_TESTED_PYTHON = (3, 13)

# What each Raspberry Pi OS (Debian) release brings that the runtime meets: its Python and its numpy
# (python3-numpy, which python3-picamera2's extensions are built against).
RELEASES = {
    "bookworm": "Bookworm: system Python 3.11, numpy 1.24",
    "trixie": "Trixie: system Python 3.13, numpy 2.2",
}


def parse_os_release(text: str) -> dict[str, str]:
    """The KEY=value pairs of an os-release file, quotes removed."""
    pairs = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            pairs[key] = value.strip().strip("'\"")
    return pairs


def read_text(path: Path) -> str | None:
    """PATH's text, or None when it does not exist or cannot be read (device-tree files end in NUL)."""
    try:
        return path.read_bytes().decode("utf-8", "replace").replace("\0", "").strip()
    except OSError:
        return None


def check_platform(
    version: tuple[int, int, int],
    system: str,
    machine: str,
    os_release: Mapping[str, str],
    board: str | None,
) -> Check:
    """The Python version against what the runtime supports, with the OS and the board.

    Args:
      version: sys.version_info[:3].
      system: platform.system(), e.g. 'Linux'.
      machine: platform.machine(), e.g. 'aarch64'.
      os_release: Parsed /etc/os-release (empty when absent).
      board: /proc/device-tree/model, e.g. 'Raspberry Pi 5 Model B Rev 1.0', or None.
    """
    python = ".".join(map(str, version))
    codename = os_release.get("VERSION_CODENAME", "").lower()
    where = os_release.get("PRETTY_NAME") or system
    detail = f"Python {python} on {where}, {machine}" + (f", {board}" if board else "")
    facts = {
        "python": python,
        "system": system,
        "machine": machine,
        "os": os_release.get("PRETTY_NAME"),
        "codename": codename or None,
        "board": board,
    }
    if codename in RELEASES:
        detail += f" ({RELEASES[codename]})"
    if tuple(version[:2]) < OLDEST_PYTHON:
        return Check(
            "python",
            FAIL,
            detail,
            f"the runtime needs Python {'.'.join(map(str, OLDEST_PYTHON))} or newer; "
            "use Raspberry Pi OS Bookworm (3.11) or Trixie (3.13)",
            facts,
        )
    if tuple(version[:2]) > NEWEST_TESTED_PYTHON:
        return Check(
            "python",
            WARN,
            detail,
            f"the device requirements are checked for Python 3.11 and 3.13 only; if a wheel is missing, "
            f"use Python {'.'.join(map(str, NEWEST_TESTED_PYTHON))}",
            facts,
        )
    return Check("python", OK, detail, facts=facts)
