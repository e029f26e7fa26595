"""Scheduling priority for the camera loop: normal, high (nice -10) or realtime (SCHED_FIFO), Linux only."""

from __future__ import annotations

import contextlib
import os
import sys

from edge_runtime.errors import ParameterError, UserError

PRIORITIES = ("normal", "high", "realtime")
HIGH_NICE = -10
# Low among real-time priorities (1-99): above every normal process, below the kernel's threaded
# interrupt handlers (50), so a busy loop cannot hold off the camera's or the USB's interrupts.
REALTIME_PRIORITY = 10

_SERVICE_HINT = {
    "high": "Nice=-10",
    "realtime": f"CPUSchedulingPolicy=fifo and CPUSchedulingPriority={REALTIME_PRIORITY}",
}


def set_priority(level: str) -> str:
    """Gives the calling thread, and every thread it starts afterwards, the priority `level`.

    Threads inherit the scheduling policy and nice value of the thread that creates them, so call
    this before making the interpreters (their CPU thread pools) and starting the loop.

    'high' lowers the nice value to -10: the loop wins the CPU against ordinary programs.
    'realtime' uses SCHED_FIFO at priority 10: it runs before every ordinary program as soon as it
    is ready. The kernel still keeps 5% of each second for other programs (sched_rt_runtime_us),
    so a model too slow for the cores cannot lock the device up.

    Args:
      level: 'normal' (no change), 'high' or 'realtime'.

    Returns:
      What was set, for the log: e.g. 'realtime (SCHED_FIFO 10)'.

    Raises:
      UserError: An unknown level, a system without these calls, or no permission (root or
        CAP_SYS_NICE is needed; the message says how to grant it).
    """
    if level not in PRIORITIES:
        raise ParameterError("level", level, f"choose one of {', '.join(PRIORITIES)}")
    if level == "normal":
        return "normal"
    if not sys.platform.startswith("linux"):
        raise ParameterError("level", level, "only on Linux; use 'normal' here")
    try:
        if level == "high":
            os.setpriority(os.PRIO_PROCESS, 0, HIGH_NICE)  # on Linux: this thread, inherited by new ones
            return f"high (nice {HIGH_NICE})"
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
        return f"realtime (SCHED_FIFO {REALTIME_PRIORITY})"
    except PermissionError:
        raise UserError(
            f"--priority {level}: not permitted for this user; run as root (sudo), grant CAP_SYS_NICE, "
            f"or in a systemd unit set {_SERVICE_HINT[level]} and leave --priority out"
        ) from None


def current_priority() -> str:
    """The calling thread's policy and nice value, e.g. 'SCHED_FIFO 10' or 'SCHED_OTHER nice 0'."""
    if not sys.platform.startswith("linux"):
        return "unknown"
    policy = os.sched_getscheduler(0)
    if policy in (os.SCHED_FIFO, os.SCHED_RR):
        name = "SCHED_FIFO" if policy == os.SCHED_FIFO else "SCHED_RR"
        return f"{name} {os.sched_getparam(0).sched_priority}"
    return f"SCHED_OTHER nice {os.getpriority(os.PRIO_PROCESS, 0)}"


def reset_priority() -> None:
    """Puts the calling thread back to the normal policy and nice 0 (root may always lower itself)."""
    if not sys.platform.startswith("linux"):
        return
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    with contextlib.suppress(PermissionError):  # an unprivileged thread cannot undo nice -10; harmless
        os.setpriority(os.PRIO_PROCESS, 0, 0)
