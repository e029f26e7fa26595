"""Resident memory of this process: current, peak, and a peak that can be reset between models."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kb(field: str) -> int | None:
    """A 'Vm...:  N kB' field of /proc/self/status, or None off Linux."""
    try:
        text = _STATUS.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def current_rss_mb() -> float | None:
    """Resident set size now, in MB (10^6 bytes); None when /proc is not available."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb * 1024 / 1e6


def reset_peak_rss() -> bool:
    """Resets the kernel's peak-RSS mark (VmHWM) to the current RSS.

    Writing 5 to /proc/self/clear_refs does this on Linux 4.0+, so the peak measured next
    belongs to one model rather than to everything the process did before.

    Returns:
      True when the mark was reset; False when the peak stays process-wide.
    """
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak resident set size, in MB: VmHWM on Linux, else getrusage's ru_maxrss."""
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb * 1024 / 1e6
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in bytes on macOS and in kilobytes elsewhere.
    return maxrss / 1e6 if sys.platform == "darwin" else maxrss * 1024 / 1e6
